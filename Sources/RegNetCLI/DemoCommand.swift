import RegNet

/// The no-argument main job: declare RegNetX-200MF by hand with the DSL, check it against the zoo and summarise it.
enum DemoCommand {
    static let usage = """
    usage: regnet [demo]

    Declares RegNetX-200MF stage by stage with the DSL, checks that it lowers to the same graph as the
    zoo's generated model, and prints its summary.
    """

    /// RegNetX-200MF as the paper lists it: widths 24, 56, 152, 368; depths 1, 1, 4, 7; group width 8.
    static let declared = Network("RegNetX-200MF") {
        Stem(32)
        Body {
            Stage(depth: 1, width: 24, groupWidth: 8)
            Stage(depth: 1, width: 56, groupWidth: 8)
            Stage(depth: 4, width: 152, groupWidth: 8)
            Stage(depth: 7, width: 368, groupWidth: 8)
        }
        Head(classes: 1000)
    }

    static func run(_ args: inout Arguments) throws {
        try args.finish()
        let graph = try ModelSelection.lower(declared, height: 224, width: 224)
        let zoo = try ModelSelection.lower(try Zoo.model(named: "RegNetX-200MF").network(), height: 224, width: 224)
        let same = graph.nodes.map(\.operation) == zoo.nodes.map(\.operation) && graph.nodes.map(\.name) == zoo.nodes.map(\.name)
        print(Summary(graph).table)
        print("declared by hand == zoo RegNetX-200MF: \(same ? "yes" : "NO")")
        guard same else { throw RuntimeError("the hand-declared network differs from the zoo model") }
    }
}
