#!/usr/bin/env python3
"""Random RegNet configurations measured with timm, the independent reference for the Swift IR.

For each random (d, w0, wa, wm, g, b, se, stem, classes, resolution) it builds timm's RegNet
(random init, no downloads), reads stage widths/depths/group widths from the modules, and counts
params, flops (conv/linear multiply-adds + bias adds, pycls's definition) and acts (conv/linear
output elements) with forward hooks. Writes Tests/DesignSpacesTests/Fixtures/random_configs.json.

    python3 -m venv venv && venv/bin/pip install torch timm numpy
    venv/bin/python scripts/make_complexity_fixtures.py
"""
import json
import math
import os
import random

import numpy as np
import torch
import timm.models.regnet as tr

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DesignSpacesTests", "Fixtures", "random_configs.json")


def pycls_block_widths(d, w0, wa, wm, q=8):
    """float64 pycls generate_regnet (np.round = half to even)."""
    u = np.arange(d) * wa + w0
    s = np.round(np.log(u / w0) / np.log(wm))
    return (np.round(w0 * np.power(wm, s) / q) * q).astype(int).tolist(), int(s.max()) + 1


def measure(cfg, classes, res):
    model = tr.RegNet(cfg, num_classes=classes).eval()
    stats = {"flops": 0, "acts": 0}

    def hook(mod, inp, out):
        n = out.numel()
        if isinstance(mod, torch.nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            stats["flops"] += n * k * mod.in_channels // mod.groups
        else:
            stats["flops"] += n * mod.in_features
        if mod.bias is not None:
            stats["flops"] += n
        stats["acts"] += n

    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, 3, res, res))
    params = sum(p.numel() for p in model.parameters())
    widths, depths, gws = [], [], []
    for i in range(1, 5):
        stage = getattr(model, f"s{i}", None)
        if stage is None:
            break
        blocks = [b for n, b in stage.named_children() if n.startswith("b")]
        widths.append(blocks[0].conv3.conv.out_channels)
        depths.append(len(blocks))
        conv2 = blocks[0].conv2.conv
        gws.append(conv2.in_channels // conv2.groups)
    return params, stats["flops"], stats["acts"], widths, depths, gws


def main():
    rng = random.Random(20260127)
    torch.manual_seed(0)
    out, skipped = [], 0
    while len(out) < 60:
        d = rng.randint(3, 24)
        w0 = 8 * rng.randint(1, 24)
        wa = round(math.exp(rng.uniform(math.log(4), math.log(120))), 2)
        wm = round(rng.uniform(1.5, 3.0), 3)
        g = rng.choice([1, 2, 4, 8, 16, 24, 32, 48, 64])
        b = rng.choice([1, 1, 2, 4])
        se = rng.choice([0.0, 0.25])
        stem = rng.choice([16, 32])
        classes = rng.choice([10, 100, 1000])
        res = rng.choice([32, 64, 97, 128, 224])
        ws64, total = pycls_block_widths(d, w0, wa, wm)
        if len(set(ws64)) != 4:
            skipped += 1   # timm builds exactly four stages
            continue
        cfg = tr.RegNetCfg(depth=d, w0=w0, wa=wa, wm=wm, group_size=g, bottle_ratio=1.0 / b, se_ratio=se, stem_width=stem)
        ws32 = tr.generate_regnet(wa, w0, wm, d, g)[0]
        if ws32 != ws64:
            skipped += 1   # float32 (timm) and float64 (pycls) disagree on a near tie: not a valid cross-check
            continue
        params, flops, acts, widths, depths, gws = measure(cfg, classes, res)
        out.append(dict(depth=d, w0=w0, wa=wa, wm=wm, group_width=g, bottleneck_ratio=b, se_ratio=se, stem_width=stem,
                        classes=classes, resolution=res, widths=widths, depths=depths, group_widths=gws,
                        params=params, flops=flops, acts=acts))
    with open(OUT, "w") as f:
        json.dump({"generator": "timm " + __import__("timm").__version__, "skipped": skipped, "configs": out}, f, indent=1)
    print(f"wrote {len(out)} configurations ({skipped} skipped) to {OUT}")


if __name__ == "__main__":
    main()
