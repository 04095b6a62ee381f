//===- tests/unit/plot_analysis_test.cpp - analysis/: measured is right ---===//
//
// The measurements behind `dspjit plot` against what theory says they must
// be: examples/biquad.dsp against the RBJ Audio EQ Cookbook evaluated in
// double here, a pure delay's group delay and phase, a tanh's transfer
// curve and harmonics against the curve applied to the same sine, and the
// figures' files (well-formed SVG with its labels, PNG of the asked size).
// Also: a measurement next to a running instance of the same kernel.
//
//===----------------------------------------------------------------------===//
#include "analysis/Figure.h"
#include "analysis/Plots.h"
#include "analysis/Response.h"
#include "analysis/Transfer.h"
#include "compiler/Compiler.h"
#include "runtime/Instance.h"
#include "tests/support/PictureFiles.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <complex>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <thread>

using namespace dspjit;
using namespace dspjit::analysis;

namespace {

constexpr double Rate = 48000;
constexpr double Pi = std::numbers::pi;

std::shared_ptr<Kernel> compileFile(const std::string &Path,
                                    bool Double = false) {
  CompileOptions O;
  O.sampleRate = Rate;
  O.doublePrecision = Double;
  Compiler C(O);
  std::shared_ptr<Kernel> K = C.compileFile(Path);
  EXPECT_TRUE(K) << Path;
  return K;
}

std::shared_ptr<Kernel> compileText(const std::string &Source) {
  CompileOptions O;
  O.sampleRate = Rate;
  Compiler C(O);
  std::shared_ptr<Kernel> K = C.compileSource("test.dsp", Source);
  EXPECT_TRUE(K) << Source;
  return K;
}

/// One setting of examples/biquad.dsp.
struct BiquadSetting {
  int Mode;
  double Freq, Q, Gain;
};

/// H(e^jw) of the biquad at `Hz`, from the cookbook's formulas exactly as
/// examples/biquad.dsp and dsl/std.dsp (rbj_w0, rbj_alpha) write them.
std::complex<double> cookbook(const BiquadSetting &S, double Hz) {
  double W0 = 2 * Pi * std::clamp(S.Freq, 1.0, 0.49 * Rate) / Rate;
  double C = std::cos(W0), Alpha = std::sin(W0) / (2 * std::max(S.Q, 0.01));
  double A = std::pow(10, S.Gain / 40), K = 2 * std::sqrt(A) * Alpha;
  double B0 = (1 - C) / 2, B1 = 1 - C, B2 = (1 - C) / 2;
  double A0 = 1 + Alpha, A1 = -2 * C, A2 = 1 - Alpha;
  switch (S.Mode) {
  case 1: B0 = (1 + C) / 2, B1 = -(1 + C), B2 = (1 + C) / 2; break;
  case 4:
    B0 = 1 + Alpha * A, B1 = -2 * C, B2 = 1 - Alpha * A;
    A0 = 1 + Alpha / A, A2 = 1 - Alpha / A;
    break;
  case 5:
    B0 = A * ((A + 1) - (A - 1) * C + K);
    B1 = 2 * A * ((A - 1) - (A + 1) * C);
    B2 = A * ((A + 1) - (A - 1) * C - K);
    A0 = (A + 1) + (A - 1) * C + K;
    A1 = -2 * ((A - 1) + (A + 1) * C);
    A2 = (A + 1) + (A - 1) * C - K;
    break;
  case 6:
    B0 = A * ((A + 1) + (A - 1) * C + K);
    B1 = -2 * A * ((A - 1) + (A + 1) * C);
    B2 = A * ((A + 1) + (A - 1) * C - K);
    A0 = (A + 1) - (A - 1) * C + K;
    A1 = 2 * ((A - 1) - (A + 1) * C);
    A2 = (A + 1) - (A - 1) * C - K;
    break;
  default: break; // lowpass
  }
  std::complex<double> Z1 = std::polar(1.0, -2 * Pi * Hz / Rate), Z2 = Z1 * Z1;
  return (B0 + B1 * Z1 + B2 * Z2) / (A0 + A1 * Z1 + A2 * Z2);
}

/// Measures examples/biquad.dsp at each setting and compares magnitude and
/// phase with the cookbook over 20 Hz .. 20 kHz, where the cookbook's
/// magnitude is above `FloorDb`.
void expectCookbook(const std::vector<BiquadSetting> &Settings, bool Double,
                    double DbTolerance, double DegreeTolerance,
                    double FloorDb) {
  auto K = compileFile(DSPJIT_SOURCE_DIR "/examples/biquad.dsp", Double);
  ASSERT_TRUE(K);
  for (const BiquadSetting &S : Settings) {
    SCOPED_TRACE("mode " + std::to_string(S.Mode) + ", freq " +
                 std::to_string(S.Freq) + ", q " + std::to_string(S.Q) +
                 ", gain " + std::to_string(S.Gain));
    ResponseOptions O;
    O.Params = {{"mode", float(S.Mode)},
                {"freq", float(S.Freq)},
                {"q", float(S.Q)},
                {"gain", float(S.Gain)}};
    auto R = frequencyResponse(K->info(), O);
    ASSERT_TRUE(R) << R.error();
    ASSERT_EQ(R->Hz.size(), 512u);
    EXPECT_DOUBLE_EQ(R->Hz.front(), 20);
    EXPECT_DOUBLE_EQ(R->Hz.back(), Rate / 2);
    double WorstDb = 0, WorstDegrees = 0;
    for (size_t I = 0; I < R->Hz.size(); ++I) {
      if (R->Hz[I] > 20000)
        break;
      std::complex<double> H = cookbook(S, R->Hz[I]);
      double Db = 20 * std::log10(std::abs(H));
      double Degrees = std::arg(H) * 180 / Pi;
      if (Db < FloorDb)
        continue;
      WorstDb = std::max(WorstDb, std::abs(R->MagnitudeDb[I] - Db));
      WorstDegrees = std::max(
          WorstDegrees,
          std::abs(std::remainder(R->PhaseDegrees[I] - Degrees, 360.0)));
    }
    EXPECT_LT(WorstDb, DbTolerance);
    EXPECT_LT(WorstDegrees, DegreeTolerance);
  }
}

const std::vector<BiquadSetting> &biquadSettings() {
  static const std::vector<BiquadSetting> Settings = {
      {0, 1000, 0.707, 0}, {0, 200, 2, 0},      {0, 5000, 0.5, 0},
      {0, 60, 0.707, 0},   {1, 1000, 0.707, 0}, {1, 300, 4, 0},
      {1, 2000, 0.707, 0}, {4, 1000, 2, 6},     {4, 3000, 0.7, -12},
      {4, 100, 8, 12},     {5, 200, 0.707, 9},  {5, 1000, 1, -6},
      {6, 4000, 0.707, 6}, {6, 8000, 0.5, -10}, {6, 500, 2, 3}};
  return Settings;
}

} // namespace

