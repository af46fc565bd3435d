#!/usr/bin/env python3
"""The bundled real dataset: scikit-learn's handwritten digits (1,797 8x8 greyscale images that ship
inside the scikit-learn package, no download) in the CIFAR-10 binary format, for the demo, the
examples and the tests.

Each image is scaled from 0-16 to 0-255, upsampled 4x (nearest neighbour) to 32x32 and repeated over
the R, G and B planes. A fixed permutation (seed 0) splits 1,500 training images, written as
data_batch_1.bin ... data_batch_5.bin (300 each), from 297 test images (test_batch.bin);
batches.meta.txt names the classes.

    python3 -m venv venv && venv/bin/pip install scikit-learn numpy
    venv/bin/python scripts/make_digits_dataset.py
"""
import os

import numpy as np
from sklearn.datasets import load_digits

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "DigitsData", "digits")


def records(images, labels):
    out = bytearray()
    for image, label in zip(images, labels):
        out.append(int(label))
        for _ in range(3):
            out += image.tobytes()
    return bytes(out)


def main():
    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
    images = np.kron(images, np.ones((4, 4), dtype=np.uint8))  # 8x8 -> 32x32
    labels = digits.target.astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(labels))
    train, test = order[:1500], order[1500:]
    os.makedirs(OUT, exist_ok=True)
    for i in range(5):
        part = train[i * 300:(i + 1) * 300]
        with open(os.path.join(OUT, f"data_batch_{i + 1}.bin"), "wb") as f:
            f.write(records(images[part], labels[part]))
    with open(os.path.join(OUT, "test_batch.bin"), "wb") as f:
        f.write(records(images[test], labels[test]))
    with open(os.path.join(OUT, "batches.meta.txt"), "w") as f:
        f.write("".join(f"{d}\n" for d in range(10)))
    print(f"{len(train)} training and {len(test)} test images in {OUT}")


if __name__ == "__main__":
    main()
