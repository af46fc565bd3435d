#!/usr/bin/env python3
"""The PyTorch side of the digits comparison: the network of `regnet` (the main job's DigitsRegNet:
a stride-1 3x3 stem of 16, stages 2x32 and 4x64 of Y blocks, group width 8, SE 0.25, 10 classes)
trained with the same recipe on the same bundled files (Sources/DigitsData/digits, CIFAR binary),
written as pycls writes it: pycls's initialisation, CIFAR normalisation, flip + zero-pad-4 random crop,
SGD with nesterov momentum 0.9 and weight decay 5e-4 on all parameters (pycls's defaults), cosine
schedule with one warmup epoch, label smoothing 0.1, precise BN statistics after each epoch.
Prints the test error per epoch; compare with

    swift run -c release regnet train --stages 2x32,4x64 --group-width 8 --se-ratio 0.25 --stem-width 16 \\
        --stem-stride 1 --classes 10 --data digits --epochs 10 --batch 32 --lr 0.1 --warmup-epochs 1 \\
        --label-smoothing 0.1 --ema-alpha 0

    venv/bin/python scripts/train_digits_pytorch.py [--seed S] [--epochs 10]
"""
import argparse
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DIGITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "DigitsData", "digits")
MEAN, SD = np.array([125.3, 123.0, 113.9]), np.array([63.0, 62.1, 66.7])


def read(files):
    data = b"".join(open(os.path.join(DIGITS, f), "rb").read() for f in files)
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3073)
    images = records[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32)
    images = (images - MEAN[None, :, None, None]) / SD[None, :, None, None]
    return images.astype(np.float32), records[:, 0].astype(np.int64)


class YBlock(nn.Module):
    def __init__(self, w_in, w_out, stride, group_width, se_ratio):
        super().__init__()
        groups = w_out // group_width
        w_se = int(round(w_in * se_ratio))
        self.a = nn.Conv2d(w_in, w_out, 1, bias=False)
        self.a_bn = nn.BatchNorm2d(w_out)
        self.b = nn.Conv2d(w_out, w_out, 3, stride, 1, groups=groups, bias=False)
        self.b_bn = nn.BatchNorm2d(w_out)
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(w_out, w_se, 1), nn.ReLU(), nn.Conv2d(w_se, w_out, 1), nn.Sigmoid())
        self.c = nn.Conv2d(w_out, w_out, 1, bias=False)
        self.c_bn = nn.BatchNorm2d(w_out)
        self.proj = None
        if w_in != w_out or stride != 1:
            self.proj = nn.Sequential(nn.Conv2d(w_in, w_out, 1, stride, bias=False), nn.BatchNorm2d(w_out))

    def forward(self, x):
        y = F.relu(self.a_bn(self.a(x)))
        y = F.relu(self.b_bn(self.b(y)))
        y = y * self.se(y)
        y = self.c_bn(self.c(y))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        blocks, w_in = [], 16
        for depth, width in [(2, 32), (4, 64)]:
            for j in range(depth):
                blocks.append(YBlock(w_in, width, 2 if j == 0 else 1, 8, 0.25))
                w_in = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


def pycls_init(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            m.weight.data.normal_(0.0, math.sqrt(2.0 / fan_out))
            if m.bias is not None:
                m.bias.data.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(1.0)
            m.bias.data.zero_()
        elif isinstance(m, nn.Linear):
            m.weight.data.normal_(0.0, 0.01)
            m.bias.data.zero_()


def augment(batch, rng):
    out = np.empty_like(batch)
    for i, im in enumerate(batch):
        if rng.uniform() < 0.5:
            im = im[:, :, ::-1]
        padded = np.pad(im, ((0, 0), (4, 4), (4, 4)))
        y, x = rng.integers(0, 8), rng.integers(0, 8)
        out[i] = padded[:, y:y + 32, x:x + 32]
    return out


def errors(model, images, labels):
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(images))
    return 100.0 * (logits.argmax(1).numpy() != labels).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(args.seed)
    train_x, train_y = read([f"data_batch_{i}.bin" for i in range(1, 6)])
    test_x, test_y = read(["test_batch.bin"])
    model = Net()
    pycls_init(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    batch, epochs = 32, args.epochs
    for epoch in range(epochs):
        lr = 0.1 * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        if epoch < 1:
            lr *= 0.1
        for g in opt.param_groups:
            g["lr"] = lr
        order = rng.permutation(len(train_y))
        model.train()
        for it in range(len(order) // batch):
            idx = order[it * batch:(it + 1) * batch]
            x = torch.from_numpy(augment(train_x[idx], rng))
            y = torch.from_numpy(train_y[idx])
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        # pycls's precise BN statistics over (up to 8192) augmented training images.
        bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        mus = [torch.zeros_like(b.running_mean) for b in bns]
        sqs = [torch.zeros_like(b.running_var) for b in bns]
        for b in bns:
            b.momentum = 1.0
        order = rng.permutation(len(train_y))
        n = len(order) // batch
        with torch.no_grad():
            for it in range(n):
                model(torch.from_numpy(augment(train_x[order[it * batch:(it + 1) * batch]], rng)))
                for i, b in enumerate(bns):
                    sqs[i] += (b.running_var + b.running_mean ** 2) / n
                    mus[i] += b.running_mean / n
        for i, b in enumerate(bns):
            b.running_var = sqs[i] - mus[i] ** 2
            b.running_mean = mus[i]
            b.momentum = 0.1
        print(f"epoch {epoch + 1}/{epochs}: test error {errors(model, test_x, test_y):.2f}%")


if __name__ == "__main__":
    main()
