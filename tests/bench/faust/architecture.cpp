//===- tests/bench/faust/architecture.cpp - Faust architecture of the suite -===//
//
// The Faust architecture file that `faust -a` wraps around each program of
// tests/bench/faust for tests/bench/faust_suite.cpp: the class Faust
// generates (NAME_dsp, from `-cn NAME_dsp`) on faust-common's `dsp` base
// class, and one factory function, make_NAME_dsp(), that the suite calls.
// No audio driver and no user interface: the suite feeds compute() itself,
// and every parameter keeps its default.
//
//===----------------------------------------------------------------------===//
#include <faust/dsp/dsp.h>
#include <faust/gui/UI.h>
#include <faust/gui/meta.h>

<<includeIntrinsic>>

<<includeclass>>

#define DSPJIT_FAUST_CAT_(A, B) A##B
#define DSPJIT_FAUST_CAT(A, B) DSPJIT_FAUST_CAT_(A, B)

/// A new instance of this file's program, not yet initialized.
dsp *DSPJIT_FAUST_CAT(make_, FAUSTCLASS)() { return new FAUSTCLASS(); }
