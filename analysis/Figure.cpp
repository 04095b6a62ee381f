//===- analysis/Figure.cpp - Plots written as SVG or PNG ------------------===//
//
// The layout: the title and subtitle on top, then a grid of cells, one per
// panel. In a cell, the plot area is what is left after the room for the
// heading, the axis labels, the tick labels (measured) and the colour bar.
// Ticks are chosen from the plot area's size: linear steps of 1, 2 or 5
// times a power of ten (or 15, 30, 45, 90... degrees), at least 28 px apart
// on a Y axis and labelled without overlapping on an X axis; logarithmic
// axes label 1, 2 and 5 of every decade when a decade is 100 px or wider, and
// draw the other digits as minor grid lines.
//
//===----------------------------------------------------------------------===//
#include "analysis/Figure.h"

#include "analysis/Canvas.h"
#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

namespace dspjit::analysis {

namespace {

/// Colour-blind-safe (Okabe and Ito), the first ones the most distinct.
constexpr uint32_t Palette[] = {0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7,
                                0xe69f00, 0x56b4e9, 0x000000, 0x999999};
constexpr size_t PaletteSize = sizeof(Palette) / sizeof(Palette[0]);

const TextStyle TitleStyle{18, true, 0x111111};
const TextStyle SubtitleStyle{12, false, 0x555555};
const TextStyle HeadingStyle{13, true, 0x222222};
const TextStyle LabelStyle{13, false, 0x222222};
const TextStyle TickStyle{11, false, 0x444444};
const TextStyle LegendStyle{11, false, 0x222222};
constexpr uint32_t GridMajor = 0xdcdcdc, GridMinor = 0xf0f0f0,
                   FrameColor = 0x777777;

/// How far the tick labels of a Y axis are apart, at least.
constexpr double YTickGap = 28;

struct Box {
  double X = 0, Y = 0, W = 0, H = 0;
};

/// One axis, resolved: its range and where it lies in pixels.
struct Mapping {
  double Lo = 0, Hi = 1;
  bool Log = false;
  double P0 = 0, P1 = 1; ///< the pixels of Lo and Hi

