#!/usr/bin/env bash
# The test suite on both tested stacks: each is set up first if needed (tools/setup.sh), then
# pytest runs the whole suite in it; the exit status is non-zero if either run failed.
#
#   bash tools/test.sh                       # current stack, then classic
#   bash tools/test.sh --stack current -k timm   # one stack; other arguments go to pytest
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACKS=(current classic)
ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --stack) STACKS=("$2"); shift 2 ;;
    --stack=*) STACKS=("${1#--stack=}"); shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
cd "$ROOT"
status=0
summary=()
for stack in "${STACKS[@]}"; do
  t0=$SECONDS
  if ! bash "$ROOT/tools/setup.sh" --stack "$stack"; then
    summary+=("$stack: setup FAILED"); status=1; continue
  fi
  link=$ROOT/.venv; [ "$stack" = current ] || link=$ROOT/.venv-$stack
  echo "=== test suite on the $stack stack ($link) ===" >&2
  SE_BACKBONES_STACK=$stack "$link/bin/python" -m pytest ${ARGS[@]+"${ARGS[@]}"}
  rc=$?
  [ $rc -eq 0 ] || status=1
  summary+=("$stack: pytest exit $rc ($((SECONDS - t0)) s with setup)")
done
printf '=== %s\n' "${summary[@]}" >&2
exit $status
