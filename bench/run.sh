#!/usr/bin/env bash
# `make bench`: chatsdk-server vs the Socket.IO peer, side by side (WORKLOAD.md).
#
#   bench/run.sh                      # release build, 3 runs of check,idle,pairs,room,storm for both, table
#   bench/run.sh --runs 1 --only pairs,room --duration 10
#   bench/run.sh --skip-peer          # our server only
#   bench/run.sh --large              # our server only, the scale scenarios (idle 19k, room 10k, storm 10k, ingest sweep)
#   CHATSDK_SERVER=/path/chatsdk-server bench/run.sh   # measure another server build
#
# For every scenario a fresh server on a fresh database is started, the load
# generator runs, the server is stopped by PID -- through the peer's own
# runner (../shared/bench/socketio/run.sh --server-cmd/--load-cmd/--url-template),
# so both servers see exactly the same parameters and windows. Everything binds
# 127.0.0.1. Output: out/bench/<stamp>/{ours-N,peer-N}/results.jsonl, floor.txt, table.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEER_SRC=${PEER_SRC:-$ROOT/../shared/bench/socketio}
[ -d "$PEER_SRC" ] || PEER_SRC=/work/shared/bench/socketio

RUNS=3; ONLY="check,idle,pairs,room,storm"; SKIP_PEER=0; SKIP_OURS=0; LARGE=0; SKIP_BUILD=0; SKIP_FLOOR=0
OUR_PORT=3100; PEER_PORT=3000; SECRET="chatsdk-bench-$(date +%s)"
# The peer has no rate limits; ours are lifted for the benchmark (the storm's
# writers send 125 msgs/s each; the default is 20/s per user, 100 frames/s).
SERVER_ARGS="--sends-per-second 1000000 --send-burst 1000000 --frames-per-second 1000000 --frame-burst 1000000"
OUT=""; SUITE_TIMEOUT=900
PASS=()   # scenario parameters, forwarded unchanged to both suites

usage() { sed -n '2,14p' "$0"; echo "scenario flags (passed to both suites): --idle-conns --idle-room-size --idle-hold --pairs-conns --pairs-rate --room-members --room-senders --room-rate --room-procs --storm-conns --storm-writers --storm-rate --storm-steady --storm-outage-ms --storm-post --storm-concurrency --warmup --duration --drain --body-bytes --connect-concurrency"; echo "own flags: --runs N --only LIST --skip-peer --skip-ours --skip-build --skip-floor --large --out DIR --server-args 'FLAGS' --our-port P --peer-port P"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2;;
    --only) ONLY=$2; shift 2;;
    --skip-peer) SKIP_PEER=1; shift;;
    --skip-ours) SKIP_OURS=1; shift;;
    --skip-build) SKIP_BUILD=1; shift;;
    --skip-floor) SKIP_FLOOR=1; shift;;
    --large) LARGE=1; shift;;
    --out) OUT=$2; shift 2;;
    --server-args) SERVER_ARGS=$2; shift 2;;
    --our-port) OUR_PORT=$2; shift 2;;
    --peer-port) PEER_PORT=$2; shift 2;;
    --idle-conns|--idle-room-size|--idle-hold|--pairs-conns|--pairs-rate|--room-members|--room-senders|--room-rate|--room-procs|\
    --storm-conns|--storm-writers|--storm-rate|--storm-steady|--storm-outage-ms|--storm-post|--storm-concurrency|\
    --warmup|--duration|--drain|--body-bytes|--connect-concurrency)
      PASS+=("$1" "$2"); shift 2;;
    -h|--help) usage; exit 0;;
    *) echo "unknown flag $1" >&2; usage >&2; exit 2;;
  esac
done

OUT=$(realpath -m "${OUT:-$ROOT/out/bench/$(date +%Y%m%d-%H%M%S)}")  # absolute: the peer runner works in its own directory
mkdir -p "$OUT"
BUILD=$ROOT/out/build/release
BENCH=$BUILD/bench/loadgen/chatsdk-bench
FLOOR=$BUILD/bench/floor/chatsdk-floor
SERVER=${CHATSDK_SERVER:-$BUILD/src/server/chatsdk-server}   # CHATSDK_SERVER=path: another build

# ---------------------------------------------------------------- build
if [ "$SKIP_BUILD" = 0 ]; then
  echo "== build (release preset)"
  cmake --preset release >/dev/null
  targets=(chatsdk-bench chatsdk-floor)
  if cmake --build --preset release --target help 2>/dev/null | grep -q '^chatsdk-server:'; then targets+=(chatsdk-server); fi
  cmake --build --preset release -j "$(nproc)" --target "${targets[@]}"
fi
if [ ! -x "$SERVER" ] && [ "$SKIP_OURS" = 0 ]; then
  echo "!! $SERVER is not built (the server has not landed on this branch): our suite is skipped" | tee "$OUT/NOTE.txt"
  SKIP_OURS=1
fi

# ---------------------------------------------------------------- peer copy
# The shared peer directory is read-only; run it from a writable copy.
PEER=$ROOT/out/bench/socketio
prepare_peer() {
  mkdir -p "$PEER"
  for f in load.js server.js run.sh summarize.js package.json package-lock.json .gitignore; do
    cmp -s "$PEER_SRC/$f" "$PEER/$f" 2>/dev/null || { cp "$PEER_SRC/$f" "$PEER/$f"; chmod u+w "$PEER/$f"; }
  done
  if [ ! -d "$PEER/node_modules" ] || [ "$PEER/package-lock.json" -nt "$PEER/node_modules/.package-lock.json" ]; then
    echo "== npm ci (Socket.IO peer; better-sqlite3 compiles against the local node headers)"
    (cd "$PEER" && npm_config_nodedir=/usr npm ci --no-audit --no-fund)
  fi
}
prepare_peer   # our suite uses the peer's runner too

