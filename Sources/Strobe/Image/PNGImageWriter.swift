/// The last stage: encodes images as PNG (with or without metadata) and writes them to disk.
///
/// Encoding is deterministic (same pixels and metadata ⇒ same bytes). Writing is atomic (see
/// ``AtomicFileWriter``): a reader sees no file or the whole file, never a partial one.
public struct PNGImageWriter: Sendable {
    /// zlib compression level 0–9.
    public var compressionLevel: Int

    public init(compressionLevel: Int = PNGCodec.defaultCompressionLevel) {
        self.compressionLevel = compressionLevel
    }

    /// The PNG bytes of `image`, with `metadata`'s text chunks unless it is nil.
    public func encode(_ image: RGBImage, metadata: ImageMetadata?) throws(PipelineError) -> [UInt8] {
        do {
            return try PNGCodec.encode(image, text: metadata?.textChunks ?? [], compressionLevel: compressionLevel)
        } catch {
            throw .image(error)
        }
    }

    /// Writes PNG bytes to `path`; without `overwrite` an existing file is an error
    /// (``ImageError/fileExists(path:)``).
    public func write(_ png: [UInt8], to path: String, overwrite: Bool = false) throws(PipelineError) {
        do {
            try AtomicFileWriter.write(png, to: path, overwrite: overwrite)
        } catch {
            throw .image(error)
        }
    }
}
