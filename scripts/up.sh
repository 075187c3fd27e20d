#!/usr/bin/env bash
# `npm run up`: installs what is missing, starts API, worker and console on embedded defaults, creates the
# demo tenant and admin, and prints where to open it. Safe to run again: it restarts what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "${QUARRY_DB_NAME:-quarry}"
export QUARRY_DB_NAME="${QUARRY_DB_NAME:-quarry}"
source scripts/env.sh

state=.quarry
mkdir -p "$state/logs"
chmod 700 "$state"

export PORT="${PORT:-3000}"
export WORKER_PORT="${WORKER_PORT:-3001}"
export PUBLIC_URL="${PUBLIC_URL:-http://localhost:${PORT}}"
export CONSOLE_DIR="${CONSOLE_DIR:-$PWD/apps/console/dist}"
# The console is served over plain http on localhost; browsers accept Secure cookies there, tools may not.
export COOKIE_SECURE="${COOKIE_SECURE:-false}"
export QUARRY_DEMO_TENANT="${QUARRY_DEMO_TENANT:-demo}"
export QUARRY_DEMO_EMAIL="${QUARRY_DEMO_EMAIL:-admin@demo.quarry.local}"
export QUARRY_DEMO_PASSWORD="${QUARRY_DEMO_PASSWORD:-quarry-demo-password}"

# The platform administrator's token is made once and kept in .quarry/ (mode 600); only its hash is configured.
if [ ! -s "$state/platform-admin-token" ]; then
  (umask 077 && node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64url'))" > "$state/platform-admin-token")
fi
export PLATFORM_ADMIN_TOKEN_SHA256="$(sha256sum < "$state/platform-admin-token" | cut -d' ' -f1)"

stop() {
  local name=$1 pidfile="$state/$1.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
    echo "[up] stopped the previous $name"
  fi
  rm -f "$pidfile"
}
stop api
stop worker

node apps/api/dist/cli.js seed-demo

nohup node apps/worker/dist/main.js >> "$state/logs/worker.log" 2>&1 &
echo $! > "$state/worker.pid"
nohup node apps/api/dist/main.js >> "$state/logs/api.log" 2>&1 &
echo $! > "$state/api.pid"

ready() { curl -fsS "$1" >/dev/null 2>&1; }
for _ in $(seq 1 120); do
  ready "http://127.0.0.1:${PORT}/health/ready" && ready "http://127.0.0.1:${WORKER_PORT}/health/ready" && break
  if ! kill -0 "$(cat "$state/api.pid")" 2>/dev/null || ! kill -0 "$(cat "$state/worker.pid")" 2>/dev/null; then
    echo "[up] a process exited during start-up; see $state/logs/" >&2
    tail -n 20 "$state/logs/api.log" "$state/logs/worker.log" >&2
    exit 1
  fi
  sleep 0.5
done
ready "http://127.0.0.1:${PORT}/health/ready" || { echo "[up] the API did not become ready; see $state/logs/api.log" >&2; exit 1; }

cat <<MSG

  Quarry is running.

  Open            ${PUBLIC_URL}
  Sign in         workspace "${QUARRY_DEMO_TENANT}", ${QUARRY_DEMO_EMAIL} / ${QUARRY_DEMO_PASSWORD}
  API docs        ${PUBLIC_URL}/docs   (OpenAPI: ${PUBLIC_URL}/openapi.json)
  Health          ${PUBLIC_URL}/health/ready   metrics: ${PUBLIC_URL}/metrics
  Worker          http://localhost:${WORKER_PORT}/health/ready
  Platform token  $state/platform-admin-token   (Authorization: Bearer … on /v1/platform/*)
  Logs            $state/logs/   stop with: npm run down

MSG