# ---------------------------------------------------------------- everything we start
# Each suite runs in the foreground under `timeout`, which signals its whole
# process group (runner, server, generator) on expiry or Ctrl-C; the peer's
# runner then stops its server by PID. Nothing outlives this script.
run_bounded() { # $1 = log file, rest = command
  local log=$1; shift
  timeout --kill-after=20 "$SUITE_TIMEOUT" "$@" 2>&1 | tee "$log" || true
}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "kernel: $(uname -r)  cpus: $(nproc)  mem: $(free -g | awk '/Mem:/{print $2}') GiB  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "g++: $(g++ -dumpfullversion)  node: $(node --version)  sqlite (ours): $(pkg-config --modversion sqlite3 2>/dev/null || echo ?)"
  echo "chatsdk commit: $(git -C "$ROOT" rev-parse --short HEAD)  secret: (per run)  server args: ${SERVER_ARGS:-none}"
  echo "parameters: ${PASS[*]:-defaults}"
} | tee "$OUT/env.txt"

# ---------------------------------------------------------------- floor
if [ -x "$FLOOR" ] && [ "$SKIP_FLOOR" = 0 ]; then
  echo "== floor: bare loopback writes"
  : > "$OUT/floor.txt"
  for c in 1000 2000; do "$FLOOR" --conns "$c" --frames 200000 --batch 8 | tee -a "$OUT/floor.txt"; done
fi

our_suite() { # $1 = run dir, rest = extra run.sh flags
  local dir=$1; shift
  run_bounded "$dir.log" "$PEER/run.sh" --skip-install --out "$dir" --label "chatsdk-$(basename "$dir")" --port "$OUR_PORT" \
    --server-cmd "$ROOT/bench/ours_server.sh $SERVER {port} {db} $SECRET $SERVER_ARGS" \
    --load-cmd "$BENCH --secret $SECRET" --url-template 'ws://127.0.0.1:{port}/ws' "$@"
}

if [ "$LARGE" = 1 ]; then
  [ "$SKIP_OURS" = 1 ] && { echo "nothing to run: our server is not built"; exit 1; }
  echo "== large scenarios (chatsdk only)"
  our_suite "$OUT/large-idle"  --only idle  --idle-conns 19000 --connect-concurrency 500 "${PASS[@]}"
  our_suite "$OUT/large-room"  --only room  --room-members 10000 --room-rate 50 --room-procs 2 "${PASS[@]}"
  # the same room saturated: 100 msgs/s = 1M deliveries/s offered; events queued for one
  # connection within a loop turn go out in one write
  our_suite "$OUT/large-room-saturated" --only room --room-members 10000 --room-rate 100 --room-procs 2 "${PASS[@]}"
  our_suite "$OUT/large-storm" --only storm --storm-conns 10000 "${PASS[@]}"
  # durable ingest: raise the rate until the ack p99 passes 20 ms (or messages go missing)
  for rate in 2 4 6 8 10 12 13 14 16 20 25; do
    our_suite "$OUT/ingest-$rate" --only pairs --pairs-rate "$rate" --warmup 3 --duration 10 "${PASS[@]}"
    p99=$(grep -o 'ack_p99_ms=[0-9.]*' "$OUT/ingest-$rate/summary.txt" | cut -d= -f2 || true)
    lost=$(grep -o ' lost=[0-9]*' "$OUT/ingest-$rate/summary.txt" | cut -d= -f2 || true)
    offered=$(grep -o 'offered_msgs_s=[0-9.]*' "$OUT/ingest-$rate/summary.txt" | cut -d= -f2 || true)
    echo "ingest ${offered:-?} msgs/s: ack p99 ${p99:-?} ms, lost ${lost:-?}" | tee -a "$OUT/ingest.txt"
    if [ -z "$p99" ] || [ "${lost:-1}" != 0 ] || awk "BEGIN{exit !($p99 > 20)}"; then break; fi
  done
  # one table per run: the ingest steps differ in rate and must not be pooled into a median
  : > "$OUT/table.md"
  for d in "$OUT"/large-* "$OUT"/ingest-*; do
    [ -f "$d/results.jsonl" ] || continue
    { echo; echo "## $(basename "$d")"; python3 "$ROOT/bench/compare.py" --ours "$d/results.jsonl" --floor "$OUT/floor.txt"; } | tee -a "$OUT/table.md"
  done
  exit 0
fi

for i in $(seq 1 "$RUNS"); do
  if [ "$SKIP_OURS" = 0 ]; then
    echo "== chatsdk suite, run $i/$RUNS"
    our_suite "$OUT/ours-$i" --only "$ONLY" "${PASS[@]}"
  fi
  if [ "$SKIP_PEER" = 0 ]; then
    echo "== Socket.IO peer suite, run $i/$RUNS"
    run_bounded "$OUT/peer-$i.log" "$PEER/run.sh" --skip-install --out "$OUT/peer-$i" --label "peer-$i" \
      --port "$PEER_PORT" --only "$ONLY" "${PASS[@]}"
  fi
done

echo "== side by side (median of $RUNS run(s)) -> $OUT/table.md"
python3 "$ROOT/bench/compare.py" --ours "$OUT"/ours-*/results.jsonl --peer "$OUT"/peer-*/results.jsonl \
  --floor "$OUT/floor.txt" | tee "$OUT/table.md"
