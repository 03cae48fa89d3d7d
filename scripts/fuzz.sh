#!/usr/bin/env bash
# Runs each fuzz target for FUZZTIME (go test -fuzz takes one target at a time).
# FUZZTIME is an execution count by default (300000x, about 8 s a target
# here): with a duration, Go's fuzz coordinator can fail with "context
# deadline exceeded" and nothing found when the machine is loaded (seen on
# this 2-core machine right after the test phase), because the deadline
# lands mid-exchange with a worker. A run that still fails with exactly that
# error is retried, up to three attempts; a finding ("Failing input
# written") or any other error fails at once.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-300000x}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $target ($fuzztime)"
    for attempt in 1 2 3; do
      if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "$pkg" >"$log" 2>&1; then
        break
      fi
      if [ "$attempt" = 3 ] || grep -q "Failing input written" "$log" || ! grep -q "context deadline exceeded" "$log"; then
        cat "$log"
        exit 1
      fi
      echo "  fuzzer coordination timeout (context deadline exceeded, nothing found): attempt $attempt of 3, retrying"
    done
  done
done
