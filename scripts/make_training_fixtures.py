#!/usr/bin/env python3
"""PyTorch reference results for the training engine's tests (Tests/TrainingTests/Fixtures).

For each case: a small network with random weights and batch-norm statistics (fixed seeds), a batch
of inputs and labels, and what PyTorch computes from them in train mode:
  CASE.safetensors        initial state_dict (timm names; num_batches_tracked dropped)
  CASE.inputs.npy         float32 [steps][batch][3][H][W]
  CASE.labels.npy         float32 [steps][batch] (integer class indices)
  CASE.grads.safetensors  after one forward/backward with label smoothing 0.1: "grad.<name>" for every
                          parameter, computed in float64 (PyTorch's own float32 gradients differ from
                          them by up to 2e-4 of a tensor's largest value; the script prints by how
                          much), "loss" (float32), and for the mixup case the mix that was applied
The "steps" case (x_g8_s2_steps) is 20 SGD steps of a pycls X-block network with explicit stages whose
second stage opens with a stride-2 grouped 3x3 of group width 8 on small maps (18x18 to 9x9): constant
learning rate, momentum 0.9 nesterov, weight decay 5e-4 with batch norm exempt, label smoothing 0.1,
no EMA (learning rate 0.02, pycls's initialisation). CASE.steps.safetensors holds "loss" per step and
"final.<name>", "momentum.<name>" after the 20 steps, in float64. A ReLU whose input lies within float32 rounding of zero can open in float64 and
close in float32 (or the reverse): that pixel's gradient is then dropped and the step that follows is
a few percent off, for PyTorch's float32 as for ours. At learning rate 0.1 on random data such flips
are the rule: PyTorch's own float32 run ends 1e-2 to 3e-1 from float64 in 15 of 16 seeds. The inputs
are drawn until every ReLU input of the 20 float64 steps is at least STEPS_MARGIN from zero and
PyTorch's float32 run stays within 1e-5 of float64, so the case measures arithmetic, not that chance.
The "sgd" case also writes CASE.sgd.safetensors: 20 SGD steps as pycls trains (momentum 0.9, nesterov,
weight decay 5e-4 with batch norm exempt, cosine schedule with one warmup epoch set per epoch, label
smoothing 0.1, EMA every 2 iterations by pycls's update_model_ema formula): "loss" per step,
"final.<name>" (weights and running statistics), "momentum.<name>", "ema.<name>"; and
CASE.precise_bn.safetensors: the running statistics pycls's compute_precise_bn_stats gives on the
initial weights over the case's 4 batches; and CASE.adamw.safetensors: 20 steps of torch.optim.AdamW
from the same weights on the same batches (betas 0.9/0.999, eps 1e-8, weight decay 0.05 with batch
norm exempt, the same schedule with base rate 1e-3, label smoothing 0.1, no EMA), in float64: "loss"
per step, "final.<name>", "exp_avg.<name>", "exp_avg_sq.<name>".
cases.json lists each case's network and run settings.

    python3 -m venv venv && venv/bin/pip install torch timm safetensors numpy
    venv/bin/python scripts/make_training_fixtures.py
    # full-size zoo models (one train-mode step at 224, batch 8; not committed), checked by
    # REGNET_TRAINING_FIXTURES=/tmp/zoo swift test -c release --filter GradientTests:
    venv/bin/python scripts/make_training_fixtures.py --zoo regnetx_002 regnety_008 --out /tmp/zoo
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import timm.models.regnet as tr
from safetensors.torch import save_file

from make_executor_fixtures import randomize  # random weights and BN statistics, the executor fixtures' rule

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "TrainingTests", "Fixtures")

# name, depth, w0, wa, wm, group width, b, se ratio, stem, classes, batch, H, W
REGNET_CASES = [
    ("x_b2_g4", 5, 16, 8.0, 1.5, 4, 2, 0.0, 16, 10, 3, 24, 20),
    ("y_se_clamped_odd", 5, 16, 8.0, 1.5, 48, 1, 0.25, 8, 7, 4, 19, 23),
    ("x_g1", 5, 16, 8.0, 1.5, 1, 1, 0.0, 8, 6, 3, 16, 16),
    # Large enough (2 x 64 x 64 pixels after the stem) that the first 1x1 convolutions take both
    # gradients in one pass over chunks of pixels (Gemm.dataAndWeightGradients).
    ("x_g8_wide", 5, 16, 8.0, 1.5, 8, 1, 0.0, 8, 4, 2, 128, 128),
]


def state(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}



class InvertedResidual(nn.Module):
    """Examples/ExampleNetworks/InvertedResidual.swift: 1x1 expand, 3x3 depthwise (stride), 1x1 project,
    residual with a 1x1 strided projection ("shortcut") when the shape changes."""

    def __init__(self, w_in, w_out, stride, expansion):
        super().__init__()
        hidden = w_in * expansion
        self.expand = nn.ModuleDict(dict(conv=nn.Conv2d(w_in, hidden, 1, bias=False), bn=nn.BatchNorm2d(hidden)))
        self.depthwise = nn.ModuleDict(dict(conv=nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                                            bn=nn.BatchNorm2d(hidden)))
        self.project = nn.ModuleDict(dict(conv=nn.Conv2d(hidden, w_out, 1, bias=False), bn=nn.BatchNorm2d(w_out)))
        self.shortcut = None
        if w_in != w_out or stride != 1:
            self.shortcut = nn.ModuleDict(dict(conv=nn.Conv2d(w_in, w_out, 1, stride, bias=False), bn=nn.BatchNorm2d(w_out)))

    def forward(self, x):
        y = F.relu(self.expand.bn(self.expand.conv(x)))
        y = F.relu(self.depthwise.bn(self.depthwise.conv(y)))
        y = self.project.bn(self.project.conv(y))
        s = x if self.shortcut is None else self.shortcut.bn(self.shortcut.conv(x))
        return y + s


class InvertedResidualNet(nn.Module):
    """Network { Stem(8); Body { Stage(depth: 1, width: 16, InvertedResidual(expansion: 2));
    Stage(depth: 2, width: 24, InvertedResidual(expansion: 2)) }; Head(classes: 10) } (TrainingTests)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.ModuleDict(dict(conv=nn.Conv2d(3, 8, 3, 2, 1, bias=False), bn=nn.BatchNorm2d(8)))
        stages, w_in = [], 8
        for i, (depth, width, e) in enumerate([(1, 16, 2), (2, 24, 2)]):
            blocks = nn.Module()
            for j in range(depth):
                blocks.add_module(f"b{j + 1}", InvertedResidual(w_in, width, 2 if j == 0 else 1, e))
                w_in = width
            self.add_module(f"s{i + 1}", blocks)
            stages.append(depth)
        self.depths = stages
        self.head = nn.Module()
        self.head.fc = nn.Linear(24, 10)

    def forward(self, x):
        x = F.relu(self.stem.bn(self.stem.conv(x)))
        for i, depth in enumerate(self.depths):
            for j in range(depth):
                x = getattr(getattr(self, f"s{i + 1}"), f"b{j + 1}")(x)
        return self.head.fc(x.mean((2, 3)))


