import Foundation
import RegNet

/// `regnet train`: trains a network on a dataset with pycls's recipe.
enum TrainCommand {
    static let usage = """
    usage: regnet train <model | --depth … | --stages … | --declaration …> --data D [options]

    Trains with pycls's recipe (defaults are pycls's): SGD with momentum and weight decay, the learning
    rate schedule with warmup set at each epoch's start, label smoothing, mixup/cutmix, an EMA of the
    weights, precise batch-norm statistics after each epoch, and an evaluation of the model and its
    EMA on the test set. Prints progress; with --out, writes pycls's stdout.log (json_stats lines), a
    checkpoint per epoch and the final weights.

    \(ModelSelection.usage)
    \(DataOptions.usage)
      --epochs E              epochs (default 200, pycls's OPTIM.MAX_EPOCH)
      --steps S               stop after S steps in all (the schedule still spans --epochs)
      --batch B               training batch (default 128); --test-batch (default 200)
      --lr LR                 base learning rate (default 0.1)
      --schedule cos|lin|exp|steps|constant   (default cos); --min-lr F (fraction of the base rate)
      --lr-steps 0,30,60 --lr-mult 0.1        the steps schedule
      --per-iteration-lr      set the rate every iteration instead of once per epoch
      --warmup-epochs W --warmup-factor F     linear warmup (default 0 epochs, factor 0.1)
      --momentum M --dampening D --no-nesterov | --nesterov   (default 0.9, 0, nesterov on)
      --adamw                 AdamW instead of SGD (PyTorch's torch.optim.AdamW, decoupled weight
                              decay); --beta1 B --beta2 B --adam-eps E (default 0.9, 0.999, 1e-8).
                              Fine-tuning usually wants --lr 1e-3 --weight-decay 0.05 with it
      --precision fp32|bf16   arithmetic of convolutions and linear layers (default fp32); bf16 is mixed
                              precision as torch.autocast does it (bf16 operands, float32 sums, batch
                              norm, loss, optimizer and master weights in float32; checkpoints stay
                              float32). Needs AVX-512 BF16; elsewhere fp32, with a note
      --weight-decay W        (default 5e-4); --bn-weight-decay W, --bias-weight-decay W: their own
      --label-smoothing S --mixup A --cutmix A (default 0)
      --ema-alpha A --ema-period P            (default 1e-5, 32; --ema-alpha 0 turns it off)
      --no-precise-bn         keep the running statistics (default: recompute after each epoch)
      --zero-init-final-gamma start each residual branch's last batch norm at 0
      --weights W             start from a checkpoint (timm, pycls or torchvision names) instead of --seed
      --seed S                initialisation, shuffling and augmentation seed (default 0)
      --threads T             worker threads (default: active processors)
      --out DIR               run.json, stdout.log, checkpoints/ (the last --keep N, default 3),
                              final.safetensors; the directory belongs to this run (locked while it
                              trains; one holding another run's records is refused)
      --resume                continue the run in --out from its newest checkpoint (only the same run:
                              network, batch, seed, recipe and data; differences are named)
      --save FILE             also write the final weights (timm names, with BN statistics) to FILE
      --quiet                 no progress lines
    """

