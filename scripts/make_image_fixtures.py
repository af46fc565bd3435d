#!/usr/bin/env python3
"""Reference decodes and preprocessing for the Images tests.

Decoders: random images are made as numpy arrays (the truth), written as PNG with pypng in every
colour type and bit depth (interlaced too) and as PGM/PPM by hand; the truth is saved next to each
file as float32 .npy of the stored samples (HWC; palettes expanded to RGB/RGBA).
Preprocessing: torchvision's Resize(256) + CenterCrop(224) + ToTensor on a landscape photo-like PNG,
and Resize(64) + CenterCrop(56) on a portrait one, saved as CHW float32 .npy.

    python3 -m venv venv && venv/bin/pip install numpy pypng pillow torch torchvision
    venv/bin/python scripts/make_image_fixtures.py
"""
import json
import os

import numpy as np
import png
from PIL import Image
import torchvision.transforms as T

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ImagesTests", "Fixtures")
rng = np.random.default_rng(2026)
W, H = 13, 7   # odd sizes exercise bit packing and the Adam7 pass edges


def save_truth(name, samples):
    np.save(os.path.join(OUT, name + ".npy"), samples.astype(np.float32))


def write_png(name, rows, **kw):
    with open(os.path.join(OUT, name), "wb") as f:
        png.Writer(W, H, **kw).write(f, rows)


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for depth in (1, 2, 4, 8, 16):
        a = rng.integers(0, 2 ** depth, size=(H, W, 1))
        write_png(f"grey{depth}.png", a.reshape(H, W).tolist(), greyscale=True, bitdepth=depth)
        save_truth(f"grey{depth}.png", a)
        cases.append(dict(file=f"grey{depth}.png", channels=1, max=2 ** depth - 1))
    for depth in (8, 16):
        a = rng.integers(0, 2 ** depth, size=(H, W, 3))
        write_png(f"rgb{depth}.png", a.reshape(H, W * 3).tolist(), greyscale=False, bitdepth=depth)
        save_truth(f"rgb{depth}.png", a)
        cases.append(dict(file=f"rgb{depth}.png", channels=3, max=2 ** depth - 1))
        write_png(f"rgb{depth}_interlaced.png", a.reshape(H, W * 3).tolist(), greyscale=False, bitdepth=depth, interlace=True)
        save_truth(f"rgb{depth}_interlaced.png", a)
        cases.append(dict(file=f"rgb{depth}_interlaced.png", channels=3, max=2 ** depth - 1))
        b = rng.integers(0, 2 ** depth, size=(H, W, 4))
        write_png(f"rgba{depth}.png", b.reshape(H, W * 4).tolist(), greyscale=False, alpha=True, bitdepth=depth)
        save_truth(f"rgba{depth}.png", b)
        cases.append(dict(file=f"rgba{depth}.png", channels=4, max=2 ** depth - 1))
        c = rng.integers(0, 2 ** depth, size=(H, W, 2))
        write_png(f"greyalpha{depth}.png", c.reshape(H, W * 2).tolist(), greyscale=True, alpha=True, bitdepth=depth)
        save_truth(f"greyalpha{depth}.png", c)
        cases.append(dict(file=f"greyalpha{depth}.png", channels=2, max=2 ** depth - 1))
    g = rng.integers(0, 2 ** 16, size=(H, W, 1))
    write_png("grey16_interlaced.png", g.reshape(H, W).tolist(), greyscale=True, bitdepth=16, interlace=True)
    save_truth("grey16_interlaced.png", g)
    cases.append(dict(file="grey16_interlaced.png", channels=1, max=65535))
    for depth, entries in ((4, 11), (8, 200)):
        palette = [tuple(int(v) for v in rng.integers(0, 256, size=3)) for _ in range(entries)]
        idx = rng.integers(0, entries, size=(H, W))
        write_png(f"palette{depth}.png", idx.tolist(), palette=palette, bitdepth=depth)
        save_truth(f"palette{depth}.png", np.array(palette)[idx])
        cases.append(dict(file=f"palette{depth}.png", channels=3, max=255))
    # PGM/PPM, written by hand.
    a = rng.integers(0, 256, size=(H, W, 3))
    with open(os.path.join(OUT, "rgb.ppm"), "wb") as f:
        f.write(b"P6\n# a comment\n%d %d\n255\n" % (W, H) + a.astype(np.uint8).tobytes())
    save_truth("rgb.ppm", a)
    with open(os.path.join(OUT, "rgb_ascii.ppm"), "w") as f:
        f.write("P3\n%d %d\n# comment between fields\n255\n" % (W, H) + "\n".join(" ".join(map(str, row)) for row in a.reshape(H, -1)) + "\n")
    save_truth("rgb_ascii.ppm", a)
    g16 = rng.integers(0, 1000, size=(H, W, 1))
    with open(os.path.join(OUT, "grey16.pgm"), "wb") as f:
        f.write(b"P5 %d %d 999\n" % (W, H) + g16.astype(">u2").tobytes())
    save_truth("grey16.pgm", g16)
    g8 = rng.integers(0, 16, size=(H, W, 1))
    with open(os.path.join(OUT, "grey_ascii.pgm"), "w") as f:
        f.write("P2\n%d %d\n15\n" % (W, H) + " ".join(map(str, g8.ravel())) + "\n")
    save_truth("grey_ascii.pgm", g8)
    cases += [dict(file="rgb.ppm", channels=3, max=255), dict(file="rgb_ascii.ppm", channels=3, max=255),
              dict(file="grey16.pgm", channels=1, max=999), dict(file="grey_ascii.pgm", channels=1, max=15)]

    # Preprocessing references: photo-like images (smooth gradients, edges, texture).
    def photo(w, h):
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        img = np.stack([128 + 100 * np.sin(x / 17) * np.cos(y / 23), 255 * x / w, 255 * (1 - y / h)], -1)
        img[(x - w / 3) ** 2 + (y - h / 2) ** 2 < (h / 4) ** 2] = (250, 30, 40)
        img += rng.normal(0, 12, size=img.shape)
        return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    pre = []
    for name, (w, h), (r, c) in (("landscape", (320, 240), (256, 224)), ("portrait", (90, 131), (64, 56))):
        im = photo(w, h)
        im.save(os.path.join(OUT, f"{name}.png"))
        ref = T.Compose([T.Resize(r), T.CenterCrop(c), T.ToTensor()])(im).numpy()
        np.save(os.path.join(OUT, f"{name}.reference.npy"), ref.astype(np.float32))
        pre.append(dict(file=f"{name}.png", resize=r, crop=c))
    # JPEG: PIL encodes (baseline; 4:4:4, 4:2:2, 4:2:0, grey, restart markers) and PIL's own decode is
    # the reference (our chroma upsampling replicates, libjpeg's smooths: compared with a tolerance).
    jpegs = []
    base = photo(61, 45)
    for name, kwargs, mode in (("jpeg444", dict(subsampling=0), "RGB"), ("jpeg422", dict(subsampling=1), "RGB"),
                               ("jpeg420", dict(subsampling=2), "RGB"), ("jpeg_grey", {}, "L"),
                               ("jpeg_restart", dict(subsampling=2, restart_marker_blocks=3), "RGB")):
        im = base.convert(mode)
        path = os.path.join(OUT, f"{name}.jpg")
        im.save(path, quality=90, **kwargs)
        ref = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
        np.save(os.path.join(OUT, f"{name}.jpg.npy"), ref)
        jpegs.append(dict(file=f"{name}.jpg", channels=1 if mode == "L" else 3))
    base.save(os.path.join(OUT, "jpeg_progressive.jpg"), quality=90, progressive=True)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(dict(decoders=cases, preprocessing=pre, jpeg=jpegs), f, indent=1)
    print(f"wrote {len(cases)} decoder cases and {len(pre)} preprocessing references to {OUT}")


if __name__ == "__main__":
    main()
