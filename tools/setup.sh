#!/usr/bin/env bash
# One idempotent setup of a tested stack, with mmcv 2.1.0 (compiled CPU ops), mmengine, mmdet,
# mmsegmentation, mmpretrain, timm, the test tools and se_backbones (editable):
#
#   bash tools/setup.sh                    # the current stack (torch 2.14.1, numpy 2): .venv
#   bash tools/setup.sh --stack classic    # the classic OpenMMLab stack (torch 2.1.2,
#                                          # numpy 1.26, timm 0.9): .venv-classic
#
# A stack's exact versions are its lock file, requirements/<stack>.txt, installed with
# --no-deps, so a setup gives the same environment every time.
#
# The link (.venv or .venv-classic) points to .venvs/<stack>-<fingerprint of pyproject.toml,
# the lock and this script>. A new environment is built beside the current one and the link is
# switched to it only once it imports everything, so a failed setup (no network, no compiler, a
# failed mmcv build) prints one line saying why and leaves the previous environment as it was.
# A second run with nothing changed only checks a stamp.
#
# The mmcv wheel is taken from a wheelhouse when one holds it ($SE_BACKBONES_WHEELHOUSE,
# ~/.cache/se_backbones/wheels/torch-<version>, ../shared/wheels; in a wheelhouse, the top
# level is for torch 2.14.1 and torch-<version>/ for the others), else built from the PyPI sdist
# (~10 min on 2 cores; needs a C++ compiler, $CXX or c++, and the Python headers) and cached.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=${SE_BACKBONES_STACK:-current}
while [ $# -gt 0 ]; do
  case $1 in
    --stack) STACK=${2:-}; shift 2 || shift ;;
    --stack=*) STACK=${1#--stack=}; shift ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return 0 2>/dev/null || exit 0 ;;
    *) echo "setup.sh: unknown argument '$1' (allowed: --stack current|classic)" >&2
       return 2 2>/dev/null || exit 2 ;;
  esac
done
LOCK=$ROOT/requirements/$STACK.txt
if [ ! -f "$LOCK" ]; then
  echo "setup.sh: --stack must be one of: $(cd "$ROOT/requirements" && ls *.txt | sed 's/\.txt$//' | tr '\n' ' ')(got '$STACK')" >&2
  return 2 2>/dev/null || exit 2
fi
DEFAULT_LINK=$ROOT/.venv
[ "$STACK" = current ] || DEFAULT_LINK=$ROOT/.venv-$STACK
LINK=${SE_BACKBONES_VENV:-$DEFAULT_LINK}        # overridable for the setup's own tests
ENVS=${SE_BACKBONES_ENVS:-$ROOT/.venvs}
SHARED_WHEELS=${SE_BACKBONES_SHARED_WHEELS:-$ROOT/../shared/wheels}
TORCH_VERSION=$(sed -n 's/^torch==//p' "$LOCK")
MMCV_VERSION=2.1.0
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/se_backbones/wheels/torch-$TORCH_VERSION"
SETUP_T0=$SECONDS

log() { printf '[setup %4ds] %s\n' "$((SECONDS - SETUP_T0))" "$*" >&2; }

fingerprint() {
  cat "$ROOT/pyproject.toml" "$LOCK" "$ROOT/tools/setup.sh" | sha256sum | cut -c1-12
}

installed() {  # $1/bin/python finds every top-level package (cheap: no imports)
  "$1/bin/python" -c 'import importlib.util as u, sys
sys.exit(any(u.find_spec(m) is None for m in sys.argv[1:]))' \
    mmcv mmengine mmdet mmseg mmpretrain timm pytest se_backbones 2>/dev/null
}

FINGERPRINT=$(fingerprint)
if [ -f "$LINK/.se_backbones_setup" ] && [ "$(cat "$LINK/.se_backbones_setup")" = "$FINGERPRINT" ] \
    && installed "$LINK"; then
  log "environment up to date ($LINK -> $(readlink -f "$LINK"))"
  return 0 2>/dev/null || exit 0
fi

