// swift-tools-version: 6.0
import PackageDescription

// No target sets unsafe build flags, so the package stays usable as a versioned dependency.
let package = Package(
    name: "swift-regnet",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RegNet", targets: ["RegNet"]),
        .executable(name: "regnet", targets: ["RegNetCLI"]),
        // Build-tool plugin: .regnet declaration files become Swift `Network` properties, checked at build time.
        .plugin(name: "RegNetDeclarations", targets: ["RegNetDeclarations"]),
        // Command plugin: `swift package regnet-summary`.
        .plugin(name: "RegNetSummary", targets: ["RegNetSummary"]),
    ],
    targets: [
        // Graph IR: shapes, validation errors, complexity, summaries. No dependencies.
        .target(name: "NetworkIR"),
        // The result-builder DSL and its lowering into the IR.
        .target(name: "NetworkDSL", dependencies: ["NetworkIR"]),
        // safetensors, npy, parameter naming, initialisation.
        .target(name: "Weights", dependencies: ["NetworkIR"]),
        // Images: PNG (own inflate), PPM/PGM, preprocessing, ImageNet class names. No dependencies.
        .target(name: "Images"),
        // Innermost SIMD micro-kernels only, chosen at run time per instruction set.
        .target(name: "Kernels"),
        // Operation definitions (inference step + training operation per kind), the inference compiler, worker pool.
        .target(name: "Executor", dependencies: ["NetworkIR", "Weights", "Kernels"]),
        // Datasets (CIFAR binary, image folders, npy), pycls's transforms, the prefetching batch loader.
        .target(name: "Data", dependencies: ["NetworkIR", "Weights", "Images"]),
        // The bundled handwritten-digits dataset (CIFAR binary format), for the demo, examples and tests.
        .target(name: "DigitsData", resources: [.copy("digits")]),
        // Training: the training compiler over the operation definitions, SGD as pycls, EMA, checkpoints.
        .target(name: "Training", dependencies: ["NetworkIR", "Weights", "Executor", "Data"]),
        // Sweeps: the paper's experiment as pycls runs it (setup, per-model jobs, shards, collect), in pycls's layout.
        .target(name: "Sweeps", dependencies: ["DesignSpaces", "NetworkIR", "Weights", "Training"]),
        // RegNet width rule, the model zoo, design spaces.
        .target(name: "DesignSpaces", dependencies: ["NetworkDSL"]),
        // .regnet declaration files: parser, checks (the DSL's own rules) and Swift generation.
        .target(name: "DeclarationFormat", dependencies: ["DesignSpaces"]),
        // ONNX export: the IR and its weights as an ONNX model, through a small protobuf writer.
        .target(name: "ONNX", dependencies: ["NetworkIR", "Weights"]),
        // Umbrella: what `import RegNet` gives.
        .target(name: "RegNet", dependencies: ["NetworkIR", "NetworkDSL", "DesignSpaces", "Weights", "Images", "Executor", "Training", "Data", "DigitsData", "Sweeps", "ONNX"]),
        // The `regnet` command-line tool: argument parsing and printing only.
        .executableTarget(name: "RegNetCLI", dependencies: ["RegNet", "DeclarationFormat"]),

        // Macros/: plugins and their tool (DeclarationCompiler). No SwiftSyntax: the tool links DeclarationFormat.
        .executableTarget(name: "DeclarationCompiler", dependencies: ["DeclarationFormat"], path: "Macros/DeclarationCompiler"),
        .plugin(name: "RegNetDeclarations", capability: .buildTool(), dependencies: ["DeclarationCompiler"], path: "Macros/RegNetDeclarations"),
        .plugin(name: "RegNetSummary",
                capability: .command(intent: .custom(verb: "regnet-summary", description: "Print the summary of every network declared in .regnet files")),
                dependencies: ["DeclarationCompiler"], path: "Macros/RegNetSummary"),

        // Build-time check of the examples' Swift-declared networks (errors at the Swift line).
        .executableTarget(name: "RegNetCheck", dependencies: ["ExampleNetworks", "RegNet"], path: "Macros/RegNetCheck"),
        .plugin(name: "RegNetCheckPlugin", capability: .buildTool(), dependencies: ["RegNetCheck"], path: "Macros/RegNetCheckPlugin"),

        // Examples: one capability each.
        .target(name: "ExampleNetworks", dependencies: ["RegNet"], path: "Examples/ExampleNetworks"),
        .executableTarget(name: "DeclareRegNetExample", dependencies: ["RegNet", "ExampleNetworks"], path: "Examples/DeclareRegNetExample",
                          plugins: ["RegNetCheckPlugin"]),
        .executableTarget(name: "CustomBlock", dependencies: ["RegNet", "ExampleNetworks"], path: "Examples/CustomBlock",
                          plugins: ["RegNetCheckPlugin"]),
        .executableTarget(name: "SampleDesignSpace", dependencies: ["RegNet"], path: "Examples/SampleDesignSpace"),
        .executableTarget(name: "ClassifyImages", dependencies: ["RegNet"], path: "Examples/ClassifyImages", exclude: ["Images"]),
        .executableTarget(name: "TrainDigits", dependencies: ["RegNet"], path: "Examples/TrainDigits"),
        .executableTarget(name: "DeclarationFilesExample", dependencies: ["RegNet"], path: "Examples/DeclarationFilesExample",
                          plugins: ["RegNetDeclarations"]),

        .testTarget(name: "NetworkDSLTests", dependencies: ["NetworkDSL", "NetworkIR"], exclude: ["Snippets"]),
        .testTarget(name: "DesignSpacesTests", dependencies: ["DesignSpaces"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DeclarationFormatTests", dependencies: ["DeclarationFormat", "DesignSpaces"]),
        .testTarget(name: "CLITests", dependencies: ["RegNetCLI", "Weights"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "Weights"], resources: [.copy("Fixtures")]),
        .testTarget(name: "WeightsTests", dependencies: ["Weights", "NetworkDSL"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "DigitsData", "Images", "Weights", "NetworkIR"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["RegNet", "Training", "DesignSpaces", "Weights", "ExampleNetworks", "Kernels", "Executor", "NetworkDSL", "NetworkIR"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ONNXTests", dependencies: ["ONNX", "NetworkDSL", "NetworkIR", "Weights", "Executor", "DesignSpaces"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ExecutorTests", dependencies: ["Executor", "DesignSpaces", "Weights", "Kernels", "NetworkIR"], resources: [.copy("Fixtures")]),
    ]
)
