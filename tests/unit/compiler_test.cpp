//===- tests/unit/compiler_test.cpp - Compiled kernels, end to end --------===//
//
// Scripts compiled by Compiler::compileSource and run by calling the
// kernel's own `init` and `process` on a zeroed, aligned instance, exactly
// as a host does (runtime/dspjit_abi.h), checking the execution model of
// dsl/LANGUAGE.md section 11: exact outputs, state that persists, `block`
// once per callback, delay lines, loops and returns, non-finite and
// denormal handling, the caller's MXCSR, parameter clamping and smoothing,
// precision and optimization levels, the `emit` dumps, and containment:
// scripts reach no function but the math whitelist.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "compiler/ConstantFolder.h"
#include "compiler/Jit.h"
#include "compiler/Optimizer.h"
#include "runtime/dspjit_abi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define DSPJIT_TEST_X86 1
#endif

using namespace dspjit;
namespace fs = std::filesystem;

namespace {

constexpr double Rate = 48000;
const float NaN = std::numeric_limits<float>::quiet_NaN();
const float Inf = std::numeric_limits<float>::infinity();

std::string diagText(const Compiler &C) {
  std::string S;
  for (const Diagnostic &D : C.diagnostics().all())
    S += C.diagnostics().shortForm(D) + "\n";
  return S;
}

std::unique_ptr<Kernel> compile(const std::string &Src, CompileOptions O = {}) {
  Compiler C(O);
  auto K = C.compileSource("test.dsp", Src);
  EXPECT_TRUE(K) << diagText(C);
  return K;
}

/// A kernel and one instance of it, used as a host would use them.
class Instance {
public:
  explicit Instance(std::unique_ptr<Kernel> Kern, double SampleRate = Rate)
      : K(std::move(Kern)) {
    if (!K)
      return;
    const DspjitKernel &I = K->info();
    Size = I.instance_size;
    Mem = static_cast<unsigned char *>(
        std::aligned_alloc(I.instance_align, Size));
    std::memset(Mem, 0, Size);
    EXPECT_EQ(I.init(Mem, SampleRate), 0);
  }
  ~Instance() { std::free(Mem); }
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;

  explicit operator bool() const { return Mem != nullptr; }
  const DspjitKernel &info() const { return K->info(); }
  Kernel &kernel() { return *K; }

  /// Runs one callback on interleaved input (empty: a null input pointer).
  std::vector<float> run(const std::vector<float> &In, unsigned long Frames) {
    const DspjitKernel &I = info();
    if (!In.empty()) {
      EXPECT_EQ(In.size(), Frames * I.inputs);
    }
    std::vector<float> Out(Frames * I.outputs, -12345.0f);
    int Rc =
        I.process(In.empty() ? nullptr : In.data(),
                  Out.empty() ? nullptr : Out.data(), Frames, nullptr, 0, Mem);
    EXPECT_EQ(Rc, 0); // paContinue
    return Out;
  }
  /// Runs a mono or generator kernel over `In` in blocks of `Block` frames.
  std::vector<float> runBlocks(const std::vector<float> &In,
                               unsigned long Block) {
    std::vector<float> Out;
    for (size_t At = 0; At < In.size(); At += Block) {
      size_t N = std::min<size_t>(Block, In.size() - At);
      auto Part = run(
          std::vector<float>(In.begin() + long(At), In.begin() + long(At + N)),
          N);
      Out.insert(Out.end(), Part.begin(), Part.end());
    }
    return Out;
  }

