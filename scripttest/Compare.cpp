//===- scripttest/Compare.cpp - Golden files and levels -------------------===//
#include "scripttest/Compare.h"

#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dspjit::scripttest {

namespace {

std::string seconds(uint64_t Frame, double Rate) {
  return formatNumber(std::round(double(Frame) / Rate * 1e6) / 1e6);
}

/// A sample written in full, so that two close values read as different.
std::string sample(float V) {
  char Buf[32];
  std::snprintf(Buf, sizeof Buf, "%.9g", double(V));
  return Buf;
}

/// 20 log10 |V|, -inf for 0.
double toDb(double V) { return V > 0 ? 20 * std::log10(V) : -INFINITY; }

std::string db(double V) {
  if (std::isinf(V))
    return V < 0 ? "-inf" : "inf";
  return formatNumber(std::round(V * 1000) / 1000);
}

} // namespace

Verdict compareWithGolden(const Rendered &Got, const AudioData &Want,
                          double Tolerance, const std::string &Name) {
  Verdict V;
  if (Got.Channels != Want.Channels) {
    V.Lines.push_back(message<Msg::TestGoldenChannels>(
        Got.Channels, Got.Channels == 1 ? "" : "s", Name, Want.Channels));
    return V;
  }
  if (Got.Rate != Want.SampleRate) {
    V.Lines.push_back(
        message<Msg::TestGoldenRate>(Got.Rate, Name, Want.SampleRate));
    return V;
  }
  uint64_t Frames = std::min(Got.frames(), Want.frames());
  if (Got.frames() != Want.frames())
    V.Lines.push_back(message<Msg::TestGoldenLength>(
        Got.frames(), seconds(Got.frames(), Got.Rate), Name, Want.frames(),
        seconds(Want.frames(), Got.Rate), Frames));
  const unsigned Ch = Got.Channels;
  uint64_t Over = 0, First = 0, Worst = 0;
  double WorstDiff = 0;
  for (uint64_t I = 0; I < Frames * Ch; ++I) {
    double D = std::fabs(double(Got.Samples[I]) - double(Want.Samples[I]));
    if (std::isnan(D))
      D = INFINITY;
    if (D > Tolerance && Over++ == 0)
      First = I;
    if (D > WorstDiff) {
      WorstDiff = D;
      Worst = I;
    }
  }
  if (Over) {
    V.Lines.push_back(message<Msg::TestFirstDifference>(
        First % Ch + 1, First / Ch, seconds(First / Ch, Got.Rate),
        sample(Got.Samples[First]), sample(Want.Samples[First])));
    V.Lines.push_back(message<Msg::TestLargestDifference>(
        sample(float(WorstDiff)), Worst % Ch + 1, Worst / Ch,
        seconds(Worst / Ch, Got.Rate), Over, Frames * Ch,
        formatNumber(Tolerance)));
  }
  return V;
}

bool sameAudio(const Rendered &Got, const AudioData &Want) {
  return Got.Channels == Want.Channels && Got.Rate == Want.SampleRate &&
         Got.Samples.size() == Want.Samples.size() &&
         std::memcmp(Got.Samples.data(), Want.Samples.data(),
                     Got.Samples.size() * sizeof(float)) == 0;
}

double rmsDb(const Rendered &R) {
  if (R.Samples.empty())
    return -INFINITY;
  double Sum = 0;
  for (float S : R.Samples)
    Sum += double(S) * double(S);
  return toDb(std::sqrt(Sum / double(R.Samples.size())));
}

PeakAt peakDb(const Rendered &R) {
  PeakAt P;
  double Peak = 0;
  for (size_t I = 0; I < R.Samples.size(); ++I)
    if (double A = std::fabs(double(R.Samples[I])); A > Peak) {
      Peak = A;
      P.Channel = unsigned(I % R.Channels) + 1;
      P.Frame = I / R.Channels;
    }
  P.Db = toDb(Peak);
  return P;
}

Verdict checkLevel(const Rendered &R, const Check &C) {
  Verdict V;
  if (C.Type == Check::Silent) {
    PeakAt P = peakDb(R);
    if (P.Db >= Check::SilentDb)
      V.Lines.push_back(message<Msg::TestNotSilent>(
          db(P.Db), P.Channel, P.Frame, seconds(P.Frame, R.Rate),
          formatNumber(Check::SilentDb)));
    return V;
  }
  if (C.Type != Check::Rms && C.Type != Check::Peak)
    return V;
  double Level = C.Type == Check::Rms ? rmsDb(R) : peakDb(R).Db;
  double Off = Level - C.Level;
  if (!(std::fabs(Off) <= C.Tolerance))
    V.Lines.push_back(message<Msg::TestLevel>(
        C.Type == Check::Rms ? "RMS" : "peak", db(Level), db(C.Level),
        formatNumber(C.Tolerance), db(Off)));
  return V;
}

} // namespace dspjit::scripttest
