#!/usr/bin/env python3
"""Our int8 logits next to ONNX Runtime's, for the same model, weights and calibration images (a report:
the two quantise differently, so no tolerance applies).

  VENV/bin/python Benchmarks/int8_vs_onnxruntime.py [--model regnetx_004] [--calibration 32] [--images 8]

One timm model with seeded random weights is exported both as safetensors (ours) and ONNX (ONNX
Runtime). Both calibrate statically with min/max on the same seeded normal images (ours through
`regnet run --calibration npy:...`, ONNX Runtime through quantize_static: QDQ, per-channel int8 weights,
uint8 activations) and run the same held-out images. Prints, per pair of runs, the mean and smallest
per-image cosine similarity of the logits and the top-1 agreement. Needs torch, timm, onnx,
onnxruntime, safetensors and numpy; builds `regnet` in release.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="regnetx_004")
    ap.add_argument("--calibration", type=int, default=32)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--resolution", type=int, default=224)
    a = ap.parse_args()

    import onnxruntime as ort
    import timm
    import torch
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from safetensors.torch import save_file

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["swift", "build", "-c", "release", "--product", "regnet"], cwd=root, check=True, stdout=subprocess.DEVNULL)
    regnet = os.path.join(root, ".build", "release", "regnet")
    work = tempfile.mkdtemp()
    r = a.resolution
    torch.manual_seed(0)
    model = timm.create_model(a.model, pretrained=False).eval()
    # Batch-norm statistics as a trained network has them (random init leaves mean 0, variance 1).
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    weights = os.path.join(work, "model.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items() if "num_batches_tracked" not in k}, weights)
    rng = np.random.default_rng(0)
    calibration = rng.standard_normal((a.calibration, 3, r, r)).astype(np.float32)
    test = rng.standard_normal((a.images, 3, r, r)).astype(np.float32)
    np.save(os.path.join(work, "calibration.npy"), calibration)
    np.save(os.path.join(work, "labels.npy"), np.zeros(a.calibration, dtype=np.int64))
    np.save(os.path.join(work, "test.npy"), test)

    onnx_path, prepared, int8_path = (os.path.join(work, n) for n in ("model.onnx", "pre.onnx", "int8.onnx"))
    torch.onnx.export(model, torch.from_numpy(test), onnx_path, input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
    quant_pre_process(onnx_path, prepared)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([calibration[i:i + a.images] for i in range(0, a.calibration - a.images + 1, a.images)])

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {"x": batch}

    quantize_static(prepared, int8_path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    logits = {}
    for name, path in (("ORT fp32", onnx_path), ("ORT int8", int8_path)):
        logits[name] = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": test})[0]
    for name, extra in (("ours fp32", []), ("ours int8", ["--precision", "int8", "--calibration",
                        f"npy:{work}/calibration.npy,{work}/labels.npy", "--calibration-images", str(a.calibration)])):
        out = os.path.join(work, name.replace(" ", "_") + ".npy")
        subprocess.run([regnet, "run", a.model, "--weights", weights, "--input", os.path.join(work, "test.npy"),
                        "--output", out] + extra, check=True, stdout=subprocess.DEVNULL)
        logits[name] = np.load(out)

    def compare(x, y):
        cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
        return cos.mean(), cos.min(), (x.argmax(1) == y.argmax(1)).mean()

    print(f"{a.model} at {r}x{r}, seeded random weights, {a.calibration} calibration images, {a.images} held-out images")
    print("| pair | mean cosine | smallest cosine | top-1 agreement |")
    print("|---|---|---|---|")
    for x, y in (("ours int8", "ORT int8"), ("ours int8", "ours fp32"), ("ORT int8", "ORT fp32"), ("ours fp32", "ORT fp32")):
        mean, smallest, agree = compare(logits[x], logits[y])
        print(f"| {x} vs {y} | {mean:.6f} | {smallest:.6f} | {agree:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
