/// A published RegNet: its pycls configuration and ImageNet errors.
public struct ZooModel: Hashable, Sendable, Codable {
    /// Paper name (`RegNetX-200MF`).
    public var name: String
    /// timm name (`regnetx_002`).
    public var timmName: String
    /// Exact configuration from the pycls yaml files (wa, wm with two decimals).
    public var configuration: RegNetConfiguration
    /// Published top-1 error (%) from pycls.
    public var top1Error: Double
    /// Published top-5 error (%) from pycls.
    public var top5Error: Double

    /// The network, optionally with another class count.
    public func network(classes: Int? = nil) throws(RegNetError) -> Network {
        var config = configuration
        if let classes { config.classes = classes }
        return try config.network(name: name)
    }
}

/// The 24 RegNetX and RegNetY models of the paper.
///
/// The paper's tables print wa and wm rounded (RegNetX-200MF as wa = 36, wm = 2.5); those values do
/// not reproduce the models, so the zoo carries the exact pycls values.
public enum Zoo {
    /// All models, RegNetX first, by increasing size.
    public static let models: [ZooModel] = [
        entry("RegNetX-200MF", "regnetx_002", 13, 24, 36.44, 2.49, 8, false, 31.088, 11.342),
        entry("RegNetX-400MF", "regnetx_004", 22, 24, 24.48, 2.54, 16, false, 27.382, 9.076),
        entry("RegNetX-600MF", "regnetx_006", 16, 48, 36.97, 2.24, 24, false, 25.864, 8.198),
        entry("RegNetX-800MF", "regnetx_008", 16, 56, 35.73, 2.28, 16, false, 24.846, 7.592),
        entry("RegNetX-1.6GF", "regnetx_016", 18, 80, 34.01, 2.25, 24, false, 23.038, 6.484),
        entry("RegNetX-3.2GF", "regnetx_032", 25, 88, 26.31, 2.25, 48, false, 21.736, 5.862),
        entry("RegNetX-4.0GF", "regnetx_040", 23, 96, 38.65, 2.43, 40, false, 21.356, 5.736),
        entry("RegNetX-6.4GF", "regnetx_064", 17, 184, 60.83, 2.07, 56, false, 20.844, 5.434),
        entry("RegNetX-8.0GF", "regnetx_080", 23, 80, 49.56, 2.88, 120, false, 20.728, 5.420),
        entry("RegNetX-12GF", "regnetx_120", 19, 168, 73.36, 2.37, 112, false, 20.288, 5.284),
        entry("RegNetX-16GF", "regnetx_160", 22, 216, 55.59, 2.1, 128, false, 19.956, 5.022),
        entry("RegNetX-32GF", "regnetx_320", 23, 320, 69.86, 2.0, 168, false, 19.498, 4.878),
        entry("RegNetY-200MF", "regnety_002", 13, 24, 36.44, 2.49, 8, true, 29.658, 10.378),
        entry("RegNetY-400MF", "regnety_004", 16, 48, 27.89, 2.09, 8, true, 25.898, 8.070),
        entry("RegNetY-600MF", "regnety_006", 15, 48, 32.54, 2.32, 16, true, 24.540, 7.280),
        entry("RegNetY-800MF", "regnety_008", 14, 56, 38.84, 2.4, 16, true, 23.684, 6.846),
        entry("RegNetY-1.6GF", "regnety_016", 27, 48, 20.71, 2.65, 24, true, 22.066, 6.134),
        entry("RegNetY-3.2GF", "regnety_032", 21, 80, 42.63, 2.66, 24, true, 21.074, 5.454),
        entry("RegNetY-4.0GF", "regnety_040", 22, 96, 31.41, 2.24, 64, true, 20.640, 5.336),
        entry("RegNetY-6.4GF", "regnety_064", 25, 112, 33.22, 2.27, 72, true, 20.110, 5.100),
        entry("RegNetY-8.0GF", "regnety_080", 17, 192, 76.82, 2.19, 56, true, 20.052, 5.060),
        entry("RegNetY-12GF", "regnety_120", 19, 168, 73.36, 2.37, 112, true, 19.670, 4.856),
        entry("RegNetY-16GF", "regnety_160", 18, 200, 106.23, 2.48, 112, true, 19.608, 4.944),
        entry("RegNetY-32GF", "regnety_320", 20, 232, 115.89, 2.53, 232, true, 19.066, 4.568),
    ]

    /// torchvision's variants, whose widths differ from the paper's because torchvision fits bottleneck
    /// widths to group widths with half-up rounding and a 10% floor. Errors are torchvision's published
    /// IMAGENET1K_V1 figures. timm names them `regnetx_004_tv`, `regnety_008_tv`, `regnety_080_tv`.
    public static let torchvisionVariants: [ZooModel] = [
        variant("RegNetX-400MF", "regnetx_004_tv", 27.166, 9.050),
        variant("RegNetY-800MF", "regnety_008_tv", 23.580, 6.864),
        variant("RegNetY-8.0GF", "regnety_080_tv", 19.968, 4.952),
    ]

    /// The paper's 24 models and torchvision's 3 variants.
    public static var allModels: [ZooModel] { models + torchvisionVariants }

    private static func variant(_ paperName: String, _ timm: String, _ top1: Double, _ top5: Double) -> ZooModel {
        var model = models.first { $0.name == paperName }!
        model.name = paperName + "-tv"
        model.timmName = timm
        model.configuration.groupRounding = .torchvision
        model.top1Error = top1
        model.top5Error = top5
        return model
    }

    /// Finds a model by paper name or timm alias, ignoring case, `-` and `_` (`regnetx_002`, `RegNetX-200MF`, `regnetx200mf`).
    public static func model(named name: String) throws(RegNetError) -> ZooModel {
        let key = normalize(name)
        if let found = allModels.first(where: { normalize($0.name) == key || normalize($0.timmName) == key }) {
            return found
        }
        let ranked = allModels.map { ($0.name, min(editDistance(key, normalize($0.name)), editDistance(key, normalize($0.timmName)))) }
            .sorted { $0.1 < $1.1 }
        let best = ranked.first?.1 ?? 0
        let suggestions = ranked.filter { $0.1 <= best + 1 }.prefix(3).map(\.0)
        throw RegNetError(.unknownName, "unknown model '\(name)'", suggestions: Array(suggestions))
    }

    private static func entry(_ name: String, _ timm: String, _ d: Int, _ w0: Double, _ wa: Double, _ wm: Double,
                              _ g: Int, _ se: Bool, _ top1: Double, _ top5: Double) -> ZooModel {
        ZooModel(name: name, timmName: timm,
                 configuration: RegNetConfiguration(depth: d, w0: w0, wa: wa, wm: wm, groupWidth: g, seRatio: se ? 0.25 : 0),
                 top1Error: top1, top5Error: top5)
    }

    static func normalize(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "-" && $0 != "_" && $0 != " " })
    }
}

/// Levenshtein distance, for suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}
