/// An RGB image with float samples, stored planar as `[3, H, W]` like the model's output.
///
/// Samples are nominally in [0, 1]; conversion to 8 bits clamps, so values outside are
/// allowed in memory.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels (≥ 1).
    public let width: Int
    /// Height in pixels (≥ 1).
    public let height: Int
    /// `3 × height × width` samples: the red plane, then green, then blue; rows top to bottom.
    public private(set) var pixels: [Float]

    /// Wraps planar `[3, H, W]` samples.
    public init(width: Int, height: Int, pixels: [Float]) throws(ImageError) {
        try Self.checkSize(width: width, height: height)
        guard pixels.count == 3 * width * height else {
            throw .pixelCountMismatch(expected: 3 * width * height, actual: pixels.count)
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with one value in every channel.
    public init(width: Int, height: Int, repeating value: Float = 0) throws(ImageError) {
        try self.init(width: width, height: height, pixels: [Float](repeating: value, count: 3 * width * height))
    }

    /// An image from a `[3, H, W]` or `[1, 3, H, W]` tensor of samples in [0, 1].
    public init(tensor: Tensor) throws(ImageError) {
        let shape = tensor.shape
        let dims: [Int]
        if shape.count == 3 { dims = shape } else if shape.count == 4 && shape[0] == 1 { dims = Array(shape.dropFirst()) } else {
            throw .invalidTensorShape(shape)
        }
        guard dims[0] == 3 else { throw .invalidTensorShape(shape) }
        try self.init(width: dims[2], height: dims[1], pixels: tensor.storage)
    }

    /// The samples as a `[3, H, W]` tensor.
    public var tensor: Tensor { Tensor(shape: [3, height, width], storage: pixels) }

    /// The sample of `channel` (0 red, 1 green, 2 blue) at column `x`, row `y`.
    public subscript(channel: Int, y: Int, x: Int) -> Float {
        get { pixels[(channel * height + y) * width + x] }
        set { pixels[(channel * height + y) * width + x] = newValue }
    }

    static func checkSize(width: Int, height: Int) throws(ImageError) {
        let limit = Int(Int32.max)
        guard (1...limit).contains(width), (1...limit).contains(height),
              width.multipliedReportingOverflow(by: height * 3).overflow == false
        else { throw .invalidSize(width: width, height: height) }
    }
}

extension RGBImage {
    /// Converts a sample to 8 bits: clamp to [0, 1] (NaN → 0), scale by 255, round half to even.
    @inlinable
    public static func quantize(_ value: Float) -> UInt8 {
        guard value > 0 else { return 0 }  // also catches NaN
        guard value < 1 else { return 255 }
        return UInt8((value * 255).rounded(.toNearestOrEven))
    }

    /// The image as interleaved 8-bit RGB, rows top to bottom (`H × W × 3` bytes).
    public func rgb8() -> [UInt8] {
        let planeSize = width * height
        return [UInt8](unsafeUninitializedCapacity: 3 * planeSize) { out, count in
            pixels.withUnsafeBufferPointer { planes in
                for i in 0..<planeSize {
                    out[3 * i] = Self.quantize(planes[i])
                    out[3 * i + 1] = Self.quantize(planes[planeSize + i])
                    out[3 * i + 2] = Self.quantize(planes[2 * planeSize + i])
                }
            }
            count = 3 * planeSize
        }
    }

    /// An image from interleaved 8-bit RGB (`H × W × 3` bytes); samples become `v / 255`.
    public init(width: Int, height: Int, rgb8: [UInt8]) throws(ImageError) {
        try Self.checkSize(width: width, height: height)
        let planeSize = width * height
        guard rgb8.count == 3 * planeSize else {
            throw .pixelCountMismatch(expected: 3 * planeSize, actual: rgb8.count)
        }
        var planes = [Float](repeating: 0, count: 3 * planeSize)
        for i in 0..<planeSize {
            for c in 0..<3 { planes[c * planeSize + i] = Float(rgb8[3 * i + c]) / 255 }
        }
        try self.init(width: width, height: height, pixels: planes)
    }
}
