//===- tests/unit/oversample_test.cpp - `oversample N { }` measured -------===//
//
// What dsl/LANGUAGE.md states about oversampling, measured: the aliases of
// a hard clipper at 1x, 4x and 8x; the response of the block around the
// identity (flat to 0.45 of the rate, delayed by the latency the kernel
// reports); `sr` inside; each lane filtered on its own.
//
//===----------------------------------------------------------------------===//
#include "analysis/Fft.h"
#include "runtime/Instance.h"
#include "runtime/Render.h"
#include "tests/support/Compile.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace dspjit;

namespace {

constexpr double Rate = 48000;

/// `Source` run on `Channels` x `Frames` interleaved samples of `In`.
std::vector<float> run(const std::string &Source, const std::vector<float> &In,
                       unsigned Channels = 1, double *Latency = nullptr) {
  auto K = test::compileForTest(Source, Rate, "oversample.dsp");
  if (!K)
    return {};
  if (Latency)
    *Latency = K->info().latency_frames;
  auto I = Instance::create(K->info(), Rate);
  EXPECT_TRUE(I);
  BufferInput B;
  B.Samples = In.data();
  B.Frames = In.size() / Channels;
  B.Channels = Channels;
  auto R = render(*I, B);
  EXPECT_TRUE(R) << (R ? "" : R.error());
  return R ? R->Output : std::vector<float>{};
}

std::vector<float> sine(double Freq, double Amp, size_t Frames) {
  std::vector<float> X(Frames);
  for (size_t N = 0; N < Frames; ++N)
    X[N] = float(Amp * std::sin(2 * M_PI * Freq * double(N) / Rate));
  return X;
}

/// The share of the energy of the last Size samples of Y that is not at a
/// harmonic of F0 (within 60 Hz), in dB, through a 4-term Blackman-Harris
/// window (side lobes at -92 dB).
double aliasDb(const std::vector<float> &Y, double F0) {
  const size_t Size = 1 << 15;
  analysis::RealFft F(Size);
  const size_t Skip = Y.size() - Size;
  for (size_t N = 0; N < Size; ++N) {
    double T = 2 * M_PI * double(N) / double(Size);
    double W = 0.35875 - 0.48829 * std::cos(T) + 0.14128 * std::cos(2 * T) -
               0.01168 * std::cos(3 * T);
    F.input()[N] = W * Y[Skip + N];
  }
  F.run();
  double All = 0, Aliases = 0;
  for (size_t B = 1; B < F.bins(); ++B) {
    double Freq = double(B) * Rate / double(Size);
    double E = std::norm(F.output()[B]);
    All += E;
    double Nearest = std::round(Freq / F0) * F0;
    if (Nearest < F0 || std::abs(Freq - Nearest) > 60)
      Aliases += E;
  }
  return 10 * std::log10(Aliases / All);
}

/// The RMS of Y[From, To).
double rms(const std::vector<float> &Y, size_t From, size_t To) {
  double S = 0;
  for (size_t N = From; N < To; ++N)
    S += double(Y[N]) * Y[N];
  return std::sqrt(S / double(To - From));
}

/// How many frames Y, the response to a sine of frequency F from frame 0,
/// lags it: its phase over frames [4096, 16384), over 2 pi F / rate.
double phaseDelay(const std::vector<float> &Y, double F) {
  const double W = 2 * M_PI * F / Rate;
  double I = 0, Q = 0;
  for (size_t N = 4096; N < 16384; ++N) {
    I += Y[N] * std::cos(W * double(N));
    Q += Y[N] * std::sin(W * double(N));
  }
  return std::atan2(-I, Q) / W;
}

const char *Clipper1x = "io 1 -> 1; process { out = clamp(4 * in, -1, 1); }";

std::string clipper(const char *Factor) {
  return std::string("io 1 -> 1; process { oversample ") + Factor +
         " { out = clamp(4 * in, -1, 1); } }";
}

} // namespace

