//===- analysis/Plots.cpp - The standard pictures of a script -------------===//
#include "analysis/Plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace dspjit::analysis {

namespace {

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

/// A dB axis range over the finite values above SilentDb: at most `Span`
/// below the highest, at least 12 dB (the figure rounds it to its ticks).
void dbRange(Axis &A, const std::vector<const std::vector<double> *> &Values,
             double Span) {
  double Lo = std::numeric_limits<double>::infinity(), Hi = -Lo;
  for (const auto *V : Values)
    for (double D : *V)
      if (std::isfinite(D) && D > SilentDb) {
        Lo = std::min(Lo, D);
        Hi = std::max(Hi, D);
      }
  if (!(Lo <= Hi)) { // nothing but silence
    A.Min = -120;
    A.Max = 0;
    return;
  }
  Lo = std::max(Lo, Hi - Span);
  if (Hi - Lo < 12) {
    double Mid = (Hi + Lo) / 2;
    Lo = Mid - 6;
    Hi = Mid + 6;
  }
  A.Min = Lo;
  A.Max = Hi + 0.5;
}

/// Leaves out points with no drawable neighbour: a line of one point is
/// not drawn, and should not stretch its axis either.
void dropIsolated(std::vector<double> &V) {
  std::vector<double> Was = V;
  for (size_t K = 0; K < V.size(); ++K)
    if ((K == 0 || std::isnan(Was[K - 1])) &&
        (K + 1 == V.size() || std::isnan(Was[K + 1])))
      V[K] = NaN;
}

/// True when nothing of `V` is drawable.
bool allNaN(const std::vector<double> &V) {
  return std::all_of(V.begin(), V.end(),
                     [](double D) { return std::isnan(D); });
}

/// How many frames of a response to draw: up to where it stays within
/// 60 dB of its peak away from its final value, plus a quarter.
size_t settledFrames(const std::vector<double> &H, bool Step) {
  double Final = Step && !H.empty() ? H.back() : 0, Peak = 0;
  for (double V : H)
    Peak = std::max(Peak, std::abs(V - Final));
  size_t Last = 0;
  for (size_t I = 0; I < H.size(); ++I)
    if (std::abs(H[I] - Final) > Peak * 1e-3)
      Last = I;
  return std::min(H.size(), std::max<size_t>(32, Last + Last / 4 + 8));
}

Figure figureWith(const FigureText &Text) {
  Figure F;
  F.Title = Text.Title;
  F.Subtitle = Text.Subtitle;
  return F;
}

} // namespace

Figure responseFigure(const NamedCurves<FrequencyResponse> &Curves,
                      double SampleRate, const FigureText &Text,
                      bool GroupDelay) {
  Figure F = figureWith(Text);
  Axis Frequency{"frequency (Hz)", AxisScale::Log, 20.0, SampleRate / 2};
  Panel Magnitude, Phase, Delay;
  Magnitude.X = Frequency;
  Magnitude.Y.Label = "magnitude (dB)";
  Magnitude.Legend = Curves.size() > 1;
  Phase.X = Frequency;
  Phase.Y.Degrees = true;

  std::vector<const std::vector<double> *> Levels;
  double Top = SilentDb;
  for (const auto &[Name, R] : Curves) {
    Levels.push_back(&R.MinDb);
    Levels.push_back(&R.MaxDb);
    for (double D : R.MagnitudeDb)
      Top = std::max(Top, D);
  }
  dbRange(Magnitude.Y, Levels, 96);
  Phase.Y.Label = "phase (degrees)";
  Delay.X = Frequency;
  Delay.Y.Label = "group delay (ms)";
  for (size_t I = 0; I < Curves.size(); ++I) {
    const auto &[Name, R] = Curves[I];
    // Where a comb's teeth are closer than the points, the band they fill
    // is the picture; samples of the line there would draw a moire, and so
    // would the phase and group delay at and next to such points, or a
    // phase that turns over 90 degrees from one point to the next.
    std::vector<double> Db = R.MagnitudeDb, Degrees = R.PhaseDegrees,
                        Ms = R.GroupDelayMs, Hz = R.Hz;
    const size_t N = Db.size();
    auto Teeth = [&](size_t K) { return R.MaxDb[K] - R.MinDb[K] > 1; };
    auto Turns = [&](size_t K) {
      return std::abs(R.PhaseDegrees[K + 1] - R.PhaseDegrees[K]) > 90;
    };
    bool AnyTeeth = false;
    for (size_t K = 0; K < N; ++K) {
      bool Near = (K > 0 && (Teeth(K - 1) || Turns(K - 1))) ||
                  (K + 1 < N && (Teeth(K + 1) || Turns(K)));
      if (Teeth(K)) {
        AnyTeeth = true;
        Db[K] = NaN;
      }
      if (Teeth(K) || Near) {
        Degrees[K] = Ms[K] = NaN;
        Phase.Heading = "phase: left out where it moves too fast for the "
                        "points";
      }
      if (R.MagnitudeDb[K] < Top - 80)
        Ms[K] = NaN;
    }
    if (AnyTeeth) {
      Magnitude.Curves.push_back(
          {Curves.size() > 1 ? "" : "range between points", R.Hz, R.MinDb,
           CurveStyle::Band, int(I), R.MaxDb});
      Magnitude.Legend = true;
    }
    for (auto *V : {&Db, &Degrees, &Ms})
      dropIsolated(*V);
    if (allNaN(Degrees))
      Phase.Heading = "phase: too fast for the points everywhere; see the "
                      "impulse response (--impulse)";
    Magnitude.Curves.push_back({Name, R.Hz, Db, CurveStyle::Line, int(I)});
    Phase.Curves.push_back({Name, Hz, Degrees, CurveStyle::Line, int(I)});
    Delay.Curves.push_back({Name, R.Hz, Ms, CurveStyle::Line, int(I)});
    if (Delay.Heading.empty() && !Phase.Heading.empty())
      Delay.Heading = "group delay: left out where the phase is";
  }
  F.Panels.push_back(std::move(Magnitude));
  F.Panels.push_back(std::move(Phase));
  if (GroupDelay)
    F.Panels.push_back(std::move(Delay));
  return F;
}

