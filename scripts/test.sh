#!/usr/bin/env bash
# The test command (README): installs what the tests need, builds, lints, runs the whole suite, and fails
# when a test left a namespace, link, mount or process behind.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
npm run --silent build
npm run --silent lint

before=$(mktemp)
tap=$(mktemp)
trap 'rm -f "$before" "$tap"' EXIT
node --import=tsx test/leftovers.ts snapshot >"$before"

# Properties run from one fixed seed, so a red run is reproducible; `npm run fuzz` explores with random ones.
export TSNET_FUZZ_SEED="${TSNET_FUZZ_SEED:-20261201}"
status=0
npx ava --tap "$@" | tee "$tap" || status=$?

node --import=tsx test/leftovers.ts check "$before" || status=1

pass=$(awk '/^# pass/ {print $3}' "$tap")
fail=$(awk '/^# fail/ {print $3}' "$tap")
skip=$(awk '/^# skip/ {print $3}' "$tap")
echo "ava: ${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
exit "$status"
