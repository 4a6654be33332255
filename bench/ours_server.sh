#!/usr/bin/env bash
# Starts chatsdk-server for the Socket.IO peer's run.sh (--server-cmd), which
# substitutes {port} and {db}: a fresh data directory per scenario, the known
# bench secret, durability normal (WAL, synchronous=NORMAL: survives a process
# crash, not a power loss -- the same level as the peer).
#   ours_server.sh <server binary> <port> <db path> <secret> [extra server flags...]
# The server replaces this shell (exec), so the PID run.sh holds is the server's.
set -euo pipefail
bin=$1 port=$2 db=$3 secret=$4
shift 4
data="$db.d"
rm -rf -- "$data"
mkdir -p -- "$data"
exec "$bin" --listen "127.0.0.1:$port" --data "$data" --secret "$secret" --durability normal "$@"