Figure timeFigure(const NamedCurves<std::vector<double>> &Curves,
                  double SampleRate, const FigureText &Text, bool Step,
                  bool Whole) {
  Figure F = figureWith(Text);
  Panel &P = F.Panels.emplace_back();
  P.X.Label = "time (ms)";
  P.Y.Label = Step ? "step response" : "impulse response";
  P.Legend = Curves.size() > 1;
  size_t Frames = 0;
  for (const auto &[Name, H] : Curves)
    Frames = std::max(Frames, Whole ? H.size() : settledFrames(H, Step));
  for (const auto &[Name, H] : Curves) {
    Curve &C = P.Curves.emplace_back();
    C.Name = Name;
    C.Style = Frames <= 160 ? CurveStyle::Stems : CurveStyle::Line;
    for (size_t I = 0; I < std::min(Frames, H.size()); ++I) {
      C.X.push_back(double(I) / SampleRate * 1000);
      C.Y.push_back(H[I]);
    }
  }
  // Room above and below the extremes, so that no stem's dot touches the
  // frame.
  double Lo = 0, Hi = 0;
  for (const Curve &C : P.Curves)
    for (double V : C.Y)
      if (std::isfinite(V)) {
        Lo = std::min(Lo, V);
        Hi = std::max(Hi, V);
      }
  if (Hi > Lo) {
    P.Y.Min = Lo - 0.04 * (Hi - Lo);
    P.Y.Max = Hi + 0.04 * (Hi - Lo);
  }
  // Stems stand half a sample inside the frame, the first one included.
  double Pad = Frames <= 160 ? 0.5 : 0;
  P.X.Min = -Pad / SampleRate * 1000;
  P.X.Max = (double(std::max<size_t>(Frames, 2) - 1) + Pad) / SampleRate * 1000;
  return F;
}

