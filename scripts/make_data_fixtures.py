#!/usr/bin/env python3
"""Reference outputs of pycls's data transforms (pycls/datasets/transforms.py, cifar10.py,
imagenet.py), restated with numpy and OpenCV as pycls runs them, for Tests/DataTests/Fixtures:

  photo.ppm                a 23x17 RGB test image (random, seed 0)
  imagenet_test.npy        pycls's test transform: scale the short side to 10 (cv2 INTER_LINEAR,
                           long side floor(long/short*10)), centre crop 8 (offsets ceil), /255,
                           ImageNet normalisation -> 3x8x8
  sized_crop.npy           the window y=2, x=3, 11x9 of the image resized to 8x8 (cv2 INTER_LINEAR), /255
  lighting.npy             pycls's lighting offsets (RGB) for alpha = (0.05, -0.1, 0.02)
  cifar.ppm                a 32x32 RGB image (random, seed 1)
  cifar_test.npy           CIFAR normalisation (pycls's mean/std on 0-255)
  cifar_train.npy          normalised, flipped, zero-padded by 4, cropped at y=3, x=6 -> 3x32x32

    python3 -m venv venv && venv/bin/pip install numpy opencv-python-headless
    venv/bin/python scripts/make_data_fixtures.py
"""
import math
import os

import cv2
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "DataTests", "Fixtures")
IMAGENET_MEAN, IMAGENET_SD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
CIFAR_MEAN, CIFAR_SD = [125.3, 123.0, 113.9], [63.0, 62.1, 66.7]
EIG_VALS = [0.2175, 0.0188, 0.0045]
EIG_VECS = np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]])


def write_ppm(path, rgb):
    h, w, _ = rgb.shape
    with open(path, "wb") as f:
        f.write(f"P6\n{w} {h}\n255\n".encode())
        f.write(rgb.astype(np.uint8).tobytes())


def scale(size, im):
    """pycls transforms.scale (HWC)."""
    h, w = im.shape[:2]
    if (w <= h and w == size) or (h <= w and h == size):
        return im
    h_new, w_new = size, size
    if w < h:
        h_new = int(math.floor((float(h) / w) * size))
    else:
        w_new = int(math.floor((float(w) / h) * size))
    return cv2.resize(im, (w_new, h_new), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def center_crop(size, im):
    """pycls transforms.center_crop (HWC)."""
    h, w = im.shape[:2]
    y = int(math.ceil((h - size) / 2))
    x = int(math.ceil((w - size) / 2))
    return im[y:(y + size), x:(x + size), :]


def chw(im):
    return np.ascontiguousarray(im.transpose([2, 0, 1])).astype(np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    photo = np.random.default_rng(0).integers(0, 256, size=(17, 23, 3)).astype(np.uint8)
    write_ppm(os.path.join(OUT, "photo.ppm"), photo)
    im = photo.astype(np.float32)
    test = center_crop(8, scale(10, im)) / 255.0
    test = chw(test)
    for c in range(3):
        test[c] = (test[c] - IMAGENET_MEAN[c]) / IMAGENET_SD[c]
    np.save(os.path.join(OUT, "imagenet_test.npy"), test.astype(np.float32))
    window = im[2:(2 + 11), 3:(3 + 9), :]
    np.save(os.path.join(OUT, "sized_crop.npy"), chw(cv2.resize(window, (8, 8), interpolation=cv2.INTER_LINEAR) / 255.0))
    # pycls lighting works on BGR images with BGR-ordered eigenvectors' rows reversed by rgb[2 - i];
    # in RGB order channel c gains sum_j eigvec[c][j] * alpha[j] * eigval[j].
    alpha = np.array([0.05, -0.1, 0.02])
    np.save(os.path.join(OUT, "lighting.npy"), (EIG_VECS * alpha * np.array(EIG_VALS)).sum(axis=1).astype(np.float32))
    cifar = np.random.default_rng(1).integers(0, 256, size=(32, 32, 3)).astype(np.uint8)
    write_ppm(os.path.join(OUT, "cifar.ppm"), cifar)
    x = chw(cifar.astype(np.float32))
    for c in range(3):
        x[c] = (x[c] - CIFAR_MEAN[c]) / CIFAR_SD[c]
    np.save(os.path.join(OUT, "cifar_test.npy"), x)
    flipped = x[:, :, ::-1]
    padded = np.pad(flipped, ((0, 0), (4, 4), (4, 4)), mode="constant")
    np.save(os.path.join(OUT, "cifar_train.npy"), np.ascontiguousarray(padded[:, 3:35, 6:38]).astype(np.float32))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
