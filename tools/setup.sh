#!/usr/bin/env bash
# One idempotent setup: creates .venv at the repo root with torch 2.14.1, mmcv 2.1.0 (compiled CPU
# ops), mmengine, mmdet, mmsegmentation, mmpretrain, timm, pytest and se_backbones (editable).
#
#   bash tools/setup.sh          # or: source it from another script
#
# The mmcv wheel is taken from a wheelhouse when one holds it ($SE_BACKBONES_WHEELHOUSE,
# ~/.cache/se_backbones/wheels/torch-2.14.1, ../shared/wheels), else built from the PyPI sdist
# (~10 min on 2 cores) and cached. A second run with nothing changed only checks a stamp.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
TORCH_PINS=(torch==2.14.1 torchvision==0.29.1)
BUILD_PINS=("setuptools>=77,<82" wheel ninja)   # setuptools 82 dropped pkg_resources (mmcv, mmengine)
MMCV_VERSION=2.1.0
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/se_backbones/wheels/torch-2.14.1"
STAMP="$VENV/.se_backbones_setup"
SETUP_T0=$SECONDS

log() { printf '[setup %4ds] %s\n' "$((SECONDS - SETUP_T0))" "$*" >&2; }

# run_step NAME HINT CMD...: runs CMD, timing it; on failure names the step and what to do.
run_step() {
  local name=$1 hint=$2 t0=$SECONDS; shift 2
  log "$name ..."
  if ! "$@"; then
    log "FAILED at step '$name'. $hint"
    exit 1
  fi
  log "$name done ($((SECONDS - t0))s)"
}

# pip, minus one line per package about this machine's configured-but-absent local indexes
pip() {
  "$PY" -m pip "$@" 2>&1 | grep -v 'is neither a file nor a directory'
  return "${PIPESTATUS[0]}"
}

fingerprint() {
  cat "$ROOT/pyproject.toml" "$ROOT/tools/setup.sh" | sha256sum | cut -d' ' -f1
}

installed() {  # every top-level package is findable (cheap: no imports)
  "$PY" -c 'import importlib.util as u, sys
sys.exit(any(u.find_spec(m) is None for m in sys.argv[1:]))' \
    mmcv mmengine mmdet mmseg mmpretrain timm pytest se_backbones 2>/dev/null
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ] && installed; then
  log "environment up to date ($VENV)"
  return 0 2>/dev/null || exit 0
fi

find_mmcv_wheel() {
  local dir
  for dir in ${SE_BACKBONES_WHEELHOUSE:-} "$CACHE" "$ROOT/../shared/wheels"; do
    compgen -G "$dir/mmcv-$MMCV_VERSION-cp311-*.whl" >/dev/null 2>&1 || continue
    ls "$dir"/mmcv-$MMCV_VERSION-cp311-*.whl | head -n1
    return 0
  done
  return 1
}

build_mmcv_wheel() {
  local src; src=$(mktemp -d)
  pip download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$src"
  tar xzf "$src/mmcv-$MMCV_VERSION.tar.gz" -C "$src"
  # torch 2.14's headers need C++20; mmcv 2.1.0 asks for C++14/17.
  sed -i 's/-std=c++17/-std=c++20/g; s/-std=c++14/-std=c++20/g' "$src/mmcv-$MMCV_VERSION/setup.py"
  mkdir -p "$CACHE"
  (cd "$src/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=2 \
     pip wheel --no-build-isolation --no-deps . -w "$CACHE")
  rm -rf "$src"
}

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x "$PY" ]; then
  run_step "create .venv with $PYTHON" "Python 3.11 with the venv module is needed; set PYTHON=/path/to/python3.11." \
    "$PYTHON" -m venv "$VENV"
fi
run_step "install torch 2.14.1 + build tools" "Check that pip can reach PyPI (or the local torch wheels), then rerun." \
  pip install -q "${TORCH_PINS[@]}" "${BUILD_PINS[@]}"

if ! MMCV_WHL=$(find_mmcv_wheel); then
  log "no cached mmcv $MMCV_VERSION wheel: building it from source (about 10 minutes on 2 cores)"
  run_step "build mmcv $MMCV_VERSION with ops" \
    "It needs gcc/g++ and the Python headers (apt-get install build-essential python3-dev) and PyPI for the sdist. Then rerun; or put a prebuilt wheel in \$SE_BACKBONES_WHEELHOUSE." \
    build_mmcv_wheel
  MMCV_WHL=$(find_mmcv_wheel)
fi
log "mmcv wheel: $MMCV_WHL"

run_step "install mmcv, the OpenMMLab toolkits, timm and se_backbones" \
  "Check that pip can reach PyPI, then rerun; 'pip install -e .[all,tests]' inside .venv shows the full error." \
  pip install -q "$MMCV_WHL" -e "$ROOT[all,tests]"

run_step "check imports (mmcv.ops, mmdet, mmseg, mmpretrain, timm, se_backbones)" \
  "A package imported wrongly; the traceback above names it. Delete .venv and rerun for a clean install." \
  "$PY" -c 'import mmcv.ops, mmdet.models, mmseg.models, mmpretrain.models, timm, se_backbones'

fingerprint > "$STAMP"
log "environment ready ($VENV)"
