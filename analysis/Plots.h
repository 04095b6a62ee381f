//===- analysis/Plots.h - The standard pictures of a script -*- C++ -*-===//
//
// Turns measurements (analysis/Response.h, Transfer.h, Spectrogram.h) into
// figures (analysis/Figure.h) the way `dspjit plot` draws them, so that the
// web panel can draw the same pictures: which panels, which axes and units,
// what range is worth showing.
//
// The choices that make a picture readable, and stay honest:
//   - magnitudes show at most 96 dB below their highest point, and at least
//     12 dB around it (a flat response is a flat line, not noise);
//   - a phase that turns more than four times (a long delay) is drawn
//     wrapped into [-180, 180], and its axis says so;
//   - group delay is drawn only where the magnitude is within 80 dB of its
//     peak: where there is (almost) no output it is noise;
//   - an impulse or step response is drawn up to where it has settled to
//     within 60 dB (unless all of it was asked for), as stems when that is
//     160 samples or fewer.
// Each curve of a sweep has a name and a colour, and the first panel a
// legend.
//
// Thread contract: pure functions of their arguments; any thread but the
// audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_ANALYSIS_PLOTS_H
#define DSPJIT_ANALYSIS_PLOTS_H

#include "analysis/Figure.h"
#include "analysis/Response.h"
#include "analysis/Spectrogram.h"
#include "analysis/Transfer.h"

#include <string>
#include <utility>
#include <vector>

namespace dspjit::analysis {

struct FigureText {
  std::string Title, Subtitle;
};

/// Measurements with their legend names ("" when there is one curve).
template <class T> using NamedCurves = std::vector<std::pair<std::string, T>>;

/// Magnitude and phase panels (and group delay) on a log-frequency axis.
Figure responseFigure(const NamedCurves<FrequencyResponse> &Curves,
                      double SampleRate, const FigureText &Text,
                      bool GroupDelay);

/// Impulse (or step) responses against time in ms; `Whole` draws all of
/// each, else up to where it has settled.
Figure timeFigure(const NamedCurves<std::vector<double>> &Curves,
                  double SampleRate, const FigureText &Text, bool Step,
                  bool Whole);

/// The transfer curve (peak solid, RMS dashed, and the line out = in) and
/// the harmonics at one level, side by side.
Figure transferFigure(const NamedCurves<TransferCurve> &Curves,
                      const NamedCurves<HarmonicContent> &Harmonics,
                      const FigureText &Text);

/// The spectrogram as an image over time and frequency (log or linear).
Figure spectrogramFigure(const Spectrogram &G, const FigureText &Text,
                         bool LogFrequency);

} // namespace dspjit::analysis

#endif
