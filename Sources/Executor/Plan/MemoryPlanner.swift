extension PlanCompiler {
    /// Places every value in one arena: element-wise steps write in place when their input dies there,
    /// and buffers whose lifetimes do not overlap share memory (largest first, lowest free offset).
    /// Buffers that kernels read carry a guard gap for tile over-reads. A step's scratch (one piece per
    /// worker) is a buffer alive during that step alone.
    /// Returns the arena size and what the values and scratch would need without reuse, in bytes, and
    /// each step's scratch.
    mutating func planMemory(output: Int, segments: [StepSegment]) -> (arena: Int, unplanned: Int, scratch: [(offset: Int, stride: Int)?]) {
        let count = layouts.count
        var first = [Int](repeating: Int.max, count: count), last = [Int](repeating: -1, count: count)
        first[0] = -1
        var alias = Array(0..<count)
        func root(_ v: Int) -> Int { var v = v; while alias[v] != v { v = alias[v] }; return v }

        for (i, step) in steps.enumerated() {
            for v in step.reads { last[v] = max(last[v], i) }
            first[step.output] = min(first[step.output], i)
        }
        // Micro-kernels read whole tiles: up to a tile's worth of rows or pixels past the last valid one.
        // Those reads must stay inside memory no worker writes during the step, so a guard gap follows
        // every buffer a kernel reads (over-reads within a buffer only touch its other, read-only rows).
        var gap = [Int](repeating: 0, count: count)
        for step in steps {
            for v in step.reads { gap[v] = max(gap[v], step.overRead(of: v, layouts: layouts, kernels: kernels)) }
        }
        last[output] = steps.count
        // Image-group segments interleave their steps across groups: every value they touch lives for
        // the whole segment, and a value made and consumed inside one needs only a group's slots.
        var segmentOf = [Int?](repeating: nil, count: steps.count)
        for (index, segment) in segments.enumerated() where segment.imagesPerGroup < batch {
            for i in segment.steps { segmentOf[i] = index }
        }
        for v in 1..<count where first[v] != Int.max && v != output {
            guard let s = segmentOf[first[v]] else { continue }
            let range = segments[s].steps
            if last[v] < range.upperBound && (first[v]...last[v]).allSatisfy({ segmentOf[$0] == s }) {
                layouts[v].slots = segments[s].imagesPerGroup
            }
        }
        for v in 0..<count where last[v] >= 0 {
            for i in [max(first[v], 0), min(last[v], steps.count - 1)] {
                if let s = segmentOf[i] {
                    first[v] = min(first[v], segments[s].steps.lowerBound)
                    last[v] = max(last[v], segments[s].steps.upperBound - 1)
                }
            }
        }
        // In place: an element-wise step may overwrite its input when nothing reads the input afterwards.
        for (i, step) in steps.enumerated() {
            guard let input = step.inPlaceInput, last[input] == i, input != 0,
                  layouts[input].padding == layouts[step.output].padding,
                  layouts[input].slots == layouts[step.output].slots,
                  layouts[input].element == layouts[step.output].element else { continue }
            alias[step.output] = root(input)
        }
        var lifetime: [Int: (Int, Int)] = [:], size: [Int: Int] = [:]
        for v in 0..<count where last[v] >= 0 || v == output {
            let r = root(v)
            let span = lifetime[r] ?? (Int.max, -1)
            lifetime[r] = (min(span.0, first[v]), max(span.1, last[v]))
            size[r] = max(size[r] ?? 0, layouts[v].byteCount(batch: batch) + gap[v])
        }
        let roots = size.keys.sorted()   // ties in size go to the lower value index, as before
        let strides = steps.map { ($0.workerScratchFloats(layouts: layouts) + 15) / 16 * 16 }
        let scratchSteps = steps.indices.filter { strides[$0] > 0 }
        let sizes = roots.map { size[$0]! } + scratchSteps.map { threads * strides[$0] * ElementType.float32.byteCount }
        let (placedOffsets, end) = placeBuffers(sizes: sizes, spans: roots.map { lifetime[$0]! } + scratchSteps.map { ($0, $0) })
        let offsets = Dictionary(uniqueKeysWithValues: zip(roots, placedOffsets))
        for v in 0..<count { layouts[v].offset = (offsets[root(v)] ?? 0) / layouts[v].element.byteCount }
        var scratch = [(offset: Int, stride: Int)?](repeating: nil, count: steps.count)
        for (i, step) in scratchSteps.enumerated() {
            scratch[step] = (placedOffsets[roots.count + i] / ElementType.float32.byteCount, strides[step])
        }
        return (end, sizes.reduce(0, +), scratch)
    }
}