NEW="$ENVS/$STACK-$FINGERPRINT"
if [ -e "$NEW" ] && [ "$(readlink -f "$LINK" 2>/dev/null)" = "$(readlink -f "$NEW")" ]; then
  NEW="$NEW-$$"  # the current environment is incomplete: rebuild beside it, not over it
fi
PY="$NEW/bin/python"
SETUP_LOG="$ENVS/setup-$STACK-$FINGERPRINT.log"
mkdir -p "$ENVS"
: > "$SETUP_LOG"

previous_env() {
  if [ -e "$LINK" ]; then echo "the previous environment $LINK is unchanged and still usable"
  else echo "no environment was installed before"; fi
}

# fail REASON: the one line a failed setup prints (the details are in the log), then exit 1.
fail() {
  rm -rf "$NEW"
  log "FAILED: $1 Nothing was switched: $(previous_env). Full output: $SETUP_LOG"
  exit 1
}

STEP_START=0
step_output() { tail -n +"$((STEP_START + 1))" "$SETUP_LOG"; }
NETWORK_ERRORS='Failed to establish a new connection|Temporary failure in name resolution|Network is unreachable|Name or service not known|Could not fetch URL|ProxyError|ConnectTimeout|ReadTimeout|Connection refused'

# why_*: the cause of a failed step, from its output, as a sentence.
index_unreachable() {  # the step's output shows it, or pip cannot even fetch setuptools now
  step_output | grep -qiE "$NETWORK_ERRORS" && return 0
  step_output | grep -q '(from versions: none)' || return 1
  local probe; probe=$(mktemp -d)
  ! timeout 120 "$PY" -m pip download -q --no-deps --no-cache-dir -d "$probe" setuptools \
    >/dev/null 2>&1
}

why_pip_failed() {
  if index_unreachable; then
    echo "pip could not reach the package index (no network? a proxy? PIP_INDEX_URL?)."
  else
    echo "pip failed: $(step_output | grep -E '^ERROR' | tail -n1 | cut -c1-200)"
  fi
}
why_venv_failed() { echo "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3.11-venv)."; }
why_import_failed() { echo "an import failed: $(step_output | grep -E 'Error' | tail -n1 | cut -c1-200)"; }
why_build_failed() {
  if step_output | grep -qiE "$NETWORK_ERRORS"; then
    echo "the mmcv $MMCV_VERSION sdist could not be downloaded from PyPI (no network?)."
  else
    echo "compiling mmcv $MMCV_VERSION failed ($(step_output | grep -iE 'error' | tail -n1 | cut -c1-160)). Install build-essential and python3-dev, or put a prebuilt wheel in \$SE_BACKBONES_WHEELHOUSE."
  fi
}

# step WHY NAME CMD...: run CMD with its output in the log, timed; on failure, fail with the
# sentence that the function WHY makes of the step's output.
step() {
  local why=$1 name=$2 t0=$SECONDS; shift 2
  log "$name ..."
  STEP_START=$(wc -l < "$SETUP_LOG")
  if ! "$@" >>"$SETUP_LOG" 2>&1; then
    fail "step '$name': $($why)"
  fi
  log "$name done ($((SECONDS - t0))s)"
}

pip() { "$PY" -m pip "$@"; }

wheel_dirs() {  # where a wheel for this torch may be: torch-<version>/, or the top level for 2.14.1
  local house
  echo "$CACHE"
  for house in ${SE_BACKBONES_WHEELHOUSE:-} "$SHARED_WHEELS"; do
    echo "$house/torch-$TORCH_VERSION"
    [ "$TORCH_VERSION" != 2.14.1 ] || echo "$house"
  done
}

find_mmcv_wheel() {
  local dir
  for dir in $(wheel_dirs); do
    compgen -G "$dir/mmcv-$MMCV_VERSION-cp311-*.whl" >/dev/null 2>&1 || continue
    ls "$dir"/mmcv-$MMCV_VERSION-cp311-*.whl | head -n1
    return 0
  done
  return 1
}

