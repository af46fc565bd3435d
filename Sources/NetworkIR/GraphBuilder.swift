/// Builds a `Graph` one operation at a time, checking each against its inputs.
///
/// Layers lower themselves through this type, including user-written ones, so it is public.
/// It keeps a cursor (`current`) for sequential layers and a scope for names and error paths.
public struct GraphBuilder: Sendable {
    /// Nodes appended so far.
    public private(set) var nodes: [Node]
    /// The value the next sequential layer consumes.
    public var current: NodeID
    /// Scope applied to appended nodes.
    public var scope = Scope()
    /// Stage records, appended by stage lowering.
    public var stages: [StageRecord] = []
    private var nameCounts: [String: Int] = [:]

    /// A builder whose input is one image of `input` shape.
    public init(input: FeatureShape) {
        nodes = [Node(operation: .input, inputs: [], shape: input, name: "input", scope: Scope())]
        current = 0
    }

    /// Shape of the current value.
    public var currentShape: FeatureShape { nodes[current].shape }

    /// Shape of any value built so far.
    public func shape(of id: NodeID) -> FeatureShape { nodes[id].shape }

    /// Appends `operation` reading `inputs` (default: the current value), makes it current and returns it.
    /// `name` is relative to the scope's parameter prefix.
    @discardableResult
    public mutating func append(_ operation: Operation, inputs: [NodeID]? = nil, name: String) throws(LoweringError) -> NodeID {
        let inputIDs = inputs ?? [current]
        let fullName = (scope.parameterPrefix + [name]).joined(separator: ".")
        let shape: FeatureShape
        do {
            shape = try operation.outputShape(for: inputIDs.map { nodes[$0].shape })
        } catch {
            throw LoweringError(path: scope.path + [name], message: error.message, location: scope.location)
        }
        nodes.append(Node(operation: operation, inputs: inputIDs, shape: shape, name: fullName, scope: scope))
        current = nodes.count - 1
        return current
    }

    /// A name not used yet in the current parameter scope: `conv1`, `conv2`, …
    public mutating func uniqueName(_ base: String) -> String {
        let key = (scope.parameterPrefix + [base]).joined(separator: ".")
        let n = nameCounts[key, default: 0] + 1
        nameCounts[key] = n
        return "\(base)\(n)"
    }

    /// Runs `body` with extra path and parameter-prefix components, restoring the scope afterwards.
    public mutating func withScope<T>(path: String?, prefix: String?, _ body: (inout GraphBuilder) throws(LoweringError) -> T) throws(LoweringError) -> T {
        let saved = scope
        if let path { scope.path.append(path) }
        if let prefix { scope.parameterPrefix.append(prefix) }
        defer { scope = saved }
        return try body(&self)
    }

    /// Runs `body` with errors pointing at `location`, the line where a layer was written, unless
    /// that line is inside the package (a built-in block's own layers keep the user's stage line).
    @discardableResult
    public mutating func at<T>(_ location: SourceLocation, _ body: (inout GraphBuilder) throws(LoweringError) -> T) throws(LoweringError) -> T {
        let saved = scope.location
        if !location.isInLibrary { scope.location = location }
        defer { scope.location = saved }
        return try body(&self)
    }

    /// An error at the current scope, for layers that validate their own arguments.
    public func error(_ message: String, at name: String? = nil) -> LoweringError {
        LoweringError(path: scope.path + (name.map { [$0] } ?? []), message: message, location: scope.location)
    }

    /// The finished graph, its output being the current value.
    public func build(name: String) -> Graph {
        Graph(name: name, nodes: nodes, output: current, stages: stages)
    }
}
