#!/usr/bin/env bash
# Stops what `npm run up` started.
set -euo pipefail
cd "$(dirname "$0")/.."
for name in api worker; do
  pidfile=".quarry/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")" && echo "[down] stopped $name"
  fi
  rm -f "$pidfile"
done
