/// Finds NaN and infinite values in weights right after their conversion to fp32.
///
/// The fast path is one pass of integer operations over the bit patterns (it vectorises and
/// costs a few milliseconds for tens of millions of values); only a tensor that has a bad value
/// is scanned again to count them and find the first.
enum NonFiniteScan {
    /// The number of NaN or infinite values in `values` and the index of the first, or `nil`
    /// when every value is finite.
    static func find(_ values: [Float]) -> (count: Int, first: Int)? {
        let exponent: UInt32 = 0x7F80_0000
        let anyBad = values.withUnsafeBufferPointer { buffer -> Bool in
            let bits = UnsafeRawBufferPointer(buffer).bindMemory(to: UInt32.self)
            // A value is NaN or infinite exactly when its exponent bits are all ones.
            var largest: UInt32 = 0
            for word in bits { largest = max(largest, word & exponent) }
            return largest == exponent
        }
        guard anyBad else { return nil }
        var count = 0, first = -1
        for (index, value) in values.enumerated() where !value.isFinite {
            if first < 0 { first = index }
            count += 1
        }
        return (count, first)
    }
}
