//===- tests/reload/reload_render_test.cpp - dspjit render --swap ---------===//
//
// Swapping versions offline goes through the same HotSwap as a live reload,
// so these tests pin down, deterministically, what a user hears when they
// save: a broken version changes nothing, a good one takes over from its
// frame on with the state and the user's values, and the messages say so.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "tests/support/ChildProcess.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

const std::string Dspjit = DSPJIT_BINARY;

const char *V1 = R"(io 1 -> 1;
param feedback = 0.5 in [0, 0.9];
delay line[1 s];
process {
    let wet = line.read(0.1 * sr);
    line.write(in + feedback * wet);
    out = in + wet;
}
)";

class RenderSwap : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("dspjit-render-swap-" + std::to_string(getpid()));
    fs::create_directories(Dir);
    write("v1.dsp", V1);
    std::string V2 = V1;
    V2.replace(V2.find("out = in + wet"), 14, "out = 0.5 * in + wet");
    write("v2.dsp", V2);
    write("broken.dsp", "io 1 -> 1;\nprocess { out = in * ; }\n");
    write("stereo.dsp", "io 1 -> 2;\nprocess { out = in; }\n");
  }
  void TearDown() override { fs::remove_all(Dir); }

  std::string path(const std::string &Name) const {
    return (Dir / Name).string();
  }
  void write(const std::string &Name, const std::string &Text) {
    std::ofstream(path(Name)) << Text;
  }

  /// Renders v1.dsp over an impulse for 1 s with these extra arguments.
  ChildResult render(const std::string &Out, std::vector<std::string> Extra) {
    std::vector<std::string> Args = {"render",     path("v1.dsp"), path(Out),
                                     "--duration", "1s",           "--input",
                                     "impulse"};
    Args.insert(Args.end(), Extra.begin(), Extra.end());
    return runChild(Dspjit, Args);
  }

  std::vector<float> samples(const std::string &Name) {
    auto A = readAudioFile(path(Name));
    EXPECT_TRUE(A) << A.error();
    return A ? A->Samples : std::vector<float>{};
  }

  fs::path Dir;
};

} // namespace

TEST_F(RenderSwap, ABrokenVersionLeavesTheOutputExactlyAsWithoutASwap) {
  ChildResult Plain = render("plain.wav", {});
  ASSERT_EQ(Plain.Status, 0) << Plain.describe();
  ChildResult C =
      render("swapped.wav", {"--swap", "0.25s:" + path("broken.dsp")});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_NE(C.Err.find("broken.dsp:2:"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("keeps running"), std::string::npos) << C.Err;
  EXPECT_EQ(samples("swapped.wav"), samples("plain.wav"));
}

TEST_F(RenderSwap, AGoodVersionTakesOverAtItsFrameWithTheEchoTail) {
  ChildResult C =
      render("swapped.wav", {"--swap", "0.25s:" + path("v2.dsp"), "--set",
                             "feedback=0.8", "--xfade", "0"});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Err.find("at 0.25 s"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("kept 1 (line)"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("your values feedback=0.8"), std::string::npos) << C.Err;
  ChildResult P = render("plain.wav", {"--set", "feedback=0.8"});
  ASSERT_EQ(P.Status, 0) << P.describe();
  auto Swapped = samples("swapped.wav"), Plain = samples("plain.wav");
  ASSERT_EQ(Swapped.size(), Plain.size());
  // v2 changes only the dry path, and the impulse is long gone at 0.25 s:
  // the echoes (0.3 s: 0.8^2, 0.4 s: 0.8^3 ...) go on exactly, at the
  // user's feedback.
  EXPECT_EQ(Swapped, Plain);
  EXPECT_NEAR(Swapped[14400], 0.64f, 1e-6);
}

TEST_F(RenderSwap, ChangingTheChannelsIsRefusedWithAdvice) {
  ChildResult C =
      render("swapped.wav", {"--swap", "0.25s:" + path("stereo.dsp")});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_NE(C.Err.find("io 1 -> 2"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("holds the render without them"), std::string::npos)
      << C.Err;
}

TEST_F(RenderSwap, TimesTakeEveryDurationFormAndLateSwapsAreReported) {
  ChildResult C = render("swapped.wav", {"--swap", "0:00.5:" + path("v2.dsp"),
                                         "--swap", "1:30:" + path("v1.dsp")});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Err.find("at 0.5 s"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("after the end of the render"), std::string::npos)
      << C.Err;
  ChildResult Bad = render("x.wav", {"--swap", "soon:" + path("v2.dsp")});
  EXPECT_EQ(Bad.Status, 1) << Bad.describe();
  EXPECT_NE(Bad.Err.find("is not TIME:FILE"), std::string::npos) << Bad.Err;
}
