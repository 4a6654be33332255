#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a fixed time each.
#
#   scripts/run-fuzz.sh BUILD_DIR SECONDS      (what `make fuzz` runs)
#
# Target tests/fuzz/fuzz_NAME.cpp (binary BUILD_DIR/tests/fuzz/fuzz_NAME) starts
# from the seed corpus tests/fuzz/corpus/NAME/ and, when present, the
# dictionary tests/fuzz/NAME.dict. The seeds are copied into a scratch corpus
# under BUILD_DIR/fuzz-work/NAME/ (kept between runs, so later runs start from
# what earlier ones found); the repository corpus is never written. Crash
# reproducers land in BUILD_DIR/fuzz-work/NAME/ as crash-*, leak-*, timeout-*.
# Exit status: 0 when every target ran for SECONDS without a finding.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
seconds=$2
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -lt 1 ]]; then
  echo "SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzz_src=$root/tests/fuzz
bin_dir=$build_dir/tests/fuzz

shopt -s nullglob
targets=()
for src in "$fuzz_src"/fuzz_*.cpp; do
  targets+=("$(basename "$src" .cpp)")
done
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "no fuzz targets found in $fuzz_src" >&2
  exit 1
fi

failed=()
for target in "${targets[@]}"; do
  bin=$bin_dir/$target
  if [[ ! -x $bin ]]; then
    echo "missing $bin: build with 'cmake --preset fuzz && cmake --build --preset fuzz'" >&2
    failed+=("$target (not built)")
    continue
  fi
  name=${target#fuzz_}
  work=$build_dir/fuzz-work/$name
  corpus=$work/corpus
  mkdir -p "$corpus"
  seeds=$fuzz_src/corpus/$name
  if [[ -d $seeds ]]; then
    cp -- "$seeds"/* "$corpus"/ 2>/dev/null || true
  fi
  args=(-max_len=70000 -max_total_time="$seconds" -timeout=30 -print_final_stats=1
        -artifact_prefix="$work/")
  if [[ -f $fuzz_src/$name.dict ]]; then
    args+=(-dict="$fuzz_src/$name.dict")
  fi
  log=$work/fuzz.log
  echo "== $target: ${seconds}s, corpus $corpus ($(ls "$corpus" | wc -l) inputs)"
  # Sanitizer reports must stop the run; libFuzzer already treats them as crashes.
  if UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
     "$bin" "${args[@]}" "$corpus" >"$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$log" | sed 's/^/   /' || true
    echo "   ok ($(ls "$corpus" | wc -l) inputs in corpus now)"
  else
    echo "   FAILED: last lines of $log:" >&2
    tail -n 40 "$log" >&2
    failed+=("$target")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing found problems in: ${failed[*]}" >&2
  echo "reproduce with: BUILD_DIR/tests/fuzz/fuzz_NAME BUILD_DIR/fuzz-work/NAME/crash-..." >&2
  exit 1
fi
echo "all ${#targets[@]} fuzz targets ran ${seconds}s without findings"
