//===- tests/fuzz/fuzz_compile.cpp - Arbitrary bytes through the whole compiler ===//
//
// A libFuzzer target: the input is a script's source, byte for byte. It
// goes through the public API (compiler/Compiler.h) -- lexing, parsing,
// checking, code generation, optimization and the JIT -- and whatever
// compiles runs for a few blocks in guarded memory (FuzzHarness.h) and
// through runtime/Instance. The input must never crash the compiler, make
// it accept a program it then cannot build (an internal error), or produce
// a kernel that touches memory outside its instance, returns a non-finite
// sample or miscounts its frames.
//
// Kernels are compiled at -O0 (fast, so the fuzzer runs more inputs), or
// at -O2 when the input's first byte is odd, so the optimizer is fuzzed
// too. The script is named as if it lived in a directory that does not
// exist, so relative imports fail at once.
//
// Built twice: as a libFuzzer binary (DSPJIT_FUZZ) and, in every build,
// into dspjit_fuzz_replay, which replays the regression files and the seed
// corpus as an ordinary test.
//
//===----------------------------------------------------------------------===//
#include "FuzzHarness.h"

#include "compiler/Compiler.h"
#include "compiler/Diagnostics.h"

#include <cstdint>
#include <string>

using namespace dspjit;
using namespace dspjit::fuzz;

namespace {
float edgeParam(unsigned Index) {
  static const float Values[] = {0.5f,  -1e30f, 1e30f, 0.0f,
                                 -0.0f, 1e-30f, 3.0f};
  return Values[Index % (sizeof Values / sizeof Values[0])];
}
} // namespace

extern "C" int dspjitFuzzCompile(const uint8_t *Data, size_t Size) {
  std::string Source(reinterpret_cast<const char *>(Data), Size);
  CompileOptions Options;
  Options.optLevel = Size && (Data[0] & 1) ? 2 : 0;
  Compiler C(Options);
  auto K = C.compileSource("/nonexistent-dspjit-fuzz/input.dsp", Source);
  for (const Diagnostic &D : C.diagnostics().all())
    if (D.Id == DiagId::InternalError)
      fail("internal error: " + D.Message);
  if (!K) {
    if (!C.diagnostics().hasErrors())
      fail("no kernel and no error");
    return 0;
  }
  if (C.diagnostics().hasErrors())
    fail("a kernel despite errors");
  runGuarded(K->info(), testInput(K->info().inputs), edgeParam);
  runThroughInstance(K->info());
  return 0;
}

#ifdef DSPJIT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  return dspjitFuzzCompile(Data, Size);
}
#endif
