#!/usr/bin/env bash
# Instruction counts (repeatable where times are not) of an instrument's N
# voices in the lanes of one kernel and of N one-voice kernels one after
# another (tests/bench/voices_bench.cpp), under valgrind's callgrind,
# counting the processing only (the kernels, libm and libmvec, the voice
# allocator, the host's mix).
#   tests/bench/voices_callgrind.sh [BUILD_DIR] [FRAMES] [VOICES...]
set -euo pipefail
build=${1:-build}
frames=${2:-24000}
shift $(($# < 2 ? $# : 2))
counts=("$@")
((${#counts[@]})) || counts=(1 4 8 16 32 64)
bench="$build/tests/bench/dspjit_voices_bench"
# valgrind 3.19 cannot run AVX-512: the kernels are compiled for AVX2.
export DSPJIT_CPU=x86-64-v3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/cg" \
    "$bench" --callgrind --voices "$1" --side "$2" --frames "$frames" >/dev/null 2>&1
  callgrind_annotate "$out/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
echo "| voices | lanes instr/frame | one by one instr/frame | one by one / lanes | lanes instr/voice | one by one instr/voice |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in "${counts[@]}"; do
  l=$(count "$n" lanes); o=$(count "$n" one)
  awk -v n="$n" -v l="$l" -v o="$o" -v f="$frames" \
    'BEGIN { printf "| %d | %.1f | %.1f | **%.2f** | %.1f | %.1f |\n", n, l / f, o / f, o / l, l / f / n, o / f / n }'
done
