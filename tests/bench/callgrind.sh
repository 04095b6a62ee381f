#!/usr/bin/env bash
# Instruction counts (repeatable where times are not) of every example, JIT
# and native, under valgrind's callgrind, counting the processing only.
#   tests/bench/callgrind.sh [BUILD_DIR] [FRAMES]
set -euo pipefail
build=${1:-build}
frames=${2:-48000}
# valgrind 3.19 cannot run AVX-512: both sides are built for AVX2 here.
bench="$build/tests/bench/dspjit_bench_suite_avx2"
export DSPJIT_CPU=x86-64-v3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/cg" \
    "$bench" --only "$1" --side "$2" --frames "$frames" >/dev/null 2>&1
  callgrind_annotate "$out/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
printf "%-14s %14s %14s %8s   (instructions per frame, %s frames)\n" example JIT native ratio "$frames"
for name in $("$bench" --rounds 1 | awk 'NR > 1 { print $1 }'); do
  j=$(count "$name" jit); n=$(count "$name" native)
  awk -v name="$name" -v j="$j" -v n="$n" -v f="$frames" \
    'BEGIN { printf "%-14s %14.1f %14.1f %8.2f\n", name, j / f, n / f, j / n }'
done
