import Testing
@testable import DeclarationFormat
import DesignSpaces

func diagnostics(_ text: String) -> [Diagnostic] { DeclarationFile(parsing: text).diagnostics }

/// The single diagnostic of `text`, which must be at `line`:`column` and contain `message`.
func expectOne(_ text: String, _ severity: Diagnostic.Severity, _ line: Int, _ column: Int, _ message: String,
               sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let found = diagnostics(text)
    #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
    guard let d = found.first else { return }
    #expect(d.severity == severity, "\(d)", sourceLocation: sourceLocation)
    #expect(d.line == line && d.column == column, "\(d) expected at \(line):\(column)", sourceLocation: sourceLocation)
    #expect(d.message.contains(message), "\(d)", sourceLocation: sourceLocation)
}

@Suite struct DeclarationFileTests {
    static let valid = """
    # RegNet from the quantised linear rule
    MyRegNet: depth=13 w0=24 wa=36.44 wm=2.49 group_width=8

    MyRegNetY: depth=14 w0=56 wa=38.84 wm=2.4 group_width=16 se_ratio=0.25 classes=10 stem=32   # trailing comment
    Tiny: stem=16 stages=1x24,2x48,2x96,1x192 group_width=8 bottleneck_ratio=1 classes=10
    Baseline: zoo=RegNetX-400MF classes=100
    """

    @Test func validFileParses() throws {
        let file = DeclarationFile(parsing: Self.valid)
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        #expect(file.declarations.map(\.name) == ["MyRegNet", "MyRegNetY", "Tiny", "Baseline"])
        #expect(file.declarations.map(\.line) == [2, 4, 5, 6])
        #expect(file.declarations.map(\.propertyName) == ["myRegNet", "myRegNetY", "tiny", "baseline"])
        #expect(try file.networks["MyRegNet"]!.stages().map(\.width) == [24, 56, 152, 368])
        #expect(try file.networks["Tiny"]!.network(name: "Tiny").lower().stages.map(\.width) == [24, 48, 96, 192])
        #expect(try file.networks["Baseline"]!.network(name: "B").lower().outputShape.channels == 100)
        #expect(file.networks["MyRegNetY"]!.settings.seRatio == 0.25)
    }

    @Test func propertyNames() {
        let file = DeclarationFile(parsing: "RegNetX_400: zoo=RegNetX-400MF\nABC: zoo=RegNetX-200MF\nx2: zoo=RegNetX-200MF")
        #expect(file.declarations.map(\.propertyName) == ["regNetX400", "abc", "x2"])
    }

    @Test func syntaxErrorsPointAtTheirColumn() {
        expectOne("Net depth=13", .error, 1, 1, "missing ':'")
        expectOne("  9Net: zoo=RegNetX-200MF", .error, 1, 3, "not a valid name")
        expectOne("Net: zoo=RegNetX-200MF colour=red", .error, 1, 24, "unknown key 'colour'")
        expectOne("Net: zoo=RegNetX-200MF classes=", .error, 1, 32, "missing value for 'classes'")
        expectOne("Net: zoo=RegNetX-200MF classes", .error, 1, 24, "'classes' has no value")
        expectOne("Net: zoo=RegNetX-200MF classes=10 classes=20", .error, 1, 35, "'classes' is given twice")
        expectOne("Net: zoo=RegNetX-200MF classes=ten", .error, 1, 32, "'classes' must be an integer")
    }

    @Test func valueErrorsUseTheDSLRules() {
        expectOne("\nNet: depth=13 w0=20 wa=36.44 wm=2.49 group_width=8", .error, 2, 18, "w0 must be a positive multiple of 8 (got 20)")
        expectOne("Net: depth=13 w0=24 wa=36.44 wm=1 group_width=8", .error, 1, 33, "wm must be > 1")
        expectOne("Net: depth=13 w0=24 wa=-1 wm=2 group_width=8", .error, 1, 24, "wa must be >= 0")
        expectOne("Net: depth=13 w0=24 wa=36.44 wm=x group_width=8", .error, 1, 33, "'wm' must be a number")
        expectOne("Net: depth=13 w0=24 wa=36.44", .error, 1, 1, "missing wm, group_width")
        // Widths not divisible by the group width: the lowering error, at the stages value.
        expectOne("Net: stages=1x24,1x60,1x96,1x192 group_width=8", .error, 1, 13, "stage 2: bottleneck width 60 is not divisible by group width 8")
        expectOne("Net: stages=1x24,2x group_width=8", .error, 1, 13, "DEPTHxWIDTH")
        expectOne("Net: stages=1x24,1x48,1x96,1x192", .error, 1, 1, "needs group_width=")
        expectOne("Net: stages=1x24,1x48,1x96,1x192 group_width=8 depth=3", .error, 1, 48, "cannot be combined with stages=")
    }

    @Test func zooDeclarations() {
        expectOne("Net: zoo=RegNetX-400M", .error, 1, 10, "unknown model 'RegNetX-400M'; did you mean RegNetX-400MF")
        expectOne("Net: zoo=RegNetX-400MF w0=24", .error, 1, 24, "cannot be combined with zoo=")
    }

    @Test func duplicatesAreErrors() {
        expectOne("A: zoo=RegNetX-200MF\n# c\nA: zoo=RegNetX-400MF", .error, 3, 1, "duplicate name 'A' (first declared on line 1)")
    }

    @Test func warnings() {
        expectOne("Net: stages=1x24,1x48,1x96 group_width=8", .warning, 1, 1, "has 3 stages")
        // The paper's rounded wa/wm for RegNetX-200MF.
        expectOne("X200: depth=13 w0=24 wa=36 wm=2.5 group_width=8", .warning, 1, 25,
                  "RegNetX-200MF's rounded paper parameters, which do not reproduce it: widths [24, 64, 152, 376]")
        // Rounded values that happen to give the same network (X-800MF) are fine.
        #expect(diagnostics("X800: depth=16 w0=56 wa=36 wm=2.3 group_width=16").isEmpty)
        // Warnings alone do not make the file invalid.
        #expect(!DeclarationFile(parsing: "Net: stages=1x24 group_width=8").hasErrors)
    }

    @Test func generatedSwiftSpellsOutTheStages() {
        let file = DeclarationFile(parsing: Self.valid)
        let source = SwiftGenerator.source(for: file, sourceName: "Networks.regnet")
        #expect(source.contains("public static let myRegNet = Network(\"MyRegNet\") {"))
        #expect(source.contains("Stage(depth: 7, width: 368, groupWidth: 8)"))
        #expect(source.contains("Stage(depth: 2, width: 768, groupWidth: 16, block: YBlock(seRatio: 0.25))"))
        #expect(source.contains("Head(classes: 100)"))
        #expect(source.contains("(Networks.regnet:5)"))
        let registry = SwiftGenerator.registry(names: [("MyRegNet", "myRegNet"), ("Tiny", "tiny")])
        #expect(registry.contains("(\"Tiny\", Network.tiny),"))
    }

    @Test func diagnosticFormat() {
        let d = Diagnostic(.error, line: 3, column: 7, "boom")
        #expect(d.formatted(path: "/p/Models.regnet") == "/p/Models.regnet:3:7: error: boom")
    }
}
