#!/usr/bin/env bash
# Generates the Prisma client, type-checks and compiles every workspace (tsc -b is incremental), builds the console.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prisma-generate.sh
npx --no-install tsc -b tsconfig.json
npx --no-install tsc -p apps/console/tsconfig.json --noEmit
(cd apps/console && npx --no-install vite build --logLevel warn)
