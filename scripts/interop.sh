#!/usr/bin/env bash
# Interop tests with real clients against the real binary: openid-client
# (node) and Chromium driven by playwright-core. Needs node >= 20, npm and
# /usr/bin/chromium (or CHROMIUM_PATH); .ci/run installs them.
#
# replicas.test.mjs runs two broker processes on one PostgreSQL database and
# needs QORTAL_OIDC_TEST_DATABASE_URL (a server it may CREATE/DROP DATABASE
# on, plus psql); without it that test fails, it does not skip. `make test`
# sets it; standalone, run: scripts/with-postgres.sh scripts/interop.sh
set -euo pipefail
cd "$(dirname "$0")/../interop"
if ! command -v node >/dev/null 2>&1; then
  echo "interop: node is not installed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi
npm test
