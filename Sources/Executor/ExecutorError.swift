/// A model that cannot be compiled or an input it cannot run: `kind` to switch on, `message` to show.
public struct ExecutorError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure, with the values a caller may act on.
    public enum Kind: Hashable, Sendable {
        /// A batch size or thread count outside its range.
        case invalidArgument
        /// A graph that fails validation (a hand-built or decoded one).
        case invalidGraph
        /// Weights that do not fit the graph (missing, extra or misshapen tensors).
        case weightsDoNotFit
        /// More memory than a tensor or this process may use.
        case tooLarge
        /// An input of the wrong shape or size.
        case inputShape(expected: [Int], got: [Int])
        /// A NaN or infinite input value at flat index `index`.
        case nonFiniteInput(index: Int)
    }

    /// What kind of failure.
    public var kind: Kind
    /// What is wrong, for people.
    public var message: String
    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    /// A readable form for messages and logs.
    public var description: String { message }
}
