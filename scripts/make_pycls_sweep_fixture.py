#!/usr/bin/env python3
"""Writes a sweep directory as pycls makes one, for the test that `regnet sweep collect` reads it.

What pycls writes, restated (pycls/core/logging.py, tools/sweep_setup.py, tools/sweep_collect.py):
cfgs/NNNNNN.yaml dumped by yacs (yaml.safe_dump, keys sorted, block style); logs/NNNNNN/stdout.log
with the logger's "[file.py: line]: " prefix, plain lines, and "json_stats: " records written by
simplejson with sorted keys and floats as 4-decimal Decimals (the whole config as a nested `cfg`
record, then `complexity`, then per epoch `train_epoch`, `test_epoch`, `test_ema_epoch`);
logs/NNNNNN/stderr.log. Three models: a RegNet trained to the end, an AnyNet stopped after its first
of two epochs, and a RegNet never started. expected.json holds what pycls's tools compute from it:
the status line of sweep_collect and each started model's error as pycls's analysis takes it
(the minimum of test_ema_epoch.min_top1_err).

Usage: python scripts/make_pycls_sweep_fixture.py Tests/CLITests/Fixtures/pycls-sweep
"""
import decimal
import json
import os
import sys

import yaml


def json_stats(record, kind):
    def to_decimal(v):
        if isinstance(v, dict):
            return {k: to_decimal(x) for k, x in v.items()}
        if isinstance(v, float):
            return decimal.Decimal("{:.4f}".format(v))
        return v

    # simplejson.dumps(sort_keys=True, use_decimal=True): keys sorted, Decimals written as their digits.
    return "json_stats: " + _with_decimals(to_decimal(dict(record, _type=kind)))


