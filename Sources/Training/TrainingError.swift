/// Why training could not start or continue: `kind` to switch on, `message` to show.
public struct TrainingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure, with the values a caller may act on.
    public enum Kind: Hashable, Sendable {
        /// A setting out of range or contradicting another (batch, threads, recipe, a loader's batch or
        /// input size, no EMA kept, no training kernels for the set).
        case invalidArgument
        /// A network training cannot handle (an invalid graph, an output that is not one score per class).
        case invalidNetwork
        /// A batch of the wrong size, or a label outside the classes.
        case invalidBatch
        /// The loss or a gradient stopped being finite at step `step` (1-based); the weights are
        /// left as they were before it.
        case nonFinite(step: Int)
        /// Weights that do not fit the network.
        case weightsDoNotFit
        /// More memory than this process may use.
        case tooLarge
        /// A checkpoint that cannot be written, read, or that another run wrote.
        case checkpoint(path: String)
        /// The run's output directory or log cannot be written.
        case fileAccess(path: String)
        /// A dataset failed while loading (a corrupt file, an image that does not decode).
        case data
    }

    /// What kind of failure.
    public var kind: Kind
    /// What went wrong, for people.
    public var message: String
    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    /// The message.
    public var description: String { message }
}
