#!/usr/bin/env bash
# Usage: scripts/loadtest.sh [--store sqlite|postgres] [--alg RS256|ES256|EdDSA]
#                            [--server-bin BIN] [--mappings N] [-- LOADTEST FLAGS...]
#
# Measures whole logins the way the README's Performance section does: builds
# the broker, starts the project's fake Nextcloud (interop/fakenextcloud) and
# a broker on loopback with rate limits raised, provisions one Qortal address
# through the admin API, then runs `qortal-oidc loadtest` with --server-pid
# (and --db-pid for Postgres). Flags after -- go to loadtest (default: -c 4
# -n 3000). For Postgres set LOADTEST_DATABASE_URL (a database you own: the
# run adds rows) and LOADTEST_DB_PID (the postmaster's pid) to count its CPU.
# --server-bin measures another build of the broker (e.g. an older commit).
# --mappings N first fills the store with N linked mappings in all (written
# straight into the database in one transaction: python3's sqlite3 for the
# embedded store, psql for Postgres), to show a login costs the same with a
# million accounts as with one.
# Everything started here is stopped on exit.
set -euo pipefail

store=sqlite alg=EdDSA server_bin="" mappings=1
while [[ $# -gt 0 ]]; do
	case "$1" in
	--store) store=$2; shift 2 ;;
	--alg) alg=$2; shift 2 ;;
	--server-bin) server_bin=$2; shift 2 ;;
	--mappings) mappings=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "unknown flag $1" >&2; exit 2 ;;
	esac
