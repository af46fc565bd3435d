#!/usr/bin/env python3
"""Peer baselines for Benchmarks/compare.sh: ONNX Runtime and PyTorch eager on timm RegNets.

  peers.py export --model regnetx_004 --batch 1 --res 224 --out model.onnx   (needs torch, timm, onnx)
  peers.py ort --onnx model.onnx --threads 2 --runs 20 --warmup 5           (imports only onnxruntime, numpy)
  peers.py torch --model regnetx_004 --batch 1 --threads 2 --runs 20        (needs torch, timm)

Each timing mode prints one JSON object: median_ms, min_ms, peak_rss_bytes (of this process).
Random-initialised weights: speed does not depend on weight values.
"""
import argparse
import json
import resource
import statistics
import sys
import time


def timeit(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def peak_rss():
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb * 1024 if sys.platform != "darwin" else kb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["export", "ort", "torch"])
    ap.add_argument("--model", default="regnetx_004")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--res", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--onnx")
    ap.add_argument("--out")
    a = ap.parse_args()

    if a.mode == "ort":
        import numpy as np
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(a.onnx, so, providers=["CPUExecutionProvider"])
        shape = session.get_inputs()[0].shape
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        median, minimum = timeit(lambda: session.run(None, {"x": x}), a.warmup, a.runs)
        print(json.dumps(dict(runtime="onnxruntime " + ort.__version__, median_ms=median, min_ms=minimum, peak_rss_bytes=peak_rss())))
        return

    import torch
    import timm
    torch.set_num_threads(a.threads)
    model = timm.create_model(a.model, pretrained=False).eval()
    x = torch.randn(a.batch, 3, a.res, a.res)
    if a.mode == "export":
        torch.onnx.export(model, x, a.out, input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
        return
    with torch.inference_mode():
        median, minimum = timeit(lambda: model(x), a.warmup, a.runs)
    print(json.dumps(dict(runtime="torch " + torch.__version__, median_ms=median, min_ms=minimum, peak_rss_bytes=peak_rss())))


if __name__ == "__main__":
    main()
