/// Column sums of row-major [rows][columns] data, in Double: rows are split into a fixed number of
/// chunks (a function of `rows` only), each summed by one worker, and the chunks added in order, so
/// the result is the same for any thread count.
enum ColumnSums {
    static func chunks(rows: Int) -> Int { min(64, max(1, rows / 256)) }

    /// Doubles of scratch `sum` needs.
    static func scratchDoubles(rows: Int, columns: Int) -> Int { chunks(rows: rows) * columns }

    /// Σ_r term(r, column) for every column, with `scratch` holding the per-chunk partial sums.
    static func sum(_ c: StepContext, rows: Int, columns: Int, scratch: UnsafeMutablePointer<Float>,
                    _ term: (_ row: Int, _ column: Int) -> Double) -> [Double] {
        let chunks = chunks(rows: rows)
        let partial = UnsafeMutableRawPointer(scratch).bindMemory(to: Double.self, capacity: chunks * columns)
        c.parallel(chunks) { range in
            for chunk in range {
                let sums = partial + chunk * columns
                sums.update(repeating: 0, count: columns)
                for r in (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks) {
                    for column in 0..<columns { sums[column] += term(r, column) }
                }
            }
        }
        var total = [Double](repeating: 0, count: columns)
        for chunk in 0..<chunks { for column in 0..<columns { total[column] += partial[chunk * columns + column] } }
        return total
    }
}
