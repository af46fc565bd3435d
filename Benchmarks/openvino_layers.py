#!/usr/bin/env python3
"""Per layer kind, our time next to OpenVINO's, for one model, batch and precision (the account the
inference issue asks for where a row of Benchmarks/compare.sh is not met).

  VENV/bin/python Benchmarks/openvino_layers.py --model regnetx_032 --batch 8 --precision bf16 [--onnx M.onnx]

OpenVINO runs the timm model's ONNX export with performance counters on (`--precision f32|bf16`);
its per-node times are summed by the RegNet layer each node belongs to (stem, 1x1 convolutions,
grouped 3x3, strided 1x1 projections, squeeze-excite, head; the remaining nodes as "other").
Ours come from `regnet bench --profile --json` in the matching precision. Medians of --runs runs.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile

import numpy as np


def kind(name):
    if "stem" in name:
        return "stem"
    if ".se." in name or "/se/" in name:
        return "se"
    if "head" in name or "fc" in name.split("/")[-2:][0]:
        return "linear"
    if "downsample" in name:
        return "conv1x1/s2"
    if re.search(r"conv2", name):
        return "conv3x3"
    if re.search(r"conv[13]", name):
        return "conv1x1"
    return "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="regnetx_032")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", choices=["f32", "bf16"], default="bf16")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--onnx")
    a = ap.parse_args()
    import openvino as ov
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    onnx = a.onnx
    if not onnx:
        onnx = os.path.join(tempfile.mkdtemp(), "model.onnx")
        subprocess.run([os.sys.executable, os.path.join(root, "Benchmarks", "peers.py"), "export", "--model", a.model,
                        "--batch", str(a.batch), "--out", onnx], check=True, stderr=subprocess.DEVNULL)
    core = ov.Core()
    compiled = core.compile_model(core.read_model(onnx), "CPU", {"INFERENCE_PRECISION_HINT": a.precision, "PERF_COUNT": True,
                                  "INFERENCE_NUM_THREADS": a.threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1})
    request = compiled.create_infer_request()
    x = np.random.default_rng(0).standard_normal(list(compiled.inputs[0].shape)).astype(np.float32)
    for _ in range(5):
        request.infer({0: x})
    per_run = []
    for _ in range(a.runs):
        request.infer({0: x})
        totals = {}
        for info in request.profiling_info:
            k = kind(info.node_name)
            totals[k] = totals.get(k, 0) + info.real_time.total_seconds() * 1000
        per_run.append(totals)
    theirs = {k: statistics.median(r.get(k, 0) for r in per_run) for k in per_run[0]}
    ours_precision = "bf16" if a.precision == "bf16" else "fp32"
    report = json.loads(subprocess.run([os.path.join(root, ".build", "release", "regnet"), "bench", a.model, "--batch", str(a.batch),
                                        "--threads", str(a.threads), "--precision", ours_precision, "--profile", "--json",
                                        "--iterations", str(a.runs)], check=True, capture_output=True, text=True).stdout)
    ours = {p["kind"]: p["ms"] for p in report["profile"]}
    print(f"{a.model}, batch {a.batch}, {a.threads} threads, ours {ours_precision} vs OpenVINO {a.precision} (ms per run)")
    print("| layer kind | ours | OpenVINO | ours / OpenVINO |")
    print("|---|---|---|---|")
    for k in sorted(set(ours) | set(theirs), key=lambda k: -max(ours.get(k, 0), theirs.get(k, 0))):
        o, t = ours.get(k, 0), theirs.get(k, 0)
        print(f"| {k} | {o:.2f} | {t:.2f} | {o / t:.2f} |" if t > 0 else f"| {k} | {o:.2f} | {t:.2f} | – |")
    print(f"| total | {sum(ours.values()):.2f} | {sum(theirs.values()):.2f} | {sum(ours.values()) / sum(theirs.values()):.2f} |")


if __name__ == "__main__":
    main()