    static func recipe(_ args: inout Arguments) throws -> TrainingRecipe {
        var r = TrainingRecipe()
        func number(_ name: String, _ apply: (Double) -> Void) throws {
            if let v = try args.double(name) {
                guard v >= 0 else { throw UsageError("\(name) must be non-negative (got \(v))") }
                apply(v)
            }
        }
        try number("--lr") { r.learningRate = $0 }
        try number("--min-lr") { r.minLearningRate = $0 }
        try number("--momentum") { r.momentum = $0 }
        try number("--dampening") { r.dampening = $0 }
        try number("--weight-decay") { r.weightDecay = $0 }
        try number("--bn-weight-decay") { r.batchNormWeightDecay = $0 }
        try number("--bias-weight-decay") { r.biasWeightDecay = $0 }
        try number("--warmup-epochs") { r.warmupEpochs = $0 }
        try number("--warmup-factor") { r.warmupFactor = $0 }
        try number("--label-smoothing") { r.labelSmoothing = $0 }
        try number("--mixup") { r.mixupAlpha = $0 }
        try number("--cutmix") { r.cutmixAlpha = $0 }
        try number("--ema-alpha") { r.emaAlpha = $0 }
        if let e = try args.int("--epochs", range: 1...1_000_000) { r.epochs = e }
        if let p = try args.int("--ema-period", range: 0...1_000_000) { r.emaUpdatePeriod = p }
        let adamW = args.flag("--adamw")
        var settings = TrainingRecipe.AdamW()
        try number("--beta1") { settings.beta1 = $0 }
        try number("--beta2") { settings.beta2 = $0 }
        try number("--adam-eps") { settings.epsilon = $0 }
        if adamW { r.adamW = settings } else if settings != TrainingRecipe.AdamW() {
            throw UsageError("--beta1, --beta2 and --adam-eps set AdamW's parameters; add --adamw to train with it")
        }
        if let name = try args.option("--precision") {
            guard let precision = Precision(rawValue: name), precision != .int8 else {
                throw UsageError("unknown training precision '\(name)' (fp32 or bf16; int8 is for inference)")
            }
            r.precision = precision == .float32 ? nil : precision
        }
        if args.flag("--no-nesterov") { r.nesterov = false }
        if args.flag("--nesterov") { r.nesterov = true }
        if args.flag("--no-precise-bn") { r.preciseBatchNorm = false }
        if args.flag("--zero-init-final-gamma") { r.zeroInitFinalGamma = true }
        if args.flag("--per-iteration-lr") { r.perIterationSchedule = true }
        let steps = try args.option("--lr-steps"), multiplier = try args.double("--lr-mult")
        switch try args.option("--schedule") ?? "cos" {
        case "cos": r.schedule = .cosine
        case "lin": r.schedule = .linear
        case "exp": r.schedule = .exponential
        case "constant": r.schedule = .constant
        case "steps":
            guard let steps else { throw UsageError("--schedule steps needs --lr-steps (epochs, the first 0), e.g. --lr-steps 0,30,60") }
            let epochs = steps.split(separator: ",").compactMap { Double($0) }
            guard epochs.count == steps.split(separator: ",").count else { throw UsageError("--lr-steps takes epochs separated by commas (got '\(steps)')") }
            r.schedule = .steps(epochs, multiplier: multiplier ?? 0.1)
        case let other: throw UsageError("unknown schedule '\(other)' (cos, lin, exp, steps or constant)")
        }
        if steps != nil, case .steps = r.schedule {} else if steps != nil { throw UsageError("--lr-steps goes with --schedule steps") }
        do { try r.validate() } catch { throw UsageError(error.message) }
        return r
    }

    /// Everything `regnet train` takes besides the network.
    struct Options {
        var recipe: TrainingRecipe
        var maxSteps: Int?
        var batch: Int
        var testBatch: Int
        var seed: UInt64
        var threads: Int?
        var weightsPath: String?
        var out: URL?
        var keep: Int
        var resume: Bool
        var save: URL?
        var quiet: Bool
        var data: DataOptions

        /// Reads the options from `args` (the network's are left for `ModelSelection`).
        init(_ args: inout Arguments) throws {
            recipe = try TrainCommand.recipe(&args)
            maxSteps = try args.int("--steps")
            batch = try args.int("--batch", range: 1...65_536) ?? 128
            testBatch = try args.int("--test-batch", range: 1...65_536) ?? 200
            seed = UInt64(try args.int("--seed", range: 0...Int.max) ?? 0)
            threads = try args.int("--threads", range: 1...CompiledModel.maxThreads)
            weightsPath = try args.option("--weights")
            out = try args.option("--out").map { URL(fileURLWithPath: $0) }
            keep = try args.int("--keep", range: 1...10_000) ?? 3
            resume = args.flag("--resume")
            save = try args.option("--save").map { URL(fileURLWithPath: $0) }
            quiet = args.flag("--quiet")
            guard let data = try DataOptions.parse(&args) else { throw UsageError("--data is required") }
            self.data = data
            if resume && out == nil { throw UsageError("--resume continues the run in --out DIR; give --out") }
        }
    }

    static func run(_ args: inout Arguments) throws {
        let options = try Options(&args)
        let model = try ModelSelection.parse(&args, weights: options.weightsPath)
        try args.finish()
        guard let network = model.network else { throw RuntimeError("training an ONNX model is not supported; declare the network (or export it from here)") }
        try train(network, options, recording: model)
    }

