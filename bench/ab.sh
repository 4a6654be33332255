#!/usr/bin/env bash
# Interleaved A/B of two chatsdk-server builds on one scenario: A, B, A, B, ...
# back to back, each on a fresh server and data directory, then the medians.
# This machine's speed drifts by 10-20% within minutes, so two builds are only
# comparable when their runs alternate in the same minutes (docs/benchmarks.md).
#
#   bench/ab.sh OLD_SERVER NEW_SERVER [--runs 3] [--metrics a,b] [--server-args 'FLAGS'] -- GENERATOR FLAGS
#   bench/ab.sh /tmp/old/chatsdk-server out/build/release/src/server/chatsdk-server -- --scenario pairs --rate 6
#
# GENERATOR FLAGS go to chatsdk-bench unchanged (--scenario, --rate, --duration, ...).
# Output: one line per run, then "median A / median B (B/A)" per metric.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/out/build/release/bench/loadgen/chatsdk-bench}
RUNS=3
METRICS="server_cpu_us_per_msg,ack_p50_ms,ack_p99_ms,fanout_all_p99_ms"
SERVER_ARGS=""
PORT=${PORT:-3197}
usage() { sed -n '2,11p' "$0"; }

[ $# -ge 2 ] || { usage >&2; exit 2; }
A=$(realpath "$1") B=$(realpath "$2"); shift 2
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2;;
    --metrics) METRICS=$2; shift 2;;
    --server-args) SERVER_ARGS=$2; shift 2;;
    --) shift; break;;
    -h|--help) usage; exit 0;;
    *) echo "unknown flag $1 (generator flags go after --)" >&2; exit 2;;
  esac
done
[ -x "$A" ] && [ -x "$B" ] && [ -x "$BENCH" ] || { echo "missing binary (A, B or $BENCH)" >&2; exit 2; }
if ss -ltn | grep -q ":$PORT "; then echo "port $PORT is busy (set PORT=...)" >&2; exit 1; fi

SECRET="chatsdk-ab-$(date +%s)-0123456789"
WORK=$(mktemp -d /tmp/chatsdk-ab.XXXXXX)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# The benchmark's rate limits are lifted, as in run.sh; durability normal, as in run.sh.
one_run() { # $1 = server binary, rest = generator flags; prints the generator's RESULT line
  local bin=$1 data="$WORK/data"
  shift
  rm -rf "$data"; mkdir -p "$data"
  # shellcheck disable=SC2086 # SERVER_ARGS is a flag list
  "$bin" --listen "127.0.0.1:$PORT" --data "$data" --secret "$SECRET" --durability normal --log-level warn \
    --sends-per-second 1000000 --send-burst 1000000 --frames-per-second 1000000 --frame-burst 1000000 \
    $SERVER_ARGS >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do ss -ltn | grep -q ":$PORT " && break; sleep 0.1; done
  "$BENCH" --url "ws://127.0.0.1:$PORT/ws" --secret "$SECRET" --server-pid "$SERVER_PID" "$@" 2>&1 | grep '^RESULT' || true
  kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

: >"$WORK/a.txt"; : >"$WORK/b.txt"
for i in $(seq "$RUNS"); do
  for side in a b; do
    bin=$A; [ $side = b ] && bin=$B
    line=$(one_run "$bin" "$@")
    echo "$line" >>"$WORK/$side.txt"
    picked=$(for m in ${METRICS//,/ }; do echo "$line" | grep -o " $m=[^ ]*" || true; done | tr -d '\n')
    echo "run $i ${side^^}:$picked"
  done
done

median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
echo "median of $RUNS   A=$A   B=$B"
for m in ${METRICS//,/ }; do
  a=$(grep -o " $m=[0-9.]*" "$WORK/a.txt" | cut -d= -f2 | median)
  b=$(grep -o " $m=[0-9.]*" "$WORK/b.txt" | cut -d= -f2 | median)
  [ "$a" = "-" ] && [ "$b" = "-" ] && continue
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + 0 > 0 && b != "-") printf "%.3f", b / a; else print "-" }')
  echo "$m: A $a / B $b (B/A $ratio)"
done