TEST(Oversample, AHardClipperAliasesLessAt4xAnd8x) {
  auto X = sine(5000, 0.9, (1 << 15) + 4096);
  double A1 = aliasDb(run(Clipper1x, X), 5000);
  double A4 = aliasDb(run(clipper("4"), X), 5000);
  double A8 = aliasDb(run(clipper("8"), X), 5000);
  double A4Fast = aliasDb(run(clipper("4 lowlatency"), X), 5000);
  double A8Fast = aliasDb(run(clipper("8 lowlatency"), X), 5000);
  std::printf("aliases: 1x %.1f dB; 4x %.1f dB (drop %.1f); 8x %.1f dB "
              "(drop %.1f); lowlatency 4x %.1f dB (drop %.1f), 8x %.1f dB "
              "(drop %.1f)\n",
              A1, A4, A1 - A4, A8, A1 - A8, A4Fast, A1 - A4Fast, A8Fast,
              A1 - A8Fast);
  EXPECT_NEAR(A1, -16, 1.5);
  EXPECT_GE(A1 - A4, 25);
  EXPECT_GE(A1 - A8, 35);
  EXPECT_GE(A1 - A4Fast, 25);
  EXPECT_GE(A1 - A8Fast, 35);
}

TEST(Oversample, TheIdentityIsFlatTo045OfTheRate) {
  for (const char *Mode :
       {"2", "4", "8", "16", "4 lowlatency", "16 lowlatency"}) {
    std::string Src = std::string("io 1 -> 1; process { oversample ") + Mode +
                      " { out = in; } }";
    double Worst = 0;
    for (double F :
         {50.0, 1000.0, 5000.0, 10000.0, 15000.0, 20000.0, 21000.0, 21600.0}) {
      auto X = sine(F, 0.5, 16384);
      auto Y = run(Src, X);
      ASSERT_EQ(Y.size(), X.size());
      double Db = 20 * std::log10(rms(Y, 8192, 16384) / rms(X, 8192, 16384));
      Worst = std::max(Worst, std::abs(Db));
    }
    std::printf("oversample %s { out = in; }: within %.4f dB to 21.6 kHz\n",
                Mode, Worst);
    EXPECT_LT(Worst, 0.1) << Mode;
  }
}

TEST(Oversample, ALowpassInsideKeepsItsResponse) {
  // A one-pole lowpass at 5 kHz run at 192 kHz inside the block against
  // its exact response at 192 kHz: the block adds less than 0.1 dB.
  const char *Src = "io 1 -> 1; process { oversample 4 { state y = 0; "
                    "let a = exp(-tau * 5000 / sr); y = (1 - a) * in + a * y; "
                    "out = y; } }";
  double A = std::exp(-2 * M_PI * 5000 / (4 * Rate));
  for (double F : {1000.0, 8000.0, 15000.0, 21600.0}) {
    auto X = sine(F, 0.5, 16384);
    auto Y = run(Src, X);
    ASSERT_EQ(Y.size(), X.size());
    double W = 2 * M_PI * F / (4 * Rate);
    double Exact = (1 - A) / std::abs(std::complex<double>(1, 0) -
                                      A * std::polar(1.0, -W));
    double Db =
        20 * std::log10(rms(Y, 8192, 16384) / rms(X, 8192, 16384) / Exact);
    EXPECT_LT(std::abs(Db), 0.1) << F << " Hz";
  }
}

TEST(Oversample, TheOutputIsDelayedByTheReportedLatency) {
  // The phase delay of a 200 Hz sine (a period of 240 frames, longer than
  // any latency) against what the kernel reports: for the FIR the delay at
  // every frequency, for the IIR its group delay at 0 Hz.
  for (const char *Mode :
       {"2", "4", "8", "16", "2 lowlatency", "4 lowlatency", "16 lowlatency"}) {
    const double F = 200;
    auto X = sine(F, 0.5, 16384);
    double Latency = 0;
    auto Y = run(std::string("io 1 -> 1; process { oversample ") + Mode +
                     " { out = in; } }",
                 X, 1, &Latency);
    ASSERT_EQ(Y.size(), X.size());
    double Delay = phaseDelay(Y, F);
    std::printf("oversample %s: latency %.3f frames reported, %.3f measured\n",
                Mode, Latency, Delay);
    EXPECT_GT(Latency, 0);
    EXPECT_NEAR(Delay, Latency, 0.25) << Mode;
  }
}

TEST(Oversample, SrIsTheOversampledRateInside) {
  std::vector<float> X(4096, 0.f);
  auto Y = run("io 1 -> 1; process { oversample 8 { out = sr / 1000; } }", X);
  ASSERT_EQ(Y.size(), X.size());
  // 384 through the decimator, whose gain at 0 Hz is within its ripple
  // (0.0102 dB, 0.12%) of 1.
  EXPECT_NEAR(Y.back(), 384, 384 * 0.0012);
}

