#!/usr/bin/env bash
# The project's test command (README.md): builds the solution in Release and runs every NUnit suite.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet test Engine.sln -c Release --nologo "$@"
