//===- tests/cli/render_batch_cli_test.cpp - Many files, as users run it --===//
//
// `dspjit render SCRIPT IN... --out-dir DIR` as a child process: every
// input rendered under its own name, the same files on one thread and on
// several, per-file values from --params-csv, a broken input reported while
// the others go on (the exit status counts the failures), and everything
// that can be refused for the whole batch refused before the first file.
// The inputs are made here.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/TempDir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

const std::string Dspjit = DSPJIT_BINARY;
const std::string Examples = DSPJIT_SOURCE_DIR "/examples/";

class BatchRender : public ::testing::Test {
protected:
  std::string path(const std::string &Name) const { return Dir.file(Name); }

  std::string writeText(const std::string &Name, const std::string &Text) {
    fs::create_directories(fs::path(path(Name)).parent_path());
    std::ofstream(path(Name)) << Text;
    return path(Name);
  }

  /// A stereo clip of a noise-like signal, `Frames` long, different for
  /// each `Seed`.
  std::string writeClip(const std::string &Name, uint64_t Frames, unsigned Seed,
                        double Rate = 48000) {
    std::vector<float> S(2 * Frames);
    uint32_t X = 12345u + Seed * 7919u;
    for (float &V : S) {
      X = X * 1664525u + 1013904223u;
      V = float(int32_t(X) / 4294967296.0);
    }
    fs::create_directories(fs::path(path(Name)).parent_path());
    auto W = writeAudioFile(path(Name), S.data(), Frames, 2, Rate,
                            SampleFormat::Float32);
    EXPECT_TRUE(W) << W.error();
    return path(Name);
  }

  std::string bytes(const std::string &File) {
    std::ifstream In(File, std::ios::binary);
    return {std::istreambuf_iterator<char>(In), {}};
  }

  ChildResult render(std::vector<std::string> Args) {
    Args.insert(Args.begin(), "render");
    return runChild(Dspjit, Args);
  }

  TempDir Dir;
};

TEST_F(BatchRender, ManyInputsOnTwoThreadsAreTheFilesOfOneThread) {
  for (unsigned I = 0; I < 8; ++I)
    writeClip("in/clip" + std::to_string(I) + ".wav", 4800 + 1000 * I, I);
  writeText("list.txt", "# two more, by a list\nextra/a.wav\nextra/b.wav\n");
  writeClip("extra/a.wav", 3000, 100);
  writeClip("extra/b.wav", 3001, 101);
  const std::string Reverb = Examples + "freeverb.dsp";
  ChildResult One = render({Reverb, path("in/*.wav"), "@" + path("list.txt"),
                            "--out-dir", path("one"), "--jobs", "1"});
  ASSERT_EQ(One.Status, 0) << One.describe();
  ChildResult Two = render({Reverb, path("in/*.wav"), "@" + path("list.txt"),
                            "--out-dir", path("two"), "--jobs", "2"});
  ASSERT_EQ(Two.Status, 0) << Two.describe();
  EXPECT_NE(Two.Out.find("rendered 10 of 10 files: "), std::string::npos)
      << Two.describe();
  EXPECT_NE(Two.Out.find("x real time on 2 threads"), std::string::npos)
      << Two.describe();
  EXPECT_NE(Two.Out.find(path("in/clip3.wav") + " -> " + path("two/clip3.wav") +
                         ": 0.163 s"),
            std::string::npos)
      << Two.describe();
  for (std::string Name : {"clip0.wav", "clip7.wav", "a.wav", "b.wav"}) {
    std::string A = bytes(path("one/" + Name)), B = bytes(path("two/" + Name));
    ASSERT_GT(A.size(), 1000u) << Name;
    EXPECT_EQ(A, B) << Name << " differs between --jobs 1 and --jobs 2";
  }
  // Each output is what rendering its input alone gives.
  ChildResult Alone = render({Reverb, path("in/clip5.wav"), path("alone.wav")});
  ASSERT_EQ(Alone.Status, 0) << Alone.describe();
  EXPECT_EQ(bytes(path("alone.wav")), bytes(path("two/clip5.wav")));
}

