//===- tests/cli/plot_cli_test.cpp - `dspjit plot` as a user runs it ------===//
//
// The real binary in a child process: every example draws (a response for
// scripts with inputs; a generator is refused with a message that points to
// --spectrogram, which then draws), every view writes a well-formed SVG with
// its title and labels or a PNG of the asked size, and bad input (an
// unknown parameter, an unreadable file, a script that does not compile,
// a bad --sweep) is a clear message and a non-zero exit, with no file left.
//
//===----------------------------------------------------------------------===//
#include "tests/support/ChildProcess.h"
#include "tests/support/PictureFiles.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

const std::string Dspjit = DSPJIT_BINARY;
const std::string Examples = DSPJIT_SOURCE_DIR "/examples/";

class PlotCli : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("dspjit-plot-cli-" + std::to_string(getpid()));
    fs::create_directories(Dir);
  }
  void TearDown() override { fs::remove_all(Dir); }

  std::string path(const std::string &Name) const {
    return (Dir / Name).string();
  }

  static std::string readAll(const std::string &Path) {
    std::ifstream In(Path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(In),
                       std::istreambuf_iterator<char>());
  }

  /// Runs `dspjit plot ARGS` in the test's directory and expects it to
  /// write `Out`, a well-formed SVG holding every one of `Texts`.
  void expectSvg(std::vector<std::string> Args, const std::string &Out,
                 const std::vector<std::string> &Texts) {
    Args.insert(Args.begin(), "plot");
    ChildOptions O;
    O.TimeoutSeconds = 120;
    ChildResult C = runChild(Dspjit, Args, O);
    ASSERT_EQ(C.Status, 0) << C.describe();
    EXPECT_NE(C.Out.find("wrote " + Out), std::string::npos) << C.describe();
    std::string Svg = readAll(Out);
    ASSERT_FALSE(Svg.empty()) << Out;
    EXPECT_EQ(xmlError(Svg), "") << Out;
    for (const std::string &Text : Texts)
      EXPECT_NE(Svg.find(Text), std::string::npos) << Text << " in " << Out;
  }

  /// Runs `dspjit plot ARGS` and expects a refusal with `Message` and no
  /// file written.
  void expectRefused(std::vector<std::string> Args,
                     const std::string &Message) {
    Args.insert(Args.begin(), "plot");
    Args.insert(Args.end(), {"-o", path("never.svg")});
    ChildResult C = runChild(Dspjit, Args);
    EXPECT_NE(C.Status, 0) << C.describe();
    EXPECT_FALSE(C.crashed()) << C.describe();
    EXPECT_NE(C.Err.find("dspjit plot: error: "), std::string::npos)
        << C.describe();
    EXPECT_NE(C.Err.find(Message), std::string::npos)
        << "expected: " << Message << "\n"
        << C.describe();
    EXPECT_FALSE(fs::exists(path("never.svg")));
  }

  fs::path Dir;
};

/// Every .dsp of examples/, sorted.
std::vector<fs::path> examples() {
  std::vector<fs::path> All;
  for (const auto &E : fs::directory_iterator(Examples))
    if (E.path().extension() == ".dsp")
      All.push_back(E.path());
  std::sort(All.begin(), All.end());
  return All;
}

/// "io 0 -> 2;" somewhere at the start of a line: a generator.
bool isGenerator(const fs::path &Script) {
  std::ifstream In(Script);
  std::string Line;
  while (std::getline(In, Line))
    if (Line.rfind("io 0 ", 0) == 0)
      return true;
  return false;
}

} // namespace

TEST_F(PlotCli, EveryExampleDraws) {
  std::vector<fs::path> All = examples();
  ASSERT_GE(All.size(), 10u);
  for (const fs::path &Script : All) {
    SCOPED_TRACE(Script.filename().string());
    std::string Name = Script.filename().string();
    if (!isGenerator(Script)) {
      expectSvg({Script.string(), "-o", path(Name + ".svg")},
                path(Name + ".svg"),
                {Name + ": frequency response", ">frequency (Hz)</text>",
                 ">magnitude (dB)</text>"});
      continue;
    }
    ChildResult C =
        runChild(Dspjit, {"plot", Script.string(), "-o", path("never.svg")});
    EXPECT_EQ(C.Status, 1) << C.describe();
    EXPECT_NE(C.Err.find("has no inputs (io 0 -> "), std::string::npos)
        << C.describe();
    EXPECT_NE(C.Err.find("--spectrogram"), std::string::npos) << C.describe();
    EXPECT_FALSE(fs::exists(path("never.svg")));
    expectSvg({Script.string(), "--spectrogram", "--duration", "500ms", "-o",
               path(Name + ".svg")},
              path(Name + ".svg"),
              {Name + ": spectrogram", ">time (s)</text>",
               ">level (dBFS)</text>", "data:image/png;base64,"});
  }
}

