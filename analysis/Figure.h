//===- analysis/Figure.h - Plots written as SVG or PNG -*- C++ -*-===//
//
// The pictures of `dspjit plot` and the web panel: a title, a subtitle and
// one or more panels, each with labelled axes (linear, logarithmic or named
// categories), ticks, a grid, curves (lines, dashed lines, stems, grouped
// bars), a legend when curves have names, and optionally an image of
// levels (a spectrogram) with its colour bar.
//
// A Figure only describes the picture; svgOf() and writeFigure() draw it.
// Both formats are drawn by the same layout code through one small canvas
// interface: SVG by hand, so that its text stays text (searchable, and
// scalable without loss), PNG through cairo (Debian libcairo2-dev). Text is
// measured with cairo in DejaVu Sans for both, so that labels are placed the
// same way in each; an SVG viewer without that font draws a similar sans
// serif. An image of levels goes into an SVG as an embedded PNG (a data
// URI), a few hundred kB at most, instead of a rectangle per cell.
//
//   Figure F;
//   F.Title = "biquad.dsp";
//   Panel &P = F.Panels.emplace_back();
//   P.X = {"frequency (Hz)", AxisScale::Log};
//   P.Y = {"magnitude (dB)"};
//   P.Curves.push_back({"", Hz, Db});
//   writeFigure(F, "biquad.svg", ImageFormat::Svg);
//
// Thread contract: any thread but the audio thread (allocates, draws with
// cairo), several figures at once on different threads.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_ANALYSIS_FIGURE_H
#define DSPJIT_ANALYSIS_FIGURE_H

#include "runtime/Result.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace dspjit::analysis {

enum class AxisScale { Linear, Log };

struct Axis {
  /// With its unit: "frequency (Hz)".
  std::string Label;
  AxisScale Scale = AxisScale::Linear;
  /// The range drawn. None: the data's (an X axis exactly, a Y axis
  /// widened to round ticks).
  std::optional<double> Min = {}, Max = {};
  /// Ticks at multiples of 45, 90, 180... degrees instead of 1, 2, 5.
  bool Degrees = false;
  /// Names for positions 0, 1, 2...: a bar chart's categories.
  std::vector<std::string> Categories = {};
};

/// Bands fill between Y and Y2, lightly.
enum class CurveStyle { Line, Dashed, Stems, Bars, Band };

struct Curve {
  /// Its legend entry; unnamed curves are not in the legend.
  std::string Name;
  std::vector<double> X, Y;
  CurveStyle Style = CurveStyle::Line;
  /// Its colour, an index into the palette; -1: its place in the panel.
  int Color = -1;
  /// A band's upper edge (Y is its lower one).
  std::vector<double> Y2 = {};
};

/// An image of levels drawn over a panel's plot area, with a colour bar.
struct Heatmap {
  size_t Columns = 0, Rows = 0;
  /// Rows * Columns levels, row after row, the top row first; rows are
  /// evenly spaced on the panel's Y axis (linear or logarithmic).
  std::vector<float> Values;
  /// Where it lies in the panel's data coordinates.
  double X0 = 0, X1 = 1, Y0 = 0, Y1 = 1;
  /// The levels at the two ends of the colour scale (viridis).
  double Low = -120, High = 0;
  /// The colour bar's label, with its unit.
  std::string Label;
};

struct Panel {
  /// Drawn above the panel, e.g. "harmonics at -6 dBFS".
  std::string Heading;
  Axis X, Y;
  std::vector<Curve> Curves;
  std::optional<Heatmap> Image;
  bool Legend = false;
};

struct Figure {
  std::string Title, Subtitle;
  std::vector<Panel> Panels;
  /// Panels per row.
  unsigned Columns = 1;
  /// In pixels; a height of 0 is 110 + 250 per row of panels.
  unsigned Width = 900, Height = 0;
};

/// The figure as a standalone SVG document.
std::string svgOf(const Figure &F);

enum class ImageFormat { Svg, Png };

/// Writes the figure to `Path`: SVG, or PNG of Width x Height pixels.
Result<void> writeFigure(const Figure &F, const std::string &Path,
                         ImageFormat Format);

/// The height a figure is drawn at (Height, or its default).
unsigned figureHeight(const Figure &F);

} // namespace dspjit::analysis

#endif
