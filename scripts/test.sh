#!/usr/bin/env bash
# `npm test`: installs what is missing, then lint, architecture rules, type-check and build, and every test
# tier (unit, integration against the real Postgres and Redis, e2e against the built apps as processes).
set -euo pipefail
cd "$(dirname "$0")/.."
export QUARRY_DB_NAME="${QUARRY_TEST_DB_NAME:-quarry_test}"
bash scripts/setup.sh "$QUARRY_DB_NAME"
source scripts/env.sh
log() { printf '[test] %s\n' "$*"; }

log "lint"
npx --no-install eslint --max-warnings 0 .
log "architecture rules"
npx --no-install depcruise --config .dependency-cruiser.cjs apps libs integration e2e

# Each run gets its own Redis key prefix, so runs (and the test files within one) never share queues or limits.
export REDIS_PREFIX="test-$(date +%s)-$$"
export NODE_ENV=test
export LOG_LEVEL="${LOG_LEVEL:-warn}"

mapfile -t specs < <(find libs apps integration e2e -path '*/node_modules' -prune -o -path '*/dist/*' -type f \
  \( -name '*.spec.js' -o -name '*.int-spec.js' -o -name '*.e2e-spec.js' \) -print | sort)
if [ "${#specs[@]}" -eq 0 ]; then
  echo "no test files found" >&2
  exit 1
fi
log "running ${#specs[@]} test files"
mkdir -p .quarry
results=.quarry/test-results.tap
set +e
node --test --test-concurrency=2 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$results" \
  "${specs[@]}"
status=$?
set -e
passed=$(grep -E '^# pass ' "$results" | awk '{print $3}')
failed=$(grep -E '^# fail ' "$results" | awk '{print $3}')
skipped=$(grep -E '^# skipped ' "$results" | awk '{print $3}')
todo=$(grep -E '^# todo ' "$results" | awk '{print $3}')
echo
echo "${passed:-0} passed, ${failed:-0} failed, $(( ${skipped:-0} + ${todo:-0} )) skipped"
if [ "${skipped:-0}" != "0" ] || [ "${todo:-0}" != "0" ]; then
  echo "tests must not skip themselves" >&2
  exit 1
fi
exit $status
