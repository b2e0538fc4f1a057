#!/usr/bin/env bash
# The main job: set up .venv if needed, then build SE-ResNet-50 / SE-ResNeXt-50 and their plain
# twins through mmdet's registry and print stage shapes, params and FLOPs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tools/setup.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/tools/summary.py" "$@"
