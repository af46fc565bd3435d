#!/usr/bin/env python3
"""PyTorch autocast references for bf16 (mixed-precision) training: Tests/TrainingTests/Fixtures/CASE.autocast*.safetensors.

Two cases of make_training_fixtures.py that start from pycls's initialisation, with their committed
weights, inputs and labels: "sgd" (a RegNetY with squeeze-excite, group width 8) and "x_g8_s2_steps"
(X blocks with a stride-2 grouped 3x3). (Its gradient cases' random weights and statistics make bf16
meaningless: autocast's gradients land 40-170% of a tensor's largest value from float64 there.)

CASE.autocast.safetensors: one train-mode forward/backward on the first batch with label smoothing 0.1
under torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's one-line mixed precision:
  "grad.<name>"  PyTorch autocast's gradient of every parameter (float32 master weights)
  "exact.<name>" the same gradient in float64 without autocast
  "gap.<name>"   how far autocast's gradient is from float64, as a fraction of the tensor's largest float64
                 gradient (or 1% of the network's largest, for tensors that are zero in exact arithmetic):
                 what bf16 operands cost on this case, the unit of the tests' tolerance
  "loss"         autocast's loss
These tiny networks at initialisation, with batch norm over 4-8 images, amplify bf16 rounding: one
activation that rounds to the other neighbouring bf16 value changes the gradients by percents, so two
correct bf16 implementations differ by about as much as either differs from float64.

x_g8_s2_steps.autocast_steps.safetensors: "loss", the 20 SGD steps of that case (constant rate 0.02,
momentum 0.9 nesterov, weight decay 5e-4 with batch norm exempt, label smoothing 0.1) with every forward
under autocast, and "loss.float32", the same run without it (they differ by 0.15% at most: this case
is not sensitive to bf16 over 20 steps, unlike "sgd", where autocast's losses drift 5.5% from float32's).

    venv/bin/python scripts/make_bf16_training_fixtures.py     (needs torch, timm, safetensors, numpy)
"""
import copy
import json
import os

import numpy as np
import torch
import timm.models.regnet as tr
from safetensors.torch import load_file, save_file

from make_training_fixtures import OUT, XBlockNet, smooth_one_hot, soft_cross_entropy

torch.set_num_threads(1)


def model_of(case):
    if case["network"] == "stages":
        model = XBlockNet(case["stem_width"], case["stem_stride"], case["stages"], case["group_width"], case["bottleneck_ratio"],
                          case["classes"])
    else:
        cfg = tr.RegNetCfg(depth=case["depth"], w0=case["w0"], wa=case["wa"], wm=case["wm"], group_size=case["group_width"],
                           bottle_ratio=1.0 / case["bottleneck_ratio"], se_ratio=case["se_ratio"], stem_width=case["stem_width"])
        model = tr.RegNet(cfg, num_classes=case["classes"])
    missing, unexpected = model.load_state_dict(load_file(os.path.join(OUT, f"{case['name']}.safetensors")), strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    return model.train()


def batches(case):
    x = torch.from_numpy(np.load(os.path.join(OUT, f"{case['name']}.inputs.npy")))
    y = torch.from_numpy(np.load(os.path.join(OUT, f"{case['name']}.labels.npy"))).long()
    return x, y


def loss_of(model, x, labels, classes, bf16):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(x)
    return soft_cross_entropy(logits.to(x.dtype), smooth_one_hot(labels, classes, 0.1, x.dtype))


def gradient_case(case):
    model, (x, y) = model_of(case), batches(case)
    exact_model = copy.deepcopy(model).double()
    loss = loss_of(model, x[0], y[0], case["classes"], True)
    loss.backward()
    loss_of(exact_model, x[0].double(), y[0], case["classes"], False).backward()
    exact = {n: p.grad for n, p in exact_model.named_parameters()}
    network = max(v.abs().max().item() for v in exact.values())
    out = {"loss": loss.detach().reshape(1)}
    gaps = {}
    for n, p in model.named_parameters():
        scale = max(exact[n].abs().max().item(), 1e-2 * network)
        gaps[n] = (p.grad.double() - exact[n]).abs().max().item() / scale
        out[f"grad.{n}"] = p.grad.detach().float().contiguous()
        out[f"exact.{n}"] = exact[n].float().contiguous()
        out[f"gap.{n}"] = torch.tensor([gaps[n]], dtype=torch.float32)
    save_file(out, os.path.join(OUT, f"{case['name']}.autocast.safetensors"))
    worst = max(gaps, key=gaps.get)
    print(f"{case['name']}: autocast loss {loss.item():.5f}; gradients' gap to float64: median {np.median(list(gaps.values())):.2e}, "
          f"worst {gaps[worst]:.2e} ({worst})")


def step_losses(case, bf16):
    """The losses of the case's SGD steps at its constant rate, with or without autocast."""
    model, (x, y) = model_of(case), batches(case)
    bn = [p for n, p in model.named_parameters() if "bn" in n]
    rest = [p for n, p in model.named_parameters() if "bn" not in n]
    opt = torch.optim.SGD([{"params": bn, "weight_decay": 0.0}, {"params": rest, "weight_decay": 5e-4}],
                          lr=case["base_lr"], momentum=0.9, dampening=0.0, nesterov=True)
    losses = []
    for _ in range(case["epochs"]):
        for it in range(case["iterations"]):
            opt.zero_grad()
            loss = loss_of(model, x[it], y[it], case["classes"], bf16)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return torch.tensor(losses, dtype=torch.float32)


def main():
    with open(os.path.join(OUT, "cases.json")) as f:
        cases = {c["name"]: c for c in json.load(f)}
    for name in ("sgd", "x_g8_s2_steps"):
        gradient_case(cases[name])
    case = cases["x_g8_s2_steps"]
    bf16, fp32 = step_losses(case, True), step_losses(case, False)
    save_file({"loss": bf16, "loss.float32": fp32}, os.path.join(OUT, f"{case['name']}.autocast_steps.safetensors"))
    print(f"{case['name']}: autocast losses {bf16[0]:.4f} -> {bf16[-1]:.4f}; largest gap to float32 {((bf16 - fp32).abs() / fp32).max():.2%}")


if __name__ == "__main__":
    main()