// The measurement itself: the kernel computes in double, so any error is
// the measurement's (the impulse response's length, the transform), down
// to the deepest stopband of these settings (-82 dB).
TEST(PlotAnalysis, BiquadInDoubleMatchesTheCookbook) {
  expectCookbook(biquadSettings(), /*Double=*/true, 0.05, 0.05, -1000);
}

// As the script runs by default, in float. Its coefficients carry float's
// rounding, which moves a stopband 80 dB down by 0.07 dB (a highpass at
// 2 kHz, at 20 Hz): the script's own precision, not the measurement's.
// Above -60 dB it stays within 0.05 dB.
TEST(PlotAnalysis, BiquadInFloatMatchesTheCookbook) {
  expectCookbook(biquadSettings(), /*Double=*/false, 0.05, 0.5, -60);
}

TEST(PlotAnalysis, APureDelayHasItsLengthAsGroupDelay) {
  auto K = compileText("io 1 -> 1;\n"
                       "delay line[4000];\n"
                       "process {\n"
                       "    let y = line.tap(1000);\n"
                       "    line.write(in);\n"
                       "    out = y;\n"
                       "}\n");
  ASSERT_TRUE(K);
  auto R = frequencyResponse(K->info(), {});
  ASSERT_TRUE(R) << R.error();
  EXPECT_GE(R->ImpulseFrames, 1001u);
  for (size_t I = 0; I < R->Hz.size(); ++I) {
    EXPECT_NEAR(R->GroupDelayMs[I], 1000 / Rate * 1000, 1e-6) << R->Hz[I];
    EXPECT_NEAR(R->MagnitudeDb[I], 0, 1e-6) << R->Hz[I];
    // Unwrapped from 0 Hz: a straight line, -360 degrees per 48 Hz.
    EXPECT_NEAR(R->PhaseDegrees[I], -360 * R->Hz[I] * 1000 / Rate, 1e-4)
        << R->Hz[I];
  }
}

