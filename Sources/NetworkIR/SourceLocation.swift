/// Where a declaration was written, so errors can point at the user's line.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `#fileID` of the declaration (module/File.swift).
    public var fileID: String
    /// `#filePath` of the declaration, for tools that print clickable diagnostics.
    public var filePath: String
    /// Line of the declaration.
    public var line: Int
    /// Column of the declaration.
    public var column: Int

    /// A location; the defaults capture the caller's position.
    public init(fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        self.fileID = fileID
        self.filePath = filePath
        self.line = line
        self.column = column
    }

    /// A readable form for messages and logs.
    public var description: String { "\(fileID):\(line)" }

    /// Whether the declaration is inside this package's own library code (the zoo, the RegNet
    /// generator, declaration files) rather than the user's: errors do not show such locations.
    public var isInLibrary: Bool {
        ["NetworkIR/", "NetworkDSL/", "DesignSpaces/", "Declarations/", "Weights/", "Executor/", "Training/", "RegNet/"]
            .contains { fileID.hasPrefix($0) }
    }
}
