//===- analysis/Transfer.h - What a script does to a sine's level -*- C++ -*-===//
//
// The nonlinear picture of a script: a sine goes in at a range of levels
// and the transfer curve says what comes out (peak and RMS level against
// input level, `dspjit plot --transfer`); at one level the harmonics say
// what the shaping added.
//
// Every level runs on an Instance of its own (no memory of the level
// before), for a settling time and then one analysis window of exactly
// a whole number of periods: the sine's frequency is moved to the nearest
// that fits (1000 Hz stays 1000 Hz at 44.1 and 48 kHz), so that harmonics
// fall on exact bins and need no window function.
//
// Levels are in dBFS of a sine's peak: a sine of peak 1 is 0 dBFS. An RMS
// level is on the same scale (AES17: the RMS of a full-scale sine reads
// 0 dBFS, i.e. 20 log10(RMS * sqrt 2)), so that a wire draws one line
// through both curves.
//
// Thread contract: as analysis/Response.h (any thread but the audio
// thread, any number at once, next to a live stream of the same kernel).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_ANALYSIS_TRANSFER_H
#define DSPJIT_ANALYSIS_TRANSFER_H

#include "analysis/Probe.h"
#include "runtime/Result.h"
#include "runtime/dspjit_abi.h"

#include <cstddef>
#include <vector>

namespace dspjit::analysis {

struct TransferOptions {
  /// The sine's frequency, moved to the nearest whole number of periods
  /// in the analysis window.
  double FrequencyHz = 1000;
  /// The input levels of the curve, in dBFS: From, From + Step, ... To.
  double FromDb = -60, ToDb = 12, StepDb = 1;
  /// Frames run before the analysis window, for smoothing, filters and
  /// envelopes to settle.
  double SettleSeconds = 0.5;
  /// The analysis window (rounded to whole frames).
  double WindowSeconds = 0.1;
  /// Harmonics measured by harmonics(), the fundamental included.
  unsigned Harmonics = 10;
};

struct TransferCurve {
  std::vector<double> InDb, PeakDb, RmsDb; ///< same length, dBFS
  double FrequencyHz = 0;                  ///< the sine used
};

struct HarmonicContent {
  double LevelDb = 0, FrequencyHz = 0; ///< the sine that went in
  /// [0] is DC, [1] the fundamental, [K] harmonic K, as the dBFS of a sine
  /// of that amplitude (DC: of its absolute value). Harmonics at or above
  /// half the sample rate are left out.
  std::vector<double> Db;
  /// Total harmonic distortion: the RMS of harmonics 2.. over the
  /// fundamental's, in percent.
  double ThdPercent = 0;
};

/// The output lane's peak and RMS level for a sine on the input lane at each
/// level of `T`.
Result<TransferCurve> transferCurve(const DspjitKernel &K,
                                    const ResponseOptions &O,
                                    const TransferOptions &T = {});

/// The harmonics of the output for a sine at `LevelDb` dBFS.
Result<HarmonicContent> harmonics(const DspjitKernel &K,
                                  const ResponseOptions &O, double LevelDb,
                                  const TransferOptions &T = {});

/// The frequency a sine of `Hz` is moved to (see the file comment), and the
/// analysis window's frames and periods.
struct SineFit {
  double Hz = 0;
  size_t Frames = 0, Periods = 0;
};
SineFit fitSine(double Hz, double SampleRate, double WindowSeconds);

} // namespace dspjit::analysis

#endif
