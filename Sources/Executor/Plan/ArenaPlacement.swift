/// Places buffers in one arena: each buffer of `sizes[i]` bytes is alive over the inclusive step
/// range `spans[i]`; largest first (ties by index), each goes at the lowest 64-byte-aligned offset
/// clear of every placed buffer whose lifetime overlaps its own. Both the inference and the training
/// memory planners place their buffers with it. Returns each buffer's byte offset and the arena's size in bytes.
func placeBuffers(sizes: [Int], spans: [(from: Int, to: Int)]) -> (offsets: [Int], total: Int) {
    let alignment = 64
    func aligned(_ bytes: Int) -> Int { (bytes + alignment - 1) / alignment * alignment }
    var offsets = [Int](repeating: 0, count: sizes.count)
    var placed: [(offset: Int, size: Int, from: Int, to: Int)] = []
    for i in sizes.indices.sorted(by: { (sizes[$0], $1) > (sizes[$1], $0) }) {
        let need = aligned(sizes[i])
        let (from, to) = spans[i]
        let busy = placed.filter { $0.from <= to && from <= $0.to }.sorted { $0.offset < $1.offset }
        var offset = 0
        while let clash = busy.first(where: { $0.offset < offset + need && offset < $0.offset + $0.size }) {
            offset = aligned(clash.offset + clash.size)
        }
        placed.append((offset, need, from, to))
        offsets[i] = offset
    }
    return (offsets, placed.map { $0.offset + $0.size }.max() ?? 0)
}
