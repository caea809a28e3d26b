#!/usr/bin/env bash
# npm run demo [-- --keep | --down NAME]: installs what tsnet needs on a fresh Debian 12 machine, builds, and runs
# the 3-node cluster demo (scripts/demo.ts). --down only removes a cluster left by --keep: no install, no build.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" != "--down" ]]; then
  bash scripts/install-deps.sh
  npm run --silent build
fi
exec node --import=tsx scripts/demo.ts "$@"
