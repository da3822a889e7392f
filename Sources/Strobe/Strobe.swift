@_exported import StrobeTensor

/// Strobe's version, written into image metadata.
public let strobeVersion = "0.1.0"
