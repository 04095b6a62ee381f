//===- tests/unit/automation_test.cpp - Parameter curves in renders -------===//
//
// runtime/Automation.h: `--automate` curves parsed and checked against a
// kernel's parameters, their values frame by frame (straight lines,
// exponential for hz, holds and jumps), and a render whose every frame sees
// its curve's value exactly, at every block size. (The curve through the
// smoother is checked against a numpy model in python/tests.)
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Automation.h"
#include "runtime/Render.h"
#include "tests/support/Compile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace dspjit;

namespace {

constexpr double Rate = 48000;

std::shared_ptr<Kernel> compile(const std::string &Source) {
  return test::compileForTest(Source, Rate, "auto.dsp");
}

// The parameters' values as the output: what the kernel saw at each frame.
const char *const Probe = R"(
io 0 -> 2;
param gain = 0.5 in [0, 1] nosmooth;
param cutoff = 1000 in [20, 20000] hz nosmooth;
process { out = [gain, cutoff]; }
)";

Automation parse(const Kernel &K, const std::string &Spec) {
  auto A = parseAutomation(Spec, K.info(), Rate);
  EXPECT_TRUE(A) << (A ? "" : A.error());
  return A ? *A : Automation{};
}

std::string error(const Kernel &K, const std::string &Spec) {
  auto A = parseAutomation(Spec, K.info(), Rate);
  EXPECT_FALSE(A) << Spec;
  return A ? "" : A.error();
}

TEST(Automation, ARampIsStraightBetweenBreakpointsAndHoldsOutsideThem) {
  auto K = compile(Probe);
  Automation A = parse(*K, "gain=ramp:0.2@1s,0.6@2s,0.6@3s,0@3s");
  EXPECT_FALSE(A.Exponential);
  ASSERT_EQ(A.Points.size(), 4u);
  EXPECT_EQ(A.valueAt(0), 0.2f);           // before the first: its value
  EXPECT_EQ(A.valueAt(48000), 0.2f);       // on it
  EXPECT_FLOAT_EQ(A.valueAt(72000), 0.4f); // half way
  EXPECT_EQ(A.valueAt(96000), 0.6f);
  EXPECT_EQ(A.valueAt(143999), 0.6f); // held
  EXPECT_EQ(A.valueAt(144000), 0.0f); // two at one time: a jump
  EXPECT_EQ(A.valueAt(10 * 48000), 0.0f);
  // How long each value holds: until the first breakpoint, one frame while
  // moving, until the jump, and for good after the last.
  EXPECT_EQ(A.holdsFor(0), 48000u);
  EXPECT_EQ(A.holdsFor(48000), 1u);
  EXPECT_EQ(A.holdsFor(96000), 48000u);
  EXPECT_EQ(A.holdsFor(144000), UINT64_MAX);
}

TEST(Automation, AParameterInHzMovesInEqualRatios) {
  auto K = compile(Probe);
  Automation A = parse(*K, "cutoff=ramp:200@0s,20000@2s");
  EXPECT_TRUE(A.Exponential);
  EXPECT_FLOAT_EQ(A.valueAt(48000), 2000.0f); // the geometric middle
  EXPECT_FLOAT_EQ(A.valueAt(24000), 200.0f * std::sqrt(10.0f));
  EXPECT_EQ(A.valueAt(96000), 20000.0f);
}

TEST(Automation, ACsvFileGivesSecondsAndValuesWithAHeaderAndComments) {
  auto K = compile(Probe);
  auto Path = std::filesystem::temp_directory_path() / "dspjit-moves.csv";
  std::ofstream(Path) << "time,value\n# a sweep\n0, 0.1\n0.5,0.9 # up\n"
                         "\n1s,0.3\n";
  Automation A = parse(*K, "gain=" + Path.string());
  ASSERT_EQ(A.Points.size(), 3u);
  EXPECT_EQ(A.Points[1].Frame, 24000u);
  EXPECT_EQ(A.Points[2].Frame, 48000u);
  EXPECT_FLOAT_EQ(A.valueAt(12000), 0.5f);
  std::filesystem::remove(Path);
}

