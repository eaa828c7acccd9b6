#!/usr/bin/env bash
# The main job (README): trains ParticleNet-Lite on the built-in synthetic jets (no downloads) and prints
# per-epoch loss, throughput and validation metrics. Extra flags are passed through to `hep`.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run --project src/Cli -c Release -- --arch PN-Lite --epochs 4 --batch_size 64 --learning_rate 0.005 --optimizer adamw --weight_decay 0.01 --synthetic_jets 3000 --fixed_length 64 "$@"
