// libFuzzer entry point for the PNG reader (`PNGCodec.decode`): any bytes must give a decoded
// image or an `ImageError`, never a crash, a leak or a memory error.
import Strobe

/// Decoding refuses images over this many pixels. Smaller than the default (2^28) so that a
/// hostile header cannot make one run allocate gigabytes; the code path is the same.
let maxPixels = 1 << 22

/// Decodes `size` bytes at `data` as a PNG; always returns 0 (libFuzzer's convention).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? PNGCodec.decode(bytes, maxPixels: maxPixels) else { return 0 }
    // A decoded file must be self-consistent and re-encodable with its text.
    let image = file.image
    precondition(image.pixels.count == 3 * image.width * image.height, "pixel count")
    precondition(image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "pixel outside [0, 1]")
    if image.width * image.height <= 1 << 16 {
        let text = file.text.filter { (try? PNGCodec.encode(image, text: [$0])) != nil }
        let encoded = try! PNGCodec.encode(image, text: text)
        let again = try! PNGCodec.decode(encoded)
        precondition(again.text == text, "text chunks do not survive a round trip")
    }
    return 0
}
