import Foundation
import RegNet

/// `regnet run`: one forward pass, top-K per image, optional logits file.
enum RunCommand {
    static let usage = """
    usage: regnet run [<model | --depth …>] [--weights W.safetensors] [--image A.png B.ppm … | --input X.npy]
                      [--output Y.npy] [--batch N] [--resolution R] [--threads T] [--top K]

    Runs the forward pass and prints the top-K classes per image (with ImageNet names for 1000-class
    models) and the time taken; writes the logits (N×classes) to --output.
    Inputs: PNG/JPEG/PGM/PPM images, preprocessed as the RegNets were evaluated (shorter side to 256,
    bilinear, centre crop 224, ImageNet mean/std); or an NCHW float32 .npy; or a seeded synthetic batch.

    \(RunOptions.usage)
      --image FILE …          one or more PNG, JPEG, PGM or PPM images (the batch is their count)
      --input X.npy           NCHW float32 input; its shape sets batch and resolution
      --output Y.npy          where to write the logits (written only when the run succeeds)
      --top K                 classes shown per image (default 5)
    """

    static func run(_ args: inout Arguments) throws {
        let inputPath = try args.option("--input")
        let images = try args.values("--image") ?? []
        let outputPath = try args.option("--output")
        let top = try args.int("--top") ?? 5
        var options = try RunOptions.parse(&args)
        try args.finish()
        var input: Tensor?
        guard images.isEmpty || inputPath == nil else { throw UsageError("give --image or --input, not both") }
        if !images.isEmpty {
            let preprocessing = Preprocessing()
            var scalars: [Float] = []
            for path in images {
                do { scalars += try preprocessing(ImageFile.read(contentsOf: URL(fileURLWithPath: path)).rgb) } catch {
                    throw RuntimeError(error.description)
                }
            }
            if options.batchGiven, options.batch != images.count {
                throw UsageError("--batch \(options.batch) does not match the \(images.count) images given (the batch is their count)")
            }
            if options.sizeGiven, (options.height, options.width) != (preprocessing.crop, preprocessing.crop) {
                throw UsageError("images are preprocessed to \(preprocessing.crop)x\(preprocessing.crop); --resolution/--height/--width cannot change that")
            }
            (options.batch, options.height, options.width) = (images.count, preprocessing.crop, preprocessing.crop)
            input = Tensor(shape: [images.count, 3, preprocessing.crop, preprocessing.crop], scalars: scalars)
        } else if let inputPath {
            let tensor: Tensor
            do { tensor = try NumPyArray.read(contentsOf: URL(fileURLWithPath: inputPath)) } catch { throw RuntimeError(error.description) }
            guard tensor.shape.count == 4, tensor.shape[1] == 3 else {
                let shape = tensor.shape.count > 8 ? "\(tensor.shape.count) dimensions" : "\(tensor.shape)"
                throw RuntimeError("\(inputPath): expected an NCHW array of shape (batch, 3, height, width), got \(shape)")
            }
            if options.batchGiven, options.batch != tensor.shape[0] {
                throw UsageError("--batch \(options.batch) does not match \(inputPath), which holds \(tensor.shape[0]) images")
            }
            if options.sizeGiven, (options.height, options.width) != (tensor.shape[2], tensor.shape[3]) {
                throw UsageError("--resolution/--height/--width (\(options.height)x\(options.width)) do not match \(inputPath)'s \(tensor.shape[2])x\(tensor.shape[3]) images")
            }
            (options.batch, options.height, options.width) = (tensor.shape[0], tensor.shape[2], tensor.shape[3])
            input = tensor
        }
        let model = try options.compile()
        if options.weightsPath == nil && options.model.embeddedWeights == nil {
            printError("note: no --weights, so \(model.graph.name) runs with seeded random weights (--seed \(options.seed)): its classes below mean nothing")
        }
        let x = input ?? syntheticInput(shape: model.inputShape, seed: options.seed)
        var output = Tensor(shape: [], scalars: [0])
        let seconds = try measure { output = try model.run(x) }
        let classes = model.outputShape.dropFirst().reduce(1, *)
        if let bad = output.scalars.firstIndex(where: { !$0.isFinite }) {
            throw RuntimeError("the network's output is not finite (\(output.scalars[bad]) for image \(bad / classes), class \(bad % classes)): the weights overflow float32; nothing was written")
        }
        let imageNet = classes == ImageNetClasses.names.count
        let predictions: [[Prediction]]
        do { predictions = try Tensor(shape: [options.batch, classes], scalars: output.scalars).topK(top, labels: imageNet ? ImageNetClasses.names : nil) } catch {
            throw RuntimeError(error.description)
        }
        for (n, best) in predictions.enumerated() {
            let label = images.isEmpty ? "image \(n)" : images[n]
            if imageNet {
                print("\(label):")
                for p in best { print(String(format: "  %6.2f%%  %4d  ", p.probability * 100, p.index) + (p.label ?? "")) }
            } else {
                print("\(label): " + best.map { "\($0.index) (\(String(format: "%.4f", $0.logit)))" }.joined(separator: ", "))
            }
        }
        print("\(model.graph.name): batch \(options.batch) at \(options.height)x\(options.width) on \(model.threads) threads "
              + "(\(model.kernels.name), \(model.precision.rawValue)): " + String(format: "%.2f ms", seconds * 1000))
        if let outputPath {
            do {
                try NumPyArray.write(Tensor(shape: [options.batch, classes], scalars: output.scalars), to: URL(fileURLWithPath: outputPath))
            } catch { throw RuntimeError(error.description) }
        }
    }
}