TEST(PlotAnalysis, ImpulseAndStepResponses) {
  auto K = compileText("io 1 -> 1;\nprocess { out = 0.5 * in; }\n");
  ASSERT_TRUE(K);
  ResponseOptions O;
  O.Length = 10;
  auto H = impulseResponse(K->info(), O);
  ASSERT_TRUE(H) << H.error();
  ASSERT_EQ(H->size(), 10u);
  EXPECT_EQ((*H)[0], 0.5);
  EXPECT_EQ((*H)[1], 0);
  auto S = stepResponse(K->info(), O);
  ASSERT_TRUE(S) << S.error();
  for (double V : *S)
    EXPECT_EQ(V, 0.5);
}

TEST(PlotAnalysis, RefusesWhatCannotBeMeasured) {
  auto Osc = compileText("io 0 -> 1;\nprocess { out = sine(440); }\n");
  ASSERT_TRUE(Osc);
  auto R = frequencyResponse(Osc->info(), {});
  ASSERT_FALSE(R);
  EXPECT_NE(R.error().find("has no inputs"), std::string::npos) << R.error();

  auto Stereo = compileText("io 2 -> 2;\nprocess { out = in; }\n");
  ResponseOptions O;
  O.Output = 2;
  auto Lane = impulseResponse(Stereo->info(), O);
  ASSERT_FALSE(Lane);
  EXPECT_EQ(Lane.error(), "the script has no output channel 3: it has 2 (io "
                          "2 -> 2)");
  O = {};
  O.Params = {{"gian", 1}};
  auto Param = impulseResponse(Stereo->info(), O);
  ASSERT_FALSE(Param);
  EXPECT_NE(Param.error().find("unknown parameter 'gian'"), std::string::npos)
      << Param.error();
}

// The channel choice: input 2 to output 2 of a script that swaps nothing
// but scales each lane differently.
TEST(PlotAnalysis, LanesAreChosen) {
  auto K = compileText("io 2 -> 2;\nprocess { out = in * [0.5, 0.25]; }\n");
  ASSERT_TRUE(K);
  ResponseOptions O;
  O.Input = 1;
  O.Output = 1;
  auto R = frequencyResponse(K->info(), O);
  ASSERT_TRUE(R) << R.error();
  EXPECT_NEAR(R->MagnitudeDb[100], 20 * std::log10(0.25), 1e-9);
  O.Output = 0; // input 2 does not reach output 1
  auto Cross = frequencyResponse(K->info(), O);
  ASSERT_TRUE(Cross);
  EXPECT_EQ(Cross->MagnitudeDb[100], SilentDb);
}

// tanh(4 x) on a sine: the curve applied, in double, to the same samples
// of the same sine (exact whole periods) gives peak, RMS and harmonics.
TEST(PlotAnalysis, TransferOfTanhIsTheStaticCurve) {
  auto K = compileText("io 1 -> 1;\nprocess { out = tanh(4 * in); }\n");
  ASSERT_TRUE(K);
  TransferOptions T;
  ResponseOptions O;
  auto C = transferCurve(K->info(), O, T);
  ASSERT_TRUE(C) << C.error();
  EXPECT_DOUBLE_EQ(C->FrequencyHz, 1000);
  SineFit Fit = fitSine(T.FrequencyHz, Rate, T.WindowSeconds);
  ASSERT_EQ(C->InDb.size(), 73u); // -60 .. +12 dBFS in 1 dB steps
  auto Shaped = [&](double LevelDb) {
    std::vector<double> Y;
    for (size_t N = 0; N < Fit.Frames; ++N) {
      float X = float(std::pow(10, LevelDb / 20) *
                      std::sin(2 * Pi * double(Fit.Periods * N % Fit.Frames) /
                               double(Fit.Frames)));
      Y.push_back(std::tanh(4 * double(X)));
    }
    return Y;
  };
  for (size_t L = 0; L < C->InDb.size(); ++L) {
    std::vector<double> Y = Shaped(C->InDb[L]);
    double Peak = 0, Power = 0;
    for (double V : Y) {
      Peak = std::max(Peak, std::abs(V));
      Power += V * V;
    }
    EXPECT_NEAR(C->PeakDb[L], 20 * std::log10(Peak), 0.01) << C->InDb[L];
    EXPECT_NEAR(C->RmsDb[L],
                20 * std::log10(std::sqrt(2 * Power / double(Y.size()))), 0.01)
        << C->InDb[L];
  }
  // Small signals: a gain of 4 (12 dB); large ones: a square of peak 1.
  EXPECT_NEAR(C->PeakDb.front(), -60 + 20 * std::log10(4.0), 0.01);
  EXPECT_NEAR(C->PeakDb.back(), 0, 0.01);

  auto H = harmonics(K->info(), O, -6, T);
  ASSERT_TRUE(H) << H.error();
  ASSERT_EQ(H->Db.size(), 11u); // DC and harmonics 1 .. 10
  std::vector<double> Y = Shaped(-6);
  for (size_t Order = 1; Order < H->Db.size(); ++Order) {
    std::complex<double> Sum = 0;
    for (size_t N = 0; N < Y.size(); ++N)
      Sum += Y[N] *
             std::polar(1.0, -2 * Pi *
                                 double(Order * Fit.Periods * N % Fit.Frames) /
                                 double(Fit.Frames));
    double Db = 20 * std::log10(2 * std::abs(Sum) / double(Y.size()));
    if (Order % 2) // odd harmonics: what tanh, an odd curve, adds
      EXPECT_NEAR(H->Db[Order], Db, 0.05) << "harmonic " << Order;
    else // even ones: nothing but float rounding
      EXPECT_LT(H->Db[Order], -100) << "harmonic " << Order;
  }
  EXPECT_GT(H->ThdPercent, 1);
}