  const DspjitInstanceHeader &header() const {
    return *reinterpret_cast<const DspjitInstanceHeader *>(Mem);
  }
  const DspjitSlot &slot(const std::string &Name) const {
    const DspjitSlot *S = K->findSlot(Name);
    EXPECT_TRUE(S) << "no slot " << Name;
    static DspjitSlot None{};
    return S ? *S : None;
  }
  void setTarget(const std::string &Param, float V) {
    const DspjitSlot *S = K->findParam(Param);
    ASSERT_TRUE(S) << "no parameter " << Param;
    std::memcpy(Mem + S->offset, &V, sizeof V);
  }
  float paramValue(const std::string &Param) const {
    float V;
    std::memcpy(&V, Mem + slot(Param).value_offset, sizeof V);
    return V;
  }
  /// Lane `Lane` of element 0 of a state or meter, whatever its precision.
  double read(const std::string &Name, unsigned Lane = 0) const {
    const DspjitSlot &S = slot(Name);
    const unsigned char *P = Mem + S.offset + size_t(Lane) * S.elem_size;
    if (S.elem_size == 8) {
      double D;
      std::memcpy(&D, P, 8);
      return D;
    }
    float F;
    std::memcpy(&F, P, 4);
    return F;
  }
  int init(double SampleRate) { return info().init(Mem, SampleRate); }

private:
  std::unique_ptr<Kernel> K;
  unsigned char *Mem = nullptr;
  uint64_t Size = 0;
};

std::vector<float> ramp(size_t N, float From = 1) {
  std::vector<float> V(N);
  for (size_t I = 0; I < N; ++I)
    V[I] = From + float(I);
  return V;
}

std::string readFile(const fs::path &P) {
  std::ifstream In(P);
  std::stringstream SS;
  SS << In.rdbuf();
  return SS.str();
}

std::vector<fs::path> examples() {
  std::vector<fs::path> Files;
  for (const auto &E :
       fs::directory_iterator(fs::path(DSPJIT_SOURCE_DIR) / "examples"))
    if (E.path().extension() == ".dsp")
      Files.push_back(E.path());
  std::sort(Files.begin(), Files.end());
  return Files;
}

/// A source file on disk for the path-based entry points (emitFile).
class TempScript {
public:
  explicit TempScript(const std::string &Text) {
    static int Counter = 0;
    Path =
        fs::temp_directory_path() / ("dspjit_unit_" + std::to_string(getpid()) +
                                     "_" + std::to_string(Counter++) + ".dsp");
    std::ofstream(Path) << Text;
  }
  ~TempScript() {
    std::error_code EC;
    fs::remove(Path, EC);
  }
  std::string path() const { return Path.string(); }

private:
  fs::path Path;
};

//===-- Exact outputs -----------------------------------------------------------===//

TEST(Kernel, GainScriptComputesExactSamples) {
  Instance I(compile("io 1 -> 1;\nprocess { out = in * 2; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0.25f, -1, 3, 1e-3f, 0, -0.0f}, 6),
            (std::vector<float>{0.5f, -2, 6, 2e-3f, 0, -0.0f}));
}

TEST(Kernel, StereoLanesAreInterleavedChannels) {
  Instance I(
      compile("io 2 -> 3;\nprocess { out = [in[1], in[0], in[0] + in[1]]; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({1, 10, 2, 20}, 2),
            (std::vector<float>{10, 1, 11, 20, 2, 22}));
}

TEST(Kernel, NullInputReadsAsSilence) {
  Instance I(compile("io 2 -> 2;\nprocess { out = in + [1, 2]; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({}, 2), (std::vector<float>{1, 2, 1, 2}));
}

TEST(Kernel, GeneratorNeedsNoInput) {
  Instance I(compile("io 0 -> 1;\nstate n = 0;\nprocess { n += 1; out = n; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({}, 3), (std::vector<float>{1, 2, 3}));
}

TEST(Kernel, OutStartsEveryFrameAtZeroAndAccumulates) {
  Instance I(compile("io 1 -> 1;\nprocess { out += in; out += in * 10; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({1, 2, 3}, 3), (std::vector<float>{11, 22, 33}));
}

TEST(Kernel, ScalarBroadcastsToEveryOutputChannel) {
  Instance I(compile("io 1 -> 2;\nprocess { out = in; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({5, 6}, 2), (std::vector<float>{5, 5, 6, 6}));
}

//===-- State, block and frames -----------------------------------------------------===//

TEST(Kernel, StatePersistsAcrossFramesAndBlocks) {
  Instance I(compile("io 1 -> 1;\nstate n = 0;\nprocess { n += 1; out = n; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0, 0, 0}, 3), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(I.run({0, 0}, 2), (std::vector<float>{4, 5}));
  EXPECT_EQ(I.read("n"), 5);
}

TEST(Kernel, StateStartsAtItsInitialValueAndInitResetsIt) {
  Instance I(compile(
      "io 1 -> 1;\nstate s = [3, 4];\nprocess { out = s[0] + s[1]; s += 1; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0, 0}, 2), (std::vector<float>{7, 9}));
  EXPECT_EQ(I.init(Rate), 0);
  EXPECT_EQ(I.run({0}, 1), (std::vector<float>{7}));
}

TEST(Kernel, BlockRunsOncePerCallback) {
  Instance I(compile("io 1 -> 1;\nstate calls = 0;\nblock { calls += 1; }\n"
                     "process { out = calls; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0, 0, 0, 0}, 4), (std::vector<float>{1, 1, 1, 1}));
  EXPECT_EQ(I.run({0, 0, 0}, 3), (std::vector<float>{2, 2, 2}));
  EXPECT_EQ(I.header().callbacks, 2u);
  EXPECT_EQ(I.header().frames_processed, 7u);
}

TEST(Kernel, BlockLocalsAreVisibleInProcess) {
  Instance I(compile(
      "io 1 -> 1;\nblock { let k = frames * 10; }\nprocess { out = in + k; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({1, 2}, 2), (std::vector<float>{21, 22}));
}

TEST(Kernel, FramesIsTheCallbackLength) {
  Instance I(compile("io 1 -> 1;\nprocess { out = frames; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0, 0, 0, 0, 0, 0, 0}, 7), std::vector<float>(7, 7));
  EXPECT_EQ(I.run({0, 0, 0}, 3), std::vector<float>(3, 3));
  EXPECT_EQ(I.run({0}, 1), std::vector<float>(1, 1));
}

TEST(Kernel, EmptyCallbackRunsBlockOnly) {
  Instance I(compile("io 1 -> 1;\nstate calls = 0;\nblock { calls += 1; }\n"
                     "process { out = calls; }"));
  ASSERT_TRUE(I);
  EXPECT_TRUE(I.run({}, 0).empty());
  EXPECT_EQ(I.header().callbacks, 1u);
  EXPECT_EQ(I.header().frames_processed, 0u);
  EXPECT_EQ(I.run({0}, 1), (std::vector<float>{2}));
}

TEST(Kernel, MeterHoldsTheLastFramesValue) {
  Instance I(compile(
      "io 2 -> 2;\nmeter level;\nprocess { out = in; level = abs(in) * 2; }"));
  ASSERT_TRUE(I);
  I.run({1, -2, -3, 4}, 2);
  EXPECT_EQ(I.read("level", 0), 6);
  EXPECT_EQ(I.read("level", 1), 8);
  EXPECT_EQ(I.slot("level").kind, uint32_t(DSPJIT_SLOT_METER));
}

TEST(Kernel, StateArrayIndexIsTruncatedAndClamped) {
  Instance I(compile("io 1 -> 1;\nstate a[4] = 0;\nprocess { a[in] = 1 + in; "
                     "out = a[0] * 1000 + a[1] * 100 + a[2] * 10 + a[3]; }"));
  ASSERT_TRUE(I);
  // 1.5 truncates to 1; 9 clamps to 3; -5 clamps to 0; NaN means 0.
  std::vector<float> Out = I.run({1.5f, 9, -5, NaN}, 4);
  EXPECT_EQ(Out[0], 250);              // a[1] = 2.5
  EXPECT_EQ(Out[1], 250 + 10);         // a[3] = 10
  EXPECT_EQ(Out[2], -4000 + 250 + 10); // a[0] = -4
  EXPECT_EQ(Out[3], 0);                // a[0] = NaN: the output is silenced
  EXPECT_EQ(I.header().nonfinite_samples, 1u);
}

TEST(Kernel, StateArrayElementsStartAtTheInitialValue) {
  Instance I(compile(
      "io 1 -> 1;\nstate h[3] = [1, 2];\n"
      "process { out = h[0][0] + h[2][1] * 10 + h[1][0] * 100; h[in] = 0; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({2, 0, 1}, 3), (std::vector<float>{121, 101, 100}));
  EXPECT_EQ(I.slot("h").count, 3u);
  EXPECT_EQ(I.slot("h").width, 2u);
}

//===-- Delay lines ------------------------------------------------------------------===//

TEST(Kernel, DelayTapReturnsTheSampleWrittenNFramesAgo) {
  Instance I(compile(
      "io 1 -> 1;\ndelay d[16];\nprocess { out = d.tap(3); d.write(in); }"));
  ASSERT_TRUE(I);
  std::vector<float> In = ramp(40);
  std::vector<float> Out = I.runBlocks(In, 5); // across block boundaries
  for (size_t F = 0; F < In.size(); ++F)
    EXPECT_EQ(Out[F], F >= 3 ? In[F - 3] : 0) << "frame " << F;
}

TEST(Kernel, DelayTapIsClampedToTheLineLength) {
  Instance I(
      compile("io 1 -> 4;\ndelay d[4];\nprocess { out = [d.tap(100), d.tap(4), "
              "d.tap(0), d.tap(1)]; d.write(in); }"));
  ASSERT_TRUE(I);
  std::vector<float> Out = I.run(ramp(10), 10);
  for (size_t F = 0; F < 10; ++F) {
    EXPECT_EQ(Out[F * 4 + 0], Out[F * 4 + 1]) << F; // 100 -> 4
    EXPECT_EQ(Out[F * 4 + 2], Out[F * 4 + 3]) << F; // 0 -> 1
    EXPECT_EQ(Out[F * 4 + 1], F >= 4 ? float(F - 3) : 0) << F;
  }
}

TEST(Kernel, DelayReadInterpolatesLinearly) {
  Instance I(compile(
      "io 1 -> 1;\ndelay d[16];\nprocess { out = d.read(2.25); d.write(in); }"));
  ASSERT_TRUE(I);
  std::vector<float> In = {0, 0, 0, 0, 4, 8, 0, 0, 0};
  std::vector<float> Out = I.run(In, In.size());
  for (size_t F = 3; F < In.size(); ++F)
    EXPECT_FLOAT_EQ(Out[F], 0.75f * In[F - 2] + 0.25f * In[F - 3]) << F;
}

TEST(Kernel, DelayReadsPerLane) {
  Instance I(compile(
      "io 2 -> 2;\ndelay d[8];\nprocess { out = d.tap([1, 3]); d.write(in); }"));
  ASSERT_TRUE(I);
  std::vector<float> In;
  for (int F = 0; F < 10; ++F) {
    In.push_back(float(F + 1));
    In.push_back(float(100 + F + 1));
  }
  std::vector<float> Out = I.run(In, 10);
  for (size_t F = 0; F < 10; ++F) {
    EXPECT_EQ(Out[2 * F], F >= 1 ? In[2 * (F - 1)] : 0) << F;
    EXPECT_EQ(Out[2 * F + 1], F >= 3 ? In[2 * (F - 3) + 1] : 0) << F;
  }
}

TEST(Kernel, DelayLengthInMillisecondsHoldsThatManyFrames) {
  Instance I(compile(
      "io 1 -> 1;\ndelay d[1 ms];\nprocess { out = d.tap(48); d.write(in); }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.slot("d").length, 48u);
  std::vector<float> In = ramp(100);
  std::vector<float> Out = I.runBlocks(In, 32);
  EXPECT_EQ(Out[47], 0);
  EXPECT_EQ(Out[48], In[0]);
  EXPECT_EQ(Out[99], In[51]);
}

//===-- Lanes, loops and functions ------------------------------------------------------===//

TEST(Kernel, RunTimeLaneIndexIsTruncatedAndClamped) {
  Instance I(
      compile("io 1 -> 1;\nprocess { let v = [10, 20, 30]; out = v[in]; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0, 1, 2, 2.9f, 5, -1, NaN}, 7),
            (std::vector<float>{10, 20, 30, 30, 30, 10, 10}));
}

TEST(Kernel, RunTimeLaneAssignment) {
  Instance I(compile(
      "io 1 -> 3;\nprocess { let v = [1, 2, 3]; v[in] = 0; out = v; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0, 2, 7}, 3),
            (std::vector<float>{0, 2, 3, 1, 2, 0, 1, 2, 0}));
}

TEST(Kernel, ForLoopRunsItsCountWithTheIndexAsAFloat) {
  Instance I(compile("io 1 -> 2;\nprocess { let n = 0; let s = 0; "
                     "for i in 2..4.5 { n += 1; s += i; } out = [n, s]; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0}, 1), (std::vector<float>{3, 9})); // i = 2, 3, 4
}

TEST(Kernel, BreakStopsTheLoop) {
  Instance I(compile("io 1 -> 1;\nprocess { let n = 0; for i in 0..100 { "
                     "if i >= in { break; } n += 1; } out = n; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({5, 0, 2.5f, 1000}, 4), (std::vector<float>{5, 0, 3, 100}));
}

TEST(Kernel, BreakLeavesOnlyTheInnermostLoop) {
  Instance I(compile(
      "io 1 -> 1;\nprocess { let n = 0; for i in 0..3 { for j in 0..10 { "
      "if j >= 2 { break; } n += 1; } n += 100; } out = n; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0}, 1), (std::vector<float>{306}));
}

TEST(Kernel, UnrollIndexTakesEachValue) {
  Instance I(
      compile("io 1 -> 1;\nconst g = [1, 10, 100];\nprocess { let acc = 0; "
              "unroll i in 0..3 { acc += g[i] * (i + 1); } out = acc * in; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({1, 2}, 2), (std::vector<float>{321, 642}));
}

TEST(Kernel, EarlyReturnLeavesTheFunction) {
  Instance I(compile(
      "io 1 -> 1;\nfn sign(x) { if x > 0 { return 1; } if x < 0 { return -1; } "
      "return 0; }\nprocess { out = sign(in); }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({3, -0.5f, 0}, 3), (std::vector<float>{1, -1, 0}));
}

TEST(Kernel, ReturnFromInsideALoop) {
  Instance I(compile(
      "io 1 -> 1;\nfn firstAbove(x) { for i in 0..10 { if i > x { return i; } } "
      "return -1; }\nprocess { out = firstAbove(in); }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({3.5f, -4, 20}, 3), (std::vector<float>{4, 0, -1}));
}

TEST(Kernel, FunctionReachingItsEndGivesZero) {
  Instance I(compile(
      "io 1 -> 1;\nfn f(x) { if x > 0 { return 5; } }\nprocess { out = f(in); }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({1, -1}, 2), (std::vector<float>{5, 0}));
}

TEST(Kernel, EachCallSiteKeepsItsOwnState) {
  Instance I(compile(
      "io 1 -> 2;\nfn count(step) { state n = 0; n += step; return n; }\n"
      "process { out = [count(1), count(10)]; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0, 0}, 2), (std::vector<float>{1, 10, 2, 20}));
  EXPECT_EQ(I.read("process/count#1/n"), 2);
  EXPECT_EQ(I.read("process/count#2/n"), 20);
}

TEST(Kernel, ScriptFunctionReplacesTheStdOne) {
  Instance I(compile("io 1 -> 1;\nfn onepole(x, c) { return x * 3; }\n"
                     "process { out = onepole(in, 100); }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({1, 2}, 2), (std::vector<float>{3, 6}));
}

TEST(Kernel, ComparisonsAndLogicGiveOneOrZero) {
  Instance I(compile("io 1 -> 6;\nprocess { out = [in < 1, in == 1, in != 1, "
                     "in > 0 && in < 2, in < 0 || in > 2, !in]; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({1, 0, 3}, 3),
            (std::vector<float>{0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0,
                                1, 0}));
}

TEST(Kernel, NaNComparisonsAndConditions) {
  // Comparisons with NaN are false except !=; a NaN condition is true.
  Instance I(
      compile("io 1 -> 4;\nprocess { let n = in / in; out = [n < 1, n != n, "
              "n ? 7 : 8, min(n, 3)]; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0}, 1), (std::vector<float>{0, 1, 7, 3}));
}

TEST(Kernel, RemainderHasTheSignOfTheDividend) {
  Instance I(compile("io 1 -> 2;\nprocess { out = [in % 3, fmod(in, -3)]; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({-7, 7}, 2), (std::vector<float>{-1, -1, 1, 1}));
}

TEST(Kernel, ClampOfNaNAgreesWhenFoldedAndAtRunTime) {
  // Lane 0 is folded at compile time, lane 1 computed at run time (in = 0
  // makes in / in a NaN). Both must be clamp(NaN, 2, 3).
  Instance I(compile(
      "io 1 -> 2;\nprocess { out = [clamp(0 / 0, 2, 3), clamp(in / in, 2, 3)]; }"));
  ASSERT_TRUE(I);
  std::vector<float> Out = I.run({0}, 1);
  EXPECT_EQ(Out[1], 2) << "run time";
  EXPECT_EQ(Out[0], Out[1])
      << "the folded clamp(NaN, 2, 3) differs from the run-time one";
}

TEST(Kernel, ConstantFolderAgreesWithTheRunTime) {
  // compiler/ConstantFolder mirrors CodeGen. For these operations the
  // float result is exact (or, for + - * /, rounded once either way: double
  // has more than twice float's precision), so the folder's value, rounded
  // to float, must be the run-time result bit for bit, the sign of zero
  // included. The kernel outputs silence for a non-finite sample.
  const std::vector<
      std::pair<std::string, std::function<double(double, double)>>>
      Ops = {
          {"min(a, b)",
           [](double A, double B) {
             return evalBuiltin(Builtin::Min, A, B, 0);
           }},
          {"max(a, b)",
           [](double A, double B) {
             return evalBuiltin(Builtin::Max, A, B, 0);
           }},
          {"clamp(a, b, 1)",
           [](double A, double B) {
             return evalBuiltin(Builtin::Clamp, A, B, 1);
           }},
          {"floor(a)",
           [](double A, double) {
             return evalBuiltin(Builtin::Floor, A, 0, 0);
           }},
          {"ceil(a)",
           [](double A, double) {
             return evalBuiltin(Builtin::Ceil, A, 0, 0);
           }},
          {"round(a)",
           [](double A, double) {
             return evalBuiltin(Builtin::Round, A, 0, 0);
           }},
          {"abs(a)",
           [](double A, double) { return evalBuiltin(Builtin::Abs, A, 0, 0); }},
          {"fmod(a, b)",
           [](double A, double B) {
             return evalBuiltin(Builtin::Fmod, A, B, 0);
           }},
          {"a + b",
           [](double A, double B) { return evalBinary(BinOp::Add, A, B); }},
          {"a - b",
           [](double A, double B) { return evalBinary(BinOp::Sub, A, B); }},
          {"a * b",
           [](double A, double B) { return evalBinary(BinOp::Mul, A, B); }},
          {"a / b",
           [](double A, double B) { return evalBinary(BinOp::Div, A, B); }},
          {"a % b",
           [](double A, double B) { return evalBinary(BinOp::Mod, A, B); }},
          {"a == b",
           [](double A, double B) { return evalBinary(BinOp::Eq, A, B); }},
          {"a != b",
           [](double A, double B) { return evalBinary(BinOp::Ne, A, B); }},
          {"a < b",
           [](double A, double B) { return evalBinary(BinOp::Lt, A, B); }},
          {"a >= b",
           [](double A, double B) { return evalBinary(BinOp::Ge, A, B); }},
          {"a && b",
           [](double A, double B) { return evalBinary(BinOp::And, A, B); }},
          {"a || b",
           [](double A, double B) { return evalBinary(BinOp::Or, A, B); }},
      };
  const float Inf = std::numeric_limits<float>::infinity();
  const std::vector<float> Values = {-2.5f, -0.0f, 0.0f, 0.75f,
                                     3.0f,  Inf,   -Inf, std::nanf("")};
  std::vector<float> In;
  for (float A : Values)
    for (float B : Values)
      In.insert(In.end(), {A, B});
  for (const auto &[Source, Fold] : Ops) {
    Instance I(compile(
        "io 2 -> 1;\nprocess { let a = in[0]; let b = in[1]; out = " + Source +
        "; }"));
    ASSERT_TRUE(I) << Source;
    std::vector<float> Out = I.run(In, In.size() / 2);
    for (size_t K = 0; K < Out.size(); ++K) {
      float Folded = float(Fold(In[2 * K], In[2 * K + 1]));
      if (!std::isfinite(Folded))
        Folded = 0;
      EXPECT_TRUE(Out[K] == Folded &&
                  std::signbit(Out[K]) == std::signbit(Folded))
          << Source << " with a = " << In[2 * K] << ", b = " << In[2 * K + 1]
          << ": folded " << Folded << ", run time " << Out[K];
    }
  }
}

/// `Form` with A and B replaced by `A` and `B`.
std::string substitute(std::string Form, const std::string &A,
                       const std::string &B) {
  std::string Out;
  for (char C : Form)
    Out += C == 'A' ? A : C == 'B' ? B : std::string(1, C);
  return Out;
}

/// A float as a script writes it: a literal, negated, or 0/0 and 1/0.
std::string literal(float V) {
  if (std::isnan(V))
    return "(0 / 0)";
  if (std::isinf(V))
    return V > 0 ? "(1 / 0)" : "(-1 / 0)";
  char Buf[32];
  // Every digit of the double, so that --double reads the same value.
  std::snprintf(Buf, sizeof Buf, "%.17g", double(std::fabs(V)));
  return std::signbit(V) ? std::string("(-") + Buf + ")" : std::string(Buf);
}

TEST(Kernel, KnowingOperandsAtCompileTimeNeverChangesASample) {
  // Folding once used double and libm's tanh: `tanh(8)` folded to
  // 0.99999976 and ran as exactly 1; `16777216 + 1 - 16777216` folded to 1
  // and ran as 0 in float. Every built-in and operator, with literal
  // operands (folded) and the same values from the input (computed at run
  // time), at -O0 and -O3, in float and double: bit-identical.
  const std::vector<std::string> Forms = {"A + B",
                                          "A - B",
                                          "A * B",
                                          "A / B",
                                          "A % B",
                                          "A == B",
                                          "A != B",
                                          "A < B",
                                          "A <= B",
                                          "A > B",
                                          "A >= B",
                                          "A && B",
                                          "A || B",
                                          "-A",
                                          "!A",
                                          "A > 0 ? A : B",
                                          "A + 1 - A",
                                          "A * 0.1 + B / 3",
                                          "A * B + 0.1",
                                          "0.3 - A * B",
                                          "A * B - B * 3",
                                          "-A * 1.1 + A * B",
                                          "sin(A)",
                                          "cos(A)",
                                          "tan(A)",
                                          "asin(A)",
                                          "acos(A)",
                                          "atan(A)",
                                          "atan2(A, B)",
                                          "sinh(A)",
                                          "cosh(A)",
                                          "tanh(A)",
                                          "tanh(A * 0.001)",
                                          "exp(A)",
                                          "exp2(A)",
                                          "log(A)",
                                          "log2(A)",
                                          "log10(A)",
                                          "pow(A, B)",
                                          "sqrt(A)",
                                          "abs(A)",
                                          "floor(A)",
                                          "ceil(A)",
                                          "round(A)",
                                          "min(A, B)",
                                          "max(A, B)",
                                          "clamp(A, B, 1)",
                                          "fmod(A, B)",
                                          "sum([A, B, 0.1])",
                                          "mean([A, B, 0.3, A])"};
  const std::vector<float> Values = {-0.0f,
                                     0.5f,
                                     -0.75f,
                                     1,
                                     -2.5f,
                                     7.9f,
                                     8,
                                     16777216,
                                     1e-3f,
                                     1e30f,
                                     -std::numeric_limits<float>::infinity(),
                                     std::numeric_limits<float>::quiet_NaN()};
  std::vector<std::pair<float, float>> Pairs;
  for (float A : Values)
    for (float B : Values)
      Pairs.push_back({A, B});
  auto Same = [](float X, float Y) {
    return (std::isnan(X) && std::isnan(Y)) ||
           std::memcmp(&X, &Y, sizeof X) == 0;
  };
  for (bool Double : {false, true}) {
    for (unsigned Level : {0u, 3u}) {
      CompileOptions O;
      O.doublePrecision = Double;
      O.optLevel = Level;
      for (const std::string &Form : Forms) {
        std::string Lits;
        for (const auto &[A, B] : Pairs)
          Lits += (Lits.empty() ? "" : ", ") +
                  substitute(Form, literal(A), literal(B));
        Instance Folded(compile("io 0 -> 1;\nmeter m;\nprocess { m = [" + Lits +
                                    "]; out = 0; }",
                                O));
        Instance Run(compile("io 2 -> 1;\nmeter m;\nprocess { let a = in[0]; "
                             "let b = in[1]; m = " +
                                 substitute(Form, "a", "b") + "; out = 0; }",
                             O));
        ASSERT_TRUE(Folded && Run) << Form;
        Folded.run({}, 1);
        for (size_t K = 0; K < Pairs.size(); ++K) {
          Run.run({Pairs[K].first, Pairs[K].second}, 1);
          float Want = float(Run.read("m"));
          float Got = float(Folded.read("m", unsigned(K)));
          EXPECT_TRUE(Same(Got, Want))
              << Form << " with A = " << Pairs[K].first
              << ", B = " << Pairs[K].second << " at -O" << Level
              << (Double ? " (double)" : " (float)") << ": folded " << Got
              << ", run time " << Want;
        }
      }
    }
  }
}

TEST(Kernel, SumAddsLanesAsAHalvingTreeAtEveryLevel) {
  // dsl/LANGUAGE.md: lanes [H, N) are added to lanes [0, N - H), H the
  // largest power of two below N, then the first H lanes alike. 1e8 + 1 is
  // 1e8 in float, so adding left to right would give 1, 0 and 1 here; the
  // folded sum (in double, where 1e17 + 1 is 1e17) likewise 1.
  const char *Src =
      "io 1 -> 4;\n"
      "process {\n"
      "  let big = 1e8 * in;\n"
      "  out = [sum([big, in, -big, in]), sum([big, in, -big]),\n"
      "         sum([in, big, in, -big, in]), sum([1e17, 1, -1e17, 1])];\n"
      "}\n";
  for (unsigned Level : {0u, 3u}) {
    CompileOptions O;
    O.optLevel = Level;
    Instance I(compile(Src, O));
    ASSERT_TRUE(I);
    EXPECT_EQ(I.run({1}, 1), (std::vector<float>{2, 1, 3, 2})) << "-O" << Level;
  }
}

//===-- tanh: an inline approximation with a stated accuracy ---------------------------===//

/// Distance in units in the last place between two finite floats.
int64_t ulpsBetween(float A, float B) {
  auto ordered = [](float F) {
    int32_t I;
    std::memcpy(&I, &F, 4);
    return I < 0 ? -int64_t(I & 0x7fffffff) : int64_t(I);
  };
  return std::llabs(ordered(A) - ordered(B));
}

TEST(Kernel, FastTanhIsWithin7UlpOfTanhOverTheFloats) {
  // dsl/LANGUAGE.md promises 7 ulp of the correctly rounded tanh (5 where
  // the CPU has FMA). Every 31st positive float (69 million, from the
  // smallest to the largest; the function is odd, checked below), and
  // never above 1.
  Instance I(compile("io 1 -> 1;\nprocess { out = tanh(in); }"));
  ASSERT_TRUE(I);
  const int64_t Allowed = targetHasFma() ? 5 : 7;
  const uint32_t Step = 31, Block = 8192;
  std::vector<float> In(Block);
  int64_t Worst = 0;
  float WorstAt = 0;
  for (uint32_t Bits = 0; Bits < 0x7f800000u;) {
    unsigned N = 0;
    for (; N < Block && Bits < 0x7f800000u; ++N, Bits += Step)
      std::memcpy(&In[N], &Bits, 4);
    In.resize(N);
    std::vector<float> Out = I.run(In, N);
    for (unsigned K = 0; K < N; ++K) {
      int64_t Ulps = ulpsBetween(Out[K], float(std::tanh(double(In[K]))));
      if (Ulps > Worst) {
        Worst = Ulps;
        WorstAt = In[K];
      }
      ASSERT_LE(Out[K], 1.0f) << "tanh(" << In[K] << ")";
    }
    In.resize(Block);
  }
  EXPECT_LE(Worst, Allowed) << "at x = " << WorstAt;
}

TEST(Kernel, FastTanhIsOddExactForSpecialValuesAndTheSameAtEveryWidthAndLevel) {
  const char *Scalar =
      "io 1 -> 4;\n"
      "process {\n"
      "  let t = tanh(in);\n"
      "  out = [t != t ? 7 : t, t == 0 ? (1 / t < 0 ? -1 : 1) : 5,\n"
      "         tanh(-in), tanh(in) + tanh(-in)];\n"
      "}\n";
  const char *Vector = "io 8 -> 8;\nprocess { out = tanh(in); }";
  float Inf = std::numeric_limits<float>::infinity();
  std::vector<float> Xs = {
      0.0f,        -0.0f, 1e-30f, 3e-4f, 5e-4f,  0.25f, -1.5f, 3.73728919f,
      5.74029255f, 7.9f,  7.906f, 9.5f,  -20.0f, 1e30f, Inf,   -Inf};
  std::vector<float> Want;
  for (unsigned Level : {0u, 3u}) {
    CompileOptions O;
    O.optLevel = Level;
    Instance S(compile(Scalar, O)), V(compile(Vector, O));
    ASSERT_TRUE(S && V);
    std::vector<float> Lanes;
    for (float X : Xs) {
      std::vector<float> Out = S.run({X}, 1);
      Lanes.push_back(Out[0]);
      EXPECT_EQ(Out[2], -Out[0]) << "tanh(-x) = -tanh(x), x = " << X;
      EXPECT_EQ(Out[3], 0.0f) << X;
      if (X == 0) {
        EXPECT_EQ(Out[1], std::signbit(X) ? -1.0f : 1.0f)
            << "the sign of zero is kept";
      }
      EXPECT_LE(std::fabs(Out[0]), 1.0f) << X;
    }
    EXPECT_EQ(Lanes[14], 1.0f);
    EXPECT_EQ(Lanes[15], -1.0f);
    EXPECT_EQ(Lanes[2], 1e-30f) << "tiny x gives x";
    EXPECT_EQ(S.run({std::nanf("")}, 1)[0], 7.0f) << "tanh(NaN) is NaN";
    // Eight lanes at once (a vector) give the scalar's bits, lane by lane.
    for (size_t At = 0; At < Xs.size(); At += 8) {
      std::vector<float> Out = V.run(
          std::vector<float>(Xs.begin() + long(At), Xs.begin() + long(At + 8)),
          1);
      for (unsigned K = 0; K < 8; ++K)
        EXPECT_EQ(Out[K], Lanes[At + K])
            << "lane " << K << ", x = " << Xs[At + K];
    }
    if (Want.empty())
      Want = Lanes;
    else
      EXPECT_EQ(Lanes, Want) << "-O0 and -O3 differ";
  }
}

//===-- Non-finite samples and denormals -----------------------------------------------===//

TEST(Kernel, NaNAndInfinityBecomeSilenceAndAreCounted) {
  Instance I(compile("io 1 -> 2;\nprocess { out = [in / in, 1 / in]; }"));
  ASSERT_TRUE(I);
  std::vector<float> Out = I.run({2, 0, 4, -0.0f}, 4);
  EXPECT_EQ(Out, (std::vector<float>{1, 0.5f, 0, 0, 1, 0.25f, 0, 0}));
  EXPECT_EQ(I.header().nonfinite_samples, 4u);
  I.run({1}, 1);
  EXPECT_EQ(I.header().nonfinite_samples, 4u);
  I.run({0, 0}, 2);
  EXPECT_EQ(I.header().nonfinite_samples, 8u);
}

TEST(Kernel, HugeFiniteSamplesAreLeftAloneWhateverTheBlockAndLevel) {
  // The guard's first look is a running sum of the block, which overflows
  // for huge finite samples: those must come out untouched and uncounted,
  // and a NaN among them still silenced alone, at -O0 and -O3, in blocks
  // of 1 to 9 frames (a remainder in every unrolled copy).
  const float Big = 3e38f;
  for (unsigned Level : {0u, 3u}) {
    CompileOptions O;
    O.optLevel = Level;
    Instance I(compile("io 1 -> 2;\nprocess { out = [in, -in]; }", O));
    ASSERT_TRUE(I);
    for (unsigned long Frames = 1; Frames <= 9; ++Frames) {
      std::vector<float> In(Frames, Big), Want;
      for (unsigned long F = 0; F < Frames; ++F)
        Want.insert(Want.end(), {Big, -Big});
      EXPECT_EQ(I.run(In, Frames), Want) << Frames << " frames";
      In[Frames / 2] = NaN;
      std::vector<float> Out = I.run(In, Frames);
      for (unsigned long F = 0; F < Frames; ++F) {
        float Want = F == Frames / 2 ? 0 : Big;
        EXPECT_EQ(Out[2 * F], Want) << Frames << " frames, frame " << F;
        EXPECT_EQ(Out[2 * F + 1], -Want) << Frames << " frames, frame " << F;
      }
    }
    EXPECT_EQ(I.header().nonfinite_samples, 2u * 9) << "-O" << Level;
  }
}

TEST(Kernel, NonFiniteInputIsSilencedAtTheOutput) {
  Instance I(compile("io 1 -> 1;\nprocess { out = in; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({NaN, Inf, -Inf, 1}, 4), (std::vector<float>{0, 0, 0, 1}));
  EXPECT_EQ(I.header().nonfinite_samples, 3u);
}

void expectNoSubnormals(const std::vector<float> &Out) {
  for (size_t F = 0; F < Out.size(); ++F)
    ASSERT_NE(std::fpclassify(Out[F]), FP_SUBNORMAL)
        << "frame " << F << ": " << Out[F];
}

TEST(Kernel, DecayingFeedbackIsFlushedToZeroNotDenormal) {
  Instance I(
      compile("io 1 -> 1;\nstate y = 1;\nprocess { y *= 0.5; out = y; }"));
  ASSERT_TRUE(I);
  std::vector<float> Out = I.runBlocks(std::vector<float>(200, 0), 64);
  expectNoSubnormals(Out);
  EXPECT_EQ(Out[125], std::ldexp(1.0f, -126)); // the smallest normal float
  EXPECT_EQ(Out[126], 0);                      // would be 2^-127, a denormal
  EXPECT_EQ(Out.back(), 0);
  EXPECT_EQ(I.read("y"), 0);
}

TEST(Kernel, DenormalProductsAreFlushed) {
  Instance I(compile("io 1 -> 1;\nprocess { out = in * 1e-30; }"));
  ASSERT_TRUE(I);
  std::vector<float> Out =
      I.run({1e-10f, 1e-5f, 1}, 3); // 1e-40, 1e-35 and 1e-30
  expectNoSubnormals(Out);
  EXPECT_EQ(Out[0], 0);
  EXPECT_NE(Out[2], 0);
}

TEST(Kernel, DenormalInputsAreTreatedAsZeroInArithmetic) {
  Instance I(compile("io 1 -> 1;\nprocess { out = in * 1e30; }"));
  ASSERT_TRUE(I);
  float Tiny = std::numeric_limits<float>::denorm_min() * 1000; // a denormal
  ASSERT_EQ(std::fpclassify(Tiny), FP_SUBNORMAL);
  EXPECT_EQ(I.run({Tiny}, 1), (std::vector<float>{0}));
}

TEST(Kernel, DoublePrecisionOutputBelowFloatRangeIsFlushed) {
  CompileOptions O;
  O.doublePrecision = true;
  Instance I(
      compile("io 1 -> 1;\nstate y = 1;\nprocess { y *= 0.5; out = y; }", O));
  ASSERT_TRUE(I);
  std::vector<float> Out = I.runBlocks(std::vector<float>(200, 0), 64);
  expectNoSubnormals(Out);
  EXPECT_EQ(Out[126],
            0); // 2^-127 is normal in double, but not as a float32 output
  EXPECT_EQ(I.read("y"),
            std::ldexp(1.0, -200)); // still exact inside, in double
}

#ifdef DSPJIT_TEST_X86
TEST(Kernel, CallersFloatingPointControlIsRestored) {
  Instance I(
      compile("io 1 -> 1;\nstate y = 1;\nprocess { y *= 0.5; out = y * in; }"));
  ASSERT_TRUE(I);
  const unsigned Saved = _mm_getcsr();
  // Without FTZ and DAZ (the default), with both, and with another rounding
  // mode: whatever the caller had, it has again afterwards.
  for (unsigned Csr :
       {0x1F80u, 0x9FC0u, 0x1F80u | 0x6000u, 0x1F80u | 0x8000u}) {
    _mm_setcsr(Csr);
    I.run(std::vector<float>(300, 1), 300);
    unsigned After = _mm_getcsr();
    _mm_setcsr(Saved);
    // Bits 0-5 are sticky exception flags, which any arithmetic may set.
    EXPECT_EQ(After & ~0x3Fu, Csr & ~0x3Fu) << std::hex << "MXCSR was " << Csr;
  }
  _mm_setcsr(Saved);
}

TEST(Kernel, DenormalsAreFlushedEvenWhenTheCallerDoesNotFlush) {
  Instance I(compile("io 1 -> 1;\nprocess { out = in * 1e-30; }"));
  ASSERT_TRUE(I);
  const unsigned Saved = _mm_getcsr();
  _mm_setcsr(0x1F80); // no FTZ, no DAZ
  std::vector<float> Out = I.run({1e-10f}, 1);
  _mm_setcsr(Saved);
  EXPECT_EQ(Out[0], 0);
}
#endif

//===-- Parameters --------------------------------------------------------------------===//

TEST(Kernel, ParameterStartsAtItsDefault) {
  Instance I(
      compile("io 1 -> 1;\nparam g = 0.25 in [0, 1];\nprocess { out = g; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.paramValue("g"), 0.25f);
  EXPECT_EQ(I.run({0, 0, 0}, 3),
            std::vector<float>(3, 0.25f)); // no ramp at the start
}

TEST(Kernel, ParameterTargetAboveMaxIsClamped) {
  Instance I(
      compile("io 1 -> 1;\nparam g = 0.5 in [0, 1];\nprocess { out = g; }"));
  ASSERT_TRUE(I);
  I.setTarget("g", 5.0f);
  std::vector<float> Out = I.run(std::vector<float>(4800, 0), 4800); // 100 ms
  for (size_t F = 0; F < Out.size(); ++F)
    ASSERT_LE(Out[F], 1.0f) << "frame " << F;
  EXPECT_NEAR(Out.back(), 1.0f, 1e-5);
  EXPECT_GT(Out[0], 0.5f); // the first frame already moves
  I.setTarget("g", -3.0f);
  Out = I.run(std::vector<float>(4800, 0), 4800);
  for (size_t F = 0; F < Out.size(); ++F)
    ASSERT_GE(Out[F], 0.0f) << "frame " << F;
  EXPECT_NEAR(Out.back(), 0.0f, 1e-5);
}

TEST(Kernel, InfiniteTargetIsClampedAndNaNTargetIsIgnored) {
  Instance I(compile(
      "io 1 -> 1;\nparam g = 2 in [1, 3] nosmooth;\nprocess { out = g; }"));
  ASSERT_TRUE(I);
  I.setTarget("g", Inf);
  EXPECT_EQ(I.run({0}, 1), (std::vector<float>{3}));
  I.setTarget("g", -Inf);
  EXPECT_EQ(I.run({0}, 1), (std::vector<float>{1}));
  I.setTarget("g", NaN);
  EXPECT_EQ(I.run({0}, 1), (std::vector<float>{1}));
  EXPECT_EQ(I.header().nonfinite_samples, 0u);
}

TEST(Kernel, NoSmoothParameterTakesItsTargetAtTheNextCallback) {
  Instance I(compile(
      "io 1 -> 1;\nparam g = 0 in [0, 10] nosmooth;\nprocess { out = g; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({0, 0}, 2), (std::vector<float>{0, 0}));
  I.setTarget("g", 3);
  EXPECT_EQ(I.run({0, 0}, 2), (std::vector<float>{3, 3}));
}

TEST(Kernel, SmoothingCovers99PercentOfAStepInItsTime) {
  Instance I(compile(
      "io 1 -> 1;\nparam g = 0 in [0, 1] smooth 10 ms;\nprocess { out = g; }"));
  ASSERT_TRUE(I);
  I.setTarget("g", 1);
  std::vector<float> Out = I.run(std::vector<float>(480, 0), 480);
  double Coef = 1 - std::exp(-4.6 / (0.010 * Rate));
  EXPECT_NEAR(Out[0], Coef, 1e-6);
  EXPECT_NEAR(Out[479], 1 - std::exp(-4.6), 1e-4); // 99% after 10 ms
  EXPECT_NEAR(I.paramValue("g"), Out[479],
              1e-7); // stored back for the next callback
}

TEST(Kernel, SmoothedParameterReachesExactlyItsTargetWithinOneAndAHalfTimes) {
  // A float one-pole `v += c (target - v)` stalls once the step rounds to
  // nothing: `bits` raised from 6 to 8 stayed at 7.9999752 (floor 7), and
  // `freq` raised to 10000 with `smooth 1 s` at 9994.9. The value must be
  // the target, bit for bit, within 1.5 smoothing times, at every block
  // size and in both precisions, upward and downward.
  struct Case {
    const char *Decl;
    const char *Name;
    float To;
    double Seconds;
  };
  const Case Cases[] = {
      {"param bits = 6 in [1, 16];", "bits", 8, 0.01},
      {"param freq = 1000 in [20, 20000] hz smooth 1 s;", "freq", 10000, 1},
      {"param freq = 1000 in [20, 20000] hz smooth 10 s;", "freq", 10000, 10},
      {"param freq = 20000 in [20, 20000] hz smooth 50 ms;", "freq", 20, 0.05},
      {"param g = 0.3 in [0, 1] smooth 20 ms;", "g", 0.3000001f, 0.02},
      {"param x = 10000 in [10000, 10001] smooth 2 s;", "x", 10001, 2},
  };
  for (const Case &C : Cases) {
    for (bool Double : {false, true}) {
      CompileOptions O;
      O.doublePrecision = Double;
      Instance I(compile(std::string("io 0 -> 1;\n") + C.Decl +
                             "\nprocess { out = " + C.Name + "; }",
                         O));
      ASSERT_TRUE(I) << C.Decl;
      I.setTarget(C.Name, C.To);
      const size_t Total = size_t(std::ceil(1.5 * C.Seconds * Rate));
      for (unsigned long Block : {1ul, 64ul, 4096ul}) {
        if (C.Seconds >= 10 && Block == 1)
          continue; // 720,000 callbacks: the 64-frame run covers the law
        ASSERT_EQ(I.init(Rate), 0);
        I.setTarget(C.Name, C.To);
        std::vector<float> Out;
        for (size_t Done = 0; Done < Total; Done += Block) {
          unsigned long N = std::min<unsigned long>(Block, Total - Done);
          Out = I.run({}, N);
        }
        EXPECT_EQ(Out.back(), C.To) << C.Decl << " in blocks of " << Block
                                    << (Double ? " (double)" : " (float)");
        EXPECT_EQ(I.paramValue(C.Name), C.To)
            << C.Decl << " in blocks of " << Block
            << (Double ? " (double)" : " (float)");
      }
    }
  }
}

TEST(Kernel, StdSmoothAndEnvfollowReachTheirTargetExactly) {
  // The same stall at script level: a float one-pole stops short of its
  // target. Within 5 times their time they must be exactly there, in both
  // precisions, and also at another rate (at 2 * sr, 0.01 s is 960 frames:
  // 4800 frames are 5 times that).
  for (bool Double : {false, true}) {
    CompileOptions O;
    O.doublePrecision = Double;
    Instance I(compile("io 1 -> 4;\nprocess { out = [smooth(in, 0.01), "
                       "envfollow(in, 0.01, 0.02), smooth(in, 0.01, 2 * sr), "
                       "smooth(in, 0.001)]; }",
                       O));
    ASSERT_TRUE(I);
    std::vector<float> Out = I.runBlocks(std::vector<float>(4800, 7.9f), 64);
    std::vector<float> Last(Out.end() - 4, Out.end());
    EXPECT_EQ(Last, (std::vector<float>{7.9f, 7.9f, 7.9f, 7.9f}))
        << (Double ? "double" : "float");
    Out = I.runBlocks(std::vector<float>(9600, 0.25f), 64); // the fall
    Last.assign(Out.end() - 4, Out.end());
    EXPECT_EQ(Last, (std::vector<float>{0.25f, 0.25f, 0.25f, 0.25f}))
        << (Double ? "double" : "float");
  }
}

TEST(Kernel, SmoothedParameterStillFollowsTheOnePoleLawUntilItsLastStretch) {
  // The snap must not shorten the glide: a full-range step is still only
  // 99% of the way after T.
  Instance I(compile("io 0 -> 1;\nparam f = 20 in [20, 20000] smooth 100 ms;\n"
                     "process { out = f; }"));
  ASSERT_TRUE(I);
  I.setTarget("f", 20000);
  std::vector<float> Out = I.run({}, 4800);
  EXPECT_NEAR(Out.back(), 20000 - 19980 * std::exp(-4.6), 0.05);
  EXPECT_LT(Out.back(), 20000.0f);
}

TEST(Kernel, BlockSeesTheParameterAtTheStartOfTheCallback) {
  Instance I(compile("io 1 -> 1;\nparam g = 0 in [0, 1] smooth 10 ms;\n"
                     "block { let g0 = g; }\nprocess { out = g0; }"));
  ASSERT_TRUE(I);
  I.setTarget("g", 1);
  EXPECT_EQ(I.run({0, 0, 0, 0}, 4), std::vector<float>(4, 0));
  double Coef = 1 - std::exp(-4.6 / (0.010 * Rate));
  std::vector<float> Out = I.run({0, 0}, 2);
  EXPECT_NEAR(Out[0], 1 - std::pow(1 - Coef, 4), 1e-6);
  EXPECT_EQ(Out[0], Out[1]);
}

TEST(Kernel, ParameterSlotDescribesTheDeclaration) {
  Instance I(compile(
      "io 1 -> 1;\nparam f = 440 in [20, 20000] hz smooth 5 ms;\n"
      "param n = 1 in [0, 2] nosmooth;\nprocess { out = in * f * n; }"));
  ASSERT_TRUE(I);
  const DspjitSlot *F = I.kernel().findParam("f");
  ASSERT_TRUE(F);
  EXPECT_EQ(F->kind, uint32_t(DSPJIT_SLOT_PARAM));
  EXPECT_EQ(F->def, 440);
  EXPECT_EQ(F->min, 20);
  EXPECT_EQ(F->max, 20000);
  EXPECT_STREQ(F->unit, "hz");
  EXPECT_FLOAT_EQ(F->smooth_seconds, 0.005f);
  EXPECT_EQ(F->elem_size, 4u);
  EXPECT_EQ(F->value_offset, F->offset + 4);
  EXPECT_EQ(I.kernel().findParam("n")->smooth_seconds, 0);
  EXPECT_STREQ(I.kernel().findParam("n")->unit, "");
  EXPECT_EQ(I.kernel().findParam("nosuch"), nullptr);
}

//===-- Rates, precision and optimization levels ----------------------------------------===//

TEST(Kernel, InitRefusesAnotherSampleRate) {
  Instance I(compile("io 1 -> 1;\nprocess { out = in; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.info().sample_rate, 48000);
  EXPECT_EQ(I.init(44100), -1);
  EXPECT_EQ(I.init(96000), -1);
  EXPECT_EQ(I.init(48000), 0);

  CompileOptions O;
  O.sampleRate = 44100;
  Instance J(compile("io 1 -> 1;\nprocess { out = in * sr; }", O), 44100);
  ASSERT_TRUE(J);
  EXPECT_EQ(J.info().sample_rate, 44100);
  EXPECT_EQ(J.init(48000), -1);
  EXPECT_EQ(J.init(44100), 0);
  EXPECT_EQ(J.run({1}, 1), (std::vector<float>{44100}));
}

const char *PrecisionScript =
    "io 1 -> 1;\nstate s = 0;\ndelay d[4];\nparam p = 1 in [0, 1];\nmeter m;\n"
    "process { s = in + 16777216; d.write(s); m = s; out = (d.tap(1) - 16777216) * p; }";

TEST(Kernel, DoublePrecisionStoresStateAndDelaysInEightBytes) {
  CompileOptions O;
  O.doublePrecision = true;
  Instance I(compile(PrecisionScript, O));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.slot("s").elem_size, 8u);
  EXPECT_EQ(I.slot("d").elem_size, 8u);
  EXPECT_EQ(I.slot("p").elem_size, 4u); // host-facing floats stay float
  EXPECT_EQ(I.slot("m").elem_size, 4u);
  Instance F(compile(PrecisionScript));
  ASSERT_TRUE(F);
  EXPECT_EQ(F.slot("s").elem_size, 4u);
  EXPECT_EQ(F.slot("d").elem_size, 4u);
}

TEST(Kernel, DoublePrecisionComputesInDoubles) {
  // 2^24 + 1 is exact in double but not in float. The line is read after
  // the write, so tap(1) is this frame's value.
  CompileOptions O;
  O.doublePrecision = true;
  Instance D(compile(PrecisionScript, O));
  Instance F(compile(PrecisionScript));
  ASSERT_TRUE(D);
  ASSERT_TRUE(F);
  EXPECT_EQ(D.run({1, 1}, 2), (std::vector<float>{1, 1}));
  EXPECT_EQ(D.read("s"), 16777217.0);
  EXPECT_EQ(F.run({1, 1}, 2), (std::vector<float>{0, 0}));
}

const char *BusyScript =
    "io 2 -> 2;\nparam cutoff = 1200 in [50, 10000] hz;\nparam drive = 2 in [1, 10];\n"
    "delay line[50 ms];\nmeter level;\n"
    "process {\n"
    "  let x = tanh(drive * in) + 0.1 * sine(3) * in;\n"
    "  let f = svf(x[0], cutoff, 2);\n"
    "  let y = lowpass(x, cutoff * 2, 0.707) + [f[0], f[2]];\n"
    "  let wet = line.read([101.5, 733.25]);\n"
    "  line.write(onepole(y, 3000) + 0.3 * wet);\n"
    "  let acc = 0;\n"
    "  for i in 0..4 { if abs(acc) > 4 { break; } acc += sqrt(abs(y[0])) * pow(0.5, i); }\n"
    "  out = clamp(y + wet + acc * 0.01, -1, 1) + atan2(in[1], 1 + in[0]) * 0.01;\n"
    "  level = abs(out);\n"
    "}\n";

std::vector<float> stereoNoise(size_t Frames) {
  std::vector<float> V(Frames * 2);
  uint32_t X = 12345;
  for (float &S : V) {
    X = X * 1664525u + 1013904223u;
    S = float(X >> 8) / float(1 << 24) * 2 - 1;
  }
  return V;
}

std::vector<float> renderStereo(Instance &I, const std::vector<float> &In,
                                unsigned Block) {
  std::vector<float> Out;
  for (size_t At = 0; At < In.size(); At += 2 * Block) {
    size_t N = std::min<size_t>(Block, (In.size() - At) / 2);
    auto Part = I.run(std::vector<float>(In.begin() + long(At),
                                         In.begin() + long(At + 2 * N)),
                      N);
    Out.insert(Out.end(), Part.begin(), Part.end());
  }
  return Out;
}

TEST(Kernel, OptimizationLevelsAgree) {
  std::vector<float> In = stereoNoise(4800);
  std::vector<std::vector<float>> Renders;
  for (unsigned Level : {0u, 1u, 2u, 3u}) {
    CompileOptions O;
    O.optLevel = Level;
    Instance I(compile(BusyScript, O));
    ASSERT_TRUE(I) << "optLevel " << Level;
    I.setTarget("cutoff", 3000);
    Renders.push_back(renderStereo(I, In, 64));
    EXPECT_EQ(I.header().nonfinite_samples, 0u);
  }
  for (size_t L = 1; L < Renders.size(); ++L)
    for (size_t S = 0; S < In.size(); ++S)
      ASSERT_NEAR(Renders[L][S], Renders[0][S], 1e-6)
          << "optLevel index " << L << ", sample " << S;
}

TEST(Kernel, BlockSizeDoesNotChangeTheResult) {
  std::vector<float> In = stereoNoise(2000);
  Instance A(compile(BusyScript));
  Instance B(compile(BusyScript));
  ASSERT_TRUE(A);
  ASSERT_TRUE(B);
  EXPECT_EQ(renderStereo(A, In, 1), renderStereo(B, In, 2000));
}

/// A script whose work depends on smoothed parameters in every way the
/// settled frame loop hoists: libm calls (a lowpass's coefficients), a
/// division by a parameter, `db2lin`, a parameter through a `block` value,
/// a nosmooth parameter, a delay read at a parameter's position, state.
const char *const SettledScript =
    "io 2 -> 2;\n"
    "param cutoff = 800 in [20, 20000] hz smooth 2 ms;\n"
    "param q = 0.7 in [0.3, 8] smooth 3 ms;\n"
    "param gain = -6 in [-40, 12] db smooth 1 ms;\n"
    "param time = 0.01 in [0.001, 0.02] s smooth 4 ms;\n"
    "param on = 1 in [0, 1] nosmooth;\n"
    "delay d[0.03 s];\n"
    "block { let twice = 2 * cutoff; }\n"
    "process {\n"
    "  let y = lowpass(in, cutoff, q);\n"
    "  let w = d.read(time * sr);\n"
    "  d.write(in + 0.3 * w);\n"
    "  out = on * db2lin(gain) * (y + w) + in / twice * sr / q;\n"
    "}\n";

TEST(Kernel, SettledAndMovingFrameLoopsGiveTheSameBitsAtEveryBlockSize) {
  // Optimized, the frame loop has a version for blocks in which no
  // smoother moves, where what depends on parameters alone is computed
  // once per block. It must give exactly what the per-frame computation
  // gives: -O0 has only the per-frame version. Blocks of every size from
  // 1 to 130, parameters moving, settling inside a block and still, and
  // a change of the nosmooth parameter.
  std::vector<float> In = stereoNoise(2600);
  struct Change {
    size_t Frame;
    const char *Name;
    float Value;
  };
  const Change Changes[] = {
      {300, "cutoff", 5000},  {310, "gain", 3},  {700, "q", 4},
      {1200, "time", 0.002f}, {1500, "on", 0},   {1510, "on", 1},
      {1900, "cutoff", 120},  {1900, "q", 0.5f}, {2300, "gain", -40}};
  auto Render = [&](unsigned Level, unsigned long Block) {
    CompileOptions O;
    O.optLevel = Level;
    Instance I(compile(SettledScript, O));
    std::vector<float> Out;
    for (size_t At = 0; At < In.size() / 2; At += Block) {
      for (const Change &C : Changes)
        if (C.Frame >= At && C.Frame < At + Block)
          I.setTarget(C.Name, C.Value);
      size_t N = std::min<size_t>(Block, In.size() / 2 - At);
      auto Part = I.run(std::vector<float>(In.begin() + long(2 * At),
                                           In.begin() + long(2 * (At + N))),
                        N);
      Out.insert(Out.end(), Part.begin(), Part.end());
    }
    EXPECT_EQ(I.header().nonfinite_samples, 0u);
    return Out;
  };
  // Changes apply at the start of the block holding their frame, so each
  // block size is its own render: -O0 and -O3 of the same size must agree.
  for (unsigned long Block = 1; Block <= 130; ++Block) {
    std::vector<float> Slow = Render(0, Block), Fast = Render(3, Block);
    ASSERT_EQ(Slow.size(), Fast.size());
    for (size_t S = 0; S < Slow.size(); ++S)
      ASSERT_EQ(std::bit_cast<uint32_t>(Slow[S]),
                std::bit_cast<uint32_t>(Fast[S]))
          << "blocks of " << Block << ", sample " << S << ": " << Slow[S]
          << " at -O0, " << Fast[S] << " at -O3";
  }
}

TEST(Kernel, ASettledBlockStillSeesATargetSetBeforeIt) {
  // The settled test is made at the start of each callback: a target set
  // between two callbacks starts the glide in the next one.
  CompileOptions O;
  O.optLevel = 3;
  Instance I(compile("io 0 -> 1;\nparam g = 0 in [0, 1] smooth 10 ms;\n"
                     "process { out = sin(g); }",
                     O));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({}, 64), std::vector<float>(64, 0.0f)); // settled at 0
  I.setTarget("g", 1);
  std::vector<float> Out = I.run({}, 64);
  double Coef = 1 - std::exp(-4.6 / (0.010 * Rate));
  EXPECT_NEAR(Out[0], std::sin(Coef), 1e-6);
  EXPECT_GT(Out[63], Out[0]);
}

/// Compiles and runs a few kernels; true when each gives its own output.
bool compileAndRunSeveral(int Seed) {
  bool Ok = true;
  for (int Round = 0; Round < 8; ++Round) {
    Compiler C;
    int Gain = Seed * 10 + Round;
    auto K = C.compileSource(
        "t.dsp", "io 1 -> 1;\nprocess { out = onepole(in, 1000) * 0 + in * " +
                     std::to_string(Gain) + "; }");
    if (!K)
      return false;
    Instance I(std::move(K));
    Ok &= I.run({1}, 1)[0] == float(Gain);
  }
  return Ok;
}

[[noreturn]] void compileOnTwoThreadsAndExit() {
  bool A = false;
  bool B = false;
  std::thread T1([&] { A = compileAndRunSeveral(1); });
  std::thread T2([&] { B = compileAndRunSeveral(2); });
  T1.join();
  T2.join();
  std::exit(A && B ? 0 : 1);
}

TEST(Kernel, CompilersOnSeveralThreadsAtOnce) {
  // Compiler.h: "several Compilers may run on several threads"; Jit.h: the
  // engine may be called "from any non-audio thread, concurrently". Run in
  // a child process, so that a crash fails this test and nothing else.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(compileOnTwoThreadsAndExit(), ::testing::ExitedWithCode(0), "")
      << "two threads compiling at once crashed or failed";
}

//===-- The descriptor -------------------------------------------------------------------===//

TEST(Kernel, EveryExampleExportsTheCurrentAbiAndRuns) {
  for (const fs::path &P : examples()) {
    SCOPED_TRACE(P.filename().string());
    for (bool Double : {false, true}) {
      CompileOptions O;
      O.doublePrecision = Double;
      Compiler C(O);
      auto K = C.compileSource(P.string(), readFile(P));
      ASSERT_TRUE(K) << diagText(C);
      const DspjitKernel &Info = K->info();
      EXPECT_EQ(Info.abi_version, uint32_t(DSPJIT_ABI_VERSION));
      EXPECT_EQ(Info.instance_align, 64u);
      EXPECT_EQ(Info.instance_size % 64, 0u);
      EXPECT_EQ(Info.sample_rate, Rate);
      EXPECT_TRUE(Info.process && Info.init);
      EXPECT_GE(Info.inputs + Info.outputs, 1u);
      for (uint32_t S = 0; S < Info.num_slots; ++S) {
        const DspjitSlot &Sl = Info.slots[S];
        EXPECT_LE(uint64_t(Sl.offset), Info.instance_size);
        // An instrument's notes are host-facing too: the voice allocator
        // writes them as floats, --double or not.
        bool HostFacing = Sl.kind == DSPJIT_SLOT_PARAM ||
                          Sl.kind == DSPJIT_SLOT_METER ||
                          Sl.kind == DSPJIT_SLOT_NOTE;
        EXPECT_EQ(Sl.elem_size, HostFacing || !Double ? 4u : 8u) << Sl.name;
      }
      Instance I(std::move(K));
      std::vector<float> In(64 * Info.inputs, 0.25f);
      for (float S : I.run(In, 64))
        EXPECT_TRUE(std::isfinite(S));
    }
  }
}

TEST(Kernel, FindSlotAndFindParam) {
  Instance I(compile("io 1 -> 1;\nparam g = 1 in [0, 1];\nstate s = 0;\n"
                     "process { s += in; out = s * g; }"));
  ASSERT_TRUE(I);
  ASSERT_TRUE(I.kernel().findSlot("s"));
  EXPECT_EQ(I.kernel().findSlot("s")->kind, uint32_t(DSPJIT_SLOT_STATE));
  EXPECT_EQ(I.kernel().findParam("s"), nullptr); // a state is not a parameter
  EXPECT_EQ(I.kernel().findSlot("g"), I.kernel().findParam("g"));
  EXPECT_EQ(I.info().num_slots, 2u);
}

//===-- Compile errors and emit ------------------------------------------------------------===//

TEST(Compile, ErrorsGiveNoKernelAndEveryDiagnostic) {
  Compiler C;
  auto K =
      C.compileSource("bad.dsp", "io 1 -> 1;\nprocess {\n  out = nope + in;\n"
                                 "  let x = [1, 2] + [1, 2, 3];\n}");
  EXPECT_FALSE(K);
  ASSERT_EQ(C.diagnostics().errorCount(), 2u) << diagText(C);
  EXPECT_EQ(C.diagnostics().shortForm(C.diagnostics().all()[0]),
            "3:9: unknown name 'nope'");
  EXPECT_EQ(C.diagnostics().shortForm(C.diagnostics().all()[1]),
            "4:11: operands of '+' have different widths (2 and 3)");
}

TEST(Compile, ACompilerCanBeReused) {
  Compiler C;
  EXPECT_FALSE(C.compileSource("a.dsp", "io 1 -> 1;\nprocess { out = nope; }"));
  EXPECT_TRUE(C.diagnostics().hasErrors());
  auto K = C.compileSource("b.dsp", "io 1 -> 1;\nprocess { out = in; }");
  EXPECT_TRUE(K) << diagText(C);
  EXPECT_FALSE(C.diagnostics().hasErrors()); // the earlier errors are gone
}

TEST(Compile, SyntaxErrorsDoNotCascade) {
  Compiler C;
  EXPECT_FALSE(C.compileSource("s.dsp", "io 1 -> 1;\nprocess { out = in +; }"));
  ASSERT_EQ(C.diagnostics().errorCount(), 1u) << diagText(C);
  EXPECT_EQ(C.diagnostics().all()[0].Id, DiagId::ExpectedExpr);
}

TEST(Compile, AFailedLetDoesNotCascadeIntoUnknownNames) {
  // LANGUAGE.md section 2: `let f = 440hz;` is an error -- one error. The
  // name is declared right there; "unknown name 'f'" would mislead.
  Compiler C;
  EXPECT_FALSE(C.compileSource(
      "u.dsp", "io 1 -> 1;\nprocess { let f = 440hz; out = f * in; }"));
  EXPECT_EQ(C.diagnostics().errorCount(), 1u) << diagText(C);
  ASSERT_FALSE(C.diagnostics().all().empty());
  EXPECT_EQ(C.diagnostics().shortForm(C.diagnostics().all()[0]),
            "2:22: expected ';', found 'hz'");
}

TEST(Compile, SourceLargerThanOneMebibyteIsRefused) {
  Compiler C;
  std::string Big =
      "io 1 -> 1;\nprocess { out = in; }\n" + std::string(1 << 20, ' ');
  EXPECT_FALSE(C.compileSource("big.dsp", Big));
  ASSERT_EQ(C.diagnostics().errorCount(), 1u);
  EXPECT_EQ(C.diagnostics().all()[0].Id, DiagId::SourceTooLarge);
}

/// A directory of scripts that import each other.
class TempDir {
public:
  TempDir() {
    static int Counter = 0;
    Path = fs::temp_directory_path() /
           ("dspjit_unit_dir_" + std::to_string(getpid()) + "_" +
            std::to_string(Counter++));
    fs::create_directories(Path);
  }
  ~TempDir() {
    std::error_code EC;
    fs::remove_all(Path, EC);
  }
  std::string write(const std::string &Name, const std::string &Text) {
    std::ofstream(Path / Name) << Text;
    return (Path / Name).string();
  }
  std::string path(const std::string &Name) const {
    return (Path / Name).string();
  }

private:
  fs::path Path;
};

TEST(Compile, ImportsResolveRelativeToTheScriptOnceEach) {
  TempDir D;
  // lib imports the main script and itself: cycles are harmless, and a file
  // imported several times is read once (no redefinitions).
  D.write("lib.dsp", "import \"main.dsp\";\nimport \"lib.dsp\";\n"
                     "fn triple(x) { return x * 3; }\n"
                     "fn onepole(x, c) { return x + c; }\n");
  fs::create_directories(D.path("sub"));
  D.write("sub/more.dsp", "import \"../lib.dsp\";\nconst offset = 100;\n");
  Compiler C;
  auto K = C.compileSource(
      D.path("main.dsp"),
      "import \"lib.dsp\";\nimport \"./lib.dsp\";\nimport \"sub/more.dsp\";\n"
      "io 1 -> 1;\nprocess { out = triple(in) + onepole(offset, 1); }");
  ASSERT_TRUE(K) << diagText(C);
  Instance I(std::move(K));
  // An imported definition replaces the standard library's, like the script's
  // own.
  EXPECT_EQ(I.run({1, 2}, 2), (std::vector<float>{104, 107}));
}

// Hot reload's optimized tier compiles the texts its quick tier read: a
// save in between must not slip into the older version's second compile.
TEST(Compile, PinnedSourcesAreCompiledInsteadOfTheFiles) {
  TempDir D;
  D.write("lib.dsp", "const k = 2;\n");
  const std::string Main =
      D.write("main.dsp", "import \"lib.dsp\";\nio 1 -> 1;\n"
                          "process { out = in * k; }\n");
  Compiler First;
  ASSERT_TRUE(First.compileFile(Main)) << diagText(First);
  Compiler::SourceTexts Texts = First.sourceTexts();
  ASSERT_EQ(Texts.size(), 2u); // the script and its import, not std
  EXPECT_EQ(Texts.count(Main), 1u);
  // Both files saved again after the first compile.
  D.write("lib.dsp", "const k = 3;\n");
  D.write("main.dsp", "import \"lib.dsp\";\nio 1 -> 1;\n"
                      "process { out = in * k + 1; }\n");
  Compiler Second;
  Second.pinSources(Texts);
  Instance Pinned(Second.compileFile(Main));
  ASSERT_TRUE(Pinned) << diagText(Second);
  EXPECT_EQ(Pinned.run({1, 2}, 2), (std::vector<float>{2, 4}));
  EXPECT_EQ(Second.sourceTexts(), Texts);
  // Unpinned, the disk's texts.
  Compiler Third;
  Instance Fresh(Third.compileFile(Main));
  ASSERT_TRUE(Fresh) << diagText(Third);
  EXPECT_EQ(Fresh.run({1, 2}, 2), (std::vector<float>{4, 7}));
}

TEST(Compile, MissingImportIsReportedAtTheImport) {
  TempDir D;
  Compiler C;
  EXPECT_FALSE(C.compileSource(
      D.path("main.dsp"),
      "io 1 -> 1;\nimport \"nope.dsp\";\nprocess { out = in; }"));
  ASSERT_EQ(C.diagnostics().errorCount(), 1u) << diagText(C);
  const Diagnostic &E = C.diagnostics().all()[0];
  EXPECT_EQ(E.Id, DiagId::ImportFailed);
  EXPECT_NE(E.Message.find("'nope.dsp'"), std::string::npos) << E.Message;
  EXPECT_EQ(C.diagnostics().sources().lineColumn(E.Loc),
            std::make_pair(2u, 8u));
}

TEST(Compile, ErrorsInAnImportedFileNameThatFile) {
  TempDir D;
  D.write("lib.dsp", "fn helper(x) {\n  return x + nosuchname;\n}\n");
  Compiler C;
  EXPECT_FALSE(C.compileSource(
      D.path("main.dsp"),
      "import \"lib.dsp\";\nio 1 -> 1;\nprocess { out = in; }"));
  ASSERT_EQ(C.diagnostics().errorCount(), 1u) << diagText(C);
  const Diagnostic &E = C.diagnostics().all()[0];
  EXPECT_EQ(E.Id, DiagId::UnknownName);
  EXPECT_EQ(
      fs::path(C.diagnostics().sources().file(E.Loc.File).Path).filename(),
      "lib.dsp");
  EXPECT_EQ(C.diagnostics().sources().lineColumn(E.Loc),
            std::make_pair(2u, 14u));
}

TEST(Kernel, OutputLanesCanBeAssignedOneByOne) {
  Instance I(
      compile("io 2 -> 2;\nprocess { out[0] = in[1]; out[1] = in[0] * 2; }"));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({1, 2, 3, 4}, 2), (std::vector<float>{2, 2, 4, 6}));
}

const char *EmitScript = "io 1 -> 1;\nparam g = 0.5 in [0, 1];\n"
                         "process { out = onepole(in * g, 1000); }\n";

TEST(Emit, EveryPhaseGivesItsDump) {
  TempScript F(EmitScript);
  Compiler C;
  std::string Tokens = C.emitFile(F.path(), EmitKind::Tokens);
  EXPECT_NE(Tokens.find("1:1\t'io'"), std::string::npos) << Tokens;
  std::string Ast = C.emitFile(F.path(), EmitKind::Ast);
  EXPECT_NE(Ast.find("(io 1 1)"), std::string::npos) << Ast;
  EXPECT_NE(Ast.find("(call onepole (* in g) 1000)"), std::string::npos) << Ast;
  std::string Ir = C.emitFile(F.path(), EmitKind::Llvm);
  EXPECT_NE(Ir.find("define"), std::string::npos);
  EXPECT_NE(Ir.find("dspjit_process"), std::string::npos);
  EXPECT_NE(Ir.find("dspjit_init"), std::string::npos);
  EXPECT_NE(Ir.find(DSPJIT_KERNEL_SYMBOL), std::string::npos);
  std::string Opt = C.emitFile(F.path(), EmitKind::LlvmOpt);
  EXPECT_NE(Opt.find("dspjit_process"), std::string::npos);
  EXPECT_NE(Opt.find("define"), std::string::npos);
  EXPECT_NE(Opt, Ir);
  std::string Asm = C.emitFile(F.path(), EmitKind::Asm);
  EXPECT_NE(Asm.find("dspjit_process"), std::string::npos);
  EXPECT_NE(Asm.find("ret"), std::string::npos);
#ifdef DSPJIT_TEST_X86
  EXPECT_TRUE(Asm.find("mulss") != std::string::npos ||
              Asm.find("mulps") != std::string::npos)
      << "no SSE/AVX multiply in the assembly";
  EXPECT_NE(Asm.find("ldmxcsr"), std::string::npos); // the denormal guard
#endif
  EXPECT_FALSE(C.diagnostics().hasErrors());
}

TEST(Emit, CheckedShowsTheInlinedFoldedProgramAndItsLayout) {
  // Each call inlined with its state named by the call-site path, the
  // unrolled counter and `1 + 2` folded, widths known, every slot placed.
  TempScript F(
      "io 1 -> 2;\nparam g = 0.5 in [0, 1];\ndelay d[4];\n"
      "fn acc(x, k) { state y = 0; y += x * k; return y; }\n"
      "process {\n  let s = 0;\n  unroll i in 0..2 { s += acc(in, i + 1); }\n"
      "  d.write(in * g);\n  out = [s, d.tap(1 + 2)];\n}\n");
  CompileOptions O;
  O.useStdLib = false;
  Compiler C(O);
  EXPECT_EQ(
      C.emitFile(F.path(), EmitKind::Checked),
      "(program inputs=1 outputs=2 rate=48000 precision=float instance=192)\n"
      "(slot 0 param @g width=1 default=0.5 min=0 max=1 smooth=0.01 offset=64 "
      "value-offset=68)\n"
      "(slot 1 delay @d width=1 length=4 capacity=8 position-offset=72 offset=128)\n"
      "(slot 2 state @process/i=0/acc#1/y width=1 init=0 offset=76)\n"
      "(slot 3 state @process/i=1/acc#2/y width=1 init=0 offset=80)\n"
      "(local %0 \"s\" width=1)\n"
      "(local %1 \"acc result\" width=1)\n"
      "(local %2 \"x\" width=1)\n"
      "(local %3 \"acc result\" width=1)\n"
      "(local %4 \"x\" width=1)\n"
      "(block)\n"
      "(process\n"
      "  (set %0 0)\n"
      "  (set %2 in)\n"
      "  (inline #0 result=%1\n"
      "    (set @process/i=0/acc#1/y (+ @process/i=0/acc#1/y (* %2 1)))\n"
      "    (return #0 @process/i=0/acc#1/y))\n"
      "  (set %0 (+ %0 %1))\n"
      "  (set %4 in)\n"
      "  (inline #1 result=%3\n"
      "    (set @process/i=1/acc#2/y (+ @process/i=1/acc#2/y (* %4 2)))\n"
      "    (return #1 @process/i=1/acc#2/y))\n"
      "  (set %0 (+ %0 %3))\n"
      "  (write @d (* in @g))\n"
      "  (set out (vector %0 (tap @d 3)):2))\n");
  EXPECT_FALSE(C.diagnostics().hasErrors());
}

#ifdef DSPJIT_TEST_X86
TEST(Options, CpuIsAnOptionNotTheEnvironment) {
  // What DSPJIT_CPU set for the whole process is CompileOptions::cpu, per
  // compile (the tools fill it from the variable: applyEnvironment).
  EXPECT_TRUE(targetHasAvx2("x86-64-v3"));
  EXPECT_FALSE(targetHasAvx2("x86-64"));
  EXPECT_FALSE(targetHasFma("x86-64"));
  TempScript F("io 1 -> 1;\nprocess { out = tanh(in); }\n");
  CompileOptions O;
  O.cpu = "x86-64-v3";
  std::string Ir = Compiler(O).emitFile(F.path(), EmitKind::Llvm);
  EXPECT_NE(Ir.find("\"target-cpu\"=\"x86-64-v3\""), std::string::npos) << Ir;
  Instance I(compile("io 1 -> 1;\nprocess { out = in * 2; }", O));
  ASSERT_TRUE(I);
  EXPECT_EQ(I.run({1.5f}, 1), std::vector<float>{3.0f});
}
#endif

TEST(Options, LlvmOptionsOtherThanTheFirstCompilesAreRefused) {
  // LLVM keeps its options for the whole process: a compile asking for
  // others must fail rather than silently run with the first ones.
  ASSERT_TRUE(compile("io 1 -> 1;\nprocess { out = in; }"));
  CompileOptions O;
  O.llvmArgs = "-enable-misched";
  Compiler C(O);
  EXPECT_FALSE(C.compileSource("x.dsp", "io 1 -> 1;\nprocess { out = in; }"));
  ASSERT_EQ(C.diagnostics().all().size(), 1u);
  EXPECT_EQ(C.diagnostics().all()[0].Id, DiagId::BadLlvmOptions);
  EXPECT_NE(C.diagnostics().all()[0].Message.find("process-wide"),
            std::string::npos)
      << C.diagnostics().all()[0].Message;
}

TEST(Options, TheEnvironmentFillsOnlyWhatItSets) {
  ::setenv("DSPJIT_CPU", "x86-64-v2", 1);
  ::setenv("DSPJIT_LLVM_ARGS", "", 1);
  ::unsetenv("DSPJIT_PIPELINE");
  CompileOptions O;
  O.llvmArgs = "-kept";
  applyEnvironment(O);
  EXPECT_EQ(O.cpu, "x86-64-v2");
  EXPECT_EQ(O.llvmArgs, "-kept") << "an empty variable changes nothing";
  EXPECT_EQ(O.pipeline, "");
  EXPECT_EQ(CompileOptions::fromEnvironment().cpu, "x86-64-v2");
  ::unsetenv("DSPJIT_CPU");
  ::unsetenv("DSPJIT_LLVM_ARGS");
  EXPECT_EQ(CompileOptions::fromEnvironment().cpu, "");
}

TEST(Options, IrIsVerifiedByDefault) { EXPECT_TRUE(CompileOptions().verifyIR); }

TEST(Emit, ErrorsGiveAnEmptyDump) {
  TempScript F("io 1 -> 1;\nprocess { out = nope; }");
  Compiler C;
  EXPECT_EQ(C.emitFile(F.path(), EmitKind::Llvm), "");
  EXPECT_TRUE(C.diagnostics().hasErrors());
  EXPECT_EQ(C.emitFile("/nonexistent/dir/x.dsp", EmitKind::Tokens), "");
  EXPECT_TRUE(C.diagnostics().hasErrors());
}

size_t countOf(const std::string &Text, const std::string &What) {
  size_t N = 0;
  for (size_t At = Text.find(What); At != std::string::npos;
       At = Text.find(What, At + 1))
    ++N;
  return N;
}

TEST(Emit, OptimizationPromotesLocalsToRegisters) {
  TempScript F(BusyScript);
  CompileOptions O0;
  O0.optLevel = 0;
  std::string Unopt = Compiler(O0).emitFile(F.path(), EmitKind::LlvmOpt);
  std::string Opt = Compiler().emitFile(F.path(), EmitKind::LlvmOpt);
  ASSERT_FALSE(Unopt.empty());
  ASSERT_FALSE(Opt.empty());
  EXPECT_LT(countOf(Opt, " alloca "), countOf(Unopt, " alloca "));
}

TEST(Emit, NothingIsReassociatedOrFusedBehindTheScriptsBack) {
  // LANGUAGE.md section 8: the compiler does not reassociate floating-point
  // arithmetic, and fuses a multiply and an add only where the script
  // writes a product as an operand of a sum or difference (on a CPU with
  // FMA): no fast-math flags in the IR, and no fused multiply-adds in the
  // machine code of a script that writes none, whatever the optimizer
  // finds next to each other (`let`s, state, a product in one statement
  // and a sum in the next).
  std::vector<std::string> Paths;
  for (const fs::path &P : examples())
    Paths.push_back(P.string());
  TempScript Busy(BusyScript);
  Paths.push_back(Busy.path());
  for (const std::string &Path : Paths) {
    SCOPED_TRACE(Path);
    Compiler C;
    std::string Ir = C.emitFile(Path, EmitKind::LlvmOpt);
    ASSERT_FALSE(Ir.empty()) << diagText(C);
    for (const char *Flag : {" fast ", " reassoc ", " contract ", " nnan ",
                             " ninf ", " nsz ", " arcp ", " afn "})
      EXPECT_EQ(Ir.find(Flag), std::string::npos) << "fast-math flag" << Flag;
  }
  TempScript Apart("io 3 -> 1;\nstate s = 0;\nprocess {\n"
                   "  let p = in[0] * in[1];\n  let q = p + in[2];\n"
                   "  s = s * 0.5;\n  out = q + s + in[0] / in[1];\n}\n");
  for (unsigned Level : {0u, 3u}) {
    CompileOptions O;
    O.optLevel = Level;
    Compiler C(O);
    std::string Asm = C.emitFile(Apart.path(), EmitKind::Asm);
    ASSERT_FALSE(Asm.empty()) << diagText(C);
    for (const char *Fma : {"vfmadd", "vfmsub", "vfnmadd", "vfnmsub"})
      EXPECT_EQ(Asm.find(Fma), std::string::npos) << Fma << " at -O" << Level;
  }
}

TEST(Kernel, AProductInASumIsFusedWhereTheTargetHasFma) {
  // a * b + c, c + a * b, a * b - c and c - a * b round once on a CPU with
  // FMA (twice elsewhere), at every level; a product kept in a `let` and
  // added in the next statement rounds twice everywhere. Values where the
  // two differ: a * b = 1 + 2^-12 + 2^-26 exactly, which a float product
  // rounds to 1 + 2^-12, so a * b - 1 is 2^-12 + 2^-26 fused, 2^-12 not.
  const float A = 1 + 0x1p-13f, B = A, M = -1, P = 1;
  const bool Fused = targetHasFma();
  volatile float Product = A * B; // rounded, as a product apart
  const float Prod = Product;
  const float Exact = 0x1p-12f + 0x1p-26f;
  struct Form {
    const char *Expr;
    float Fused, Apart;
  };
  const Form Forms[] = {
      {"in[0] * in[1] + in[2]", Exact, Prod + M},
      {"in[2] + in[0] * in[1]", Exact, M + Prod},
      {"in[0] * in[1] - in[3]", Exact, Prod - P},
      {"in[3] - in[0] * in[1]", -Exact, P - Prod},
  };
  for (unsigned Level : {0u, 3u}) {
    CompileOptions O;
    O.optLevel = Level;
    for (const Form &F : Forms) {
      Instance I(compile(
          std::string("io 4 -> 1;\nprocess { out = ") + F.Expr + "; }", O));
      ASSERT_TRUE(I);
      EXPECT_EQ(I.run({A, B, M, P}, 1)[0], Fused ? F.Fused : F.Apart)
          << F.Expr << " at -O" << Level;
    }
    Instance Let(compile("io 4 -> 1;\nprocess { let p = in[0] * in[1]; "
                         "out = p + in[2]; }",
                         O));
    ASSERT_TRUE(Let);
    EXPECT_EQ(Let.run({A, B, M, P}, 1)[0], Prod + M) << "-O" << Level;
  }
  EXPECT_EQ(Prod + M, 0x1p-12f); // the values tell the two apart
}

TEST(Compile, WithoutTheStandardLibrary) {
  CompileOptions O;
  O.useStdLib = false;
  Compiler C(O);
  EXPECT_TRUE(
      C.compileSource("plain.dsp", "io 1 -> 1;\nprocess { out = tanh(in); }"))
      << diagText(C);
  EXPECT_FALSE(C.compileSource(
      "std.dsp", "io 1 -> 1;\nprocess { out = onepole(in, 100); }"));
  ASSERT_TRUE(C.diagnostics().hasErrors());
  EXPECT_NE(C.diagnostics().all()[0].Message.find("'onepole'"),
            std::string::npos);
}

//===-- Containment --------------------------------------------------------------------------===//

TEST(Containment, ScriptsCannotCallProcessFunctions) {
  for (const char *Fn : {"malloc", "system", "printf", "free", "memset", "exit",
                         "abort", "sinf", "dlopen", "dspjit_process"}) {
    Compiler C;
    std::string Src =
        std::string("io 1 -> 1;\nprocess { out = ") + Fn + "(in); }";
    EXPECT_FALSE(C.compileSource("evil.dsp", Src)) << Fn;
    ASSERT_TRUE(C.diagnostics().hasErrors()) << Fn;
    const std::string &Msg = C.diagnostics().all()[0].Message;
    EXPECT_NE(Msg.find(std::string("'") + Fn + "'"), std::string::npos) << Msg;
    EXPECT_TRUE(C.diagnostics().all()[0].Id == DiagId::UnknownFunction ||
                C.diagnostics().all()[0].Id == DiagId::UnknownFunctionSuggest)
        << Msg;
  }
}

TEST(Containment, CallStatementsAreCheckedToo) {
  Compiler C;
  EXPECT_FALSE(C.compileSource("evil.dsp",
                               "io 1 -> 1;\nprocess { system(1); out = in; }"));
  EXPECT_NE(C.diagnostics().all()[0].Message.find("'system'"),
            std::string::npos);
}

/// The functions an IR dump declares, other than LLVM intrinsics.
std::vector<std::string> declaredFunctions(const std::string &Ir) {
  std::vector<std::string> Names;
  std::istringstream In(Ir);
  std::string Line;
  while (std::getline(In, Line)) {
    if (Line.rfind("declare ", 0) != 0)
      continue;
    size_t At = Line.find('@');
    size_t Paren = Line.find('(', At);
    EXPECT_NE(At, std::string::npos) << Line;
    if (At == std::string::npos || Paren == std::string::npos)
      continue;
    std::string Name = Line.substr(At + 1, Paren - At - 1);
    if (!Name.empty() && Name.front() == '"')
      Name = Name.substr(1, Name.size() - 2);
    if (Name.rfind("llvm.", 0) != 0)
      Names.push_back(Name);
  }
  return Names;
}

void expectOnlyWhitelistedCalls(const std::string &Path,
                                const std::string &What) {
  const auto &White = JitEngine::mathWhitelist();
  std::set<std::string> Allowed(White.begin(), White.end());
  for (bool Double : {false, true}) {
    for (unsigned Level : {0u, 3u}) {
      CompileOptions O;
      O.doublePrecision = Double;
      O.optLevel = Level;
      Compiler C(O);
      std::string Ir = C.emitFile(Path, EmitKind::LlvmOpt);
      ASSERT_FALSE(Ir.empty()) << What << ": " << diagText(C);
      EXPECT_NE(Ir.find("define"), std::string::npos);
      for (const std::string &Name : declaredFunctions(Ir))
        EXPECT_TRUE(Allowed.count(Name))
            << What << (Double ? " (double" : " (float") << ", -O" << Level
            << ") declares '" << Name
            << "', which is not in the math whitelist";
    }
  }
}

TEST(Containment, ExamplesCallNothingButTheMathWhitelist) {
  std::vector<fs::path> Files = examples();
  EXPECT_GE(Files.size(), 13u);
  for (const fs::path &P : Files)
    expectOnlyWhitelistedCalls(P.string(), P.filename().string());
}

const char *EveryBuiltinScript =
    "io 2 -> 2;\nprocess {\n"
    "  let x = in * 0.5;\n"
    "  let a = sin(x) + cos(x) + tan(x) + asin(x) + acos(x) + atan(x) + atan2(x, 1 + x);\n"
    "  let b = sinh(x) + cosh(x) + tanh(x) + exp(x) + exp2(x) + log(2 + x) + log2(2 + x);\n"
    "  let c = log10(2 + x) + pow(2 + x, x) + sqrt(abs(x)) + floor(x) + ceil(x) + round(x);\n"
    "  let d = min(x, 0) + max(x, 0) + clamp(x, -0.1, 0.1) + fmod(x, 0.3) + x % 0.2;\n"
    "  out = a + b + c + d + sum(x) + mean(x) + sum(iota(3));\n"
    "}\n";

TEST(Containment, EveryBuiltinCallsOnlyTheMathWhitelist) {
  TempScript F(EveryBuiltinScript);
  expectOnlyWhitelistedCalls(F.path(), "every built-in");
  // And the JIT, which links only the whitelist, resolves every call.
  for (bool Double : {false, true}) {
    CompileOptions O;
    O.doublePrecision = Double;
    Instance I(compile(EveryBuiltinScript, O));
    ASSERT_TRUE(I);
    for (float S : I.run({0.3f, -0.2f, 0.7f, 0.1f}, 2))
      EXPECT_TRUE(std::isfinite(S));
  }
}

TEST(Containment, TheWhitelistIsMathOnly) {
  for (const std::string &Name : JitEngine::mathWhitelist())
    for (const char *Bad :
         {"malloc", "free", "system", "printf", "exec", "open", "dlsym"})
      EXPECT_EQ(Name.find(Bad), std::string::npos) << Name;
}

} // namespace
