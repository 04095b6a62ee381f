//===- tests/cli/render_stream_cli_test.cpp - Long renders, as users run them -===//
//
// `dspjit render` over files of any length, run as a child process: its
// peak resident size (wait4's ru_maxrss) does not grow with the input's
// length, Ctrl-C and SIGTERM leave a finished file, the progress on a
// terminal shows the time left, an input at another rate is resampled,
// and every output type and sample format is written, dithered and
// clip-counted. The sound files are made here.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "runtime/WavRepair.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/TempDir.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <numbers>
#include <string>
#include <vector>

using namespace dspjit;
using namespace dspjit::test;

namespace {

const std::string Dspjit = DSPJIT_BINARY;
const std::string Examples = DSPJIT_SOURCE_DIR "/examples/";

class RenderStream : public ::testing::Test {
protected:
  std::string path(const std::string &Name) const { return Dir.file(Name); }

  std::string writeScript(const std::string &Name, const std::string &Text) {
    std::ofstream(path(Name)) << Text;
    return path(Name);
  }

  /// `Seconds` of 16-bit mono silence at 48 kHz, written a second at a time
  /// (the test itself must not hold the file in memory).
  std::string writeSilence(const std::string &Name, unsigned Seconds) {
    auto W = AudioFileWriter::create(path(Name), 1, 48000, SampleFormat::Pcm16,
                                     CrashSafety::Kill);
    EXPECT_TRUE(W) << W.error();
    std::vector<float> Second(48000);
    for (unsigned S = 0; S < Seconds && W; ++S)
      EXPECT_TRUE(W->write(Second.data(), 48000));
    EXPECT_TRUE(W->close());
    return path(Name);
  }

  /// Renders and expects success; returns what happened.
  ChildResult renderOk(const std::vector<std::string> &Args,
                       const ChildOptions &Options = {}) {
    std::vector<std::string> All = {"render"};
    All.insert(All.end(), Args.begin(), Args.end());
    ChildResult C = runChild(Dspjit, All, Options);
    EXPECT_EQ(C.Status, 0) << C.describe();
    return C;
  }

