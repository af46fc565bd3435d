import Foundation

/// A dataset named on the command line: `cifar10:DIR`, `cifar100:DIR`, `folder:DIR`,
/// `npy:IMAGES.npy,LABELS.npy`, or a directory holding CIFAR-10 files.
public struct DatasetSpecification: Hashable, Sendable, CustomStringConvertible {
    /// The format.
    public enum Format: String, Sendable, Hashable { case cifar10, cifar100, folder, npy }

    /// The file format.
    public var format: Format
    /// Directory (cifar, folder) or the images array (npy).
    public var path: String
    /// The labels array (npy).
    public var labelsPath: String?

    /// A specification.
    public init(format: Format, path: String, labelsPath: String? = nil) {
        self.format = format
        self.path = path
        self.labelsPath = labelsPath
    }

    /// Parses `FORMAT:PATH`.
    public init(parsing text: String) throws(DataError) {
        guard let colon = text.firstIndex(of: ":"), let format = Format(rawValue: String(text[..<colon])) else {
            throw DataError(.invalidSpecification, "'\(text)' is not a dataset: use cifar10:DIR, cifar100:DIR, folder:DIR or npy:IMAGES.npy,LABELS.npy")
        }
        let rest = String(text[text.index(after: colon)...])
        guard !rest.isEmpty else { throw DataError(.invalidSpecification, "'\(text)' names no path") }
        if format == .npy {
            let parts = rest.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw DataError(.invalidSpecification, "npy datasets are npy:IMAGES.npy,LABELS.npy (got '\(text)')")
            }
            self.init(format: .npy, path: parts[0], labelsPath: parts[1])
        } else {
            self.init(format: format, path: rest)
        }
    }

    /// The specification as written on the command line.
    public var description: String { format == .npy ? "npy:\(path),\(labelsPath ?? "")" : "\(format.rawValue):\(path)" }

    /// The training split (CIFAR's training files, a folder's `train/`, the arrays).
    public func trainingSet() throws(DataError) -> any ImageDataset { try open(test: false) }

    /// The test split (CIFAR's test file, a folder's `val/`, the arrays), with the training classes.
    public func testSet(classNames: [String]? = nil) throws(DataError) -> any ImageDataset { try open(test: true, classNames: classNames) }

    func open(test: Bool, classNames: [String]? = nil) throws(DataError) -> any ImageDataset {
        let url = URL(fileURLWithPath: path)
        switch format {
        case .cifar10, .cifar100:
            return try CIFARDataset(directory: url, variant: format == .cifar10 ? .cifar10 : .cifar100, split: test ? .test : .train)
        case .folder:
            let root = url.appendingPathComponent(test ? "val" : "train")
            return try ImageFolderDataset(root: root, classNames: classNames)
        case .npy:
            return try NumPyDataset(images: url, labels: URL(fileURLWithPath: labelsPath ?? ""))
        }
    }
}
