// libFuzzer entry point for the input-image path of edit and reframe (`InputImage.decode`:
// JPEG through libjpeg-turbo, PNG through libpng, then orientation) and the fitting of a decoded
// image to a working size (stb_image_resize): any bytes must give an image or an `ImageError`,
// never a crash, a leak or a memory error.
import Strobe

/// Smaller than InputImage.maxPixels so that a hostile header cannot make one run allocate
/// gigabytes; the code path is the same.
let maxPixels = 1 << 20

/// Decodes `size` bytes at `data` and fits the image; always returns 0 (libFuzzer's convention).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let input = try? InputImage.decode(bytes, maxPixels: maxPixels) else { return 0 }
    let image = input.image
    precondition(image.width * image.height <= maxPixels, "more pixels than the limit")
    precondition(image.pixels.count == 3 * image.width * image.height, "pixel count")
    precondition(image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "pixel outside [0, 1]")
    if let alpha = input.alpha { precondition(alpha.count == image.width * image.height, "alpha count") }
    for size in [ImageSize(width: 32, height: 16), ImageSize(width: 5, height: 7)] {
        let fitted = image.fitted(to: size)
        precondition(fitted.width == size.width && fitted.height == size.height, "fitted size")
    }
    _ = EditMask(image: input)
    return 0
}
