#!/usr/bin/env bash
# The main job: set up .venv if needed, generate the toy shapes set if missing, train Faster
# R-CNN SE-R50 on it on the CPU, print the COCO bbox table and write curves.png and
# predictions.png under work_dirs/faster_rcnn_se_r50_toy/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tools/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" "$ROOT/tools/demo.py" "$@"
