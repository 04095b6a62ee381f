//===- tests/fuzz/fuzz_programs.cpp - Random valid scripts, -O0 against -O3 ===//
//
// A libFuzzer target: the input bytes choose a script (ProgramGenerator.h)
// that should compile. It is compiled at -O0 and at -O3 and both kernels
// run on the same input, in guarded memory, with the same parameter values
// (FuzzHarness.h). Failures:
//   - a crash, a hang (libFuzzer's -timeout), or an access outside the
//     instance or the buffers (a guard-page fault);
//   - one optimization level compiling the script and the other refusing
//     it, or an internal error;
//   - a non-finite output sample, or miscounted frames or callbacks;
//   - the two kernels disagreeing: any output sample differing by more than
//     Tolerance times the larger of 1 and the largest magnitude of the -O0
//     output. The compiler never reassociates floating point and the golden
//     tests measure the two levels bit-identical; the tolerance only allows
//     for libm calls that -O3 folds at compile time, carried through a few
//     frames of feedback.
// Scripts the generator gets wrong (both levels refuse them) are not
// failures; DSPJIT_FUZZ_VERBOSE=1 prints them with their diagnostics, to
// improve the generator (=2 prints every script).
//
//===----------------------------------------------------------------------===//
#include "FuzzHarness.h"
#include "ProgramGenerator.h"

#include "compiler/Compiler.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

using namespace dspjit;
using namespace dspjit::fuzz;

namespace {
constexpr double Tolerance = 1e-3;

float paramValue(unsigned Index) {
  // In range for most of the generator's parameters, out of range (a host
  // racing a clamp) for some.
  static const float Values[] = {0.5f, 0.25f, 440.0f, -3.0f, 1e5f, 0.0f};
  return Values[Index % (sizeof Values / sizeof Values[0])];
}

std::string diagnosticsText(const Compiler &C) {
  std::ostringstream OS;
  C.diagnostics().print(OS);
  return OS.str();
}

/// DSPJIT_FUZZ_VERBOSE: 1 prints the scripts both levels refuse, 2 every
/// script before it is compiled.
int verbosity() {
  static const int V = [] {
    const char *E = std::getenv("DSPJIT_FUZZ_VERBOSE");
    return E ? std::atoi(E) : 0;
  }();
  return V;
}
} // namespace

/// Compiles `Source` at -O0 and -O3 and checks that both run and agree.
/// The bytes are a script (for regressions kept as source text).
extern "C" int dspjitFuzzLevelsAgree(const uint8_t *Data, size_t Size) {
  const std::string Source(reinterpret_cast<const char *>(Data), Size);
  if (verbosity() >= 2)
    std::fprintf(stderr, "--- script:\n%s", Source.c_str());
  CompileOptions O0, O3;
  O0.optLevel = 0;
  O3.optLevel = 3;
  Compiler C0(O0), C3(O3);
  auto K0 = C0.compileSource("generated.dsp", Source);
  auto K3 = C3.compileSource("generated.dsp", Source);
  if (!K0 && !K3) {
    if (verbosity() >= 1)
      std::fprintf(stderr, "--- script refused:\n%s--- %s\n", Source.c_str(),
                   diagnosticsText(C0).c_str());
    return 0;
  }
  if (!K0 || !K3)
    fail("only -O" + std::string(K0 ? "0" : "3") + " compiled:\n" + Source +
         "\n" + diagnosticsText(K0 ? C3 : C0));

  const std::vector<float> Input = testInput(K0->info().inputs);
  RunResult R0 = runGuarded(K0->info(), Input, paramValue);
  RunResult R3 = runGuarded(K3->info(), Input, paramValue);
  if (R0.Out.size() != R3.Out.size())
    fail("output sizes differ");
  double Peak = 1;
  for (float V : R0.Out)
    Peak = std::max(Peak, double(std::fabs(V)));
  for (size_t I = 0; I < R0.Out.size(); ++I) {
    double Diff = std::fabs(double(R0.Out[I]) - double(R3.Out[I]));
    if (Diff > Tolerance * Peak) {
      unsigned Outputs = K0->info().outputs;
      fail("-O0 and -O3 disagree at frame " + std::to_string(I / Outputs) +
           ", channel " + std::to_string(I % Outputs) + ": " +
           std::to_string(R0.Out[I]) + " against " + std::to_string(R3.Out[I]) +
           " (peak " + std::to_string(Peak) + ")\n" + Source);
    }
  }
  runThroughInstance(K3->info());
  return 0;
}

extern "C" int dspjitFuzzPrograms(const uint8_t *Data, size_t Size) {
  const std::string Source = generateProgram(Data, Size);
  return dspjitFuzzLevelsAgree(reinterpret_cast<const uint8_t *>(Source.data()),
                               Source.size());
}

#ifdef DSPJIT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  return dspjitFuzzPrograms(Data, Size);
}
#endif