# Commands chained with &&: `set -e` does not apply inside a function that `step` tests.
# The sed: torch >= 2.10's headers need C++20, mmcv 2.1.0 asks for C++14/17.
build_mmcv_wheel() {
  local src rc=0 std=c++20; src=$(mktemp -d)
  [ "${TORCH_VERSION%%.*}" -gt 2 ] || [ "$(echo "$TORCH_VERSION" | cut -d. -f2)" -ge 10 ] || std=c++17
  pip download --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$src" \
  && tar xzf "$src/mmcv-$MMCV_VERSION.tar.gz" -C "$src" \
  && sed -i "s/-std=c++17/-std=$std/g; s/-std=c++14/-std=$std/g" \
       "$src/mmcv-$MMCV_VERSION/setup.py" \
  && (cd "$src/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=2 \
       "$PY" -m pip wheel --no-build-isolation --no-deps . -w "$src/dist") \
  && mkdir -p "$CACHE" && cp "$src"/dist/mmcv-$MMCV_VERSION-*.whl "$CACHE/" || rc=1
  rm -rf "$src"
  return $rc
}

# --- preflight: what would fail later, checked before anything is installed ----------------
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  fail "Python 3.11 with the venv module is needed (found: ${PYTHON:-none}); set PYTHON=/path/to/python3.11."
fi
if ! MMCV_WHL=$(find_mmcv_wheel); then
  CXX_BIN=${CXX:-c++}
  if ! command -v "$CXX_BIN" >/dev/null 2>&1; then
    fail "no mmcv $MMCV_VERSION wheel in a wheelhouse, and no C++ compiler ('$CXX_BIN') to build one: install build-essential (apt-get install build-essential python3-dev) or put a prebuilt wheel in \$SE_BACKBONES_WHEELHOUSE."
  fi
  if [ ! -f "$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ]; then
    fail "building mmcv needs the Python 3.11 headers (Python.h): install python3.11-dev, or put a prebuilt mmcv wheel in \$SE_BACKBONES_WHEELHOUSE."
  fi
fi

# --- build the new environment beside the current one ---------------------------------------
rm -rf "$NEW"
step why_venv_failed "create $NEW with $PYTHON" "$PYTHON" -m venv "$NEW"
step why_pip_failed "install the $STACK stack (torch $TORCH_VERSION; requirements/$STACK.txt)" \
  pip install --no-deps -r "$LOCK"
if [ -z "${MMCV_WHL:-}" ]; then
  log "no cached mmcv $MMCV_VERSION wheel: building it from source (about 10 minutes on 2 cores)"
  step why_build_failed "build mmcv $MMCV_VERSION with ops" build_mmcv_wheel
  MMCV_WHL=$(find_mmcv_wheel) || fail "the mmcv build left no wheel in $CACHE."
fi
log "mmcv wheel: $MMCV_WHL"
# --no-build-isolation: the lock's setuptools builds the editable install (nothing downloaded)
step why_pip_failed "install mmcv and se_backbones" \
  pip install --no-deps --no-build-isolation "$MMCV_WHL" -e "$ROOT"
step why_pip_failed "check that every installed package has its dependencies (pip check)" \
  pip check
step why_import_failed "check imports (mmcv.ops, mmdet, mmseg, mmpretrain, timm, se_backbones)" \
  "$PY" -c 'import mmcv.ops, mmdet.models, mmseg.models, mmpretrain.models, timm, se_backbones'
echo "$FINGERPRINT" > "$NEW/.se_backbones_setup"

# --- switch .venv to it (one rename), then drop environments older than the previous one ----
PREVIOUS=$(readlink -f "$LINK" 2>/dev/null || true)
if [ -d "$LINK" ] && [ ! -L "$LINK" ]; then  # an old-layout .venv directory: replaced
  rm -rf "$LINK"
fi
ln -sfn "$NEW" "$LINK.tmp" && mv -Tf "$LINK.tmp" "$LINK"
for env in "$ENVS"/*/; do  # this stack's environments (the current's: also older unprefixed ones)
  env=${env%/}
  case $(basename "$env") in
    "$STACK"-*) ;;
    *-*) continue ;;
    *) [ "$STACK" = current ] || continue ;;
  esac
  [ "$env" = "$NEW" ] || [ "$env" = "$PREVIOUS" ] || rm -rf "$env"
done
log "environment ready ($LINK -> $NEW)"
