#!/usr/bin/env python3
"""ONNX files written by PyTorch's exporter, for the importer's tests (Tests/ONNXTests/Fixtures).

Small RegNets from timm (RegNetY: squeeze-excite as ReduceMean, Conv, Relu, Conv, Sigmoid, Mul)
and torchvision (RegNetX), random weights and batch-norm statistics (fixed seeds), exported with
torch.onnx.export (the TorchScript exporter, opset 17; eval mode folds batch norm into the
convolutions), with a seeded input and PyTorch's logits:
  NAME.onnx  NAME.input.npy (float32 2x3x64x64)  NAME.logits.npy (float32 2x10)

    python3 -m venv venv && venv/bin/pip install torch torchvision timm numpy onnx
    venv/bin/python scripts/make_onnx_fixtures.py
"""
import os

import numpy as np
import timm.models.regnet as tr
import torch
import torchvision.models.regnet as tv

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ONNXTests", "Fixtures")


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model.eval()


def export(name, model, seed):
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(seed + 100))
    with torch.no_grad():
        logits = model(x)
    torch.onnx.export(model, (x,), os.path.join(OUT, f"{name}.onnx"), dynamo=False, opset_version=17,
                      input_names=["input"], output_names=["logits"])
    np.save(os.path.join(OUT, f"{name}.input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, f"{name}.logits.npy"), logits.numpy().astype(np.float32))
    print(f"{name}: {os.path.getsize(os.path.join(OUT, name + '.onnx'))} bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    cfg = tr.RegNetCfg(depth=5, w0=16, wa=8.0, wm=1.5, group_size=8, se_ratio=0.25, stem_width=16)
    export("timm_regnety", randomize(tr.RegNet(cfg, num_classes=10), 1), 1)
    params = tv.BlockParams.from_init_params(depth=5, w_0=16, w_a=8.0, w_m=1.5, group_width=8)
    export("torchvision_regnetx", randomize(tv.RegNet(params, num_classes=10, stem_width=16), 2), 2)


if __name__ == "__main__":
    main()
