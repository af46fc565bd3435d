// swift-tools-version: 6.0
import PackageDescription

// The library's targets carry no unsafeFlags, so the package stays usable as a versioned dependency.
let package = Package(
    name: "swift-regnet",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RegNet", targets: ["RegNet"]),
        .executable(name: "regnet", targets: ["RegNetCLI"]),
    ],
    targets: [
        // Graph IR: shapes, validation errors, complexity, summaries. No dependencies.
        .target(name: "NetworkIR"),
        // The result-builder DSL and its lowering into the IR.
        .target(name: "NetworkDSL", dependencies: ["NetworkIR"]),
        // safetensors, npy, parameter naming, initialisation.
        .target(name: "Weights", dependencies: ["NetworkIR"]),
        // Innermost SIMD micro-kernels only, chosen at run time per instruction set.
        .target(name: "Kernels"),
        // Plan compiler (folding, fusion, arena), scheduler, operators.
        .target(name: "Executor", dependencies: ["NetworkIR", "Weights", "Kernels"]),
        // RegNet width rule, the model zoo, design spaces.
        .target(name: "DesignSpaces", dependencies: ["NetworkDSL"]),
        // safetensors, npy, parameter naming, initialisation.
        // Innermost SIMD micro-kernels only, chosen at run time per instruction set.
        // Plan compiler (folding, fusion, arena), scheduler, operators.
        // Umbrella: what `import RegNet` gives.
        .target(name: "RegNet", dependencies: ["NetworkIR", "NetworkDSL", "DesignSpaces", "Weights", "Executor"]),
        // The `regnet` command-line tool: argument parsing and printing only.
        .executableTarget(name: "RegNetCLI", dependencies: ["RegNet"]),

        // Examples: one capability each.
        .executableTarget(name: "DeclareRegNet", dependencies: ["RegNet"], path: "Examples/DeclareRegNet"),
        .executableTarget(name: "CustomBlock", dependencies: ["RegNet"], path: "Examples/CustomBlock"),
        .executableTarget(name: "SampleDesignSpace", dependencies: ["RegNet"], path: "Examples/SampleDesignSpace"),

        .testTarget(name: "NetworkDSLTests", dependencies: ["NetworkDSL", "NetworkIR"], exclude: ["Snippets"]),
        .testTarget(name: "DesignSpacesTests", dependencies: ["DesignSpaces"], resources: [.copy("Fixtures")]),
        .testTarget(name: "WeightsTests", dependencies: ["Weights", "NetworkDSL"]),
        .testTarget(name: "ExecutorTests", dependencies: ["Executor", "DesignSpaces", "Weights"], resources: [.copy("Fixtures")]),
    ]
)
