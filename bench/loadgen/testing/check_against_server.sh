#!/usr/bin/env bash
# The workload's 14-step functional check (shared/bench/WORKLOAD.md), run by
# chatsdk-bench against the real chatsdk-server on a fresh database.
#   check_against_server.sh <chatsdk-bench> <chatsdk-server>
set -euo pipefail
bench=$1 server=$2
dir=$(mktemp -d)
secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$server" --listen "127.0.0.1:$port" --data "$dir" --secret "$secret" \
  --sends-per-second 100000 --send-burst 100000 --frames-per-second 100000 --frame-burst 100000 \
  > "$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done
out=$("$bench" --scenario check --url "ws://127.0.0.1:$port/ws" --secret "$secret" --server-pid "$pid" --max-time 60)
echo "$out" | tail -3
echo "$out" | grep -q '^RESULT check status=OK passed=14 failed=0'
