import Foundation

/// scikit-learn's 1,797 handwritten digits (real 8×8 scans, upsampled to 32×32, grey in three
/// planes) in the CIFAR-10 binary format, bundled so the demo, examples and tests train on real data
/// without a download: 1,500 training images in `data_batch_1.bin` … `data_batch_5.bin`, 297 test
/// images in `test_batch.bin`. Made by `scripts/make_digits_dataset.py`.
public enum BundledDigits {
    /// The directory holding the files (read it as `cifar10:` data).
    public static var directory: URL {
        Bundle.module.url(forResource: "digits", withExtension: nil)!
    }
}
