#!/usr/bin/env bash
# Installs the non-.NET tools the test suites use on a fresh machine (only the .NET SDK is assumed).
# Node.js + npm: the ROOT writer round-trip test reads our files back with jsroot.
set -euo pipefail
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "ci-setup: npm not found and cannot apt-get install it; jsroot round-trip tests will report npm unavailable" >&2
  fi
fi
