import DesignSpaces
import NetworkIR
import Testing
@testable import Executor
import Weights

/// The memory planner's invariant, checked from the plan's steps rather than the planner's own
/// bookkeeping: two values alive at the same time never share bytes — guard gaps for the kernels'
/// tile over-reads included — unless one is written in place over the other by the step that reads it last;
/// and a step's scratch never shares bytes with a value alive during that step.
@Suite struct MemoryPlanTests {
    /// Zoo model, batch, image-group budget in bytes (the default; small enough to group most steps;
    /// zero: every step image by image).
    static let cases: [(String, Int, Double)] = [("RegNetX-200MF", 1, 12 * 1_048_576), ("RegNetY-200MF", 3, 12 * 1_048_576),
                                                 ("RegNetY-200MF", 4, 200_000), ("RegNetX-400MF", 2, 0)]

    @Test(arguments: cases.indices)
    func valuesAliveTogetherNeverOverlap(_ index: Int) throws {
        let (model, batch, groupBudget) = Self.cases[index]
        let graph = try Zoo.model(named: model).network().lower(resolution: 64)
        let compiled = try CompiledModel(graph: graph, weights: .initialized(for: graph), batch: batch, threads: 2,
                                         kernels: .best, groupBudgetBytes: groupBudget)
        let plan = compiled.plan, steps = plan.steps, layouts = plan.layouts
        var first = [Int](repeating: .max, count: layouts.count), last = [Int](repeating: -1, count: layouts.count)
        var gap = [Int](repeating: 0, count: layouts.count)
        first[plan.inputValue] = -1
        for (i, step) in steps.enumerated() {
            first[step.output] = min(first[step.output], i)
            for v in step.reads {
                last[v] = max(last[v], i)
                gap[v] = max(gap[v], step.overRead(of: v, layouts: layouts, kernels: compiled.kernels))
            }
        }
        last[plan.outputValue] = steps.count
        // Steps of an image-group segment interleave across groups: a value touched inside one is
        // alive for all of it.
        for segment in plan.segments where segment.imagesPerGroup < batch {
            for v in layouts.indices where last[v] >= 0 {
                if segment.steps.contains(max(first[v], 0)) || segment.steps.contains(min(last[v], steps.count - 1)) {
                    first[v] = min(first[v], segment.steps.lowerBound)
                    last[v] = max(last[v], segment.steps.upperBound - 1)
                }
            }
        }
        // In-place pairs: the step's output over the input it reads for the last time.
        var inPlace = Set<[Int]>()
        for step in steps {
            if let input = step.inPlaceInput, layouts[input].offset == layouts[step.output].offset { inPlace.insert([input, step.output]) }
        }
        func bytes(_ v: Int) -> Range<Int> {
            let start = layouts[v].offset * layouts[v].element.byteCount
            return start..<(start + layouts[v].byteCount(batch: batch) + gap[v])
        }
        var checkedPairs = 0
        for u in layouts.indices where last[u] >= 0 {
            #expect(bytes(u).upperBound <= compiled.arenaBytes, "\(model): value \(u) ends past the arena")
            #expect(layouts[u].offset * layouts[u].element.byteCount % 64 == 0, "\(model): value \(u) is not 64-byte aligned")
            for v in layouts.indices where v > u && last[v] >= 0 && first[u] <= last[v] && first[v] <= last[u] {
                checkedPairs += 1
                guard !inPlace.contains([u, v]) else { continue }
                #expect(!bytes(u).overlaps(bytes(v)), "\(model) batch \(batch): values \(u) and \(v) are alive together and overlap")
            }
        }
        #expect(checkedPairs > layouts.count, "\(model): too few pairs alive together to test anything")
        // A step's scratch (a piece per worker) overlaps no value alive during the step, nor the arena's end.
        var scratchSteps = 0
        for (i, scratch) in plan.stepScratch.enumerated() {
            guard let scratch else { continue }
            scratchSteps += 1
            let floats = steps[i].workerScratchFloats(layouts: layouts)
            #expect(scratch.stride >= floats)
            let range = (scratch.offset * 4)..<((scratch.offset + compiled.threads * scratch.stride) * 4)
            #expect(range.upperBound <= compiled.arenaBytes, "\(model): step \(i)'s scratch ends past the arena")
            for v in layouts.indices where last[v] >= 0 && first[v] <= i && i <= last[v] {
                #expect(!bytes(v).overlaps(range), "\(model) batch \(batch): step \(i)'s scratch overlaps value \(v), alive during it")
            }
        }
        #expect(scratchSteps > 0, "\(model): no step asked for scratch")
        #expect(plan.arenaBytes < compiled.unplannedActivationBytes, "\(model): no buffer was reused")
    }
}
