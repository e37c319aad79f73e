#!/usr/bin/env bash
# The README's test command: every check CI runs, in order of cost. Fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export SPILLWAY_LOG_LEVEL="${SPILLWAY_LOG_LEVEL:-warn}"
bash scripts/setup.sh
echo "== type check"; npx tsc --noEmit -p .
echo "== lint"; npx biome check .
echo "== unit"; npx vitest run --project unit
echo "== integration (real Redis and Kafka)"; npx vitest run --project integration
echo "== load tests (whole stacks, one at a time)"; npx vitest run --project load
echo "== chaos"; npx vitest run --project chaos --passWithNoTests
