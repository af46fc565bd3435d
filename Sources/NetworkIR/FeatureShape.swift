/// The shape of one image's feature map (channels, height, width); the batch dimension is left free.
public struct FeatureShape: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Number of channels.
    public var channels: Int
    /// Spatial height.
    public var height: Int
    /// Spatial width.
    public var width: Int

    /// A feature shape of `channels` × `height` × `width`.
    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Elements per image.
    public var elementCount: Int { channels * height * width }

    /// A readable form for messages and logs.
    public var description: String { "\(channels)x\(height)x\(width)" }
}
