// The umbrella module: `import RegNet` gives the DSL, the IR, the zoo and design spaces, weights, the executor, training, sweeps and ONNX export.
@_exported import NetworkIR
@_exported import NetworkDSL
@_exported import DesignSpaces
@_exported import Weights
@_exported import Images
@_exported import Executor
@_exported import Training
@_exported import Data
@_exported import DigitsData
@_exported import Sweeps
@_exported import ONNX
