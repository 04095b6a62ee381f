//===- analysis/Transfer.cpp - What a script does to a sine's level -------===//
#include "analysis/Transfer.h"

#include "analysis/Response.h"
#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

namespace dspjit::analysis {

namespace {

double toDb(double Amplitude) {
  return Amplitude > 1e-15 ? 20 * std::log10(Amplitude) : SilentDb;
}

/// The output lane over the analysis window, after the settling time, for
/// a sine of `LevelDb` dBFS on the input lane of a fresh instance.
Result<std::vector<double>> sineWindow(const DspjitKernel &K,
                                       const ResponseOptions &O,
                                       const TransferOptions &T,
                                       const SineFit &Fit, double LevelDb) {
  auto P = Probe::create(K, O);
  if (!P)
    return fail(P.error());
  const double Amplitude = std::pow(10.0, LevelDb / 20);
  // Settle for whole periods, so that the window starts at phase 0.
  size_t Settle =
      size_t(std::ceil(T.SettleSeconds * O.SampleRate / double(Fit.Frames))) *
      Fit.Frames;
  size_t Total = Settle + Fit.Frames;
  std::vector<float> In(Fit.Frames), Out(Fit.Frames);
  for (size_t N = 0; N < Fit.Frames; ++N) {
    // The phase from an exact integer: (Periods * N) mod Frames.
    size_t Phase = Fit.Periods * N % Fit.Frames;
    In[N] = float(Amplitude * std::sin(2 * std::numbers::pi * double(Phase) /
                                       double(Fit.Frames)));
  }
  for (size_t Done = 0; Done < Total; Done += Fit.Frames)
    P->run(In.data(), Out.data(), Fit.Frames);
  return std::vector<double>(Out.begin(), Out.end());
}

/// The amplitude of the window's component at `Periods` periods per
/// window (0: DC), exactly on its bin.
double amplitudeAt(const std::vector<double> &Y, size_t Periods) {
  std::complex<double> Sum = 0;
  const size_t N = Y.size();
  for (size_t I = 0; I < N; ++I) {
    double Angle = 2 * std::numbers::pi * double(Periods * I % N) / double(N);
    Sum += Y[I] * std::complex<double>(std::cos(Angle), -std::sin(Angle));
  }
  return std::abs(Sum) / double(N) * (Periods ? 2 : 1);
}

} // namespace

SineFit fitSine(double Hz, double SampleRate, double WindowSeconds) {
  SineFit F;
  F.Frames =
      std::max<size_t>(16, size_t(std::lround(SampleRate * WindowSeconds)));
  F.Periods = std::max<size_t>(
      1, size_t(std::lround(Hz * double(F.Frames) / SampleRate)));
  F.Hz = double(F.Periods) * SampleRate / double(F.Frames);
  return F;
}

/// Checks the sine and gives its fit.
static Result<SineFit> checkedSine(const ResponseOptions &O,
                                   const TransferOptions &T) {
  SineFit Fit = fitSine(T.FrequencyHz, O.SampleRate, T.WindowSeconds);
  if (!(T.FrequencyHz > 0) || 2 * Fit.Periods >= Fit.Frames)
    return fail(message<Msg::AnalysisSineAboveNyquist>(T.FrequencyHz,
                                                       O.SampleRate / 2));
  return Fit;
}

Result<TransferCurve> transferCurve(const DspjitKernel &K,
                                    const ResponseOptions &O,
                                    const TransferOptions &T) {
  if (!(T.ToDb >= T.FromDb) || !(T.StepDb > 0))
    return fail(message<Msg::AnalysisLevels>(T.FromDb, T.ToDb));
  auto Fit = checkedSine(O, T);
  if (!Fit)
    return fail(Fit.error());
  TransferCurve C;
  C.FrequencyHz = Fit->Hz;
  size_t Levels = size_t((T.ToDb - T.FromDb) / T.StepDb + 1e-9) + 1;
  for (size_t L = 0; L < Levels; ++L) {
    double Level = T.FromDb + double(L) * T.StepDb;
    auto Y = sineWindow(K, O, T, *Fit, Level);
    if (!Y)
      return fail(Y.error());
    double Peak = 0, Power = 0;
    for (double V : *Y) {
      Peak = std::max(Peak, std::abs(V));
      Power += V * V;
    }
    C.InDb.push_back(Level);
    C.PeakDb.push_back(toDb(Peak));
    C.RmsDb.push_back(toDb(std::sqrt(2 * Power / double(Y->size()))));
  }
  return C;
}

Result<HarmonicContent> harmonics(const DspjitKernel &K,
                                  const ResponseOptions &O, double LevelDb,
                                  const TransferOptions &T) {
  auto Fit = checkedSine(O, T);
  if (!Fit)
    return fail(Fit.error());
  auto Y = sineWindow(K, O, T, *Fit, LevelDb);
  if (!Y)
    return fail(Y.error());
  HarmonicContent H;
  H.LevelDb = LevelDb;
  H.FrequencyHz = Fit->Hz;
  double Fundamental = 0, Others = 0;
  for (size_t Order = 0;
       Order <= T.Harmonics && 2 * Order * Fit->Periods < Fit->Frames;
       ++Order) {
    double A = amplitudeAt(*Y, Order * Fit->Periods);
    H.Db.push_back(toDb(A));
    if (Order == 1)
      Fundamental = A;
    if (Order >= 2)
      Others += A * A;
  }
  H.ThdPercent = Fundamental > 0 ? 100 * std::sqrt(Others) / Fundamental : 0;
  return H;
}

} // namespace dspjit::analysis
