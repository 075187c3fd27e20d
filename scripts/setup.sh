#!/usr/bin/env bash
# Everything both README commands need, on a fresh Debian machine or a used one: services, pgvector,
# npm packages, generated client, build, database roles and migrations. Each step checks before it acts.
# Usage: scripts/setup.sh <database-name>
set -euo pipefail
cd "$(dirname "$0")/.."
export QUARRY_DB_NAME="${1:-quarry}"
source scripts/env.sh
log() { printf '[setup] %s\n' "$*"; }

bash scripts/ensure-services.sh

# npm ci only when the lock file changed since the last install (it wipes node_modules every time).
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.quarry-lock ] || [ "$(cat node_modules/.quarry-lock)" != "$lock_sum" ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.quarry-lock
fi

log "building"
bash scripts/build.sh

log "database ${QUARRY_DB_NAME}: roles, pgvector, migrations"
node libs/db/dist/migrate/cli.js bootstrap deploy
