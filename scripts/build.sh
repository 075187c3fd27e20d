#!/usr/bin/env bash
# Generates the Prisma client, type-checks and compiles every workspace (tsc -b is incremental), builds the console.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .quarry
bash scripts/prisma-generate.sh
npx --no-install tsc -b tsconfig.json
# The console's API types come from the OpenAPI document of the API just built (no server needed).
node apps/api/dist/openapi-cli.js .quarry/openapi.json
npx --no-install openapi-typescript .quarry/openapi.json -o apps/console/src/api/openapi.gen.ts --default-non-nullable=false --silent
npx --no-install tsc -p apps/console/tsconfig.json --noEmit
(cd apps/console && npx --no-install vite build --logLevel warn)
