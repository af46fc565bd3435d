#!/usr/bin/env python3
"""Makes a sweep directory with pycls's own code, for the test that `regnet sweep collect` reads it.

pycls writes everything the test reads: each config is pycls's default config with a few options
merged, dumped by pycls (`cfg.dump`, as tools/sweep_setup.py does); each started model is trained by
pycls's trainer (`pycls.core.trainer.train_model`), whose logger and meters write
logs/NNNNNN/stdout.log; expected.json holds what pycls's tools/sweep_collect.py prints and what
pycls's analysis (`pycls.sweep.analysis`, metric "error") takes from the sweep.json it writes.

Three models, as a sweep looks while it runs: a RegNet trained to the end, an AnyNet stopped after the
first of its two epochs (its job killed; the traceback is its stderr.log), and a RegNet never started.
The data is a tiny CIFAR-10 in CIFAR-10's own pickled format: 160 training and 100 test images, each
class a colour under noise.

pycls's trainer runs on CUDA devices; here it runs on the CPU by making `.cuda()` the identity and the
CUDA memory counter 0, and letting
`torch.load` read the checkpoints pycls itself wrote (PyTorch 2.6 made `weights_only` the default,
after pycls's last change) — nothing else of pycls is changed. The checkpoints and model.pyth pycls writes are removed
(the collector does not read them; they would be megabytes). The jobs run with a minimal environment
because pycls logs every environment variable.

Usage: python scripts/make_pycls_sweep_fixture.py Tests/CLITests/Fixtures/pycls-sweep [--pycls DIR]
(pycls is cloned at PYCLS_COMMIT unless --pycls names a checkout; needs torch, numpy, yacs, simplejson,
iopath, submitit, fairscale, pyyaml.)
"""
import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile

PYCLS_URL = "https://github.com/facebookresearch/pycls"
PYCLS_COMMIT = "5719de641657c251f807c20a1fcf8ef6f4b60144"
SWEEP = "/tmp/pycls-sweep"  # where pycls writes it: OUT_DIR and log paths name this directory

COMMON = ["MODEL.NUM_CLASSES", "10", "TRAIN.DATASET", "cifar10", "TEST.DATASET", "cifar10", "TRAIN.SPLIT", "train",
          "TEST.SPLIT", "test", "TRAIN.IM_SIZE", "32", "TEST.IM_SIZE", "32", "TRAIN.BATCH_SIZE", "32", "TEST.BATCH_SIZE", "50",
          "OPTIM.MAX_EPOCH", "2", "OPTIM.BASE_LR", "0.1", "OPTIM.EMA_ALPHA", "1e-5", "OPTIM.WEIGHT_DECAY", "5e-5",
          "BN.NUM_SAMPLES_PRECISE", "64", "PREC_TIME.NUM_ITER", "0", "DATA_LOADER.NUM_WORKERS", "0",
          "NUM_GPUS", "1", "LOG_DEST", "file", "RNG_SEED", "1"]

MODELS = [
    ("000000", ["MODEL.TYPE", "regnet", "REGNET.DEPTH", "7", "REGNET.W0", "24", "REGNET.WA", "9.6", "REGNET.WM", "2.3",
                "REGNET.GROUP_W", "8", "REGNET.STEM_W", "16"], "done"),
    ("000001", ["MODEL.TYPE", "anynet", "ANYNET.DEPTHS", "[1, 2, 3, 1]", "ANYNET.WIDTHS", "[16, 32, 64, 128]",
                "ANYNET.BOT_MULS", "[1.0, 0.5, 1.0, 1.0]", "ANYNET.GROUP_WS", "[8, 8, 16, 16]", "ANYNET.STRIDES", "[2, 2, 2, 2]",
                "ANYNET.STEM_W", "16"], "killed after epoch 1"),
    ("000002", ["MODEL.TYPE", "regnet", "REGNET.DEPTH", "9", "REGNET.W0", "32", "REGNET.WA", "12.0", "REGNET.WM", "2.1",
                "REGNET.GROUP_W", "16", "REGNET.STEM_W", "16"], "not started"),
]

# One job: pycls's trainer on the CPU, stopped after `epochs` epochs if given (as a killed job stops).
JOB = r"""
import sys, ast, torch
torch.Tensor.cuda = lambda self, *a, **k: self
torch.nn.Module.cuda = lambda self, *a, **k: self
torch.cuda.current_device = lambda: 0
torch.cuda.max_memory_allocated = lambda *a, **k: 0
load = torch.load  # pycls reads its own checkpoints back, written before torch.load checked by default
torch.load = lambda *a, **k: load(*a, **dict(k, weights_only=False))
import pycls.core.config as config
import pycls.core.trainer as trainer
from pycls.core.config import cfg
config.load_cfg(sys.argv[1])
cfg.OUT_DIR = sys.argv[2]
stop = int(sys.argv[3])
if stop:
    save = trainer.cp.save_checkpoint
    def save_then_stop(model, ema, optimizer, epoch, *rest):
        path = save(model, ema, optimizer, epoch, *rest)
        if epoch + 1 == stop:
            raise SystemExit("killed by the fixture script after epoch {}".format(stop))
        return path
    trainer.cp.save_checkpoint = save_then_stop
trainer.train_model()
"""


