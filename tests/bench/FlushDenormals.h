//===- tests/bench/FlushDenormals.h - FTZ and DAZ for a scope -------------===//
//
// Flush-to-zero and denormals-are-zero while it lives. dspjit's kernels set
// both for each callback themselves; a Faust host sets them for its audio
// thread (Faust's architectures' AVOIDDENORMALS), so the Faust sides (AOT
// in dspjit_vs_faust, libfaust in dspjit_libfaust_runner) run with them too.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_BENCH_FLUSHDENORMALS_H
#define DSPJIT_TESTS_BENCH_FLUSHDENORMALS_H

#include <xmmintrin.h>

class FlushDenormals {
public:
  FlushDenormals() : Saved(_mm_getcsr()) { _mm_setcsr(Saved | 0x8040); }
  ~FlushDenormals() { _mm_setcsr(Saved); }
  FlushDenormals(const FlushDenormals &) = delete;
  FlushDenormals &operator=(const FlushDenormals &) = delete;

private:
  unsigned Saved;
};

#endif
