#!/usr/bin/env python3
"""Peer baselines for Benchmarks/compare.sh: ONNX Runtime, OpenVINO and PyTorch eager on timm RegNets.

  peers.py export --model regnetx_004 --batch 1 --res 224 --out model.onnx   (needs torch, timm, onnx)
  peers.py quantize --onnx model.onnx --out model.int8.onnx --calibration 16
                      ONNX Runtime static post-training quantisation: QDQ, per-channel int8 weights,
                      uint8 activations, min/max calibration on seeded random inputs
  peers.py ort --onnx model.onnx --threads 2 --runs 20 --warmup 5           (imports only onnxruntime, numpy)
  peers.py openvino --onnx model.onnx --precision bf16 --threads 2          (imports only openvino, numpy)
  peers.py torch --model regnetx_004 --batch 1 --threads 2 --runs 20        (needs torch, timm)

Each timing mode prints one JSON object: median_ms, min_ms, peak_rss_bytes (of this process).
Random-initialised weights: speed does not depend on weight values.
"""
import argparse
import os
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
    ap.add_argument("mode", choices=["export", "quantize", "ort", "openvino", "torch"])
    ap.add_argument("--model", default="regnetx_004")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--res", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--onnx")
    ap.add_argument("--out")
    ap.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--calibration", type=int, default=16)
    a = ap.parse_args()

    if a.mode == "quantize":
        import numpy as np
        import onnx
        from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                              quantize_static)
        from onnxruntime.quantization.shape_inference import quant_pre_process
        prepared = a.out + ".pre.onnx"   # batch norms folded, shapes inferred, as ONNX Runtime advises
        quant_pre_process(a.onnx, prepared)
        shape = [d.dim_value for d in onnx.load(a.onnx).graph.input[0].type.tensor_type.shape.dim]
        rng = np.random.default_rng(0)

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.left = a.calibration

            def get_next(self):
                if self.left == 0:
                    return None
                self.left -= 1
                return {"x": rng.standard_normal(shape).astype(np.float32)}

        quantize_static(prepared, a.out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
        os.remove(prepared)
        return

    if a.mode == "openvino":
        import numpy as np
        import openvino as ov
        core = ov.Core()
        config = {"INFERENCE_PRECISION_HINT": a.precision, "INFERENCE_NUM_THREADS": a.threads,
                  "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
        compiled = core.compile_model(core.read_model(a.onnx), "CPU", config)
        request = compiled.create_infer_request()
        x = np.random.default_rng(0).standard_normal(list(compiled.inputs[0].shape)).astype(np.float32)
        median, minimum = timeit(lambda: request.infer({0: x}), a.warmup, a.runs)
        used = compiled.get_property("INFERENCE_PRECISION_HINT")
        print(json.dumps(dict(runtime=f"openvino {ov.__version__} ({used})", median_ms=median, min_ms=minimum,
                              peak_rss_bytes=peak_rss())))
        return

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