    /// What a run checks and opens before its first step: the data, the network lowered at the
    /// data's input size, its outputs against the data's classes, and the loaders (a batch larger
    /// than the training set fails here). `sweep setup` makes one for every model before writing
    /// anything, from datasets it opened once.
    struct Setup {
        let trainSet: any ImageDataset, testSet: any ImageDataset
        let graph: Graph
        let trainLoader: BatchLoader, testLoader: BatchLoader

        init(_ network: Network, _ options: Options, datasets: (train: any ImageDataset, test: any ImageDataset)? = nil,
             recordedSize: (height: Int, width: Int)? = nil) throws {
            let data = options.data
            (trainSet, testSet) = try datasets ?? data.open()
            let (height, width) = data.inputSize(of: trainSet, recorded: recordedSize)
            graph = try ModelSelection.lower(network, height: height, width: width)
            let classes = graph.outputShape.channels
            guard trainSet.classes <= classes else {
                throw RuntimeError("\(trainSet.name) has \(trainSet.classes) classes but \(graph.name) has \(classes) outputs; use --classes \(trainSet.classes)")
            }
            trainLoader = try data.loader(trainSet, spec: data.train, height: height, width: width, batch: options.batch, training: true,
                                          seed: options.seed)
            testLoader = try data.loader(testSet, spec: data.test ?? data.train, height: height, width: width, batch: options.testBatch,
                                         training: false, seed: options.seed)
        }
    }