TEST_F(BatchRender, AParamsTableGivesEachFileItsValuesAndTheTypeCanChange) {
  const std::string Gain =
      writeText("gain.dsp", "io 2 -> 2;\nparam g = 1 in [0, 4] nosmooth;\n"
                            "process { out = in * g; }\n");
  for (unsigned I = 0; I < 3; ++I)
    writeClip("in/c" + std::to_string(I) + ".wav", 2400, I);
  writeText("p.csv",
            "file,g\nc0.wav,0.5\n" + path("in/c1.wav") + ",2\n\"c2.wav\",0\n");
  ChildResult C =
      render({Gain, path("in/c0.wav"), path("in/c1.wav"), path("in/c2.wav"),
              "--out-dir", path("out"), "--params-csv", path("p.csv"),
              "--out-ext", "flac", "--format", "24", "--no-dither", "-q"});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_EQ(C.Out, "") << "--quiet prints nothing when all went well";
  auto In = readAudioFile(path("in/c1.wav"));
  auto Out = readAudioFile(path("out/c1.flac"));
  ASSERT_TRUE(In && Out);
  ASSERT_EQ(Out->frames(), 2400u);
  for (size_t K = 0; K < 200; ++K)
    ASSERT_NEAR(Out->Samples[K], std::clamp(2 * In->Samples[K], -1.0f, 1.0f),
                2.0 / (1 << 23))
        << K;
  auto Silent = readAudioFile(path("out/c2.flac"));
  ASSERT_TRUE(Silent);
  for (float V : Silent->Samples)
    ASSERT_EQ(V, 0.0f);
}

TEST_F(BatchRender, ABrokenInputIsReportedAndTheOthersGoOn) {
  writeClip("in/a.wav", 4800, 1);
  writeText("in/b.wav", "RIFF\x10\0\0\0WAVEnot really");
  writeClip("in/c.wav", 4800, 3, 44100); // resampled to the batch's rate
  writeText("in/d.wav", "");
  ChildResult C = render({Examples + "echo.dsp", path("in/*.wav"), "--out-dir",
                          path("out"), "--jobs", "2"});
  EXPECT_EQ(C.Status, 2) << "the exit status counts the failed files\n"
                         << C.describe();
  EXPECT_NE(C.Err.find("error: cannot open '" + path("in/b.wav") + "'"),
            std::string::npos)
      << C.describe();
  EXPECT_NE(C.Err.find("error: cannot open '" + path("in/d.wav") + "'"),
            std::string::npos)
      << C.describe();
  EXPECT_NE(C.Err.find("rendered 2 of 4 files (2 failed)"), std::string::npos)
      << C.describe();
  auto A = readAudioFile(path("out/a.wav"));
  auto Cc = readAudioFile(path("out/c.wav"));
  ASSERT_TRUE(A && Cc);
  EXPECT_EQ(A->frames(), 4800u);
  EXPECT_EQ(Cc->SampleRate, 48000);
  EXPECT_NEAR(double(Cc->frames()), 4800 * 48000.0 / 44100, 2);
}

TEST_F(BatchRender, WhatCanBeRefusedForTheWholeBatchIsRefusedFirst) {
  writeClip("in/a.wav", 480, 1);
  writeClip("in/b.wav", 480, 2);
  writeClip("other/a.wav", 480, 3);
  const std::string Echo = Examples + "echo.dsp";
  auto Refused = [&](std::vector<std::string> Args,
                     const std::string &Expected) {
    ChildResult C = render(Args);
    EXPECT_EQ(C.Status, 1) << C.describe();
    EXPECT_NE(C.Err.find(Expected), std::string::npos)
        << "expected: " << Expected << "\n"
        << C.describe();
    EXPECT_FALSE(fs::exists(path("out"))) << C.describe();
  };
  Refused({Echo, path("in/*.aiff"), "--out-dir", path("out")},
          "'" + path("in/*.aiff") + "' matches no file");
  Refused({Echo, "@" + path("missing.txt"), "--out-dir", path("out")},
          "cannot read the list of inputs");
  Refused({Echo, path("in/a.wav"), path("other/a.wav"), path("in/b.wav"),
           "--out-dir", path("out")},
          "would both be written to '" + path("out/a.wav") + "'");
  Refused({Echo, path("in/b.wav"), path("in/a.wav"), "--out-dir", path("in")},
          "would overwrite it");
  Refused({Echo, path("in/b.wav"), "--out-dir", path("out"), "--set",
           "feedbak=0.5"},
          "did you mean 'feedback'?");
  Refused({Echo, path("in/b.wav"), "--out-dir", path("out"), "--automate",
           "mix=ramp:3@0s"},
          "3 is outside the range of 'mix'");
  Refused({Echo, path("in/b.wav"), "--out-dir", path("out"), "--params-csv",
           writeText("p.csv", "file,mix\na.wav,0.5\n")},
          "p.csv:2: 'a.wav' is not one of the inputs");
  Refused({Echo, path("in/b.wav"), "--out-dir", path("out"), "--params-csv",
           writeText("q.csv", "file,mix\nb.wav,2\n")},
          "q.csv:2: 2 for 'mix' is outside its range [0, 1]");
  Refused({Echo, path("in/b.wav"), "--out-dir", path("out"), "--midi",
           path("song.mid")},
          "--swap, --midi and --input render one file");
  Refused({Echo, path("in/a.wav"), path("in/b.wav"), path("out.wav")},
          "give an output file");
}

} // namespace
