#!/usr/bin/env bash
# Makes sure PostgreSQL (with pgvector) and Redis are running on this machine.
# Safe to run many times: every step checks before it acts.
set -euo pipefail

PGHOST_ADDR="${QUARRY_PG_HOST:-127.0.0.1}"
PGPORT_NUM="${QUARRY_PG_PORT:-5432}"
PG_SUPERUSER="${QUARRY_PG_SUPERUSER:-postgres}"
REDIS_PORT_NUM="${QUARRY_REDIS_PORT:-6379}"

log() { printf '[setup] %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

psql_super() { psql -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U "$PG_SUPERUSER" -v ON_ERROR_STOP=1 -qAt "$@"; }

ensure_postgres() {
  if ! command -v psql >/dev/null 2>&1; then
    log "installing PostgreSQL 15"
    apt_install postgresql-15 postgresql-client-15
  fi
  if ! pg_isready -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -q; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect 15 main start || true
    for _ in $(seq 1 30); do pg_isready -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -q && break; sleep 1; done
  fi
  pg_isready -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -q || { echo "PostgreSQL is not reachable on $PGHOST_ADDR:$PGPORT_NUM" >&2; exit 1; }
}

pgvector_available() {
  [ "$(psql_super -d postgres -c "select count(*) from pg_available_extensions where name = 'vector'")" = "1" ]
}

# pgvector is not packaged for Debian 12: build it from trixie's source package (see ENVIRONMENT.md).
ensure_pgvector() {
  pgvector_available && return 0
  log "building pgvector from Debian's source package"
  local pg_major
  pg_major=$(psql_super -d postgres -c "show server_version_num" | cut -c1-2)
  apt_install "postgresql-server-dev-${pg_major}" build-essential dpkg-dev
  if [ ! -f /etc/apt/sources.list.d/trixie-src.list ]; then
    local uri
    uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    uri=${uri:-http://deb.debian.org/debian}
    echo "deb-src $uri trixie main" > /etc/apt/sources.list.d/trixie-src.list
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  local work
  work=$(mktemp -d)
  (
    cd "$work"
    apt-get source --download-only pgvector >/dev/null
    tar xzf pgvector_*.orig.tar.gz
    cd pgvector-*/
    make -s PG_CONFIG="/usr/lib/postgresql/${pg_major}/bin/pg_config" >/dev/null
    make -s PG_CONFIG="/usr/lib/postgresql/${pg_major}/bin/pg_config" install >/dev/null
  )
  rm -rf "$work"
  pgvector_available || { echo "pgvector build finished but the extension is still unavailable" >&2; exit 1; }
}

ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing Redis"
    apt_install redis-server
  fi
  if ! redis-cli -p "$REDIS_PORT_NUM" ping >/dev/null 2>&1; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT_NUM" --save "" --appendonly no
    for _ in $(seq 1 30); do redis-cli -p "$REDIS_PORT_NUM" ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
}

# The console's browser tests drive Debian's Chromium through playwright-core (which cannot download a browser).
ensure_chromium() {
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && return 0
  log "installing Chromium for the console's browser tests"
  apt_install chromium
}

ensure_postgres
ensure_pgvector
ensure_redis
ensure_chromium
log "PostgreSQL (with pgvector), Redis and Chromium are ready"
