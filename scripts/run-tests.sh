#!/usr/bin/env bash
# Runs inside scripts/with-postgres.sh; call scripts/test.sh instead.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...

echo "== go test (unit, integration, store conformance on sqlite and postgres)"
go test -count=1 -timeout 20m ./...

echo "== fuzz (short pass over every parser)"
scripts/fuzz.sh

if [ -d interop ]; then
  echo "== interop (openid-client, playwright + chromium)"
  scripts/interop.sh
fi
