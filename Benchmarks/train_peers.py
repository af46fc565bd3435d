#!/usr/bin/env python3
"""PyTorch training peers for Benchmarks/train_compare.sh: one SGD step (nesterov, momentum 0.9,
weight decay 5e-4, label smoothing 0.1) on random data, eager or torch.compile, in this process.

  train_peers.py --model regnetx_002|regnety_008|cifar --batch 32 --res 224 --threads 2 [--compile] [--bf16]

--bf16 runs the forward and the loss under torch.autocast("cpu", dtype=torch.bfloat16) (PyTorch's
one-line mixed precision: convolutions and linear layers in bf16, fp32 master weights).

`cifar` is the CIFAR-size RegNet of the main job (stride-1 stem 16; 2x32 and 4x64 Y blocks; group
width 8; SE 0.25; 10 classes), from scripts/train_digits_pytorch.py. Prints one JSON object:
median_step_ms, images_per_second, peak_rss_bytes (of this process).
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--res", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--bf16", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model == "cifar":
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
        from train_digits_pytorch import Net
        model, classes = Net(), 10
    else:
        import timm
        model, classes = timm.create_model(args.model, pretrained=False), 1000
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, args.res, args.res)
    y = torch.randint(0, classes, (args.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = F.cross_entropy(forward(x), y, label_smoothing=0.1)
        loss.backward()
        opt.step()

    forward = torch.compile(model) if args.compile else model
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(json.dumps(dict(median_step_ms=median * 1000, images_per_second=args.batch / median,
                          peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)))


if __name__ == "__main__":
    main()
