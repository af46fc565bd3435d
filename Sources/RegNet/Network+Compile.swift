
extension Network {
    /// Lowers and compiles the network for `batch` images of `height` × `width` (default square `resolution`).
    ///
    /// Without `weights`, parameters are initialised as pycls does from `seed`, so runs are reproducible.
    /// `precision: .bfloat16` runs the convolutions in bf16 where the CPU can (see `CompiledModel.precision`).
    public func compile(resolution: Int = 224, height: Int? = nil, width: Int? = nil, weights: WeightSet? = nil,
                        seed: UInt64 = 0, batch: Int = 1, threads: Int? = nil, kernels: KernelSet = .best,
                        precision: Precision = .float32) throws -> CompiledModel {
        let graph = try lower(height: height ?? resolution, width: width ?? resolution)
        return try CompiledModel(graph: graph, weights: weights ?? .initialized(for: graph, seed: seed),
                                 batch: batch, threads: threads, kernels: kernels, precision: precision)
    }
}

extension Network {
    /// A trainer for this network on batches of `batch` images of `height` × `width` (default square
    /// `resolution`), starting from `weights` or pycls's initialisation from `seed`; `precision: .bfloat16`
    /// trains in mixed precision where the CPU can (see `TrainingRecipe.precision`, `Trainer.precision`).
    public func trainer(resolution: Int = 224, height: Int? = nil, width: Int? = nil, batch: Int,
                        recipe: TrainingRecipe = TrainingRecipe(), weights: WeightSet? = nil, seed: UInt64 = 0,
                        threads: Int? = nil, kernels: KernelSet = .best, precision: Precision? = nil) throws -> Trainer {
        let graph = try lower(height: height ?? resolution, width: width ?? resolution)
        return try Trainer(graph: graph, batch: batch, recipe: recipe, weights: weights, seed: seed, threads: threads, kernels: kernels,
                           precision: precision)
    }
}
