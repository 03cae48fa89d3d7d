#!/usr/bin/env bash
# Usage: scripts/loadtest-compare.sh [--store sqlite|postgres] [--alg RS256|ES256|EdDSA]
#                                    [--rounds N] OLD_DIR NEW_DIR [-- LOADTEST FLAGS...]
#
# Compares two builds of the broker the way the README's Performance section
# does: each round runs scripts/loadtest.sh for both at the same time (each
# with its own broker, fake Nextcloud and, for Postgres, its own database),
# so both see the same machine. On a shared machine whose speed drifts by
# tens of percent over minutes, runs one after the other compare the drift
# as much as the builds; runs side by side do not. It prints each round's
# server CPU ms per login for both and their ratio, then the median ratio.
#
# OLD_DIR and NEW_DIR each hold a qortal-oidc and a fakenextcloud binary, e.g.
#   git worktree add /tmp/old HEAD~1 && (cd /tmp/old && go build -o /tmp/old-bin/ ./cmd/qortal-oidc ./interop/fakenextcloud)
# Flags after -- go to each loadtest (default: -c 4 -n 3000). For Postgres set
# LOADTEST_PG_ADMIN_URL to a database URL of a role that may CREATE DATABASE:
# each round creates two fresh databases next to it (left for you to drop).
set -euo pipefail

store=sqlite alg=EdDSA rounds=4
while [[ $# -gt 0 ]]; do
	case "$1" in
	--store) store=$2; shift 2 ;;
	--alg) alg=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--) break ;;
	-*) echo "unknown flag $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[[ $# -ge 2 ]] || { sed -n '2,4p' "$0" >&2; exit 2; }
old=$1 new=$2
shift 2
[[ "${1:-}" == "--" ]] && shift
lt_flags=("$@")
[[ ${#lt_flags[@]} -eq 0 ]] && lt_flags=(-c 4 -n 3000)
for d in "$old" "$new"; do
	[[ -x "$d/qortal-oidc" && -x "$d/fakenextcloud" ]] || { echo "$d: needs qortal-oidc and fakenextcloud binaries" >&2; exit 2; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qortal-oidc-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# freshdb prints the URL of a new database beside LOADTEST_PG_ADMIN_URL's.
freshdb() {
	local name="loadtest_$(date +%s)_$RANDOM" psql=${PSQL:-$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)}
	"$psql" -q -v ON_ERROR_STOP=1 "$LOADTEST_PG_ADMIN_URL" -c "CREATE DATABASE $name" >/dev/null
	python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$LOADTEST_PG_ADMIN_URL" "$name"
}

cpu() { sed -nE 's/^server cpu: .* total, ([0-9.]+) ms\/login.*/\1/p' "$1"; }

ratios=()
echo "# store=$store alg=$alg $(nproc) cores; each side: loadtest ${lt_flags[*]}"
for round in $(seq 1 "$rounds"); do
	envs_old=() envs_new=()
	if [[ "$store" == postgres ]]; then
		[[ -n "${LOADTEST_PG_ADMIN_URL:-}" ]] || { echo "set LOADTEST_PG_ADMIN_URL for --store postgres" >&2; exit 2; }
		envs_old=(LOADTEST_DATABASE_URL="$(freshdb)")
		envs_new=(LOADTEST_DATABASE_URL="$(freshdb)")
	fi
	env "${envs_old[@]}" LOADTEST_BIN_DIR="$old" "$root/scripts/loadtest.sh" --store "$store" --alg "$alg" -- "${lt_flags[@]}" >"$tmp/old.txt" 2>&1 &
	p_old=$!
	env "${envs_new[@]}" LOADTEST_BIN_DIR="$new" "$root/scripts/loadtest.sh" --store "$store" --alg "$alg" -- "${lt_flags[@]}" >"$tmp/new.txt" 2>&1 &
	p_new=$!
	wait "$p_old" || { echo "old build's run failed:" >&2; tail -5 "$tmp/old.txt" >&2; exit 1; }
	wait "$p_new" || { echo "new build's run failed:" >&2; tail -5 "$tmp/new.txt" >&2; exit 1; }
	a=$(cpu "$tmp/old.txt") b=$(cpu "$tmp/new.txt")
	[[ -n "$a" && -n "$b" ]] || { echo "no server cpu line (is --server-pid measured?)" >&2; exit 1; }
	r=$(python3 -c "print(f'{$b / $a:.3f}')")
	ratios+=("$r")
	echo "round $round: old $a ms/login, new $b ms/login, new/old $r"
done
python3 -c 'import statistics, sys; print("median new/old:", f"{statistics.median(map(float, sys.argv[1:])):.3f}")' "${ratios[@]}"
