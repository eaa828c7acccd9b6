#!/usr/bin/env bash
# The main job (README): trains a classifier on the built-in synthetic jets (no downloads) and prints
# per-epoch loss, throughput and validation metrics. Extra flags are passed through to `hep`.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run --project src/Cli -c Release -- --arch MLP --epochs 5 --batch_size 128 --learning_rate 0.05 "$@"