TEST(Oversample, EachLaneHasItsOwnFilters) {
  // Left: a 1 kHz sine; right: silence. Each comes out as it went in.
  const size_t Frames = 8192;
  auto L = sine(1000, 0.5, Frames);
  std::vector<float> X(2 * Frames);
  for (size_t N = 0; N < Frames; ++N)
    X[2 * N] = L[N];
  auto Y = run("io 2 -> 2; process { oversample 4 { out = tanh(in); } }", X, 2);
  ASSERT_EQ(Y.size(), X.size());
  double Left = 0, Right = 0;
  for (size_t N = Frames / 2; N < Frames; ++N) {
    Left = std::max(Left, double(std::abs(Y[2 * N])));
    Right = std::max(Right, double(std::abs(Y[2 * N + 1])));
  }
  EXPECT_NEAR(Left, std::tanh(0.5), 0.01);
  EXPECT_LT(Right, 1e-6);
}

TEST(Oversample, TwoCallsOfAFunctionHaveTheirOwnFilters) {
  // `f` oversamples; called twice on different signals, the second call's
  // filters must not carry the first's signal.
  const size_t Frames = 8192;
  auto X = sine(1000, 0.5, Frames);
  auto Y = run("io 1 -> 1; fn f(x) { let y = 0; oversample 2 { y = x; } "
               "return y; } process { let a = f(in); let b = f(0 * in); "
               "out = b; }",
               X);
  ASSERT_EQ(Y.size(), X.size());
  EXPECT_LT(rms(Y, Frames / 2, Frames), 1e-6);
}

TEST(Oversample, NestedBlocksAddTheirLatencies) {
  // The inner block's 79 frames are at twice the rate: 39.5 outer frames.
  const double F = 200;
  auto X = sine(F, 0.5, 16384);
  double Latency = 0;
  auto Y = run("io 1 -> 1; process { oversample 2 { oversample 2 { out = in; "
               "} } }",
               X, 1, &Latency);
  ASSERT_EQ(Y.size(), X.size());
  EXPECT_DOUBLE_EQ(Latency, 79 + 39.5);
  EXPECT_NEAR(phaseDelay(Y, F), Latency, 0.25);
  EXPECT_NEAR(rms(Y, 8192, 16384), 0.5 / std::sqrt(2.0), 0.001);
}

TEST(Oversample, IsNotAKeyword) {
  // Without a number after it, `oversample` is an ordinary name.
  std::vector<float> X(64, 1.f);
  auto Y = run("io 1 -> 1; process { let oversample = 3; "
               "out = in * oversample; }",
               X);
  ASSERT_EQ(Y.size(), X.size());
  EXPECT_EQ(Y.back(), 3.f);
}

TEST(Oversample, AFunctionNobodyCallsAddsNoLatency) {
  // Unused functions are checked too (a dry run), which must not count.
  std::vector<float> X(64, 0.f);
  double Latency = -1;
  run("io 1 -> 1; fn unused(x) { let y = 0; oversample 4 { y = x; } "
      "return y; } process { out = in; }",
      X, 1, &Latency);
  EXPECT_EQ(Latency, 0);
}

TEST(Oversample, RenderCanDropTheLatency) {
  // RenderOptions::DropFrames: the impulse at frame 10 comes out at frame
  // 10, and the output is as long as the input.
  auto K = test::compileForTest(
      "io 1 -> 1; process { oversample 2 { out = in; } }", Rate, "align.dsp");
  ASSERT_TRUE(K);
  std::vector<float> X(1000, 0.f);
  X[10] = 1;
  for (unsigned Block : {1u, 64u, 1000u}) {
    auto I = Instance::create(K->info(), Rate);
    ASSERT_TRUE(I);
    BufferInput B;
    B.Samples = X.data();
    B.Frames = X.size();
    B.Channels = 1;
    RenderOptions O;
    O.BlockSize = Block;
    O.DropFrames = uint64_t(K->info().latency_frames);
    auto R = render(*I, B, O);
    ASSERT_TRUE(R);
    ASSERT_EQ(R->Output.size(), X.size());
    EXPECT_EQ(R->Frames, X.size());
    size_t Peak = 0;
    for (size_t N = 0; N < R->Output.size(); ++N)
      if (std::abs(R->Output[N]) > std::abs(R->Output[Peak]))
        Peak = N;
    EXPECT_EQ(Peak, 10u) << Block;
  }
}