done
lt_flags=("$@")
[[ ${#lt_flags[@]} -eq 0 ]] && lt_flags=(-c 4 -n 3000)

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qortal-oidc-loadtest.XXXXXX")
pids=()
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

# LOADTEST_BIN_DIR: take qortal-oidc and fakenextcloud from there instead of building.
if [[ -n "${LOADTEST_BIN_DIR:-}" ]]; then
	cp "$LOADTEST_BIN_DIR/qortal-oidc" "$LOADTEST_BIN_DIR/fakenextcloud" "$tmp/"
else
	(cd "$root" && go build -o "$tmp/qortal-oidc" ./cmd/qortal-oidc && go build -o "$tmp/fakenextcloud" ./interop/fakenextcloud)
fi
[[ -z "$server_bin" ]] && server_bin="$tmp/qortal-oidc"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# Fake Nextcloud: prints {"url": ...}; stops when its stdin closes.
mkfifo "$tmp/nc.in"
"$tmp/fakenextcloud" --app-password app-password <"$tmp/nc.in" >"$tmp/nc.out" &
pids+=($!)
exec 3>"$tmp/nc.in"
for _ in $(seq 1 100); do [[ -s "$tmp/nc.out" ]] && break; sleep 0.05; done
nc_url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$tmp/nc.out")

port=$(free_port)
issuer="http://127.0.0.1:$port"
secret="loadtest-secret-0123456789-0123456789"
admin="loadtest-admin-token-0123456789-0123456789"
# A database reused across runs keeps its signing keys: derive the key
# encryption key from its URL so a later run can decrypt them.
kek=$(printf '%s' "loadtest:${LOADTEST_DATABASE_URL:-$tmp}" | sha256sum | cut -c1-64)
cat >"$tmp/config.yaml" <<YAML
issuer: $issuer
listen: 127.0.0.1:$port
data_dir: $tmp/data
log: {level: warn}
admin: {tokens: [{name: loadtest, token: $admin}]}
nextcloud: {url: $nc_url, user: admin, app_password: app-password}
oidc:
  signing_alg: $alg
  key_encryption_key: $kek
  allow_insecure_issuer: true
  clients: [{id: loadtest, name: Load test, secret: $secret, redirect_uris: ["https://rp.invalid/callback"]}]
login:
  rate_limit: {per_ip_per_minute: 100000000, per_address_per_minute: 100000000, authorize_per_ip_per_minute: 100000000}
YAML
# LOADTEST_PPROF=127.0.0.1:6061 serves the broker's profiles during the run.
[[ -n "${LOADTEST_PPROF:-}" ]] && echo "debug: {pprof_listen: \"$LOADTEST_PPROF\"}" >>"$tmp/config.yaml"
if [[ "$store" == postgres ]]; then
	[[ -n "${LOADTEST_DATABASE_URL:-}" ]] || { echo "set LOADTEST_DATABASE_URL for --store postgres" >&2; exit 2; }
	echo "database_url: $LOADTEST_DATABASE_URL" >>"$tmp/config.yaml"
fi
"$server_bin" serve --config "$tmp/config.yaml" 2>"$tmp/server.log" &
server_pid=$!
pids+=($server_pid)
# Up to a minute: a broker on a loaded machine or under a profiler starts slowly.
ready=""
for _ in $(seq 1 1200); do curl -fs "$issuer/readyz" >/dev/null 2>&1 && { ready=1; break; }; sleep 0.05; done
[[ -n "$ready" ]] || { echo "the broker did not become ready; its log:" >&2; tail -20 "$tmp/server.log" >&2; exit 1; }

# One account: a fixed key, provisioned (Nextcloud user + mapping) by the admin API.
printf '%s' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$tmp/key"
chmod 600 "$tmp/key"
addr=$(printf 'x' | "$tmp/qortal-oidc" sign --key-file "$tmp/key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
curl -fs -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
	-d "{\"qortalAddress\":\"$addr\"}" "$issuer/api/provision/upsert" >/dev/null

if [[ "$mappings" -gt 1 ]]; then
	# Copies of the real mapping (same timestamps) with made-up addresses and
	# user ids that no login uses.
	extra=$((mappings - 1))
	if [[ "$store" == postgres ]]; then
		psql=${PSQL:-$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)}
		"$psql" -q -v ON_ERROR_STOP=1 "$LOADTEST_DATABASE_URL" -c "INSERT INTO mappings (qortal_address, nextcloud_user_id, status, created_at, updated_at)
			SELECT 'Qseed' || lpad(i::text, 29, '0'), 'seed-' || i, 'linked', m.created_at, m.updated_at
			FROM generate_series(1, $extra) i, (SELECT created_at, updated_at FROM mappings WHERE qortal_address = '$addr') m
			ON CONFLICT DO NOTHING" -c "ANALYZE mappings"
		n=$("$psql" -tA "$LOADTEST_DATABASE_URL" -c "SELECT count(*) FROM mappings")
	else
		n=$(python3 - "$tmp/data/qortal-oidc.db" "$addr" "$extra" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
c, u = db.execute("SELECT created_at, updated_at FROM mappings WHERE qortal_address = ?", (sys.argv[2],)).fetchone()
with db:
    db.executemany("INSERT OR IGNORE INTO mappings (qortal_address, nextcloud_user_id, status, created_at, updated_at) VALUES (?, ?, 'linked', ?, ?)",
                   (("Qseed%029d" % i, "seed-%d" % i, c, u) for i in range(1, int(sys.argv[3]) + 1)))
db.execute("ANALYZE")
print(db.execute("SELECT count(*) FROM mappings").fetchone()[0])
db.close()
PY
		)
	fi
	echo "# store holds $n mappings"
fi

db_flags=()
[[ -n "${LOADTEST_DB_PID:-}" && "$store" == postgres ]] && db_flags=(--db-pid "$LOADTEST_DB_PID")
echo "# store=$store alg=$alg server=$server_bin $(nproc) cores; loadtest ${lt_flags[*]}"
"$tmp/qortal-oidc" loadtest --issuer "$issuer" --client loadtest --secret "$secret" \
	--redirect-uri https://rp.invalid/callback --key-file "$tmp/key" --server-pid "$server_pid" "${db_flags[@]}" "${lt_flags[@]}"
