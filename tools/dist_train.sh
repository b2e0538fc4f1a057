#!/usr/bin/env bash
# Distributed training with torchrun (MMEngine's DDP), e.g. on one machine with 8 processes:
#   bash tools/dist_train.sh configs/faster_rcnn_se_r50.py 8 [train.py options]
# Multi-machine: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on each machine.
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$( [ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python)}
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
  --master_port="${PORT:-29500}" --nproc_per_node="$NPROC" \
  "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