TEST_F(PlotCli, EveryView) {
  std::string Biquad = Examples + "biquad.dsp";
  expectSvg({Biquad, "--group-delay", "--sweep", "freq=200,1000,5000", "-o",
             path("sweep.svg")},
            path("sweep.svg"),
            {">group delay (ms)</text>", ">freq = 200</text>",
             ">freq = 5000</text>"});
  expectSvg({Biquad, "--impulse", "--set", "q=4", "-o", path("impulse.svg")},
            path("impulse.svg"),
            {"biquad.dsp: impulse response", ">time (ms)</text>", "q = 4"});
  expectSvg({Biquad, "--step", "--length", "256", "-o", path("step.svg")},
            path("step.svg"), {"biquad.dsp: step response"});
  expectSvg({Examples + "distortion.dsp", "--transfer", "--level", "-12", "-o",
             path("transfer.svg")},
            path("transfer.svg"),
            {"distortion.dsp: transfer curve", ">input level (dBFS)</text>",
             ">output level (dBFS)</text>", "harmonics at -12 dBFS",
             ">DC</text>"});
  expectSvg({Examples + "echo.dsp", "--spectrogram",
             Examples + "audio/drums.wav", "--linear", "-o",
             path("spectrogram.svg")},
            path("spectrogram.svg"),
            {"echo.dsp: spectrogram", "over " + Examples + "audio/drums.wav"});
  // A spectrogram stays a reasonable size: one embedded PNG.
  EXPECT_LT(fs::file_size(path("spectrogram.svg")), 1500u * 1024);
}

TEST_F(PlotCli, DefaultNameAndPng) {
  ChildOptions O;
  O.TimeoutSeconds = 60;
  // Run from the temporary directory: the default name lands there.
  ChildResult C =
      runChild("/bin/sh",
               {"-c", "cd '" + Dir.string() + "' && '" + Dspjit + "' plot '" +
                          Examples + "lowpass.dsp' --png --size 640x400"},
               O);
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Out.find("wrote lowpass-response.png"), std::string::npos)
      << C.describe();
  std::string Png = readAll(path("lowpass-response.png"));
  auto Size = pngSize(Png);
  ASSERT_TRUE(Size) << "not a PNG";
  EXPECT_EQ(*Size, std::pair(640u, 400u));
  // An output name ending in .png is a PNG too.
  C = runChild(Dspjit, {"plot", Examples + "gain.dsp", "-o", path("g.PNG")});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_TRUE(pngSize(readAll(path("g.PNG"))));
}

TEST_F(PlotCli, BadInputIsAClearMessage) {
  std::string Biquad = Examples + "biquad.dsp";
  expectRefused({Biquad, "--set", "freqq=100"},
                "--set freqq: unknown parameter 'freqq'; did you mean 'freq'?");
  expectRefused({Biquad, "--set", "freq"}, "--set takes name=number");
  expectRefused({Biquad, "--sweep", "freq=100,,200"},
                "--sweep takes name=value,value,... (e.g. "
                "cutoff=200,1000,5000), not 'freq=100,,200'");
  expectRefused({Biquad, "--sweep", "=1,2"}, "--sweep takes name=value");
  expectRefused({Biquad, "--sweep", "cutof=1,2"},
                "--sweep cutof: unknown parameter 'cutof'");
  expectRefused({Biquad, "--spectrogram", path("missing.wav")},
                "cannot open '" + path("missing.wav") + "'");
  std::ofstream(path("garbage.wav")) << "not a sound file";
  expectRefused({Biquad, "--spectrogram", path("garbage.wav")},
                path("garbage.wav"));
  expectRefused({Biquad, "--spectrogram"},
                "--spectrogram needs a sound file to run biquad.dsp over");
  std::ofstream(path("broken.dsp")) << "io 1 -> 1;\nprocess { out = in * ; }\n";
  expectRefused({path("broken.dsp")}, "expected an expression");
  expectRefused({path("broken.dsp")}, "cannot be compiled (see above)");
  expectRefused({path("nowhere.dsp")}, "nowhere.dsp");
  expectRefused({Biquad, "--impulse", "--transfer"},
                "draw one picture at a time: --impulse or --transfer");
  expectRefused({Biquad, "--out", "3"},
                "biquad.dsp has no output channel 3: it has 2 (io 2 -> 2)");
  expectRefused({Biquad, "--transfer", "--frequency", "30000"},
                "a 30000 Hz sine is not below half the sample rate");
  expectRefused({Biquad, "--size", "huge"}, "--size takes WIDTHxHEIGHT");
  expectRefused({Biquad, "--length", "soon"}, "--length: ");
  expectRefused({Examples + "additive.dsp", "--transfer"},
                "additive.dsp has no inputs (io 0 -> 2): it has no input to "
                "respond to; draw what it makes with --spectrogram");
  // --png with an SVG name: which one is meant is unclear.
  ChildResult C =
      runChild(Dspjit, {"plot", Biquad, "--png", "-o", path("x.svg")});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_NE(C.Err.find("--png writes PNG"), std::string::npos) << C.describe();
  // An output file that cannot be written.
  C = runChild(Dspjit, {"plot", Biquad, "-o", path("no/such/dir.svg")});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_NE(C.Err.find("cannot write '" + path("no/such/dir.svg") + "'"),
            std::string::npos)
      << C.describe();
}