TEST(Automation, BadCurvesAreRefusedWithWhatIsWrong) {
  auto K = compile(Probe);
  EXPECT_NE(error(*K, "gain").find("is not NAME=ramp:"), std::string::npos);
  EXPECT_NE(error(*K, "gain=0.5").find("is not NAME=ramp:"), std::string::npos);
  EXPECT_NE(error(*K, "gian=ramp:0@0s").find("did you mean 'gain'"),
            std::string::npos);
  EXPECT_NE(error(*K, "gain=ramp:0.5")
                .find("'0.5' in 'gain=ramp:0.5' is not "
                      "VALUE@TIME"),
            std::string::npos);
  EXPECT_NE(error(*K, "gain=ramp:x@1s").find("'x' in"), std::string::npos);
  EXPECT_NE(error(*K, "gain=ramp:0@-1s").find("'-1s' in"), std::string::npos);
  EXPECT_NE(error(*K, "gain=ramp:0@2s,1@1s").find("comes before"),
            std::string::npos);
  EXPECT_EQ(error(*K, "gain=ramp:0@0s,2@1s"),
            "'2@1s': 2 is outside the range of 'gain' [0, 1]");
  EXPECT_NE(error(*K, "gain=ramp:nan@0s").find("is not a number"),
            std::string::npos);
  EXPECT_NE(error(*K, "gain=ramp:").find("is not NAME=ramp:"),
            std::string::npos);
  EXPECT_NE(error(*K, "gain=missing.csv").find("cannot read 'missing.csv'"),
            std::string::npos);

  auto Path = std::filesystem::temp_directory_path() / "dspjit-bad.csv";
  std::ofstream(Path) << "time,value\n0,0.1\n1;0.5\n";
  EXPECT_EQ(error(*K, "gain=" + Path.string()),
            Path.string() + ":3: '1;0.5' is not TIME,VALUE (seconds, then "
                            "the value)");
  std::ofstream(Path, std::ios::trunc) << "time,value\n";
  EXPECT_NE(error(*K, "gain=" + Path.string()).find("has no breakpoints"),
            std::string::npos);
  std::filesystem::remove(Path);
}

TEST(Automation, EveryFrameOfARenderSeesItsCurvesValueAtEveryBlockSize) {
  auto K = compile(Probe);
  const uint64_t Frames = 9000;
  for (unsigned Block : {1u, 37u, 64u, 1024u}) {
    std::vector<Automation> Curves = {
        parse(*K, "gain=ramp:0@1000frames,1@3000frames,1@5000frames,"
                  "0.25@5000frames"),
        parse(*K, "cutoff=ramp:50@0s,10000@8000frames")};
    auto Inst = Instance::create(K->info(), Rate);
    ASSERT_TRUE(Inst);
    for (const Automation &A : Curves)
      Inst->setParamImmediate(A.Param, A.valueAt(0));
    uint64_t Sets = 0;
    AutomationPlayer Player(Curves, [&](const std::string &N, float V) {
      Inst->setParam(N, V);
      ++Sets;
    });
    RenderOptions RO;
    RO.BlockSize = Block;
    RO.Frames = Frames;
    RO.Automate = [&](uint64_t F) { return Player.apply(F); };
    auto R = render(*Inst, std::monostate{}, RO);
    ASSERT_TRUE(R) << R.error();
    for (uint64_t F = 0; F < Frames; ++F) {
      ASSERT_EQ(R->Output[2 * F], Curves[0].valueAt(F))
          << "gain at frame " << F << ", blocks of " << Block;
      ASSERT_EQ(R->Output[2 * F + 1], Curves[1].valueAt(F))
          << "cutoff at frame " << F << ", blocks of " << Block;
    }
    // Set only when a value changed: while moving, and at the jump.
    EXPECT_LT(Sets, 2u * 8000u);
    // Whole blocks where nothing moves (after frame 8000 and before 1000,
    // but for cutoff's sweep): not one callback per frame.
    EXPECT_LT(R->Callbacks, 8000u + 2 * (1000 / Block + 1) + 2)
        << "blocks of " << Block;
  }
}

} // namespace
