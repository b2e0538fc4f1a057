#!/usr/bin/env bash
# The whole speed table in one command: ours, plain ResNet-50, timm's and mmpretrain's
# SE-ResNet-50, in eager and compiled mode, NCHW and channels_last (tools/benchmark.py), in
# float32 and then in each autocast dtype of BENCHMARK_AMP (one process each). It is meant for
# one GPU (the default device; 16 inductor compilations per dtype); on the CPU use a small size:
#
#   bash tools/benchmark_all.sh                                   # cuda, batch 32, 224x224
#   bash tools/benchmark_all.sh --device cpu --batch 1 --size 64 --rounds 1
#
# Arguments go to every tools/benchmark.py call (a later --batch overrides the default);
# BENCHMARK_AMP lists autocast dtypes to run after float32 (e.g. "bf16 fp16"; default none).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python}
MODELS=(ours-se-r50 mmdet-resnet50 timm-seresnet50 mmpretrain-seresnet50)
COMMON=(--device cuda --batch 32 --rounds 5 --modes eager eager-cl compile compile-cl
        --models "${MODELS[@]}")
for amp in "" ${BENCHMARK_AMP:-}; do
  echo "### autocast: ${amp:-off (float32)}"
  "$PYTHON" "$ROOT/tools/benchmark.py" "${COMMON[@]}" ${amp:+--amp "$amp"} "$@"
done
