#!/usr/bin/env bash
# Publishes `hep` (CLI, trainer, `hep selfcheck` kernel comparisons) and the benchmark runner as
# self-contained linux-x64 single files, for machines without .NET (e.g. a lent GPU node):
#   publish/hep/hep selfcheck --device cuda      # every ILGPU kernel vs host float64 references
#   publish/bench/Engine.Benchmarks --filter '*Gemm*'
set -euo pipefail
cd "$(dirname "$0")/.."
common=(-c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true)
dotnet publish src/Cli/Cli.csproj "${common[@]}" -o publish/hep
dotnet publish perf/Engine.Benchmarks/Engine.Benchmarks.csproj "${common[@]}" -o publish/bench
ls -la publish/hep publish/bench | grep -E "hep$|Engine.Benchmarks$"