Figure transferFigure(const NamedCurves<TransferCurve> &Curves,
                      const NamedCurves<HarmonicContent> &Harmonics,
                      const FigureText &Text) {
  Figure F = figureWith(Text);
  F.Columns = 2;
  F.Height = 520;
  F.Panels.reserve(2); // Levels and Bars stay where they are
  Panel &Levels = F.Panels.emplace_back();
  Levels.X.Label = "input level (dBFS)";
  Levels.Y.Label = "output level (dBFS)";
  Levels.Legend = true;
  std::vector<const std::vector<double> *> Values;
  char Heading[160];
  for (size_t I = 0; I < Curves.size(); ++I) {
    const auto &[Name, C] = Curves[I];
    std::string Suffix = Name.empty() ? "" : ", " + Name;
    Levels.Curves.push_back(
        {"peak" + Suffix, C.InDb, C.PeakDb, CurveStyle::Line, int(I)});
    Levels.Curves.push_back(
        {"RMS" + Suffix, C.InDb, C.RmsDb, CurveStyle::Dashed, int(I)});
    Values.push_back(&C.PeakDb);
    Values.push_back(&C.RmsDb);
    std::snprintf(Heading, sizeof Heading, "transfer of a %g Hz sine",
                  C.FrequencyHz);
    Levels.Heading = Heading;
  }
  if (!Curves.empty()) {
    const TransferCurve &First = Curves.front().second;
    Levels.Curves.push_back(
        {"out = in", First.InDb, First.InDb, CurveStyle::Dashed, 7});
    Values.push_back(&First.InDb);
    Levels.X.Min = First.InDb.front();
    Levels.X.Max = First.InDb.back();
  }
  dbRange(Levels.Y, Values, 120);

  Panel &Bars = F.Panels.emplace_back();
  Bars.X.Label = "harmonic";
  Bars.Y.Label = "level (dBFS)";
  Bars.Legend = Harmonics.size() > 1;
  Values.clear();
  size_t Orders = 0;
  for (size_t I = 0; I < Harmonics.size(); ++I) {
    const auto &[Name, H] = Harmonics[I];
    Curve &C = Bars.Curves.emplace_back();
    std::snprintf(Heading, sizeof Heading, "THD %.3g %%", H.ThdPercent);
    C.Name = Name.empty() ? "" : Name + ": " + Heading;
    C.Style = CurveStyle::Bars;
    C.Color = int(I);
    for (size_t K = 0; K < H.Db.size(); ++K) {
      C.X.push_back(double(K));
      C.Y.push_back(H.Db[K]);
    }
    Orders = std::max(Orders, H.Db.size());
    Values.push_back(&H.Db);
    if (Harmonics.size() == 1)
      std::snprintf(Heading, sizeof Heading,
                    "harmonics at %g dBFS, THD %.3g %%", H.LevelDb,
                    H.ThdPercent);
    else
      std::snprintf(Heading, sizeof Heading, "harmonics at %g dBFS", H.LevelDb);
    Bars.Heading = Heading;
  }
  for (size_t K = 0; K < Orders; ++K)
    Bars.X.Categories.push_back(K ? std::to_string(K) : "DC");
  dbRange(Bars.Y, Values, 120);
  if (Bars.Legend) // room above the tallest bars for the legend
    *Bars.Y.Max +=
        (*Bars.Y.Max - *Bars.Y.Min) * (0.07 * double(Harmonics.size()) + 0.05);
  return F;
}

Figure spectrogramFigure(const Spectrogram &G, const FigureText &Text,
                         bool LogFrequency) {
  Figure F = figureWith(Text);
  F.Height = 560;
  Panel &P = F.Panels.emplace_back();
  const double Nyquist = G.SampleRate / 2, Low = LogFrequency ? 20 : 0;
  P.X = {"time (s)", AxisScale::Linear, 0.0,
         std::max(double(G.Frames), 1.0) / G.SampleRate};
  P.Y = {"frequency (Hz)", LogFrequency ? AxisScale::Log : AxisScale::Linear,
         Low, Nyquist};
  Heatmap M;
  M.Columns = G.Columns;
  M.Rows = 400;
  M.Label = "level (dBFS)";
  double Hop = double(G.HopFrames) / G.SampleRate;
  M.X0 = G.Columns ? G.seconds(0) - Hop / 2 : 0;
  M.X1 = G.Columns ? G.seconds(G.Columns - 1) + Hop / 2 : 1;
  M.Y0 = Low;
  M.Y1 = Nyquist;
  // The frequency at a position T (0 bottom, 1 top) of the axis.
  auto HzAt = [&](double T) {
    return LogFrequency ? Low * std::pow(Nyquist / Low, T) : Nyquist * T;
  };
  auto BinAt = [&](double Hz) {
    return Hz * double(G.WindowFrames) / G.SampleRate;
  };
  M.Values.resize(M.Rows * M.Columns);
  float Highest = -std::numeric_limits<float>::infinity();
  for (size_t R = 0; R < M.Rows; ++R) {
    // The row covers the bins between its edges: the loudest of them, or
    // between two bins (low frequencies on a log axis) their interpolation.
    double Top = double(M.Rows - R) / double(M.Rows),
           Bottom = double(M.Rows - R - 1) / double(M.Rows);
    double B0 = BinAt(HzAt(Bottom)), B1 = BinAt(HzAt(Top)),
           Mid = BinAt(HzAt((Top + Bottom) / 2));
    for (size_t C = 0; C < M.Columns; ++C) {
      float V;
      size_t First = size_t(std::ceil(B0)), Last = size_t(std::floor(B1));
      if (Last >= First && Last > First) {
        V = -std::numeric_limits<float>::infinity();
        for (size_t B = First; B <= std::min(Last, G.Bins - 1); ++B)
          V = std::max(V, G.at(C, B));
      } else {
        size_t B = std::min(size_t(Mid), G.Bins - 2);
        double T = std::clamp(Mid - double(B), 0.0, 1.0);
        V = float(G.at(C, B) * (1 - T) + G.at(C, B + 1) * T);
      }
      M.Values[R * M.Columns + C] = V;
      Highest = std::max(Highest, V);
    }
  }
  M.High = std::isfinite(Highest) && Highest > SilentDb
               ? std::ceil(Highest / 10) * 10
               : 0;
  M.Low = M.High - 100;
  P.Image = std::move(M);
  return F;
}

} // namespace dspjit::analysis
