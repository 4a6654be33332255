#!/usr/bin/env bash
# End-to-end test of chatsdk-bench against the in-memory protocol server in
# mock_server.py: the check passes, a wrong secret makes it fail, and tiny
# pairs/room/storm runs account every message (status=OK: nothing lost,
# duplicated, gapped or unacked). ~15 s. Usage: run_against_mock.sh <chatsdk-bench>
set -euo pipefail
BENCH=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=$((20000 + RANDOM % 10000))
SECRET=mock-secret-0123456789
/usr/bin/python3 "$HERE/mock_server.py" --port "$PORT" --secret "$SECRET" &
MOCK=$!
trap 'kill "$MOCK" 2>/dev/null || true; wait "$MOCK" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
URL="ws://127.0.0.1:$PORT/ws"
fail() { echo "FAILED: $*" >&2; exit 1; }

out=$("$BENCH" --scenario check --url "$URL" --secret "$SECRET" --max-time 30) || fail "check: $out"
grep -q '^RESULT check status=OK passed=14 failed=0' <<<"$out" || fail "check: $out"

if out=$("$BENCH" --scenario check --url "$URL" --secret wrong-secret-0123456789 --max-time 30); then
  fail "check with a wrong secret passed: $out"
fi
grep -q 'status=FAIL' <<<"$out" || fail "wrong secret: $out"

common=(--url "$URL" --secret "$SECRET" --server-pid "$MOCK" --warmup 1 --duration 2 --drain 2 --max-time 30)
out=$("$BENCH" --scenario pairs --conns 40 --rate 2 "${common[@]}") || fail "pairs: $out"
grep -q 'status=OK .*delivered_msgs_s=80 ' <<<"$out" || fail "pairs: $out"
grep -q ' lost=0 duplicated=0 seq_gaps=0 seq_reused=0 unacked=0 ' <<<"$out" || fail "pairs: $out"

out=$("$BENCH" --scenario room --members 30 --senders 3 --total-rate 10 --procs 2 "${common[@]}") || fail "room: $out"
grep -q 'status=OK .*delivered_msgs_s=290 ' <<<"$out" || fail "room: $out"
grep -q 'fanout_incomplete=0 ' <<<"$out" || fail "room: $out"

out=$("$BENCH" --scenario storm --conns 40 --writers 2 --writer-rate 40 --steady 1 --outage-ms 500 --post 1 \
  "${common[@]}") || fail "storm: $out"
grep -q 'status=OK .*dropped=40 ' <<<"$out" || fail "storm: $out"
grep -q 'caught_up=40 ' <<<"$out" || fail "storm: $out"
grep -q ' missed=0 seq_gaps=0 ' <<<"$out" || fail "storm: $out"
echo "chatsdk-bench against the mock server: OK"
