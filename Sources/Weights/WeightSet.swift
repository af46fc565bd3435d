import NetworkIR

/// Named tensors for a network, keyed by timm-style parameter names (`s1.b1.conv1.conv.weight`).
public struct WeightSet: Sendable {
    /// The tensors by name.
    public var tensors: [String: Tensor]

    /// A weight set from named tensors.
    public init(_ tensors: [String: Tensor] = [:]) { self.tensors = tensors }

    /// The tensor called `name`.
    public subscript(name: String) -> Tensor? {
        get { tensors[name] }
        set { tensors[name] = newValue }
    }

    /// Names that the graph does not read but checkpoints carry; ignored when binding.
    public static func isBookkeeping(_ name: String) -> Bool { name.hasSuffix("num_batches_tracked") }

    /// Checks that the set holds exactly the tensors `graph` reads, with the right shapes and finite values.
    ///
    /// Errors name the tensor and the expected shape; several problems are listed together.
    public func validate(for graph: Graph) throws(WeightError) {
        var problems: [String] = []
        let expected = graph.parameters
        let expectedNames = Set(expected.map(\.name))
        // Unexpected names first: they usually explain the missing ones (another naming, a wrapper).
        let unexpected = tensors.keys.filter { !expectedNames.contains($0) && !Self.isBookkeeping($0) }.sorted()
        for name in unexpected.prefix(10) { problems.append("unexpected tensor '\(printable(name))'") }
        if unexpected.count > 10 { problems.append("… and \(unexpected.count - 10) more unexpected tensors") }
        for spec in expected {
            guard let tensor = tensors[spec.name] else {
                problems.append("missing tensor '\(spec.name)' (expected shape \(spec.shape))")
                continue
            }
            if tensor.shape != spec.shape {
                problems.append("tensor '\(spec.name)' has shape \(tensor.shape), expected \(spec.shape)")
            } else if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                problems.append("tensor '\(spec.name)' has a non-finite value (\(tensor.scalars[bad])) at element \(bad)")
            } else if spec.role == .runningVariance, let negative = tensor.scalars.firstIndex(where: { $0 < 0 }) {
                problems.append("tensor '\(spec.name)' has a negative variance at element \(negative)")
            }
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(20).joined(separator: "\n  ")
            let more = problems.count > 20 ? "\n  … and \(problems.count - 20) more" : ""
            throw WeightError(.doesNotFit(problems: problems), "weights do not fit \(graph.name):\n  \(shown)\(more)")
        }
    }
}
