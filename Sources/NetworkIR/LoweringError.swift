/// A declaration that cannot become a valid graph: it names where (stage, block, layer) and the user's source line.
public struct LoweringError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Human-readable path, outermost first, for example `["stage 3", "block 1", "conv2.conv"]`.
    public var path: [String]
    /// What is wrong.
    public var message: String
    /// The declaration that produced the failing layer, when known.
    public var location: SourceLocation?

    /// An error at `path`.
    public init(path: [String], message: String, location: SourceLocation? = nil) {
        self.path = path
        self.message = message
        self.location = location
    }

    /// A readable form for messages and logs.
    public var description: String {
        var text = ""
        if let location, !location.isInLibrary { text += "\(location): " }
        if !path.isEmpty { text += path.joined(separator: ", ") + ": " }
        return text + message
    }
}
