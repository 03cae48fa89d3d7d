#!/usr/bin/env bash
# Usage: scripts/compose-secrets.sh [DIR]   (default ./secrets)
#
# Creates the secret files docker-compose.yml reads, each only when missing,
# so re-running never rotates a secret under a running deployment. The
# directory is private to you (0700); the files are 0644 because compose
# bind-mounts them as they are and the broker runs as uid 65532, and the
# directory's mode is what keeps other local users out.
set -euo pipefail
dir=${1:-secrets}
mkdir -p "$dir"
chmod 0700 "$dir"
make_secret() { # name bytes
	local f="$dir/$1"
	if [[ -s "$f" ]]; then
		echo "kept    $f"
		return
	fi
	(umask 022 && head -c "$2" /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_' >"$f")
	echo "created $f"
}
make_secret db_password 24
make_secret admin_token 32
# The key-encryption key must decode to exactly 32 bytes: standard base64.
if [[ ! -s "$dir/key_encryption_key" ]]; then
	(umask 022 && head -c 32 /dev/urandom | base64 | tr -d '\n' >"$dir/key_encryption_key")
	echo "created $dir/key_encryption_key"
else
	echo "kept    $dir/key_encryption_key"
fi
echo "admin API token: $dir/admin_token (Authorization: Bearer \$(cat $dir/admin_token))"
