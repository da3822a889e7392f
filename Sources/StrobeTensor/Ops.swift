/// The tensor core's operations.
///
/// Every op takes and returns `Tensor` values (contiguous, row-major fp32). Matrix products go
/// through OpenBLAS; the other ops run as plain Swift loops split over cores by `Parallel`.
/// Each op has a naive twin of the same signature in `Naive`, which the tests compare against.
///
/// Shapes in the docs read outermost first, `...` meaning any leading dimensions.
public enum Ops {}
