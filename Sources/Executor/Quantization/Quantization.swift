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
    /// Convolutions the calibration left in float32 because uint8 would lose too much of their input:
    /// node name → the relative RMS error it measured.
    public var excluded: [String: Float]

    /// The relative RMS input error above which `calibrate` leaves a layer in float32.
    public static let defaultMaximumInputError = 0.05

    /// Scales for the named convolutions.
    public init(inputScales: [String: Float], weightScales: [String: [Float]] = [:], excluded: [String: Float] = [:]) {
        self.inputScales = inputScales
        self.weightScales = weightScales
        self.excluded = excluded
    }
}

/// How a calibration turns the values it observes into a scale.
public enum CalibrationMethod: Sendable, Hashable {
    /// The largest value observed maps to 255.
    case minMax
    /// The given percentile (e.g. 99.99) of the observed values maps to 255; larger values saturate.
    case percentile(Double)
}
