/// Whether a configuration belongs to a design space, and why not.
public enum Membership: Hashable, Sendable {
    /// Inside the space.
    case member
    /// Outside, with the first rule it breaks.
    case outside(String)

    /// True for `.member`.
    public var isMember: Bool { self == .member }
}

/// A design space in the sense of the paper: a set of network configurations with a sampling
/// distribution. Membership, size and sampling are each space's own.
public protocol DesignSpace: Sendable {
    /// Name (`AnyNetXA`, `RegNetX`, …).
    var name: String { get }
    /// Whether `configuration` is in the space, with a reason when not.
    func membership(of configuration: DesignConfiguration) -> Membership
    /// Number of distinct configurations on the space's grid.
    var size: Double { get }
    /// One configuration, drawn as the paper and pycls draw it (before any complexity window).
    func sample(using generator: inout SeededGenerator) -> DesignConfiguration
}

/// Every design space by name, for the CLI and tools.
public enum DesignSpaceCatalog {
    /// AnyNetX A–E, RegNet and RegNetX.
    public static let all: [any DesignSpace] = [
        AnyNetXSpace(.a), AnyNetXSpace(.b), AnyNetXSpace(.c), AnyNetXSpace(.d), AnyNetXSpace(.e),
        RegNetSpace.regNet, RegNetSpace.regNetX,
    ]

    /// The space called `name`, ignoring case, `-` and `_`.
    public static func named(_ name: String) throws(RegNetError) -> any DesignSpace {
        let key = Zoo.normalize(name)
        if let space = all.first(where: { Zoo.normalize($0.name) == key }) { return space }
        throw RegNetError(.unknownName, "unknown design space '\(name)'", suggestions: all.map(\.name))
    }
}
