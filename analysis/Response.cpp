//===- analysis/Response.cpp - What a script does to an impulse -----------===//
#include "analysis/Response.h"

#include "analysis/Fft.h"
#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>

namespace dspjit::analysis {

namespace {

using Complex = std::complex<double>;

/// Frames rendered at a time while waiting for the decay.
constexpr size_t Chunk = 4096;

/// Runs `P` with `In` (null: silence after frame 0's `First`) on its input
/// lane and appends `Frames` output frames to `Out`.
void runInto(Probe &P, float First, float Rest, size_t Frames,
             std::vector<double> &Out) {
  std::vector<float> In(std::min(Frames, Chunk)), Got(In.size());
  for (size_t Done = 0; Done < Frames; Done += In.size()) {
    size_t N = std::min(In.size(), Frames - Done);
    std::fill(In.begin(), In.end(), Rest);
    if (P.frames() == 0)
      In[0] = First;
    P.run(In.data(), Got.data(), N);
    Out.insert(Out.end(), Got.begin(), Got.begin() + N);
  }
}

/// The impulse response until it has decayed (see Response.h).
std::vector<double> untilDecayed(Probe &P, size_t Quiet) {
  const double Below = std::pow(10.0, -DecayDb / 20);
  std::vector<double> H;
  double Peak = 0;
  size_t LoudEnd = 0; // one past the last sample above Peak * Below
  while (H.size() < ImpulseCap && H.size() - LoudEnd < Quiet) {
    size_t Start = H.size();
    runInto(P, 1.0f, 0.0f, std::min(Chunk, ImpulseCap - Start), H);
    for (size_t I = Start; I < H.size(); ++I) {
      double A = std::abs(H[I]);
      Peak = std::max(Peak, A);
      if (A > Peak * Below)
        LoudEnd = I + 1;
    }
  }
  H.resize(std::min(H.size(), std::max<size_t>(LoudEnd, 64)));
  return H;
}

/// The DTFT of `H` and of n * H[n] at the angular frequencies `W` (radians
/// per sample), summed directly. Phasors are rotated from frame to frame
/// and computed afresh every block, so that rounding cannot build up;
/// blocks of silence (an echo's gaps) are skipped.
void dtft(const std::vector<double> &H, const std::vector<double> &W,
          std::vector<Complex> &Sum, std::vector<Complex> &NSum) {
  const size_t K = W.size(), Block = 256;
  std::vector<double> Ar(K), Ai(K), Br(K), Bi(K), Pr(K), Pi(K), Sr(K), Si(K);
  for (size_t J = 0; J < K; ++J) {
    Sr[J] = std::cos(W[J]);
    Si[J] = -std::sin(W[J]);
  }
  for (size_t Start = 0; Start < H.size(); Start += Block) {
    size_t End = std::min(H.size(), Start + Block);
    if (std::all_of(H.begin() + Start, H.begin() + End,
                    [](double V) { return V == 0; }))
      continue;
    for (size_t J = 0; J < K; ++J) {
      Pr[J] = std::cos(W[J] * double(Start));
      Pi[J] = -std::sin(W[J] * double(Start));
    }
    for (size_t N = Start; N < End; ++N) {
      const double V = H[N], NV = double(N) * H[N];
      for (size_t J = 0; J < K; ++J) {
        Ar[J] += V * Pr[J];
        Ai[J] += V * Pi[J];
        Br[J] += NV * Pr[J];
        Bi[J] += NV * Pi[J];
        double R = Pr[J] * Sr[J] - Pi[J] * Si[J];
        Pi[J] = Pr[J] * Si[J] + Pi[J] * Sr[J];
        Pr[J] = R;
      }
    }
  }
  Sum.resize(K);
  NSum.resize(K);
  for (size_t J = 0; J < K; ++J) {
    Sum[J] = {Ar[J], Ai[J]};
    NSum[J] = {Br[J], Bi[J]};
  }
}

/// The phase of `H` at the frequencies `W`, unwrapped: each step goes to
/// the branch nearest to what the group delay `Gd` (samples) predicts. It
/// starts from the principal value at the first frequency where the
/// response is not (near) silent.
std::vector<double> unwrappedPhase(const std::vector<Complex> &H,
                                   const std::vector<double> &W,
                                   const std::vector<double> &Gd) {
  double Largest = 0;
  for (const Complex &V : H)
    Largest = std::max(Largest, std::abs(V));
  auto Audible = [&](size_t I) {
    return std::abs(H[I]) > 1e-9 * Largest && std::isfinite(Gd[I]);
  };
  size_t First = 0;
  while (First + 1 < H.size() && !Audible(First))
    ++First;
  std::vector<double> Phase(H.size());
  Phase[First] = std::arg(H[First]);
  auto Step = [&](size_t From, size_t To) {
    double Predicted = Phase[From];
    if (Audible(From) && Audible(To))
      Predicted -= 0.5 * (Gd[From] + Gd[To]) * (W[To] - W[From]);
    Phase[To] = Predicted + std::remainder(std::arg(H[To]) - Predicted,
                                           2 * std::numbers::pi);
  };
  for (size_t I = First + 1; I < H.size(); ++I)
    Step(I - 1, I);
  for (size_t I = First; I-- > 0;)
    Step(I + 1, I);
  return Phase;
}

double toDb(double Magnitude) {
  return Magnitude > 1e-15 ? 20 * std::log10(Magnitude) : SilentDb;
}

/// Fills R.MinDb and R.MaxDb (see Response.h) from the FFT's bins, and
/// the exact magnitude at each point.
void magnitudeBands(const std::vector<double> &Impulse, double SampleRate,
                    FrequencyResponse &R) {
  size_t N = 16384;
  while (N < 2 * Impulse.size())
    N *= 2;
  RealFft F(N);
  std::copy(Impulse.begin(), Impulse.end(), F.input());
  F.run();
  const double BinHz = SampleRate / double(N);
  const size_t Points = R.Hz.size();
  for (size_t I = 0; I < Points; ++I) {
    double From = I ? std::sqrt(R.Hz[I - 1] * R.Hz[I]) : R.Hz[0];
    double To = I + 1 < Points ? std::sqrt(R.Hz[I] * R.Hz[I + 1]) : R.Hz[I];
    double Lo = R.MagnitudeDb[I], Hi = Lo;
    for (size_t B = size_t(std::ceil(From / BinHz));
         B < F.bins() && double(B) * BinHz <= To; ++B) {
      double Db = toDb(std::abs(F.output()[B]));
      Lo = std::min(Lo, Db);
      Hi = std::max(Hi, Db);
    }
    R.MinDb.push_back(Lo);
    R.MaxDb.push_back(Hi);
  }
}

} // namespace

Result<std::vector<double>> impulseResponse(const DspjitKernel &K,
                                            const ResponseOptions &O) {
  if (O.Length && *O.Length < 2)
    return fail(message<Msg::AnalysisShortImpulse>(*O.Length));
  auto P = Probe::create(K, O);
  if (!P)
    return fail(P.error());
  if (!O.Length)
    return untilDecayed(*P, std::max<size_t>(2048, 2 * longestDelay(K)));
  std::vector<double> H;
  runInto(*P, 1.0f, 0.0f, *O.Length, H);
  return H;
}

Result<std::vector<double>> stepResponse(const DspjitKernel &K,
                                         const ResponseOptions &O) {
  size_t Length = O.Length.value_or(0);
  if (!O.Length) {
    auto H = impulseResponse(K, O);
    if (!H)
      return fail(H.error());
    Length = H->size();
  }
  if (Length < 2)
    return fail(message<Msg::AnalysisShortImpulse>(Length));
  auto P = Probe::create(K, O);
  if (!P)
    return fail(P.error());
  std::vector<double> S;
  runInto(*P, 1.0f, 1.0f, Length, S);
  return S;
}

FrequencyResponse responseOf(const std::vector<double> &Impulse,
                             double SampleRate, size_t Points) {
  Points = std::max<size_t>(Points, 2);
  const double Low = 20, High = SampleRate / 2;
  // The response itself at Points log-spaced frequencies, after a few
  // from 0 Hz up to the first that only guide the phase's unwrapping.
  const size_t Lead = 16;
  std::vector<double> W(Lead + Points);
  FrequencyResponse R;
  R.Hz.resize(Points);
  for (size_t I = 0; I < Points; ++I)
    R.Hz[I] = Low * std::pow(High / Low, double(I) / double(Points - 1));
  R.Hz.back() = High;
  for (size_t I = 0; I < Lead; ++I)
    W[I] = 2 * std::numbers::pi * Low / SampleRate * double(I) / double(Lead);
  for (size_t I = 0; I < Points; ++I)
    W[Lead + I] = 2 * std::numbers::pi * R.Hz[I] / SampleRate;

  std::vector<Complex> H, NH;
  dtft(Impulse, W, H, NH);
  std::vector<double> Gd(W.size());
  for (size_t I = 0; I < W.size(); ++I) {
    double Power = std::norm(H[I]);
    Gd[I] = Power > 0 ? (NH[I] * std::conj(H[I])).real() / Power
                      : std::numeric_limits<double>::quiet_NaN();
  }
  std::vector<double> Phase = unwrappedPhase(H, W, Gd);
  for (size_t I = Lead; I < W.size(); ++I) {
    R.MagnitudeDb.push_back(toDb(std::abs(H[I])));
    R.PhaseDegrees.push_back(Phase[I] * 180 / std::numbers::pi);
    R.GroupDelayMs.push_back(Gd[I] / SampleRate * 1000);
  }
  R.ImpulseFrames = Impulse.size();
  magnitudeBands(Impulse, SampleRate, R);
  return R;
}

Result<FrequencyResponse> frequencyResponse(const DspjitKernel &K,
                                            const ResponseOptions &O,
                                            size_t Points) {
  if (O.SampleRate / 2 <= 20)
    return fail(
        message<Msg::AnalysisNoFrequencies>(O.SampleRate, O.SampleRate / 2));
  auto H = impulseResponse(K, O);
  if (!H)
    return fail(H.error());
  return responseOf(*H, O.SampleRate, Points);
}

} // namespace dspjit::analysis