def write_cifar(path, seed):
    """A tiny CIFAR-10 in its python format (data_batch_1..5, test_batch): each class a colour of its own
    under noise, so that the models learn something in two epochs and their errors differ."""
    import numpy as np
    rng = np.random.default_rng(seed)
    colours = rng.integers(40, 216, (10, 3))
    os.makedirs(path, exist_ok=True)
    for name, n in [("data_batch_{}".format(i), 32) for i in range(1, 6)] + [("test_batch", 100)]:
        labels = rng.integers(0, 10, n)
        images = colours[labels][:, :, None] + rng.normal(0, 40, (n, 3, 1024))
        batch = {b"data": np.clip(images, 0, 255).astype(np.uint8).reshape(n, 3072), b"labels": labels.tolist()}
        with open(os.path.join(path, name), "wb") as f:
            pickle.dump(batch, f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--pycls", help="a pycls checkout (cloned at PYCLS_COMMIT otherwise)")
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    pycls = args.pycls
    if pycls is None:
        pycls = os.path.join(work, "pycls")
        subprocess.run(["git", "clone", "-q", PYCLS_URL, pycls], check=True)
        subprocess.run(["git", "-C", pycls, "checkout", "-q", PYCLS_COMMIT], check=True)
    pycls = os.path.abspath(pycls)
    data = os.path.join(pycls, "pycls", "datasets", "data", "cifar10")
    if os.path.exists(data):
        sys.exit("{} exists: use a pycls checkout without CIFAR-10 data".format(data))
    write_cifar(data, seed=0)
    # pycls's sweep config reads CONDA_PREFIX; PyTorch's deprecation warnings about pycls's calls would
    # fill every stderr.log (which the collector reports), so they are off, as they would be in a sweep.
    env = {"PATH": "/usr/bin:/bin", "HOME": work, "PYTHONPATH": pycls, "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8",
           "CONDA_PREFIX": work, "PYTHONWARNINGS": "ignore::FutureWarning,ignore::UserWarning"}
    shutil.rmtree(SWEEP, ignore_errors=True)
    os.makedirs(os.path.join(SWEEP, "cfgs"))
    dump = ("import sys; from pycls.core.config import cfg; cfg.merge_from_list(sys.argv[2:]); "
            "cfg.OUT_DIR = '{}/logs/' + sys.argv[1][-11:-5]; cfg.dump(stream=open(sys.argv[1], 'w'))").format(SWEEP)
    try:
        for name, options, fate in MODELS:
            cfg_file = os.path.join(SWEEP, "cfgs", name + ".yaml")
            subprocess.run([sys.executable, "-c", dump, cfg_file] + COMMON + options, env=env, check=True)
            if fate == "not started":
                continue
            log_dir = os.path.join(SWEEP, "logs", name)
            os.makedirs(log_dir)
            with open(os.path.join(log_dir, "stderr.log"), "w") as err:
                job = subprocess.run([sys.executable, "-c", JOB, cfg_file, log_dir, "1" if fate.startswith("killed") else "0"],
                                     env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=work)
            if (job.returncode == 0) != (fate == "done"):
                sys.exit("pycls's trainer on {}: exit status {} (see {}/stderr.log)".format(name, job.returncode, log_dir))
            shutil.rmtree(os.path.join(log_dir, "checkpoints"))
            os.remove(os.path.join(log_dir, "model.pyth"))
        with open(os.path.join(SWEEP, "sweep_cfg.yaml"), "w") as f:
            f.write("NAME: pycls-sweep\nROOT_DIR: /tmp\nSETUP:\n  NUM_CONFIGS: {}\nNUM_PROC: 1\n".format(len(MODELS)))
        shutil.rmtree(args.out, ignore_errors=True)
        shutil.copytree(SWEEP, args.out)
        # What pycls's collector prints and writes, and the errors its analysis takes.
        collect = subprocess.run([sys.executable, os.path.join(pycls, "tools", "sweep_collect.py"), "--sweep-cfg",
                                  os.path.join(SWEEP, "sweep_cfg.yaml")], env=env, capture_output=True, text=True, check=True)
        status = next(line for line in collect.stdout.splitlines() if line.startswith("Status: "))
        errors = subprocess.run([sys.executable, "-c", "import sys, json; from pycls.sweep import analysis as a; "
                                 "s = a.load_sweep(sys.argv[1]); print(json.dumps({d['log_file'].split('/')[-2]: v "
                                 "for d, v in zip(s, a.get_vals(s, 'error'))}))", os.path.join(SWEEP, "sweep.json")],
                                env=env, capture_output=True, text=True, check=True)
        with open(os.path.join(args.out, "expected.json"), "w") as f:
            json.dump({"status": status, "errors": json.loads(errors.stdout)}, f, indent=1, sort_keys=True)
    finally:
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