class LayersBlock(nn.Module):
    """TrainingFixtures.swift's LayersBlock: residual around 1x1 expand (2x), BN, SiLU, 3x3 max pool
    (stride 1, padding 1), a grouped 1x1 conv carrying the stride (4 groups: a kernel smaller than its
    stride), 3x3 conv, BN, ReLU6, 3x3 average pool (stride 1, padding 1, padded zeros counted), dropout;
    a 1x1 strided projection ("shortcut") when the shape changes."""

    def __init__(self, w_in, w_out, stride, p):
        super().__init__()
        self.expand = nn.Conv2d(w_in, 2 * w_out, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(2 * w_out)
        self.conv = nn.Conv2d(2 * w_out, w_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(w_out)
        self.pool1 = nn.MaxPool2d(3, 1, 1)
        self.reduce = nn.Conv2d(2 * w_out, 2 * w_out, 1, stride, groups=4, bias=False)
        self.pool2 = nn.AvgPool2d(3, 1, 1)
        self.drop = nn.Dropout(p)
        self.shortcut = None
        if w_in != w_out or stride != 1:
            self.shortcut = nn.ModuleDict(dict(conv=nn.Conv2d(w_in, w_out, 1, stride, bias=False), bn=nn.BatchNorm2d(w_out)))

    def forward(self, x):
        y = self.reduce(self.pool1(F.silu(self.bn1(self.expand(x)))))
        y = self.drop(self.pool2(F.relu6(self.bn2(self.conv(y)))))
        s = x if self.shortcut is None else self.shortcut.bn(self.shortcut.conv(x))
        return y + s


class LayersNet(nn.Module):
    """Network { Stem(8); Body { Stage(depth: 2, width: 16, LayersBlock) }; Head(classes: 10) }."""

    def __init__(self, p):
        super().__init__()
        self.stem = nn.ModuleDict(dict(conv=nn.Conv2d(3, 8, 3, 2, 1, bias=False), bn=nn.BatchNorm2d(8)))
        self.s1 = nn.Module()
        self.s1.add_module("b1", LayersBlock(8, 16, 2, p))
        self.s1.add_module("b2", LayersBlock(16, 16, 1, p))
        self.head = nn.Module()
        self.head.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.stem.bn(self.stem.conv(x)))
        x = self.s1.b2(self.s1.b1(x))
        return self.head.fc(x.mean((2, 3)))


class HardBlock(nn.Module):
    """TrainingFixtures.swift's HardBlock (MobileNetV3's activations): residual around 1x1 expand (2x),
    BN, hard swish, 3x3 conv carrying the stride, BN, hard sigmoid; a 1x1 strided projection
    ("shortcut") when the shape changes."""

    def __init__(self, w_in, w_out, stride):
        super().__init__()
        self.expand = nn.Conv2d(w_in, 2 * w_out, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(2 * w_out)
        self.conv = nn.Conv2d(2 * w_out, w_out, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(w_out)
        self.shortcut = None
        if w_in != w_out or stride != 1:
            self.shortcut = nn.ModuleDict(dict(conv=nn.Conv2d(w_in, w_out, 1, stride, bias=False), bn=nn.BatchNorm2d(w_out)))

    def forward(self, x):
        y = F.hardsigmoid(self.bn2(self.conv(F.hardswish(self.bn1(self.expand(x))))))
        s = x if self.shortcut is None else self.shortcut.bn(self.shortcut.conv(x))
        return y + s


class HardNet(nn.Module):
    """Network { Stem(8); Body { Stage(depth: 2, width: 16, HardBlock) }; Head(classes: 10) }."""

    def __init__(self):
        super().__init__()
        self.stem = nn.ModuleDict(dict(conv=nn.Conv2d(3, 8, 3, 2, 1, bias=False), bn=nn.BatchNorm2d(8)))
        self.s1 = nn.Module()
        self.s1.add_module("b1", HardBlock(8, 16, 2))
        self.s1.add_module("b2", HardBlock(16, 16, 1))
        self.head = nn.Module()
        self.head.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.stem.bn(self.stem.conv(x)))
        x = self.s1.b2(self.s1.b1(x))
        return self.head.fc(x.mean((2, 3)))


def smooth_one_hot(labels, classes, s, dtype=torch.float32):
    off = s / classes
    y = torch.full((labels.shape[0], classes), off, dtype=dtype)
    y[torch.arange(labels.shape[0]), labels] = 1 - s + off
    return y


def soft_cross_entropy(logits, targets):
    return torch.sum(-targets * F.log_softmax(logits, -1), -1).mean()


def one_step(model, x, labels, classes, mix=None):
    model.train()
    model.zero_grad()
    y = smooth_one_hot(labels, classes, 0.1, x.dtype)
    if mix is not None:
        m, perm = mix
        x = m * x + (1 - m) * x[perm]
        y = m * y + (1 - m) * y[perm]
    loss = soft_cross_entropy(model(x), y)
    loss.backward()
    return loss


def gradient_case(name, model, batch, h, w, classes, seed, mix=False):
    g = torch.Generator().manual_seed(seed + 1000)
    x = torch.randn(1, batch, 3, h, w, generator=g)
    labels = torch.randint(0, classes, (1, batch), generator=g)
    save_file(state(model), os.path.join(OUT, f"{name}.safetensors"))
    np.save(os.path.join(OUT, f"{name}.inputs.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, f"{name}.labels.npy"), labels.numpy().astype(np.float32))
    mixing = None
    extra = {}
    if mix:
        perm = torch.randperm(batch, generator=g)
        mixing = (0.3, perm)
        extra = {"mix.weight": torch.tensor([0.3]), "mix.permutation": perm.float()}
    import copy
    exact = copy.deepcopy(model).double()
    loss = one_step(model, x[0], labels[0], classes, mixing)
    print(f"{name}: loss {loss.item():.5f}")
    grads = {f"grad.{n}": p.grad.detach().clone().contiguous() for n, p in model.named_parameters()}
    grads["loss"] = loss.detach().reshape(1)
    # The same step in float64: the reference the float32 results (PyTorch's and ours) are measured against.
    mixing64 = None if mixing is None else (mixing[0], mixing[1])
    one_step(exact, x[0].double(), labels[0], classes, mixing64)
    errors = {}
    network_scale = max(p.grad.abs().max().item() for p in exact.parameters())
    for n, p in exact.named_parameters():
        ref = p.grad.detach()
        # Scale as the Swift tests do: the tensor's largest value, or 1% of the network's largest
        # gradient for tensors that are zero in exact arithmetic.
        scale = max(ref.abs().max().item(), 1e-2 * network_scale)
        errors[n] = (grads[f"grad.{n}"].double() - ref).abs().max().item() / scale
        grads[f"grad.{n}"] = ref.float().contiguous()
    worst = max(errors, key=errors.get)
    print(f"{name}: PyTorch float32 gradients vs float64: worst {errors[worst]:.2e} of a tensor's largest gradient ({worst})")
    grads.update(extra)
    save_file(grads, os.path.join(OUT, f"{name}.grads.safetensors"))
    return errors[worst]


def pycls_lr(epoch, base, epochs, warmup, factor):
    lr = base * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    if epoch < warmup:
        a = epoch / warmup
        lr *= factor * (1 - a) + a
    return lr


def pycls_init(model, seed):
    """pycls's init_weights: conv ~ N(0, sqrt(2 / (k k out))), BN gamma 1 and beta 0, linear ~ N(0, 0.01)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / fan_out))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(1.0)
                m.bias.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * 0.01)
                m.bias.zero_()
    return model


def sgd_case(name, model, batch, h, w, classes, seed):
    """20 steps: 5 epochs x 4 iterations over 4 fixed batches, as pycls's trainer runs them, in float64
    (the reference) and in float32 (to print how far PyTorch's own float32 run is from it)."""
    import copy
    g = torch.Generator().manual_seed(seed + 2000)
    x = torch.randn(4, batch, 3, h, w, generator=g)
    labels = torch.randint(0, classes, (4, batch), generator=g)
    save_file(state(model), os.path.join(OUT, f"{name}.safetensors"))
    np.save(os.path.join(OUT, f"{name}.inputs.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, f"{name}.labels.npy"), labels.numpy().astype(np.float32))
    single, initial = copy.deepcopy(model), copy.deepcopy(model)
    precise_bn(copy.deepcopy(model).double(), x.double(), name)
    out, settings = sgd_run(model.double(), x.double(), labels, classes)
    out32, _ = sgd_run(single, x, labels, classes)
    errors = {k: ((out32[k].double() - v).abs().max() / max(v.abs().max(), 1e-12)).item() for k, v in out.items()}
    worst = max(errors.values())
    for k in sorted(errors, key=errors.get)[-6:]: print(f"   {k}: {errors[k]:.2e} (largest value {out[k].abs().max().item():.2e})")
    print(f"{name}: PyTorch float32 vs float64 after 20 steps: worst {worst:.2e} relative (losses, weights, momentum, EMA)")
    save_file({k: v.float().contiguous() for k, v in out.items()}, os.path.join(OUT, f"{name}.sgd.safetensors"))
    print(f"{name}: losses {out['loss'][0]:.4f} -> {out['loss'][-1]:.4f}")
    adamw = adamw_run(copy.deepcopy(initial).double(), x.double(), labels, classes)
    adamw32 = adamw_run(initial, x, labels, classes)
    errors = {k: ((adamw32[k].double() - v).abs().max() / max(v.abs().max(), 1e-12)).item() for k, v in adamw.items()}
    print(f"{name}: AdamW, PyTorch float32 vs float64 after 20 steps: worst {max(errors.values()):.2e} relative "
          f"({max(errors, key=errors.get)}); losses {adamw['loss'][0]:.4f} -> {adamw['loss'][-1]:.4f}")
    save_file({k: v.float().contiguous() for k, v in adamw.items()}, os.path.join(OUT, f"{name}.adamw.safetensors"))
    return settings


def precise_bn(model, batches, name):
    """pycls's compute_precise_bn_stats over the case's batches (momentum 1; mean of the batch means,
    mean of (batch variance + mean^2) less the squared mean), in float64: CASE.precise_bn.safetensors."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    mus = [torch.zeros_like(bn.running_mean) for bn in bns]
    sqs = [torch.zeros_like(bn.running_var) for bn in bns]
    for bn in bns:
        bn.momentum = 1.0
    model.train()
    with torch.no_grad():
        for inputs in batches:
            model(inputs)
            for i, bn in enumerate(bns):
                m, v = bn.running_mean, bn.running_var
                sqs[i] += (v + m * m) / len(batches)
                mus[i] += m / len(batches)
    for i, bn in enumerate(bns):
        bn.running_var = sqs[i] - mus[i] * mus[i]
        bn.running_mean = mus[i]
    stats = {k: v.float().contiguous() for k, v in state(model).items() if "running" in k}
    save_file(stats, os.path.join(OUT, f"{name}.precise_bn.safetensors"))


def train_step(model, opt, x, labels, classes):
    """One optimizer step in train mode with label smoothing 0.1; returns the loss."""
    model.train()
    opt.zero_grad()
    loss = soft_cross_entropy(model(x), smooth_one_hot(labels, classes, 0.1, x.dtype))
    loss.backward()
    opt.step()
    return loss.item()


def sgd_run(model, x, labels, classes):
    epochs, iters, base_lr, warmup, period, ema_alpha = 5, 4, 0.01, 1, 2, 0.01
    batch = x.shape[1]
    bn = [p for n, p in model.named_parameters() if "bn" in n]
    rest = [p for n, p in model.named_parameters() if "bn" not in n]
    opt = torch.optim.SGD([{"params": bn, "weight_decay": 0.0}, {"params": rest, "weight_decay": 5e-4}],
                          lr=base_lr, momentum=0.9, dampening=0.0, nesterov=True)
    ema = state(model)
    losses = []
    for epoch in range(epochs):
        lr = pycls_lr(epoch, base_lr, epochs, warmup, 0.1)
        for group in opt.param_groups:
            group["lr"] = lr
        for it in range(iters):
            losses.append(train_step(model, opt, x[it], labels[it], classes))
            # pycls net.update_model_ema
            if it % period == 0:
                alpha = min(1.0, ema_alpha * batch / epochs * period)
                alpha = 1.0 if epoch < warmup else alpha
                current = state(model)
                ema = {k: v * (1.0 - alpha) + current[k] * alpha for k, v in ema.items()}
    out = {"loss": torch.tensor(losses, dtype=torch.float64)}
    out.update({f"final.{k}": v for k, v in state(model).items()})
    named = dict(model.named_parameters())
    out.update({f"momentum.{n}": opt.state[p]["momentum_buffer"].detach().clone() for n, p in named.items()})
    out.update({f"ema.{k}": v for k, v in ema.items()})
    return out, dict(epochs=epochs, iterations=iters, base_lr=base_lr, warmup_epochs=warmup, ema_alpha=ema_alpha, ema_period=period)


def adamw_run(model, x, labels, classes):
    """20 steps of torch.optim.AdamW over the sgd case's batches, pycls's schedule set per epoch."""
    epochs, iters, base_lr, warmup = 5, 4, 1e-3, 1
    bn = [p for n, p in model.named_parameters() if "bn" in n]
    rest = [p for n, p in model.named_parameters() if "bn" not in n]
    opt = torch.optim.AdamW([{"params": bn, "weight_decay": 0.0}, {"params": rest, "weight_decay": 0.05}],
                            lr=base_lr, betas=(0.9, 0.999), eps=1e-8)
    losses = []
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = pycls_lr(epoch, base_lr, epochs, warmup, 0.1)
        for it in range(iters):
            losses.append(train_step(model, opt, x[it], labels[it], classes))
    out = {"loss": torch.tensor(losses, dtype=torch.float64)}
    out.update({f"final.{k}": v for k, v in state(model).items()})
    for n, p in model.named_parameters():
        out[f"exp_avg.{n}"] = opt.state[p]["exp_avg"].detach().clone()
        out[f"exp_avg_sq.{n}"] = opt.state[p]["exp_avg_sq"].detach().clone()
    return out


class XBlockNet(nn.Module):
    """A pycls AnyNet of X blocks with explicit stages (timm names): stem conv 3x3 + BN + ReLU, stages of
    bottleneck blocks (1x1, grouped 3x3 carrying the stage's stride in the first block, 1x1, projection
    shortcut "downsample" where the shape changes, ReLU after the sum), global average pool, linear."""

    def __init__(self, stem, stem_stride, stages, group_width, bottleneck, classes):
        super().__init__()
        def conv_bn(cin, cout, k, stride=1, groups=1):
            return nn.ModuleDict(dict(conv=nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), bn=nn.BatchNorm2d(cout)))
        self.stem = conv_bn(3, stem, 3, stem_stride)
        self.blocks, w = [], stem
        for i, (depth, width) in enumerate(stages):
            stage = nn.Module()
            for j in range(depth):
                wb, stride = width // bottleneck, 2 if j == 0 else 1
                block = nn.Module()
                block.conv1, block.conv2 = conv_bn(w, wb, 1), conv_bn(wb, wb, 3, stride, wb // group_width)
                block.conv3 = conv_bn(wb, width, 1)
                block.downsample = conv_bn(w, width, 1, stride) if (stride != 1 or w != width) else None
                stage.add_module(f"b{j + 1}", block)
                self.blocks.append(block)
                w = width
            self.add_module(f"s{i + 1}", stage)
        self.head = nn.Module()
        self.head.fc = nn.Linear(w, classes)
        self.relu_inputs = None   # when a list, every ReLU's input is appended to it

    def relu(self, x):
        if self.relu_inputs is not None:
            self.relu_inputs.append(x.detach())
        return F.relu(x)

    def forward(self, x):
        cb = lambda m, x: m.bn(m.conv(x))
        x = self.relu(cb(self.stem, x))
        for b in self.blocks:
            shortcut = x if b.downsample is None else cb(b.downsample, x)
            y = self.relu(cb(b.conv2, self.relu(cb(b.conv1, x))))
            x = self.relu(cb(b.conv3, y) + shortcut)
        return self.head.fc(x.mean((2, 3)))


STEPS_MARGIN = 2e-7


def steps_run(model, x, labels, classes, epochs, iterations, lr):
    """SGD as the "steps" case trains: every step's loss, and the final weights and momentum."""
    bn = [p for n, p in model.named_parameters() if "bn" in n]
    rest = [p for n, p in model.named_parameters() if "bn" not in n]
    opt = torch.optim.SGD([{"params": bn, "weight_decay": 0.0}, {"params": rest, "weight_decay": 5e-4}],
                          lr=lr, momentum=0.9, dampening=0.0, nesterov=True)
    losses = []
    for epoch in range(epochs):
        for it in range(iterations):
            losses.append(train_step(model, opt, x[it], labels[it], classes))
    out = {"loss": torch.tensor(losses, dtype=torch.float64)}
    out.update({f"final.{k}": v for k, v in state(model).items()})
    out.update({f"momentum.{n}": opt.state[p]["momentum_buffer"].detach().clone() for n, p in model.named_parameters()})
    return out


def steps_case(name, stem, stem_stride, stages, group_width, bottleneck, classes, batch, h, w, seed):
    import copy
    epochs, iterations, lr = 5, 4, 0.02
    model = pycls_init(XBlockNet(stem, stem_stride, stages, group_width, bottleneck, classes), seed)
    for draw in range(100):
        g = torch.Generator().manual_seed(seed + 3000 + draw)
        x = torch.randn(iterations, batch, 3, h, w, generator=g)
        labels = torch.randint(0, classes, (iterations, batch), generator=g)
        exact = copy.deepcopy(model).double()
        exact.relu_inputs = []
        out = steps_run(exact, x.double(), labels, classes, epochs, iterations, lr)
        margin = min(t.abs().min().item() for t in exact.relu_inputs)
        out32 = steps_run(copy.deepcopy(model), x, labels, classes, epochs, iterations, lr)
        worst = max(((out32[k].double() - v).abs().max() / max(v.abs().max(), 1e-12)).item() for k, v in out.items())
        if margin >= STEPS_MARGIN and worst <= 1e-5:
            break
        print(f"{name}: draw {draw}: smallest ReLU input {margin:.1e}, PyTorch float32 {worst:.1e} from float64; drawing again")
    else:
        raise SystemExit(f"{name}: no draw keeps every ReLU input {STEPS_MARGIN} from zero")
    save_file(state(model), os.path.join(OUT, f"{name}.safetensors"))
    np.save(os.path.join(OUT, f"{name}.inputs.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, f"{name}.labels.npy"), labels.numpy().astype(np.float32))
    print(f"{name}: smallest ReLU input {margin:.1e}; PyTorch float32 vs float64 after 20 steps: worst {worst:.2e} relative; "
          f"losses {out['loss'][0]:.4f} -> {out['loss'][-1]:.4f}")
    save_file({k: v.float().contiguous() for k, v in out.items()}, os.path.join(OUT, f"{name}.steps.safetensors"))
    return dict(name=name, network="stages", stages=[list(s) for s in stages], group_width=group_width, bottleneck_ratio=bottleneck,
                stem_width=stem, stem_stride=stem_stride, classes=classes, batch=batch, height=h, width=w, kind="steps",
                epochs=epochs, iterations=iterations, base_lr=lr)


def zoo(names, out, batch):
    """Full-size gradient cases: the zoo model from timm with pycls's initialisation, 224x224, batch `batch`."""
    import timm
    global OUT
    OUT = out
    os.makedirs(out, exist_ok=True)
    manifest = []
    for i, name in enumerate(names):
        model = pycls_init(timm.create_model(name, pretrained=False), 100 + i)
        error = gradient_case(name, model, batch, 224, 224, 1000, 100 + i)
        manifest.append(dict(name=name, network="zoo", classes=1000, batch=batch, height=224, width=224, kind="gradients",
                             pytorch_float32_error=error))
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--zoo", nargs="*")
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    if args.zoo:
        return zoo(args.zoo, args.out, args.batch)
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    for i, (name, d, w0, wa, wm, gw, b, se, stem, classes, batch, h, w) in enumerate(REGNET_CASES):
        cfg = tr.RegNetCfg(depth=d, w0=w0, wa=wa, wm=wm, group_size=gw, bottle_ratio=1.0 / b, se_ratio=se, stem_width=stem)
        model = randomize(tr.RegNet(cfg, num_classes=classes), i)
        gradient_case(name, model, batch, h, w, classes, i)
        manifest.append(dict(name=name, network="regnet", depth=d, w0=w0, wa=wa, wm=wm, group_width=gw, bottleneck_ratio=b,
                             se_ratio=se, stem_width=stem, classes=classes, batch=batch, height=h, width=w, kind="gradients"))
    # The example InvertedResidual block, at 32x32.
    torch.manual_seed(7)
    model = randomize(InvertedResidualNet(), 7)
    gradient_case("inverted_residual", model, 3, 32, 32, 10, 7)
    manifest.append(dict(name="inverted_residual", network="inverted_residual", classes=10, batch=3, height=32, width=32,
                         kind="gradients"))
    # SiLU, max and average pooling, ReLU6 and dropout (p = 0 for the gradients; the inference logits
    # come from the same weights with p = 0.3 in eval mode, where dropout is the identity).
    torch.manual_seed(13)
    model = randomize(LayersNet(0.0), 13)
    evaluation = LayersNet(0.3)
    evaluation.load_state_dict(model.state_dict())
    evaluation.eval()
    gradient_case("layers", model, 3, 20, 20, 10, 13)
    x = torch.from_numpy(np.load(os.path.join(OUT, "layers.inputs.npy")))[0]
    with torch.no_grad():
        np.save(os.path.join(OUT, "layers.logits.npy"), evaluation(x).numpy().astype(np.float32))
    manifest.append(dict(name="layers", network="layers", classes=10, batch=3, height=20, width=20, kind="gradients"))
    # Hard swish and hard sigmoid (MobileNetV3's activations): gradients, and eval-mode logits.
    torch.manual_seed(17)
    model = randomize(HardNet(), 17)
    evaluation = HardNet()
    evaluation.load_state_dict(model.state_dict())   # before the train-mode step moves the running statistics
    evaluation.eval()
    gradient_case("hard_activations", model, 3, 20, 20, 10, 17)
    x = torch.from_numpy(np.load(os.path.join(OUT, "hard_activations.inputs.npy")))[0]
    with torch.no_grad():
        np.save(os.path.join(OUT, "hard_activations.logits.npy"), evaluation(x).numpy().astype(np.float32))
    manifest.append(dict(name="hard_activations", network="hard_activations", classes=10, batch=3, height=20, width=20,
                         kind="gradients"))
    # Mixup: the gradient of one step on a mixed batch (m = 0.3, a fixed permutation).
    name, d, w0, wa, wm, gw, b, se, stem, classes, batch, h, w = ("mixup", 5, 16, 8.0, 1.5, 8, 1, 0.25, 8, 5, 4, 32, 32)
    cfg = tr.RegNetCfg(depth=d, w0=w0, wa=wa, wm=wm, group_size=gw, bottle_ratio=1.0 / b, se_ratio=se, stem_width=stem)
    model = randomize(tr.RegNet(cfg, num_classes=classes), 11)
    gradient_case(name, model, batch, h, w, classes, 11, mix=True)
    manifest.append(dict(name=name, network="regnet", depth=d, w0=w0, wa=wa, wm=wm, group_width=gw, bottleneck_ratio=b,
                         se_ratio=se, stem_width=stem, classes=classes, batch=batch, height=h, width=w, kind="mixup"))
    # 20 SGD steps on a small RegNetY.
    name, d, w0, wa, wm, gw, b, se, stem, classes, batch, h, w = ("sgd", 5, 16, 8.0, 1.5, 8, 1, 0.25, 8, 5, 8, 32, 32)
    cfg = tr.RegNetCfg(depth=d, w0=w0, wa=wa, wm=wm, group_size=gw, bottle_ratio=1.0 / b, se_ratio=se, stem_width=stem)
    model = pycls_init(tr.RegNet(cfg, num_classes=classes), 12)
    run = sgd_case(name, model, batch, h, w, classes, 12)
    manifest.append(dict(name=name, network="regnet", depth=d, w0=w0, wa=wa, wm=wm, group_width=gw, bottleneck_ratio=b,
                         se_ratio=se, stem_width=stem, classes=classes, batch=batch, height=h, width=w, kind="sgd", **run))
    # 20 steps through a stride-2 grouped 3x3 of group width 8 on small maps (the reliability issue's case).
    manifest.append(steps_case("x_g8_s2_steps", 16, 1, [(1, 32), (2, 64)], 8, 2, 10, 4, 36, 36, 21))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
