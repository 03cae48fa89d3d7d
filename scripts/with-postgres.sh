#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD ARGS...
#
# Runs CMD with QORTAL_OIDC_TEST_DATABASE_URL pointing at a Postgres server.
# When the variable is already set, CMD simply runs against that server.
# Otherwise a throwaway server is started for the duration of CMD: its data
# lives in a temporary directory, it listens on a random loopback port with
# trust authentication, and durability is switched off because nothing in it
# outlives the command. It is stopped and deleted when CMD ends, and CMD's
# exit code is passed through.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

if [[ -n "${QORTAL_OIDC_TEST_DATABASE_URL:-}" ]]; then
	exec "$@"
fi

# Find the server binaries: PG_BIN, else the newest Debian-style install,
# else whatever pg_config reports.
has_server() { [[ -n "$1" && -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" ]]; }
bindir=""
if [[ -n "${PG_BIN:-}" ]] && has_server "$PG_BIN"; then
	bindir=$PG_BIN
fi
if [[ -z "$bindir" ]]; then
	newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n | tail -n 1 || true)
	has_server "$newest" && bindir=$newest
fi
if [[ -z "$bindir" ]] && command -v pg_config >/dev/null 2>&1; then
	reported=$(pg_config --bindir 2>/dev/null || true)
	has_server "$reported" && bindir=$reported
fi
if [[ -z "$bindir" ]]; then
	echo "No PostgreSQL server binaries found (looked in \$PG_BIN${PG_BIN:+=$PG_BIN}, /usr/lib/postgresql/*/bin, pg_config --bindir). Install postgresql (Debian: apt-get install postgresql) or set QORTAL_OIDC_TEST_DATABASE_URL." >&2
	exit 1
fi

# Postgres refuses to run as root, so as root the server runs as nobody.
as_pg=()
if [[ "$(id -u)" -eq 0 ]]; then
	as_pg=(runuser -u nobody --)
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qortal-oidc-pg.XXXXXX")
data="$tmp/data"
cleanup() {
	local rc=$?
	if [[ -f "$data/postmaster.pid" ]]; then
		"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ${#as_pg[@]} -gt 0 ]]; then
	chown nobody "$tmp"
	chmod 0700 "$tmp"
	# mktemp's parent must be traversable by nobody (true for /tmp).
	if ! runuser -u nobody -- test -w "$tmp"; then
		echo "$tmp is not reachable by user nobody; set TMPDIR to a world-traversable directory" >&2
		exit 1
	fi
fi

"${as_pg[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	exit 1
}

# A port can be taken between picking and binding; retry a few times.
started=""
for _ in 1 2 3 4 5; do
	port=$(free_port)
	opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$tmp"
	opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
	if "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -o "$opts" -w -t 30 start >/dev/null 2>&1; then
		started=1
		break
	fi
done
if [[ -z "$started" ]]; then
	echo "could not start PostgreSQL; server log:" >&2
	cat "$tmp/server.log" >&2 || true
	exit 1
fi
if [[ -x "$bindir/pg_isready" ]]; then
	for _ in $(seq 1 50); do
		"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
		sleep 0.1
	done
fi

export QORTAL_OIDC_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres: using throwaway PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') from $bindir on 127.0.0.1:$port" >&2

# Not exec: the EXIT trap must stop the server afterwards; a failing CMD
# ends the script through set -e with CMD's code, which cleanup passes on.
"$@"
