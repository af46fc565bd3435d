/// What static post-training quantisation learns from a calibration: for each convolution that runs in
/// int8, the scale of its uint8 input (value = q · scale, zero point 0) and its symmetric per-output-
/// channel weight scales (largest magnitude / 127, before batch norm is folded in). Save it with the
/// weights (`write(_:to:)`) so calibration is done once.
public struct Quantization: Sendable, Hashable, Codable {
    /// Input scale per convolution, by node name (`s1.b1.conv1.conv`).
    public var inputScales: [String: Float]
    /// Weight scales per convolution (one per output channel), by node name; computed from the weights
    /// where missing.
    public var weightScales: [String: [Float]]

    /// Scales for the named convolutions.
    public init(inputScales: [String: Float], weightScales: [String: [Float]] = [:]) {
        self.inputScales = inputScales
        self.weightScales = weightScales
    }
}

/// How a calibration turns the values it observes into a scale.
public enum CalibrationMethod: Sendable, Hashable {
    /// The largest value observed maps to 255.
    case minMax
    /// The given percentile (e.g. 99.99) of the observed values maps to 255; larger values saturate.
    case percentile(Double)
}
