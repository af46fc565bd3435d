#!/usr/bin/env python3
"""PyTorch reference outputs for the executor's parity tests.

Builds small timm RegNets (X and Y blocks, bottleneck ratios 1/2/4, group width 1, clamped groups,
batches > 1, odd and non-square inputs), gives every parameter and batch-norm statistic random
values from fixed seeds, and writes per case into Tests/ExecutorTests/Fixtures/:
  CASE.safetensors     the timm state_dict (timm names, num_batches_tracked included as real checkpoints have)
  CASE.input.npy       NCHW float32 input
  CASE.logits.npy      PyTorch float32 logits
and cases.json describing each case's RegNet parameters. Two more cases cover the other checkpoint families:
a torchvision-built RegNetY (torchvision names and torchvision's half-up width rounding) and timm
weights renamed the way pycls names them, with the stem flipped to BGR as original pycls weights are.

    python3 -m venv venv && venv/bin/pip install torch timm safetensors numpy
    venv/bin/python scripts/make_executor_fixtures.py
    # full-size zoo models, for a local check (not committed):
    venv/bin/python scripts/make_executor_fixtures.py --zoo regnetx_002 --out /tmp/zoo --batch 2
"""
import argparse
import json
import os

import numpy as np
import torch
import timm
import timm.models.regnet as tr
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "ExecutorTests", "Fixtures")

# name, depth, w0, wa, wm, group width, bottleneck ratio b (bottleneck = width / b), se ratio, stem, classes, batch, H, W
CASES = [
    ("x_b1_g8", 6, 8, 8.0, 2.0, 8, 1, 0.0, 16, 10, 2, 32, 32),
    ("y_b1_g8_nonsquare", 6, 16, 8.0, 1.5, 8, 1, 0.25, 16, 7, 1, 29, 40),
    ("x_b2_g4", 7, 16, 8.0, 1.5, 4, 2, 0.0, 16, 10, 2, 24, 24),
    ("y_b4_g2_odd", 5, 16, 10.0, 1.5, 2, 4, 0.25, 8, 5, 1, 35, 35),
    ("x_g1_depthwise", 5, 8, 10.0, 2.0, 1, 1, 0.0, 8, 6, 1, 16, 16),
    ("y_clamped_groups", 6, 16, 8.0, 1.5, 48, 1, 0.25, 16, 4, 3, 20, 20),
    ("x_batch4_g16", 8, 16, 6.0, 1.5, 16, 1, 0.0, 16, 10, 4, 28, 28),
]


def randomize(model, seed):
    """Random weights and batch-norm statistics, so folding and every bias path are exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            elif name.endswith("bn.weight") or (p.dim() == 1 and name.endswith(".1.weight")):
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=g) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=g) * 1.5 + 0.5)
    return model.eval()


def write_case(out, name, model, batch, h, w, seed):
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(batch, 3, h, w, generator=g)
    with torch.no_grad():
        y = model(x)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out, f"{name}.safetensors"))
    np.save(os.path.join(out, f"{name}.input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, f"{name}.logits.npy"), y.numpy().astype(np.float32))
    return float(y.abs().max())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zoo", nargs="*", help="timm zoo names to export at full size instead of the test cases")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--resolution", type=int, default=224)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.zoo:
        for i, name in enumerate(args.zoo):
            model = randomize(timm.create_model(name, pretrained=False), 100 + i)
            m = write_case(args.out, name, model, args.batch, args.resolution, args.resolution, 100 + i)
            print(f"{name}: wrote {args.out}/{name}.* (max |logit| {m:.3f})")
        return
    manifest = []
    families = []
    for i, (name, d, w0, wa, wm, g, b, se, stem, classes, batch, h, w) in enumerate(CASES):
        cfg = tr.RegNetCfg(depth=d, w0=w0, wa=wa, wm=wm, group_size=g, bottle_ratio=1.0 / b, se_ratio=se, stem_width=stem)
        model = randomize(tr.RegNet(cfg, num_classes=classes), i)
        m = write_case(args.out, name, model, batch, h, w, i)
        manifest.append(dict(name=name, depth=d, w0=w0, wa=wa, wm=wm, group_width=g, bottleneck_ratio=b, se_ratio=se,
                             stem_width=stem, classes=classes, batch=batch, height=h, width=w))
        print(f"{name}: max |logit| {m:.3f}")
    families.append(write_torchvision_case(args.out))
    families.append(write_pycls_case(args.out, manifest))
    for case in manifest:
        case.update(family="timm", rounding="pycls", reverse_stem_channels=False)
    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump(manifest + families, f, indent=1)


# timm module paths and their pycls / torchvision equivalents (block level, then network level).
BLOCK_MAP = [("conv1.conv", "f.a", "f.a.0"), ("conv1.bn", "f.a_bn", "f.a.1"), ("conv2.conv", "f.b", "f.b.0"),
             ("conv2.bn", "f.b_bn", "f.b.1"), ("conv3.conv", "f.c", "f.c.0"), ("conv3.bn", "f.c_bn", "f.c.1"),
             ("se.fc1", "f.se.f_ex.0", "f.se.fc1"), ("se.fc2", "f.se.f_ex.2", "f.se.fc2"),
             ("downsample.conv", "proj", "proj.0"), ("downsample.bn", "bn", "proj.1")]


def pycls_name(timm_name):
    module, leaf = timm_name.rsplit(".", 1)
    parts = module.split(".", 2)
    if len(parts) == 3 and parts[0].startswith("s") and parts[1].startswith("b"):
        for t, p, _ in BLOCK_MAP:
            if parts[2] == t:
                return f"{parts[0]}.{parts[1]}.{p}.{leaf}"
    return timm_name  # stem.conv, stem.bn, head.fc are the same in pycls


def write_pycls_case(out, manifest):
    """y_b1_g8_nonsquare's weights under pycls names, stem flipped to expect BGR input."""
    from safetensors.torch import load_file
    src = "y_b1_g8_nonsquare"
    state = load_file(os.path.join(out, f"{src}.safetensors"))
    renamed = {pycls_name(k): v for k, v in state.items()}
    renamed["stem.conv.weight"] = renamed["stem.conv.weight"].flip(1).contiguous()
    save_file(renamed, os.path.join(out, "pycls_y_bgr.safetensors"))
    case = dict(next(c for c in manifest if c["name"] == src))
    case.update(name="pycls_y_bgr", family="pycls", rounding="pycls", reverse_stem_channels=True,
                input=f"{src}.input.npy", logits=f"{src}.logits.npy")
    print("pycls_y_bgr: pycls names, BGR stem")
    return case


def write_torchvision_case(out):
    """A torchvision RegNetY whose stage 3 is 48 wide (pycls rounding would give 32)."""
    from torchvision.models.regnet import BlockParams, RegNet
    d, w0, wa, wm, g, se, stem, classes, batch, h, w = 4, 8, 18.0, 2.2, 16, 0.25, 16, 7, 2, 36, 33
    torch.manual_seed(0)
    model = RegNet(BlockParams.from_init_params(d, w0, wa, wm, g, se_ratio=se), num_classes=classes, stem_width=stem)
    model = randomize(model, 50)
    m = write_case(out, "tv_y_halfup", model, batch, h, w, 50)
    print(f"tv_y_halfup: max |logit| {m:.3f}")
    return dict(name="tv_y_halfup", depth=d, w0=w0, wa=wa, wm=wm, group_width=g, bottleneck_ratio=1, se_ratio=se,
                stem_width=stem, classes=classes, batch=batch, height=h, width=w, family="torchvision",
                rounding="torchvision", reverse_stem_channels=False)


if __name__ == "__main__":
    main()
