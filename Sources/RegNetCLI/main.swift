import Foundation

/// The `regnet` command: declare, summarise and run RegNets. Exit status 0 ok, 1 runtime error, 2 usage error.
let usage = """
usage: regnet [<command>] [options]

With no command, runs the built-in demo: a small RegNet declared with the DSL, trained on the bundled
handwritten digits, then compiled for inference and run on a few test digits (`regnet demo --help`).

commands:
  models          list the zoo with complexity and published errors
  summary         per-stage table and totals of a zoo model or RegNet parameters
  run             forward pass on images or an input, top-K classes, logits to .npy
  bench           latency, throughput, memory and a per-layer profile (--train: training steps)
  train           train on CIFAR, image folders, npy arrays or the bundled digits, as pycls does
  eval            loss and top-1/top-5 error of weights on a dataset
  export-weights  write a model's weights as safetensors with timm, pycls or torchvision names
  export-onnx     write a network and its weights as an ONNX model
  quantize        calibrate a model for int8 and save it as a quantised safetensors file
  sample          draw networks from a design space (AnyNetX A-E, RegNet, RegNetX) in a complexity window
  edf             error EDFs, KS distances and good ranges from a results CSV, with an SVG chart
  sweep           the paper's experiment: set up a sweep of sampled models, train them (locally or on Slurm), collect
  help            this text, or `regnet help <command>`

`regnet <command> --help` describes each command.
"""

/// A subcommand: its help text and what it does.
struct Command {
    var usage: String
    var run: (inout Arguments) throws -> Void
}

let commands: [String: Command] = [
    "demo": Command(usage: DemoCommand.usage, run: DemoCommand.run),
    "models": Command(usage: ModelsCommand.usage, run: ModelsCommand.run),
    "summary": Command(usage: SummaryCommand.usage, run: SummaryCommand.run),
    "run": Command(usage: RunCommand.usage, run: RunCommand.run),
    "bench": Command(usage: BenchCommand.usage, run: BenchCommand.run),
    "train": Command(usage: TrainCommand.usage, run: TrainCommand.run),
    "eval": Command(usage: EvalCommand.usage, run: EvalCommand.run),
    "export-weights": Command(usage: ExportWeightsCommand.usage, run: ExportWeightsCommand.run),
    "export-onnx": Command(usage: ExportONNXCommand.usage, run: ExportONNXCommand.run),
    "quantize": Command(usage: QuantizeCommand.usage, run: QuantizeCommand.run),
    "sample": Command(usage: SampleCommand.usage, run: SampleCommand.run),
    "edf": Command(usage: EDFCommand.usage, run: EDFCommand.run),
    "sweep": Command(usage: SweepCommand.usage, run: SweepCommand.run),
]

/// " (did you mean X?)" for the command closest to `word`, when one is close.
@MainActor func suggestion(for word: String) -> String {
    closest(to: word, among: commands.keys.filter { $0 != "demo" }, maximumDistance: 3).map { " (did you mean '\($0)'?)" } ?? ""
}

@MainActor func main() -> Int32 {
    var words = Array(CommandLine.arguments.dropFirst())
    let name = words.isEmpty ? "demo" : words.removeFirst()
    if name == "help" || name == "--help" || name == "-h" {
        guard let topic = words.first else { print(usage); return 0 }
        guard let command = commands[topic] else {
            printError("regnet help: unknown command '\(topic)'\(suggestion(for: topic))\n\n\(usage)")
            return 2
        }
        print(command.usage)
        return 0
    }
    guard let command = commands[name] else {
        printError("regnet: unknown command '\(name)'\(suggestion(for: name))\n\n\(usage)")
        return 2
    }
    if words.contains("--help") || words.contains("-h") {
        print(command.usage)
        return 0
    }
    var args = Arguments(words)
    do {
        try args.rejectUnknownOptions(Arguments.optionNames(in: command.usage))
        try command.run(&args)
        return 0
    } catch let error as UsageError {
        printError("regnet \(name): \(error)\nsee `regnet \(name) --help`")
        return 2
    } catch {
        printError("regnet \(name): error: \(error)")
        return 1
    }
}

exit(main())