  TempDir Dir;
};

std::vector<float> sine(double Hz, double Rate, uint64_t Frames,
                        unsigned Channels) {
  std::vector<float> S(Frames * Channels);
  for (uint64_t F = 0; F < Frames; ++F)
    for (unsigned C = 0; C < Channels; ++C)
      S[F * Channels + C] =
          float(0.5 * std::sin(2 * std::numbers::pi * Hz * double(F) / Rate));
  return S;
}

TEST_F(RenderStream, ResidentSizeDoesNotGrowWithTheInputsLength) {
  // 3 minutes and 30 minutes of mono 16-bit silence through a wire: read
  // whole, the long file alone would be 345 MB of floats in memory.
  std::string Wire = writeScript("mono.dsp", "io 1 -> 1;\n"
                                             "process { out = in; }\n");
  std::string Short = writeSilence("3min.wav", 3 * 60);
  std::string Long = writeSilence("30min.wav", 30 * 60);
  ChildResult S = renderOk({Wire, Short, path("out3.wav"), "-q"});
  ChildResult L = renderOk({Wire, Long, path("out30.wav"), "-q"});
  std::cout << "[ measured ] peak resident size: 3 min " << S.MaxResidentKiB
            << " KiB (" << S.Seconds << " s), 30 min " << L.MaxResidentKiB
            << " KiB (" << L.Seconds << " s)\n";
  auto Out = AudioFileReader::open(path("out30.wav"));
  ASSERT_TRUE(Out) << Out.error();
  EXPECT_EQ((*Out)->expectedFrames(), 30u * 60 * 48000);
  EXPECT_GT(S.MaxResidentKiB, 0);
  EXPECT_LE(L.MaxResidentKiB, S.MaxResidentKiB * 5 / 4 + 4096);
}

TEST_F(RenderStream, CtrlCLeavesAFinishedFileAndSaysHowMuchWasRendered) {
  for (int Signal : {SIGINT, SIGTERM}) {
    std::string Out = path(Signal == SIGINT ? "int.wav" : "term.wav");
    // On a terminal, the progress bar shows once the render runs.
    ChildOptions O;
    O.StderrIsATerminal = true;
    O.Actions = {{0.5, "", Signal, {}, "%"}};
    ChildResult C = runChild(
        Dspjit,
        {"render", Examples + "additive.dsp", Out, "--duration", "1:00:00"}, O);
    EXPECT_EQ(C.Status, 128 + Signal) << C.describe();
    EXPECT_NE(C.Err.find(std::string("stopped by ") +
                         (Signal == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM") +
                         ": " + Out + " holds the first "),
              std::string::npos)
        << C.describe();
    EXPECT_NE(C.Err.find(" left"), std::string::npos) << C.describe();
    auto Wav = inspectWav(Out);
    ASSERT_TRUE(Wav) << Wav.error();
    EXPECT_TRUE(Wav->HeaderRight) << "the header was not finalized";
    EXPECT_GT(Wav->frames(), 0u);
    EXPECT_LT(Wav->frames(), 3600u * 48000);
  }
}

TEST_F(RenderStream, AnInputAtAnotherRateIsResampledToTheRendersRate) {
  std::vector<float> At441 = sine(1000, 44100, 44100, 2);
  ASSERT_TRUE(writeAudioFile(path("in.wav"), At441.data(), 44100, 2, 44100));
  ChildResult C = renderOk({Examples + "wire.dsp", path("in.wav"),
                            path("out.wav"), "--rate", "48000"});
  EXPECT_NE(C.Err.find("resampling " + path("in.wav") +
                       " from 44100 Hz to 48000 Hz (libsoxr, very high "
                       "quality (28-bit))"),
            std::string::npos)
      << C.describe();
  auto Out = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Out) << Out.error();
  EXPECT_EQ(Out->SampleRate, 48000);
  ASSERT_EQ(Out->frames(), 48000u);
  std::vector<float> Ideal = sine(1000, 48000, 48000, 2);
  double Signal = 0, Noise = 0;
  for (size_t K = 2 * 2400; K < Ideal.size() - 2 * 2400; ++K) {
    Signal += double(Ideal[K]) * Ideal[K];
    Noise += std::pow(double(Out->Samples[K]) - Ideal[K], 2);
  }
  EXPECT_GT(10 * std::log10(Signal / Noise), 100);
}

TEST_F(RenderStream, EveryFileTypeAndSampleFormat) {
  struct Case {
    std::string Name, Format;
    SampleFormat Expected;
  };
  for (const Case &K : {Case{"f.wav", "", SampleFormat::Float32},
                        Case{"i32.wav", "32", SampleFormat::Pcm32},
                        Case{"i16.aiff", "16", SampleFormat::Pcm16},
                        Case{"i24.caf", "24", SampleFormat::Pcm24},
                        Case{"f.w64", "float", SampleFormat::Float32},
                        Case{"i16.flac", "16", SampleFormat::Pcm16},
                        Case{"f.flac", "", SampleFormat::Pcm24},
                        Case{"v.ogg", "", SampleFormat::Float32}}) {
    std::vector<std::string> Args = {Examples + "additive.dsp", path(K.Name),
                                     "--duration", "0.5s", "-q"};
    if (!K.Format.empty())
      Args.insert(Args.end(), {"--format", K.Format});
    renderOk(Args);
    auto R = readAudioFile(path(K.Name));
    ASSERT_TRUE(R) << K.Name << ": " << R.error();
    EXPECT_EQ(R->frames(), 24000u) << K.Name;
    EXPECT_EQ(R->SampleRate, 48000) << K.Name;
    EXPECT_EQ(R->Format, K.Expected) << K.Name;
  }
}

TEST_F(RenderStream, SixteenBitsAreDitheredReproduciblyUnlessTold) {
  for (const char *Name : {"a.wav", "b.wav"})
    renderOk({Examples + "additive.dsp", path(Name), "--duration", "0.2s",
              "--format", "16", "-q"});
  renderOk({Examples + "additive.dsp", path("plain.wav"), "--duration", "0.2s",
            "--format", "16", "--no-dither", "-q"});
  renderOk({Examples + "additive.dsp", path("float.wav"), "--duration", "0.2s",
            "-q"});
  auto A = readAudioFile(path("a.wav")), B = readAudioFile(path("b.wav"));
  auto Plain = readAudioFile(path("plain.wav"));
  auto Float = readAudioFile(path("float.wav"));
  ASSERT_TRUE(A && B && Plain && Float);
  EXPECT_EQ(A->Samples, B->Samples);
  EXPECT_NE(A->Samples, Plain->Samples);
  // Plain rounding is within half a step of the float render; the dither
  // within one and a half.
  const double Step = 1.0 / 32768;
  for (size_t K = 0; K < Float->Samples.size(); ++K) {
    ASSERT_LE(std::fabs(Plain->Samples[K] - Float->Samples[K]), Step / 2 + 1e-9)
        << K;
    ASSERT_LE(std::fabs(A->Samples[K] - Float->Samples[K]), 1.5 * Step + 1e-9)
        << K;
  }
}

TEST_F(RenderStream, ClippingOnIntegerOutputIsCountedAndReported) {
  std::string Loud =
      writeScript("loud.dsp", "io 0 -> 1;\n"
                              "process { out = 1.5 * sin(tau * phasor(1000)); "
                              "}\n");
  ChildResult C = renderOk(
      {Loud, path("loud.wav"), "--duration", "0.1s", "--format", "16"});
  EXPECT_NE(C.Err.find("dspjit render: warning: " + path("loud.wav") + ": "),
            std::string::npos)
      << C.describe();
  EXPECT_NE(C.Err.find(" samples clipped (peak +3.5 dBFS)"), std::string::npos)
      << C.describe();
  // Float holds it all: nothing to report.
  ChildResult F =
      renderOk({Loud, path("loud-float.wav"), "--duration", "0.1s"});
  EXPECT_EQ(F.Err.find("clipped"), std::string::npos) << F.describe();
}

} // namespace
