/// A problem in a declaration file, at a line and column, printed the way compilers and IDEs read it.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    /// Error or warning.
    public enum Severity: String, Sendable { case error, warning, note }

    /// Error, warning or note.
    public var severity: Severity
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int
    /// What is wrong.
    public var message: String

    /// A diagnostic.
    public init(_ severity: Severity, line: Int, column: Int, _ message: String) {
        self.severity = severity
        self.line = line
        self.column = column
        self.message = message
    }

    /// `path:line:column: severity: message`.
    public func formatted(path: String) -> String { "\(path):\(line):\(column): \(severity.rawValue): \(message)" }

    /// A readable form for messages and logs.
    public var description: String { "\(line):\(column): \(severity.rawValue): \(message)" }
}