def _with_decimals(v):
    if isinstance(v, dict):
        return "{" + ", ".join(json.dumps(k) + ": " + _with_decimals(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_with_decimals(x) for x in v) + "]"
    if isinstance(v, decimal.Decimal):
        return str(v)
    return json.dumps(v)


def config(model):
    cfg = {
        "MODEL": {"TYPE": model["type"], "NUM_CLASSES": 10, "DEPTH": 0, "LOSS_FUN": "cross_entropy", "ACTIVATION_FUN": "relu",
                  "ACTIVATION_INPLACE": True, "SCALING_TYPE": "", "SCALING_FACTOR": 1.0},
        "ANYNET": {"STEM_TYPE": "simple_stem_in", "STEM_W": 32, "BLOCK_TYPE": "res_bottleneck_block", "DEPTHS": [], "WIDTHS": [],
                   "STRIDES": [], "BOT_MULS": [], "GROUP_WS": [], "HEAD_W": 0, "SE_ON": False, "SE_R": 0.25},
        "REGNET": {"STEM_TYPE": "simple_stem_in", "STEM_W": 32, "BLOCK_TYPE": "res_bottleneck_block", "STRIDE": 2, "SE_ON": False,
                   "SE_R": 0.25, "DEPTH": 10, "W0": 32, "WA": 5.0, "WM": 2.5, "GROUP_W": 16, "BOT_MUL": 1.0, "HEAD_W": 0},
        "BN": {"EPS": 1e-05, "MOM": 0.1, "USE_PRECISE_STATS": True, "NUM_SAMPLES_PRECISE": 8192, "ZERO_INIT_FINAL_GAMMA": False,
               "USE_CUSTOM_WEIGHT_DECAY": False, "CUSTOM_WEIGHT_DECAY": 0.0},
        "OPTIM": {"OPTIMIZER": "sgd", "BASE_LR": 0.1, "MIN_LR": 0.0, "LR_POLICY": "cos", "MAX_EPOCH": 2, "MOMENTUM": 0.9,
                  "NESTEROV": True, "WEIGHT_DECAY": 5e-05, "WARMUP_FACTOR": 0.1, "WARMUP_EPOCHS": 0, "EMA_ALPHA": 1e-05,
                  "EMA_UPDATE_PERIOD": 32},
        "TRAIN": {"DATASET": "cifar10", "SPLIT": "train", "BATCH_SIZE": 128, "IM_SIZE": 32, "LABEL_SMOOTHING": 0.0, "MIXUP_ALPHA": 0.0},
        "TEST": {"DATASET": "cifar10", "SPLIT": "test", "BATCH_SIZE": 200, "IM_SIZE": 32},
        "RNG_SEED": 1, "OUT_DIR": "/tmp/pycls-sweep/logs/" + model["id"], "LOG_DEST": "file", "NUM_GPUS": 1,
    }
    cfg[model["type"].upper()].update(model["params"])
    return cfg


MODELS = [
    {"id": "000000", "type": "regnet", "params": {"DEPTH": 7, "W0": 24, "WA": 9.6, "WM": 2.3, "GROUP_W": 8, "STEM_W": 16},
     "cx": {"flops": 11893002, "params": 283610, "acts": 57364},
     "epochs": [(71.25, 68.5, 70.1), (55.5, 52.25, 51.0)]},
    {"id": "000001", "type": "anynet",
     "params": {"DEPTHS": [1, 2, 3, 1], "WIDTHS": [16, 32, 64, 128], "BOT_MULS": [1.0, 0.5, 1.0, 1.0], "GROUP_WS": [8, 8, 16, 16],
                "STRIDES": [2, 2, 2, 2], "STEM_W": 16},
     "cx": {"flops": 4223498, "params": 154778, "acts": 23710},
     "epochs": [(80.0, 77.75, 79.5)]},
    {"id": "000002", "type": "regnet", "params": {"DEPTH": 9, "W0": 32, "WA": 12.0, "WM": 2.1, "GROUP_W": 16, "STEM_W": 16},
     "cx": None, "epochs": None},
]


def main(out):
    os.makedirs(os.path.join(out, "cfgs"), exist_ok=True)
    with open(os.path.join(out, "sweep_cfg.yaml"), "w") as f:
        yaml.safe_dump({"NAME": "pycls-sweep", "ROOT_DIR": "/tmp", "SETUP": {"NUM_CONFIGS": len(MODELS)}}, f)
    expected = {"errors": {}, "status": ""}
    started = done = epochs_done = epochs_max = 0
    for m in MODELS:
        cfg = config(m)
        with open(os.path.join(out, "cfgs", m["id"] + ".yaml"), "w") as f:
            yaml.safe_dump(cfg, f)
        if m["epochs"] is None:
            continue
        started += 1
        log_dir = os.path.join(out, "logs", m["id"])
        os.makedirs(log_dir, exist_ok=True)
        lines = ["[trainer.py:  43]: Config:", "[trainer.py:  44]: " + json_stats(cfg, "cfg"),
                 "[trainer.py:  48]: Model:", "[trainer.py:  49]: AnyNet(...)", "[trainer.py:  50]: " + json_stats(m["cx"], "complexity")]
        best = best_ema = 100.0
        for i, (train_err, test_err, ema_err) in enumerate(m["epochs"]):
            epoch = "{}/{}".format(i + 1, cfg["OPTIM"]["MAX_EPOCH"])
            best, best_ema = min(best, test_err), min(best_ema, ema_err)
            lines.append("[meters.py: 190]: " + json_stats({"epoch": epoch, "eta": "00,00:01:00", "loss": 2.0 - i * 0.5, "lr": 0.1,
                                                            "mem": 100, "time_avg": 0.05, "time_epoch": 12.5, "top1_err": train_err,
                                                            "top5_err": train_err / 4}, "train_epoch"))
            for kind, err, low in (("test_epoch", test_err, best), ("test_ema_epoch", ema_err, best_ema)):
                lines.append("[meters.py: 240]: " + json_stats({"epoch": epoch, "mem": 100, "min_top1_err": low, "min_top5_err": low / 4,
                                                                "time_avg": 0.02, "time_epoch": 1.5, "top1_err": err,
                                                                "top5_err": err / 4}, kind))
        with open(os.path.join(log_dir, "stdout.log"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(log_dir, "stderr.log"), "w") as f:
            f.write("")
        n = len(m["epochs"])
        done += n == cfg["OPTIM"]["MAX_EPOCH"]
        epochs_done += n
        epochs_max += cfg["OPTIM"]["MAX_EPOCH"]
        expected["errors"][m["id"]] = min(e[2] for e in m["epochs"])
    expected["status"] = "Status: jobs_started={}/{}, jobs_done={}/{}, epochs_done={}/{}".format(
        started, len(MODELS), done, len(MODELS), epochs_done, epochs_max)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