  double to(double V) const {
    double T = Log ? (std::log10(V) - std::log10(Lo)) /
                         (std::log10(Hi) - std::log10(Lo))
                   : (V - Lo) / (Hi - Lo);
    return P0 + T * (P1 - P0);
  }
  /// V is drawable: finite, and positive on a log axis.
  bool valid(double V) const { return std::isfinite(V) && (!Log || V > 0); }
};

struct Ticks {
  std::vector<double> Major;
  std::vector<std::string> Labels; ///< one per major tick ("" unlabelled)
  std::vector<double> Minor;
};

double niceStep(double Raw, bool Degrees) {
  if (Degrees) {
    for (double S : {1.0, 5.0, 15.0, 30.0, 45.0, 90.0, 180.0, 360.0})
      if (S >= Raw)
        return S;
    double S = 720;
    while (S < Raw)
      S *= 2;
    return S;
  }
  double Power = std::pow(10, std::floor(std::log10(Raw)));
  for (double M : {1.0, 2.0, 5.0})
    if (M * Power >= Raw * (1 - 1e-9))
      return M * Power;
  return 10 * Power;
}

std::string formatTick(double V, double Step) {
  if (std::abs(V) < Step * 1e-6)
    V = 0;
  int Decimals = std::max(0, int(std::ceil(-std::log10(Step) - 1e-9)));
  char Buffer[32];
  std::snprintf(Buffer, sizeof Buffer, "%.*f", Decimals, V);
  return Buffer;
}

/// 20, 500, 1k, 2.5k, 20k.
std::string formatLogTick(double V) {
  char Buffer[32];
  if (V >= 1000)
    std::snprintf(Buffer, sizeof Buffer, "%gk", V / 1000);
  else
    std::snprintf(Buffer, sizeof Buffer, "%g", V);
  return Buffer;
}

/// The step for a linear axis of `Span` over `Pixels`, ticks `Gap` apart.
double stepFor(double Span, double Pixels, double Gap, bool Degrees) {
  double Count = std::max(1.0, std::floor(Pixels / Gap));
  return niceStep(Span / Count, Degrees);
}

Ticks linearTicks(const Mapping &M, double Pixels, double Gap, bool Degrees) {
  Ticks T;
  double Step = stepFor(M.Hi - M.Lo, Pixels, Gap, Degrees);
  for (double K = std::ceil(M.Lo / Step - 1e-9); K * Step <= M.Hi + Step * 1e-9;
       ++K) {
    T.Major.push_back(K * Step);
    T.Labels.push_back(formatTick(K * Step, Step));
  }
  return T;
}

Ticks logTicks(const Mapping &M, double Pixels) {
  Ticks T;
  double PerDecade = Pixels / (std::log10(M.Hi) - std::log10(M.Lo));
  auto Labelled = [&](int Digit) {
    return Digit == 1 || (PerDecade >= 100 && (Digit == 2 || Digit == 5));
  };
  for (int D = int(std::floor(std::log10(M.Lo)));
       D <= int(std::ceil(std::log10(M.Hi))); ++D)
    for (int Digit = 1; Digit <= 9; ++Digit) {
      double V = Digit * std::pow(10.0, D);
      if (V < M.Lo * (1 - 1e-9) || V > M.Hi * (1 + 1e-9))
        continue;
      if (!Labelled(Digit)) {
        T.Minor.push_back(V);
        continue;
      }
      T.Major.push_back(V);
      T.Labels.push_back(formatLogTick(V));
    }
  return T;
}

Ticks categoryTicks(const Axis &A) {
  Ticks T;
  for (size_t I = 0; I < A.Categories.size(); ++I) {
    T.Major.push_back(double(I));
    T.Labels.push_back(A.Categories[I]);
  }
  return T;
}

Ticks ticksFor(const Axis &A, const Mapping &M, double Pixels, double Gap) {
  if (!A.Categories.empty())
    return categoryTicks(A);
  if (M.Log)
    return logTicks(M, Pixels);
  return linearTicks(M, Pixels, Gap, A.Degrees);
}

/// The drawable range of the panel's data on one axis.
std::pair<double, double> dataRange(const Panel &P, bool IsX, bool Log) {
  double Lo = std::numeric_limits<double>::infinity(), Hi = -Lo;
  auto See = [&](double V) {
    if (std::isfinite(V) && (!Log || V > 0)) {
      Lo = std::min(Lo, V);
      Hi = std::max(Hi, V);
    }
  };
  for (const Curve &C : P.Curves)
    for (double V : IsX ? C.X : C.Y)
      See(V);
  if (P.Image) {
    See(IsX ? P.Image->X0 : P.Image->Y0);
    See(IsX ? P.Image->X1 : P.Image->Y1);
  }
  if (!(Lo <= Hi))
    return Log ? std::pair(1.0, 10.0) : std::pair(0.0, 1.0);
  if (Lo == Hi) {
    double Pad = Log ? 0 : std::max(1.0, std::abs(Lo) * 0.1);
    return Log ? std::pair(Lo / 2, Hi * 2) : std::pair(Lo - Pad, Hi + Pad);
  }
  return {Lo, Hi};
}

/// Resolves an axis over `Pixels`: X axes fit their data (or Min and Max),
/// linear Y axes widen to round ticks; categories take -0.5 .. N - 0.5.
Mapping resolve(const Axis &A, const Panel &P, bool IsX, double Pixels) {
  Mapping M;
  M.Log = A.Scale == AxisScale::Log;
  if (!A.Categories.empty()) {
    M.Lo = -0.5;
    M.Hi = double(A.Categories.size()) - 0.5;
    M.Log = false;
    return M;
  }
  auto [Lo, Hi] = dataRange(P, IsX, M.Log);
  M.Lo = A.Min.value_or(Lo);
  M.Hi = A.Max.value_or(Hi);
  if (!(M.Hi > M.Lo))
    M.Hi = M.Lo + 1;
  if (!IsX && !M.Log) {
    double Step = stepFor(M.Hi - M.Lo, Pixels, YTickGap, A.Degrees);
    M.Lo = std::floor(M.Lo / Step + 1e-9) * Step;
    M.Hi = std::ceil(M.Hi / Step - 1e-9) * Step;
  }
  return M;
}

uint32_t curveColor(const Curve &C, size_t Index) {
  return Palette[size_t(C.Color >= 0 ? size_t(C.Color) : Index) % PaletteSize];
}

/// A Y pixel: far outside the plot area a point is clipped anyway; keep
/// the numbers small.
double clampedY(const Mapping &Y, double V) {
  return std::clamp(Y.to(V), std::min(Y.P0, Y.P1) - 4000,
                    std::max(Y.P0, Y.P1) + 4000);
}

/// The curve (or a band's upper edge, `Upper`) as pixel polylines, cut
/// where a point is not drawable.
std::vector<std::vector<Point>> pixelRuns(const Curve &C, const Mapping &X,
                                          const Mapping &Y,
                                          bool Upper = false) {
  const std::vector<double> &Ys = Upper ? C.Y2 : C.Y;
  std::vector<std::vector<Point>> Runs(1);
  for (size_t I = 0; I < std::min(C.X.size(), Ys.size()); ++I) {
    if (!X.valid(C.X[I]) || !Y.valid(Ys[I])) {
      if (!Runs.back().empty())
        Runs.emplace_back();
      continue;
    }
    Runs.back().push_back({X.to(C.X[I]), clampedY(Y, Ys[I])});
  }
  return Runs;
}

/// Where stems start: 0 if the axis shows it, else its bottom.
double baseline(const Mapping &Y) {
  return Y.to(Y.Lo <= 0 && 0 <= Y.Hi ? 0 : Y.Lo);
}

/// A band as polygons between its edges, cut where either is not drawable.
void drawBand(Canvas &Cv, const Curve &C, const Mapping &X, const Mapping &Y,
              uint32_t Rgb) {
  std::vector<Point> Lower, Upper;
  auto Flush = [&] {
    Lower.insert(Lower.end(), Upper.rbegin(), Upper.rend());
    Cv.polygon(Lower, Rgb, 0.3);
    Lower.clear();
    Upper.clear();
  };
  for (size_t I = 0; I < std::min({C.X.size(), C.Y.size(), C.Y2.size()}); ++I) {
    if (!X.valid(C.X[I]) || !Y.valid(C.Y[I]) || !Y.valid(C.Y2[I])) {
      Flush();
      continue;
    }
    Lower.push_back({X.to(C.X[I]), clampedY(Y, C.Y[I])});
    Upper.push_back({X.to(C.X[I]), clampedY(Y, C.Y2[I])});
  }
  Flush();
}

void drawCurve(Canvas &Cv, const Panel &P, size_t Index, const Mapping &X,
               const Mapping &Y) {
  const Curve &C = P.Curves[Index];
  uint32_t Rgb = curveColor(C, Index);
  switch (C.Style) {
  case CurveStyle::Band: drawBand(Cv, C, X, Y, Rgb); return;
  case CurveStyle::Line:
  case CurveStyle::Dashed:
    for (const auto &Run : pixelRuns(C, X, Y))
      Cv.polyline(Run, {Rgb, 1.8, C.Style == CurveStyle::Dashed});
    return;
  case CurveStyle::Stems:
    for (const auto &Run : pixelRuns(C, X, Y))
      for (auto [Px, Py] : Run) {
        Cv.line(Px, baseline(Y), Px, Py, {Rgb, 1.4});
        Cv.dot(Px, Py, 2.6, Rgb);
      }
    return;
  case CurveStyle::Bars: break;
  }
  // Bars rise from the bottom of the axis (a level in dB has no zero); the
  // bar curves of a panel stand side by side in each category.
  size_t Bars = 0, Slot = 0;
  for (size_t I = 0; I < P.Curves.size(); ++I)
    if (P.Curves[I].Style == CurveStyle::Bars)
      (I < Index ? Slot : Bars) += 1;
  Bars += Slot;
  double Group = 0.8 * std::abs(X.to(1) - X.to(0));
  double Width = Group / double(std::max<size_t>(Bars, 1));
  double Bottom = Y.to(Y.Lo);
  for (const auto &Run : pixelRuns(C, X, Y))
    for (auto [Px, Py] : Run) {
      double Left = Px - Group / 2 + double(Slot) * Width;
      Cv.rect(Left, std::min(Py, Bottom), Width * 0.92, std::abs(Bottom - Py),
              Rgb, 0.9);
    }
}

/// Draws the grid and ticks of one axis; returns the widest tick label.
void drawGrid(Canvas &Cv, const Ticks &T, const Mapping &M, const Box &Plot,
              bool IsX) {
  auto Line = [&](double V, uint32_t Rgb) {
    double Px = M.to(V);
    if (IsX)
      Cv.line(Px, Plot.Y, Px, Plot.Y + Plot.H, {Rgb, 1});
    else
      Cv.line(Plot.X, Px, Plot.X + Plot.W, Px, {Rgb, 1});
  };
  for (double V : T.Minor)
    Line(V, GridMinor);
  for (double V : T.Major)
    Line(V, GridMajor);
}

void drawTickLabels(Canvas &Cv, const Ticks &T, const Mapping &M,
                    const Box &Plot, bool IsX) {
  double LastRight = -std::numeric_limits<double>::infinity();
  for (size_t I = 0; I < T.Major.size(); ++I) {
    double Px = M.to(T.Major[I]);
    if (IsX) {
      Cv.line(Px, Plot.Y + Plot.H, Px, Plot.Y + Plot.H + 4, {FrameColor, 1});
      double W = textWidth(T.Labels[I], TickStyle);
      // A label that would touch the one before it is left out.
      if (Px - W / 2 < LastRight + 6)
        continue;
      LastRight = Px + W / 2;
      Cv.text(Px, Plot.Y + Plot.H + 17, T.Labels[I], TickStyle, Anchor::Middle);
      continue;
    }
    Cv.line(Plot.X - 4, Px, Plot.X, Px, {FrameColor, 1});
    Cv.text(Plot.X - 7, Px + 4, T.Labels[I], TickStyle, Anchor::End);
  }
}

double widestLabel(const Ticks &T) {
  double W = 0;
  for (const std::string &L : T.Labels)
    W = std::max(W, textWidth(L, TickStyle));
  return W;
}

/// How many of the panel's points a box would hide; a bar or a stem
/// counts when any of it is behind the box.
size_t hiddenBy(const Box &B, const Panel &P, const Mapping &X,
                const Mapping &Y) {
  size_t Hidden = 0;
  auto Count = [&](double Px, double Top, double Bottom) {
    Hidden += Px >= B.X && Px <= B.X + B.W && Bottom >= B.Y && Top <= B.Y + B.H;
  };
  for (const Curve &C : P.Curves) {
    double Base = C.Style == CurveStyle::Bars    ? Y.to(Y.Lo)
                  : C.Style == CurveStyle::Stems ? baseline(Y)
                                                 : NAN;
    for (bool Upper : {false, true}) {
      if (Upper && C.Style != CurveStyle::Band)
        continue;
      for (const auto &Run : pixelRuns(C, X, Y, Upper))
        for (auto [Px, Py] : Run)
          if (std::isnan(Base))
            Count(Px, Py, Py);
          else
            Count(Px, std::min(Py, Base), std::max(Py, Base));
    }
  }
  return Hidden;
}

/// The legend in the corner of the plot area that hides the fewest points.
void drawLegend(Canvas &Cv, const Panel &P, const Box &Plot, const Mapping &X,
                const Mapping &Y) {
  std::vector<size_t> Named;
  double TextW = 0;
  for (size_t I = 0; I < P.Curves.size(); ++I)
    if (!P.Curves[I].Name.empty()) {
      Named.push_back(I);
      TextW = std::max(TextW, textWidth(P.Curves[I].Name, LegendStyle));
    }
  if (Named.empty())
    return;
  const double Row = 17, W = 8 + 24 + 6 + TextW + 10,
               H = 8 + Row * double(Named.size());
  const double Inset = 8;
  Box Corners[] = {
      {Plot.X + Plot.W - W - Inset, Plot.Y + Inset, W, H},
      {Plot.X + Plot.W - W - Inset, Plot.Y + Plot.H - H - Inset, W, H},
      {Plot.X + Inset, Plot.Y + Plot.H - H - Inset, W, H},
      {Plot.X + Inset, Plot.Y + Inset, W, H}};
  Box Best = Corners[0];
  size_t Fewest = std::numeric_limits<size_t>::max();
  for (const Box &B : Corners) {
    size_t Hidden = hiddenBy(B, P, X, Y);
    if (Hidden < Fewest) {
      Fewest = Hidden;
      Best = B;
    }
  }
  Stroke Border{0xbbbbbb, 1};
  Cv.rect(Best.X, Best.Y, Best.W, Best.H, 0xffffff, 0.88, &Border);
  for (size_t K = 0; K < Named.size(); ++K) {
    const Curve &C = P.Curves[Named[K]];
    uint32_t Rgb = curveColor(C, Named[K]);
    double Cy = Best.Y + 4 + Row * (double(K) + 0.5);
    if (C.Style == CurveStyle::Bars || C.Style == CurveStyle::Band)
      Cv.rect(Best.X + 8, Cy - 5, 24, 10, Rgb,
              C.Style == CurveStyle::Band ? 0.3 : 0.9);
    else
      Cv.line(Best.X + 8, Cy, Best.X + 32, Cy,
              {Rgb, 2.2, C.Style == CurveStyle::Dashed});
    Cv.text(Best.X + 38, Cy + 4, C.Name, LegendStyle, Anchor::Start);
  }
}

/// The room the colour bar takes to the right of a plot area.
constexpr double ColourBarRoom = 100;

void drawColourBar(Canvas &Cv, const Heatmap &M, const Box &Plot) {
  const double X = Plot.X + Plot.W + 14, W = 14;
  Heatmap Bar;
  Bar.Columns = 1;
  Bar.Rows = 256;
  Bar.Low = M.Low;
  Bar.High = M.High;
  for (size_t R = 0; R < Bar.Rows; ++R)
    Bar.Values.push_back(
        float(M.High - (M.High - M.Low) * double(R) / double(Bar.Rows - 1)));
  Cv.image(X, Plot.Y, W, Plot.H, Bar);
  Stroke Frame{FrameColor, 1};
  Cv.rect(X, Plot.Y, W, Plot.H, 0xffffff, 0, &Frame);
  Mapping Scale{M.Low, M.High, false, Plot.Y + Plot.H, Plot.Y};
  Ticks T = linearTicks(Scale, Plot.H, YTickGap, false);
  for (size_t I = 0; I < T.Major.size(); ++I) {
    double Py = Scale.to(T.Major[I]);
    Cv.line(X + W, Py, X + W + 4, Py, {FrameColor, 1});
    Cv.text(X + W + 7, Py + 4, T.Labels[I], TickStyle, Anchor::Start);
  }
  Cv.text(X + W + 14 + widestLabel(T) + 6, Plot.Y + Plot.H / 2, M.Label,
          LabelStyle, Anchor::Middle, /*Vertical=*/true);
}

void drawPanel(Canvas &Cv, const Panel &P, const Box &Cell) {
  double Top = Cell.Y + (P.Heading.empty() ? 10 : 30);
  double Right = 18 + (P.Image ? ColourBarRoom : 0);
  Box Plot;
  Plot.Y = Top;
  Plot.H = std::max(20.0, Cell.Y + Cell.H - 48 - Top);
  Mapping Y = resolve(P.Y, P, false, Plot.H);
  Y.P0 = Plot.Y + Plot.H;
  Y.P1 = Plot.Y;
  Ticks YT = ticksFor(P.Y, Y, Plot.H, YTickGap);
  Plot.X = Cell.X + 12 + 16 + 8 + widestLabel(YT) + 8;
  Plot.W = std::max(20.0, Cell.X + Cell.W - Right - Plot.X);
  Mapping X = resolve(P.X, P, true, Plot.W);
  X.P0 = Plot.X;
  X.P1 = Plot.X + Plot.W;
  Ticks XT = ticksFor(P.X, X, Plot.W, 70);

  if (!P.Heading.empty())
    Cv.text(Plot.X, Cell.Y + 20, P.Heading, HeadingStyle, Anchor::Start);
  drawGrid(Cv, XT, X, Plot, true);
  drawGrid(Cv, YT, Y, Plot, false);
  Cv.clip(Plot.X, Plot.Y, Plot.W, Plot.H);
  if (P.Image && Y.valid(P.Image->Y0) && Y.valid(P.Image->Y1)) {
    double X0 = X.to(P.Image->X0), X1 = X.to(P.Image->X1);
    double Y0 = Y.to(P.Image->Y0), Y1 = Y.to(P.Image->Y1);
    Cv.image(std::min(X0, X1), std::min(Y0, Y1), std::abs(X1 - X0),
             std::abs(Y1 - Y0), *P.Image);
  }
  for (size_t I = 0; I < P.Curves.size(); ++I)
    drawCurve(Cv, P, I, X, Y);
  Cv.unclip();
  Stroke Frame{FrameColor, 1};
  Cv.rect(Plot.X, Plot.Y, Plot.W, Plot.H, 0xffffff, 0, &Frame);
  drawTickLabels(Cv, XT, X, Plot, true);
  drawTickLabels(Cv, YT, Y, Plot, false);
  Cv.text(Plot.X + Plot.W / 2, Plot.Y + Plot.H + 38, P.X.Label, LabelStyle,
          Anchor::Middle);
  Cv.text(Cell.X + 12 + 12, Plot.Y + Plot.H / 2, P.Y.Label, LabelStyle,
          Anchor::Middle, /*Vertical=*/true);
  if (P.Legend)
    drawLegend(Cv, P, Plot, X, Y);
  if (P.Image)
    drawColourBar(Cv, *P.Image, Plot);
}

/// Text centred on a line of the figure, smaller if it would not fit.
void centredLine(Canvas &Cv, const std::string &Text, TextStyle Style, double Y,
                 double Width) {
  double W = textWidth(Text, Style);
  if (W > Width - 20)
    Style.Size *= (Width - 20) / W;
  Cv.text(Width / 2, Y, Text, Style, Anchor::Middle);
}

void draw(Canvas &Cv, const Figure &F) {
  const double W = F.Width, H = figureHeight(F);
  centredLine(Cv, F.Title, TitleStyle, 28, W);
  double Top = 40;
  if (!F.Subtitle.empty()) {
    centredLine(Cv, F.Subtitle, SubtitleStyle, 48, W);
    Top = 58;
  }
  const size_t Columns = std::max(1u, F.Columns);
  const size_t Rows = (F.Panels.size() + Columns - 1) / Columns;
  const double CellW = W / double(Columns),
               CellH = (H - Top - 6) / double(std::max<size_t>(Rows, 1));
  for (size_t I = 0; I < F.Panels.size(); ++I)
    drawPanel(Cv, F.Panels[I],
              {CellW * double(I % Columns), Top + CellH * double(I / Columns),
               CellW, CellH});
}

Result<void> writeBytes(const std::string &Path, const std::string &Bytes) {
  errno = 0;
  std::ofstream Out(Path, std::ios::binary | std::ios::trunc);
  if (Out)
    Out.write(Bytes.data(), std::streamsize(Bytes.size()));
  if (Out)
    Out.close();
  if (!Out)
    return fail(message<Msg::FigureCannotWrite>(
        Path, errno ? std::strerror(errno) : "write failed"));
  return {};
}

} // namespace

unsigned figureHeight(const Figure &F) {
  if (F.Height)
    return F.Height;
  size_t Columns = std::max(1u, F.Columns);
  size_t Rows = std::max<size_t>(1, (F.Panels.size() + Columns - 1) / Columns);
  return unsigned(110 + 250 * Rows);
}

std::string svgOf(const Figure &F) {
  SvgCanvas Cv(F.Width, figureHeight(F), F.Title);
  draw(Cv, F);
  return Cv.finish();
}

Result<void> writeFigure(const Figure &F, const std::string &Path,
                         ImageFormat Format) {
  if (F.Panels.empty())
    return fail(message<Msg::FigureEmpty>());
  if (Format == ImageFormat::Svg)
    return writeBytes(Path, svgOf(F));
  CairoCanvas Cv(F.Width, figureHeight(F));
  draw(Cv, F);
  auto Png = Cv.png();
  if (!Png)
    return fail(Png.error());
  return writeBytes(Path, *Png);
}

} // namespace dspjit::analysis
