#!/usr/bin/env bash
# Runs the release chatsdk-server for local development (used by `make run`).
#   scripts/run-server.sh [HOST] [PORT]
# Keeps its state in ./var: the SQLite database, a random development JWT
# secret (var/dev-secret) and an admin API token (var/admin-token), both
# created once with mode 0600 and reused on later runs.
set -euo pipefail

HOST="${1:-127.0.0.1}"
PORT="${2:-8080}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="out/build/release/src/server/chatsdk-server"
cd "$ROOT"

if [ ! -x "$BIN" ]; then
  echo "run-server: $BIN is missing; build it with 'make release' (or just 'make run')." >&2
  exit 1
fi

mkdir -p var
umask 077
if [ ! -s var/dev-secret ]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > var/dev-secret
  echo "run-server: created a development JWT secret in var/dev-secret"
fi
if [ ! -s var/admin-token ]; then
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > var/admin-token
  echo "run-server: created an admin API token in var/admin-token"
fi
chmod 600 var/dev-secret var/admin-token

cat <<INFO

  chatsdk-server on ws://$HOST:$PORT/ws   (data: ./var, Ctrl-C drains and stops)

  Mint a user token (valid 1 hour):
    $BIN token --user alice --secret-file var/dev-secret
  (or: $BIN token --user alice --secret "\$(cat var/dev-secret)" --ttl 30m)

  Clients: the examples/ clients connect to ws://$HOST:$PORT/ws with such a token,
  e.g. one terminal per user, each with its own token.

  Health and metrics:
    curl http://$HOST:$PORT/healthz
    curl http://$HOST:$PORT/metrics
  Admin API:
    curl -H "Authorization: Bearer \$(cat var/admin-token)" http://$HOST:$PORT/admin/channels

INFO

exec "$BIN" --listen "$HOST:$PORT" --data var \
  --secret-file var/dev-secret --admin-token-file var/admin-token
