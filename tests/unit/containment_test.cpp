//===- tests/unit/containment_test.cpp - Indices clamped at every boundary ===//
//
// A script cannot read or write outside its own arrays, delay lines and
// vector lanes, whatever index it computes: every index is clamped into
// range in the generated code, and a NaN index means the first element
// (the first frame back for a delay). These tests compile small kernels at
// -O0 and at -O3 (where the optimizer could remove a clamp it believed
// redundant), in float and in double precision, and feed them indices at
// and just past each boundary, negative, huge (past the range of int32 and
// of uint32), NaN and infinite, through the input so that nothing is folded
// at compile time. Scalar state declared around each array shows that no
// write lands next to it.
//
// The other parts of containment are tested where they live: calls outside
// the math whitelist (compiler_test.cpp, Containment.*), the instance
// memory limit (checker_test.cpp, tests/diagnostics/cases/memory.dsp and
// tests/cli), non-finite output (compiler_test.cpp, Kernel.NaNAndInfinity*).
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Instance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace dspjit;

namespace {

constexpr double Rate = 48000;
const float NaN = std::numeric_limits<float>::quiet_NaN();
const float Inf = std::numeric_limits<float>::infinity();
const float Max = std::numeric_limits<float>::max();

/// An index and the element, lane or frame it must reach once clamped
/// into [Lo, Hi].
struct Probe {
  float Index;
  int Expected;
};

/// Indices around a range [Lo, Hi] of whole numbers, and where each lands.
std::vector<Probe> probes(int Lo, int Hi) {
  return {
      {float(Lo), Lo},      {float(Lo) + 0.5f, Lo},
      {float(Hi), Hi},      {float(Hi) + 0.99f, Hi},
      {float(Hi + 1), Hi},  {float(Hi) + 1000, Hi},
      {float(Lo - 1), Lo},  {-1, Lo},
      {-0.0f, Lo},          {-1e6f, Lo},
      {2147483648.0f, Hi},  // 2^31: past int32
      {4294967296.0f, Hi},  // 2^32: past uint32
      {-2147483648.0f, Lo}, // -2^31
      {-4294967296.0f, Lo}, {1e30f, Hi},
      {-1e30f, Lo},         {Max, Hi},
      {-Max, Lo},           {Inf, Hi},
      {-Inf, Lo},           {NaN, Lo},
      {-NaN, Lo},
  };
}

struct Config {
  unsigned OptLevel;
  bool Double;
};

class Clamping : public ::testing::TestWithParam<Config> {
protected:
  /// Compiles `Source` for this configuration; fails the test on errors.
  std::unique_ptr<Kernel> compile(const std::string &Source) {
    CompileOptions O;
    O.optLevel = GetParam().OptLevel;
    O.doublePrecision = GetParam().Double;
    O.sampleRate = Rate;
    Compiler C(O);
    auto K = C.compileSource("clamp.dsp", Source);
    EXPECT_TRUE(K) << C.diagnostics().all().size() << " errors";
    return K;
  }
};

TEST_P(Clamping, ArrayReadsStayInTheArray) {
  auto K = compile("io 1 -> 1;\nstate a[4] = 0;\n"
                   "block { a[0] = 10; a[1] = 11; a[2] = 12; a[3] = 13; }\n"
                   "process { out = a[in]; }\n");
  ASSERT_TRUE(K);
  auto I = Instance::create(K->info(), Rate);
  ASSERT_TRUE(I) << I.error();
  for (const Probe &P : probes(0, 3)) {
    float Out = 0;
    I->process(&P.Index, &Out, 1);
    EXPECT_EQ(Out, float(10 + P.Expected)) << "a[" << P.Index << "]";
  }
  EXPECT_EQ(I->nonfiniteSamples(), 0u);
}

TEST_P(Clamping, ArrayWritesStayInTheArray) {
  // Guards on both sides of the array in the declaration order (and so,
  // for scalars, in the instance's layout).
  auto K = compile("io 1 -> 6;\nstate before = 7;\nstate a[4] = 0;\n"
                   "state after = 8;\n"
                   "process { a[in] = a[in] + 1; "
                   "out = [before, a[0], a[1], a[2], a[3], after]; }\n");
  ASSERT_TRUE(K);
  for (const Probe &P : probes(0, 3)) {
    auto I = Instance::create(K->info(), Rate);
    ASSERT_TRUE(I) << I.error();
    float Out[6] = {};
    I->process(&P.Index, Out, 1);
    std::vector<float> Expected = {7, 0, 0, 0, 0, 8};
    Expected[size_t(1 + P.Expected)] = 1;
    EXPECT_EQ(std::vector<float>(Out, Out + 6), Expected)
        << "a[" << P.Index << "] += 1";
  }
}

TEST_P(Clamping, RunTimeLaneReadsAndWritesStayInTheVector) {
  auto K = compile(
      "io 1 -> 4;\nprocess {\n  let v = [10, 11, 12];\n"
      "  let w = [0, 0, 0];\n  w[in] = 1;\n  out = [v[in], w[0], w[1], w[2]];\n}\n");
  ASSERT_TRUE(K);
  auto I = Instance::create(K->info(), Rate);
  ASSERT_TRUE(I) << I.error();
  for (const Probe &P : probes(0, 2)) {
    float Out[4] = {};
    I->process(&P.Index, Out, 1);
    std::vector<float> Expected = {float(10 + P.Expected), 0, 0, 0};
    Expected[size_t(1 + P.Expected)] = 1;
    EXPECT_EQ(std::vector<float>(Out, Out + 4), Expected) << "lane " << P.Index;
  }
}

TEST_P(Clamping, StateAndOutputLanesByRunTimeIndex) {
  // `out[i] = ...` and a vector state's lanes by a computed index.
  auto K =
      compile("io 1 -> 3;\nstate s = [0, 0, 0];\n"
              "process { s[in] = s[in] + 1; out[in] = 5; out = out + s; }\n");
  ASSERT_TRUE(K);
  for (const Probe &P : probes(0, 2)) {
    auto I = Instance::create(K->info(), Rate);
    ASSERT_TRUE(I) << I.error();
    float Out[3] = {};
    I->process(&P.Index, Out, 1);
    std::vector<float> Expected = {0, 0, 0};
    Expected[size_t(P.Expected)] = 6;
    EXPECT_EQ(std::vector<float>(Out, Out + 3), Expected) << "lane " << P.Index;
  }
}

/// Runs `Frames` frames of a two-lane input through a kernel with one
/// output: lane 0 a ramp 1, 2, 3... written into the delay, lane 1 the
/// position to read. Returns the output of the last frame.
float lastFrame(Instance &I, unsigned Frames, float Position) {
  std::vector<float> In(2 * Frames), Out(Frames);
  for (unsigned F = 0; F < Frames; ++F) {
    In[2 * F] = float(F + 1);
    In[2 * F + 1] = Position;
  }
  I.process(In.data(), Out.data(), Frames);
  return Out.back();
}

TEST_P(Clamping, DelayTapsStayInTheLine) {
  // The ring holds 8 frames for a 4-frame line, so a tap past the length
  // that was not clamped would find older samples there, and one past the
  // ring would find the neighbouring line's (filled with 1000s).
  auto K = compile("io 2 -> 1;\ndelay d[4];\ndelay other[4];\n"
                   "process { other.write(1000); d.write(in[0]); "
                   "out = d.tap(in[1]) + 0 * other.tap(1); }\n");
  ASSERT_TRUE(K);
  for (const Probe &P : probes(1, 4)) {
    auto I = Instance::create(K->info(), Rate);
    ASSERT_TRUE(I) << I.error();
    // After 20 frames (ramp 1..20, the write first), tap(n) is 21 - n.
    EXPECT_EQ(lastFrame(*I, 20, P.Index), float(21 - P.Expected))
        << "tap(" << P.Index << ")";
  }
}

TEST_P(Clamping, FractionalDelayReadsAtAndPastTheLength) {
  auto K = compile("io 2 -> 1;\ndelay d[4];\n"
                   "process { d.write(in[0]); out = d.read(in[1]); }\n");
  ASSERT_TRUE(K);
  struct Case {
    float Position;
    float Expected; // after the ramp 1..20: read(t) is 21 - t within [1, 4]
  } Cases[] = {
      {1, 20},     {1.25f, 19.75f},     {3.5f, 17.5f}, {3.999f, 17.001f},
      {4, 17},     {4.001f, 17},        {4.5f, 17},    {5, 17},
      {1e30f, 17}, {Max, 17},           {Inf, 17},     {0.5f, 20},
      {0, 20},     {-0.5f, 20},         {-1e30f, 20},  {-Inf, 20},
      {NaN, 20},   {4294967296.0f, 17},
  };
  for (const Case &C : Cases) {
    auto I = Instance::create(K->info(), Rate);
    ASSERT_TRUE(I) << I.error();
    EXPECT_NEAR(lastFrame(*I, 20, C.Position), C.Expected, 1e-3)
        << "read(" << C.Position << ")";
  }
}

TEST_P(Clamping, PerLaneDelayPositionsAreClampedPerLane) {
  auto K = compile(
      "io 2 -> 2;\ndelay d[4];\n"
      "process { d.write([in[0], in[0] * 10]); out = d.tap([in[1], -in[1]]); }\n");
  ASSERT_TRUE(K);
  for (float Position : {NaN, Inf, 1e30f, 100.0f, 2.0f}) {
    auto I = Instance::create(K->info(), Rate);
    ASSERT_TRUE(I) << I.error();
    std::vector<float> In(40), Out(40);
    for (unsigned F = 0; F < 20; ++F) {
      In[2 * F] = float(F + 1);
      In[2 * F + 1] = Position;
    }
    I->process(In.data(), Out.data(), 20);
    int Lane0 =
        std::isnan(Position) ? 1 : int(std::clamp(Position, 1.0f, 4.0f));
    int Lane1 =
        std::isnan(Position) ? 1 : int(std::clamp(-Position, 1.0f, 4.0f));
    EXPECT_EQ(Out[38], float(21 - Lane0)) << Position;
    EXPECT_EQ(Out[39], float(10 * (21 - Lane1))) << Position;
  }
}

INSTANTIATE_TEST_SUITE_P(Containment, Clamping,
                         ::testing::Values(Config{0, false}, Config{3, false},
                                           Config{0, true}, Config{3, true}),
                         [](const ::testing::TestParamInfo<Config> &Info) {
                           return std::string("O") +
                                  std::to_string(Info.param.OptLevel) +
                                  (Info.param.Double ? "Double" : "Float");
                         });

} // namespace