    /// Trains `network` as `options` say; the weights files it writes record `model`'s flags when
    /// given (`ModelDescription`); `modelConfiguration` replaces sections of the logged `cfg` record;
    /// `onStep` is called after every step (a sweep job uses it to stop when its parent is gone).
    static func train(_ network: Network, _ options: Options, recording model: SelectedModel? = nil,
                      modelConfiguration: [String: StatsLog.Value] = [:], onStep: () -> Void = {}) throws {
        let (recipe, maxSteps, batch, testBatch, seed, threads) = (options.recipe, options.maxSteps, options.batch, options.testBatch,
                                                                   options.seed, options.threads)
        let (weightsPath, out, keep, resume, save, quiet, data) = (options.weightsPath, options.out, options.keep, options.resume,
                                                                   options.save, options.quiet, options.data)
        let setup = try Setup(network, options, recordedSize: model?.recordedSize)
        let (trainSet, testSet, graph, trainLoader, testLoader) = (setup.trainSet, setup.testSet, setup.graph, setup.trainLoader, setup.testLoader)
        let (height, classes) = (graph.inputShape.height, graph.outputShape.channels)
        let metadata = model?.description(height: height, width: graph.inputShape.width).metadata ?? [:]
        var initial: WeightSet?
        if let weightsPath {
            do { initial = try WeightSet.load(contentsOf: URL(fileURLWithPath: weightsPath)).weights } catch { throw RuntimeError(error.description) }
        }
        let isTerminal = isatty(STDOUT_FILENO) == 1
        do {
            let trainer = try Trainer(graph: graph, batch: batch, recipe: recipe, weights: initial, seed: seed, threads: threads)
            // The `cfg` record as pycls logs it: its configuration, nested by section; a sweep job adds
            // its model's sections (`MODEL`, `REGNET` or `ANYNET`).
            var configuration: [String: StatsLog.Value] = [
                "MODEL": .object(["NAME": .text(graph.name), "NUM_CLASSES": .integer(classes)]),
                "OPTIM": .object(["OPTIMIZER": .text(recipe.adamW == nil ? "sgd" : "adamw"),
                                  "BASE_LR": .number(recipe.learningRate), "MAX_EPOCH": .integer(recipe.epochs),
                                  "MOMENTUM": .number(recipe.momentum), "WEIGHT_DECAY": .number(recipe.weightDecay),
                                  "NESTEROV": .flag(recipe.nesterov), "WARMUP_EPOCHS": .number(recipe.warmupEpochs)]),
                "TRAIN": .object(["DATASET": .text(data.train.description), "BATCH_SIZE": .integer(batch), "IM_SIZE": .integer(height),
                                  "LABEL_SMOOTHING": .number(recipe.labelSmoothing), "MIXUP_ALPHA": .number(recipe.mixupAlpha),
                                  "PRECISION": .text(trainer.precision.rawValue)]),
                "TEST": .object(["DATASET": .text((data.test ?? data.train).description), "BATCH_SIZE": .integer(testBatch)]),
                "DESC": .text(graph.name), "RNG_SEED": .integer(Int(seed)), "NUM_THREADS": .integer(trainer.threads),
                "COMMAND": .text(CommandLine.arguments.joined(separator: " ")),
            ]
            configuration.merge(modelConfiguration) { _, new in new }
            let run = try TrainingRun(trainer: trainer, trainLoader: trainLoader, testLoader: testLoader,
                                      output: .init(directory: out, keepCheckpoints: keep, metadata: metadata), maxSteps: maxSteps, configuration: configuration)
            if !quiet {
                print("\(graph.name): \(formatCount(graph.complexity.flops)) flops, \(formatCount(graph.complexity.params)) params; "
                      + "\(trainSet.count) training images (\(trainLoader.batchesPerEpoch) batches of \(batch)), \(testSet.count) test; "
                      + "\(trainer.threads) threads, \(trainer.kernels.name), \(trainer.precision.rawValue)")
                if let asked = recipe.precision, asked != trainer.precision { printError(Precision.trainingFallbackNote(asked, kernels: trainer.kernels)) }
                if let reach = recipe.emaReach(batch: batch, iterationsPerEpoch: trainLoader.batchesPerEpoch), reach.lags {
                    print(String(format: "note: the EMA gets %d updates in this run and will still be %.0f%% the weights it starts from, "
                                 + "so its errors will lag the model's; --ema-alpha %.3g would leave 1%% (pycls's 1e-5 suits ImageNet-length runs)",
                                 reach.updates, reach.startingShare * 100, reach.suggestedAlpha))
                }
            }
            let final = try run.run(resume: resume) { event in
                if case .step = event { onStep() }
                guard !quiet else { return }
                switch event {
                case .step(let epoch, let iteration, let of, let result, let rate, let eta):
                    guard isTerminal else { return }
                    let line = String(format: "epoch %d/%d  iter %d/%d  loss %.4f  top1 %.2f%%  lr %.4g  %.0f img/s  eta %@",
                                      epoch + 1, recipe.epochs, iteration, of, result.loss, result.top1Error, result.learningRate, rate,
                                      StatsLog.timeString(eta))
                    FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line).utf8))
                case .record(let type, let values):
                    if isTerminal { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
                    print(summary(type, values))
                case .note(let text):
                    print(text)
                case .epoch, .checkpoint:
                    break   // the records above say the same, in pycls's format
                }
            }
            if let save { try trainer.weights.write(to: save, metadata: metadata) }
            if let final, !quiet {
                print(String(format: "final: test top-1 error %.2f%%, top-5 %.2f%%, loss %.4f over %d images", final.top1Error, final.top5Error, final.loss, final.count))
            }
        } catch let error as TrainingError {
            throw RuntimeError(error.message)
        } catch let error as WeightError {
            throw RuntimeError(error.message)
        }
    }

    /// One line per epoch record: the fields people read.
    static func summary(_ type: String, _ v: [String: StatsLog.Value]) -> String {
        func text(_ key: String) -> String {
            switch v[key] {
            case .number(let d): String(format: "%.2f", d)
            case .integer(let i): String(i)
            case .text(let s): s
            case .flag, .list, .object, nil: "-"
            }
        }
        switch type {
        case "train_epoch":
            let lr: String = { if case .number(let d) = v["lr"] { return String(format: "%.4g", d) }; return "-" }()
            let loss: String = { if case .number(let d) = v["loss"] { return String(format: "%.4f", d) }; return "-" }()
            return "epoch \(text("epoch"))  train  loss \(loss)  top-1 error \(text("top1_err"))%  lr \(lr)  \(text("time_epoch")) s"
        case "test_epoch": return "epoch \(text("epoch"))  test   top-1 error \(text("top1_err"))%  top-5 \(text("top5_err"))%  (best \(text("min_top1_err"))%)"
        default: return "epoch \(text("epoch"))  EMA    top-1 error \(text("top1_err"))%  top-5 \(text("top5_err"))%  (best \(text("min_top1_err"))%)"
        }
    }
}
