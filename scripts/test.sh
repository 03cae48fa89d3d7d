#!/usr/bin/env bash
# The one way to run every test: Go tests on both stores (a throwaway
# Postgres is started unless QORTAL_OIDC_TEST_DATABASE_URL is set), a short
# fuzz pass over every parser, and the interop tests with real OIDC clients
# and a real browser.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-postgres.sh scripts/run-tests.sh
