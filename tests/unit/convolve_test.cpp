//===- tests/unit/convolve_test.cpp - `convolve(x, ir)` -------------------===//
//
// The convolver (runtime/Convolver.h) against a direct convolution in
// double, for responses that end either side of every level's boundary and
// for other partitionings; its reset; and the compiled `convolve` call:
// its lanes forms, an instance reset by init, double-precision kernels and
// -O0 against -O3. (python/tests/test_convolve.py holds it to
// scipy.signal.fftconvolve; tests/diagnostics/cases/convolve.dsp holds its
// misuses.)
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Convolver.h"
#include "runtime/Instance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

using namespace dspjit;

namespace {

constexpr double Rate = 48000;

std::vector<double> decayingNoise(uint32_t Frames, unsigned Lanes,
                                  unsigned Seed) {
  std::mt19937 Gen(Seed);
  std::normal_distribution<double> N;
  std::vector<double> V(size_t(Frames) * Lanes);
  for (uint32_t T = 0; T < Frames; ++T)
    for (unsigned L = 0; L < Lanes; ++L)
      V[T * Lanes + L] = float(N(Gen) * std::exp(-3.0 * T / Frames));
  return V;
}

/// Lane `Lane` of interleaved `X` (Lanes wide) convolved with lane `IrLane`
/// of `Ir` (IrLanes wide), the first Frames frames, in double.
std::vector<double> direct(const std::vector<double> &X, unsigned Lanes,
                           unsigned Lane, const std::vector<double> &Ir,
                           unsigned IrLanes, unsigned IrLane) {
  const size_t Frames = X.size() / Lanes, Taps = Ir.size() / IrLanes;
  std::vector<double> Y(Frames);
  for (size_t N = 0; N < Frames; ++N)
    for (size_t T = 0; T <= N && T < Taps; ++T)
      Y[N] += Ir[T * IrLanes + IrLane] * X[(N - T) * Lanes + Lane];
  return Y;
}

/// The largest difference over the peak of the reference.
double relativeError(const std::vector<float> &Y, unsigned Lanes, unsigned Lane,
                     const std::vector<double> &Ref) {
  double Peak = 0, Err = 0;
  for (size_t N = 0; N < Ref.size(); ++N) {
    Peak = std::max(Peak, std::abs(Ref[N]));
    Err = std::max(Err, std::abs(double(Y[N * Lanes + Lane]) - Ref[N]));
  }
  return Err / Peak;
}

std::vector<float> runConvolver(Convolver &C, const std::vector<double> &X,
                                unsigned InLanes, unsigned OutLanes) {
  const size_t Frames = X.size() / InLanes;
  std::vector<float> In(InLanes), Y(Frames * OutLanes);
  for (size_t N = 0; N < Frames; ++N) {
    for (unsigned L = 0; L < InLanes; ++L)
      In[L] = float(X[N * InLanes + L]);
    C.frame(In.data(), Y.data() + N * OutLanes);
  }
  return Y;
}

class ConvolverTaps : public ::testing::TestWithParam<uint32_t> {};

// The direct part is 128 taps; the levels of 64, 512 and 4096 frames start
// at 128, 1024 and 8192.
TEST_P(ConvolverTaps, MatchesDirectConvolution) {
  const uint32_t Taps = GetParam();
  auto Ir = decayingNoise(Taps, 1, Taps);
  auto X = decayingNoise(Taps + 5000, 1, 99);
  Convolver C(
      prepareConvolution(Ir.data(), Taps, 1, 1, ConvolutionForm::PerLane));
  auto Y = runConvolver(C, X, 1, 1);
  EXPECT_LT(relativeError(Y, 1, 0, direct(X, 1, 0, Ir, 1, 0)), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Boundaries, ConvolverTaps,
                         ::testing::Values(1u, 8u, 127u, 128u, 129u, 191u,
                                           1023u, 1024u, 1025u, 8192u, 8193u,
                                           20000u));

TEST(Convolver, OtherPartitioningsAreExactToo) {
  auto Ir = decayingNoise(9000, 1, 5);
  auto X = decayingNoise(12000, 1, 6);
  auto Ref = direct(X, 1, 0, Ir, 1, 0);
  for (ConvolutionScheme S :
       {ConvolutionScheme{64, 1, 64}, ConvolutionScheme{32, 4, 1024},
        ConvolutionScheme{64, 8, 8192}, ConvolutionScheme{128, 2, 16384}}) {
    Convolver C(
        prepareConvolution(Ir.data(), 9000, 1, 1, ConvolutionForm::PerLane, S));
    EXPECT_LT(relativeError(runConvolver(C, X, 1, 1), 1, 0, Ref), 1e-5)
        << S.Block << " x" << S.Ratio << " up to " << S.MaxPartition;
  }
}

TEST(Convolver, TrueStereoSumsFourPaths) {
  auto Ir = decayingNoise(3000, 4, 7);
  auto X = decayingNoise(5000, 2, 8);
  Convolver C(
      prepareConvolution(Ir.data(), 3000, 4, 2, ConvolutionForm::Matrix));
  auto Y = runConvolver(C, X, 2, 2);
  for (unsigned O = 0; O < 2; ++O) {
    auto FromL = direct(X, 2, 0, Ir, 4, O);
    auto FromR = direct(X, 2, 1, Ir, 4, 2 + O);
    for (size_t N = 0; N < FromL.size(); ++N)
      FromL[N] += FromR[N];
    EXPECT_LT(relativeError(Y, 2, O, FromL), 1e-5) << "output " << O;
  }
}

TEST(Convolver, ResetForgetsTheHistory) {
  auto Ir = decayingNoise(10000, 1, 9);
  Convolver C(
      prepareConvolution(Ir.data(), 10000, 1, 1, ConvolutionForm::PerLane));
  runConvolver(C, decayingNoise(7000, 1, 10), 1, 1);
  C.reset();
  std::vector<double> Impulse(12000);
  Impulse[0] = 1;
  auto Y = runConvolver(C, Impulse, 1, 1);
  for (size_t N = 0; N < Y.size(); ++N)
    ASSERT_NEAR(Y[N], N < Ir.size() ? Ir[N] : 0.0, 1e-6) << "frame " << N;
}

// --- The compiled call --------------------------------------------------

/// A script whose `ir` is a table from an expression of `Lanes` lanes.
std::string script(const std::string &Io, unsigned Lanes,
                   const std::string &Body) {
  std::string Elem = "sin(i * i * 0.0013) * exp(-i / 700)";
  std::string Table = "table ir[3000] = " + Elem + ";\n";
  if (Lanes > 1) {
    Table = "table ir[3000] = [";
    for (unsigned L = 0; L < Lanes; ++L)
      Table += (L ? ", " : "") + std::string("sin(i * (i + ") +
               std::to_string(L) + ") * 0.0013) * exp(-i / 700)";
    Table += "];\n";
  }
  return "io " + Io + ";\n" + Table + "process { " + Body + " }\n";
}

std::shared_ptr<Kernel> compile(const std::string &Source, unsigned Opt = 3,
                                bool Double = false) {
  CompileOptions O;
  O.sampleRate = Rate;
  O.optLevel = Opt;
  O.doublePrecision = Double;
  Compiler C(O);
  std::shared_ptr<Kernel> K = C.compileSource("convolve.dsp", Source);
  std::ostringstream Messages;
  C.diagnostics().print(Messages);
  EXPECT_TRUE(K) << Messages.str();
  return K;
}

std::vector<float> process(const Kernel &K, const std::vector<float> &In) {
  auto I = Instance::create(K.info(), Rate);
  EXPECT_TRUE(I);
  const unsigned InCh = K.info().inputs, OutCh = K.info().outputs;
  const size_t Frames = In.size() / InCh;
  std::vector<float> Out(Frames * OutCh);
  for (size_t At = 0; At < Frames; At += 64) {
    unsigned long N = std::min<size_t>(64, Frames - At);
    I->process(In.data() + At * InCh, Out.data() + At * OutCh, N);
  }
  return Out;
}

std::vector<float> impulse(size_t Frames, unsigned Channels) {
  std::vector<float> X(Frames * Channels);
  for (unsigned C = 0; C < Channels; ++C)
    X[C] = 1;
  return X;
}

/// Lane `L` of the script's table as the compiler folds it: in float, with
/// the C library's float functions. The FFT partitions' errors are of the
/// order of 1e-6 of the peak (1); the comparisons allow 1e-5.
constexpr double Tolerance = 1e-5;
double irAt(unsigned Lanes, unsigned L, size_t T) {
  if (T >= 3000)
    return 0;
  // No sum of a product: the folder would fuse it on a CPU with FMA.
  float I = float(T);
  float A = I * (I + float(Lanes > 1 ? L : 0)) * 0.0013f;
  return sinf(A) * expf(-I / 700.0f);
}

TEST(Convolve, WidthsOfTheForms) {
  struct Case {
    const char *Io;
    unsigned IrLanes, Outputs;
  } Cases[] = {{"1 -> 1", 1, 1}, {"2 -> 2", 1, 2}, {"2 -> 2", 2, 2},
               {"1 -> 2", 2, 2}, {"2 -> 2", 4, 2}, {"3 -> 3", 9, 3}};
  for (const Case &C : Cases) {
    auto K = compile(script(C.Io, C.IrLanes, "out = convolve(in, ir);"));
    ASSERT_TRUE(K) << C.Io << " with " << C.IrLanes;
    EXPECT_EQ(K->info().outputs, C.Outputs);
  }
}

TEST(Convolve, AnImpulseGivesTheResponseInEveryForm) {
  // Per lane: each lane its own; true stereo: an impulse on both inputs
  // gives L->o + R->o.
  auto K = compile(script("2 -> 2", 2, "out = convolve(in, ir);"));
  ASSERT_TRUE(K);
  auto Y = process(*K, impulse(4000, 2));
  auto M = compile(script("2 -> 2", 4, "out = convolve(in, ir);"));
  ASSERT_TRUE(M);
  auto Z = process(*M, impulse(4000, 2));
  for (size_t T = 0; T < 4000; ++T)
    for (unsigned L = 0; L < 2; ++L) {
      ASSERT_NEAR(Y[T * 2 + L], irAt(2, L, T), Tolerance) << T << " lane " << L;
      ASSERT_NEAR(Z[T * 2 + L], irAt(4, L, T) + irAt(4, 2 + L, T),
                  2 * Tolerance)
          << T << " lane " << L;
    }
}

TEST(Convolve, InitResetsTheHistory) {
  auto K = compile(script("1 -> 1", 1, "out = convolve(in, ir);"));
  ASSERT_TRUE(K);
  auto I = Instance::create(K->info(), Rate);
  ASSERT_TRUE(I);
  std::vector<float> Noise(5000), Out(5000);
  for (size_t N = 0; N < Noise.size(); ++N)
    Noise[N] = float(std::sin(N * 0.37));
  I->process(Noise.data(), Out.data(), 5000);
  I->reset();
  auto In = impulse(4000, 1);
  I->process(In.data(), Out.data(), 4000);
  for (size_t T = 0; T < 4000; ++T)
    ASSERT_NEAR(Out[T], irAt(1, 0, T), Tolerance) << "frame " << T;
}

TEST(Convolve, OptimizationLevelsAndPrecisionsAgree) {
  // A table exact in float and in double alike.
  const std::string S = "io 1 -> 1;\ntable ir[3000] = ((i * 37) % 101 - 50) "
                        "/ 64;\nprocess { out = 0.5 * convolve(in, ir); }\n";
  auto O3 = compile(S), O0 = compile(S, 0), Double = compile(S, 3, true);
  ASSERT_TRUE(O3 && O0 && Double);
  std::vector<float> X(6000);
  for (size_t N = 0; N < X.size(); ++N)
    X[N] = float(std::sin(N * 0.11) * std::cos(N * 0.0007));
  auto Y3 = process(*O3, X), Y0 = process(*O0, X), YD = process(*Double, X);
  EXPECT_EQ(Y3, Y0); // the runtime computes; the kernel only calls it
  // The double kernel rounds its input to float and widens the result.
  for (size_t N = 0; N < X.size(); ++N)
    ASSERT_NEAR(YD[N], Y3[N], 1e-6 * std::max(1.0f, std::abs(Y3[N])))
        << "frame " << N;
}

TEST(Convolve, EachCallSiteHasItsOwnHistory) {
  // Two calls on different inputs: neither hears the other's.
  auto K = compile(
      script("2 -> 2", 1, "out = [convolve(in[0], ir), convolve(in[1], ir)];"));
  ASSERT_TRUE(K);
  std::vector<float> X(2 * 4000);
  X[0] = 1; // left only
  auto Y = process(*K, X);
  for (size_t T = 0; T < 4000; ++T) {
    ASSERT_NEAR(Y[T * 2], irAt(1, 0, T), Tolerance);
    ASSERT_EQ(Y[T * 2 + 1], 0.0f);
  }
}

} // namespace
