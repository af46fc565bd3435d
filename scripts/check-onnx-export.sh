#!/usr/bin/env bash
# ONNX export, checked by ONNX itself and by ONNX Runtime: `onnx.checker.check_model(full_check=True)`
# must accept every exported file, and ONNX Runtime's logits must equal ours within 1e-5 (relative to
# the largest) on the same seeded weights and inputs — zoo models at 224 (X; Y with squeeze-excite, a
# symbolic batch; and with batch norms folded), a CIFAR-style --stages network, a .regnet declaration, and the CustomBlock
# example's networks (MobileNetV2-style inverted residuals; a custom stem and head with every layer
# kind). Python is used here only: it makes a venv in .build/onnx-venv with onnx, onnxruntime and
# numpy from PyPI (and Debian's python3-venv when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/onnx-venv
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    echo "== installing python3-venv"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q onnx onnxruntime numpy
fi
swift build -c release --product regnet >/dev/null
regnet="$(swift build -c release --product regnet --show-bin-path)/regnet"
work=$(mktemp -d /tmp/regnet-onnx.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" -c "import numpy as np; r = np.random.default_rng(0)
np.save('$work/x224.npy', r.standard_normal((2, 3, 224, 224)).astype(np.float32))
np.save('$work/x32.npy', r.standard_normal((2, 3, 32, 32)).astype(np.float32))"
export_and_run() {   # NAME SIZE MODEL-FLAGS...: export (with $EXPORT_FLAGS), and our logits on the same input
  local name=$1 size=$2; shift 2
  # shellcheck disable=SC2086
  "$regnet" export-onnx "$@" ${EXPORT_FLAGS:-} --resolution "$size" --dynamic-batch --output "$work/$name.onnx" >/dev/null
  "$regnet" run "$@" --input "$work/x$size.npy" --output "$work/$name.logits.npy" >/dev/null 2>&1
  cp "$work/x$size.npy" "$work/$name.input.npy"
}
export_and_run regnetx_002 224 regnetx_002
export_and_run regnety_004 224 regnety_004
EXPORT_FLAGS=--fold-batch-norm export_and_run regnety_004_folded 224 regnety_004
export_and_run cifar_stages 32 --stages 2x32,4x64 --group-width 8 --se-ratio 0.25 --stem-width 16 --stem-stride 1 --classes 10
export_and_run declared_tiny 32 --declaration Examples/DeclarationFilesExample/Networks.regnet:Tiny
swift run -c release CustomBlock --onnx "$work" >/dev/null
"$venv/bin/python" - "$work" <<'PY'
import glob, os, sys
import numpy as np, onnx, onnxruntime as ort
work, failed = sys.argv[1], 0
for path in sorted(glob.glob(os.path.join(work, "*.onnx"))):
    name = os.path.basename(path)[:-5]
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.load(os.path.join(work, name + ".input.npy"))
    theirs = session.run(None, {"input": x})[0]
    ours = np.load(os.path.join(work, name + ".logits.npy")).reshape(theirs.shape)
    error = float(np.abs(theirs - ours).max() / np.abs(theirs).max())
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"{name}: checker ok, ONNX Runtime vs ours {error:.1e} relative ({len(model.graph.node)} nodes: {', '.join(ops)})")
    failed += error > 1e-5
if failed:
    sys.exit(f"FAIL: {failed} models differ from ONNX Runtime by more than 1e-5")
print("onnx export check passed")
PY