// The web panel measures while the same kernel plays: a measurement on
// another thread must not disturb a running instance, nor be disturbed.
TEST(PlotAnalysis, MeasuresNextToARunningInstance) {
  auto K = compileFile(DSPJIT_SOURCE_DIR "/examples/biquad.dsp");
  ASSERT_TRUE(K);
  auto Live = Instance::create(K->info(), Rate);
  ASSERT_TRUE(Live);
  ResponseOptions O;
  O.Params = {{"freq", 500}};
  auto Alone = frequencyResponse(K->info(), O);
  ASSERT_TRUE(Alone);
  std::atomic<bool> Stop = false;
  std::thread Audio([&] {
    std::vector<float> In(128, 0.25f), Out(128);
    while (!Stop)
      Live->process(In.data(), Out.data(), 64);
  });
  for (int Round = 0; Round < 4; ++Round) {
    auto R = frequencyResponse(K->info(), O);
    ASSERT_TRUE(R);
    EXPECT_EQ(R->MagnitudeDb, Alone->MagnitudeDb);
  }
  Stop = true;
  Audio.join();
  EXPECT_EQ(*Live->param("freq"), 1000); // untouched by the measurements
}

namespace {

Figure sampleFigure() {
  auto K = compileFile(DSPJIT_SOURCE_DIR "/examples/biquad.dsp");
  auto R = frequencyResponse(K->info(), {});
  EXPECT_TRUE(R);
  return responseFigure({{"", *R}}, Rate, {"biquad.dsp & co: <response>", "a"},
                        /*GroupDelay=*/true);
}

std::string readAll(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(In),
                     std::istreambuf_iterator<char>());
}

std::string tempPath(const std::string &Name) {
  return (std::filesystem::temp_directory_path() /
          ("dspjit-plot-" + std::to_string(getpid()) + "-" + Name))
      .string();
}

} // namespace

TEST(PlotFigure, SvgIsWellFormedWithTitleAndLabels) {
  std::string Svg = svgOf(sampleFigure());
  EXPECT_EQ(test::xmlError(Svg), "");
  for (const char *Text :
       {"biquad.dsp &amp; co: &lt;response&gt;", ">frequency (Hz)</text>",
        ">magnitude (dB)</text>", ">phase (degrees)</text>",
        ">group delay (ms)</text>", ">1k</text>", ">10k</text>"})
    EXPECT_NE(Svg.find(Text), std::string::npos) << Text;
  // The checker itself finds what is wrong.
  EXPECT_NE(test::xmlError("<svg><g></svg>"), "");
  EXPECT_NE(test::xmlError("<svg a=\"1\" a=\"2\"/>"), "");
  EXPECT_NE(test::xmlError("<svg>a & b</svg>"), "");
  EXPECT_NE(test::xmlError("<svg/><svg/>"), "");
}

TEST(PlotFigure, PngHasTheSignatureAndTheSize) {
  Figure F = sampleFigure();
  F.Width = 640;
  F.Height = 480;
  std::string Path = tempPath("figure.png");
  auto W = writeFigure(F, Path, ImageFormat::Png);
  ASSERT_TRUE(W) << W.error();
  std::string Png = readAll(Path);
  std::filesystem::remove(Path);
  auto Size = test::pngSize(Png);
  ASSERT_TRUE(Size) << "not a PNG: " << Path;
  EXPECT_EQ(*Size, std::pair(640u, 480u));
}

TEST(PlotFigure, AnUnwritablePathIsAMessage) {
  auto W =
      writeFigure(sampleFigure(), "/nonexistent-dir/x.svg", ImageFormat::Svg);
  ASSERT_FALSE(W);
  EXPECT_NE(W.error().find("cannot write '/nonexistent-dir/x.svg'"),
            std::string::npos)
      << W.error();
}
