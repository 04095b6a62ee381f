//===- analysis/Spectrogram.h - A script's output over time and frequency -*- C++ -*-===//
//
// `dspjit plot --spectrogram IN.wav` shows what a script does to a whole
// sound: the script runs over the file (or, for a generator, for a given
// length) exactly as `dspjit render` runs it, and the output lane is cut
// into Hann-windowed frames whose spectra, in dB, make the columns of an
// image.
//
// Levels are dBFS of a sine's peak: a full-scale sine centred on a bin
// reads 0 dB. The hop between frames is a quarter of the window, or more so
// that there are at most MaxColumns columns: a long file gives a picture of
// the same size as a short one.
//
// Thread contract: as analysis/Response.h (any thread but the audio
// thread, any number at once, next to a live stream of the same kernel).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_ANALYSIS_SPECTROGRAM_H
#define DSPJIT_ANALYSIS_SPECTROGRAM_H

#include "analysis/Probe.h"
#include "runtime/Render.h"
#include "runtime/Result.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace dspjit::analysis {

struct SpectrogramOptions {
  /// Frames per FFT (a power of two is fastest).
  size_t WindowFrames = 2048;
  size_t MaxColumns = 800;
};

struct Spectrogram {
  double SampleRate = 0;
  size_t WindowFrames = 0, HopFrames = 0;
  /// Frames of output analysed.
  uint64_t Frames = 0;
  size_t Columns = 0, Bins = 0;
  /// Columns * Bins levels in dBFS, column after column.
  std::vector<float> Db;

  float at(size_t Column, size_t Bin) const { return Db[Column * Bins + Bin]; }
  /// The time at the centre of a column's window, in seconds.
  double seconds(size_t Column) const {
    return (double(Column * HopFrames) + 0.5 * double(WindowFrames)) /
           SampleRate;
  }
  /// The frequency of a bin in Hz.
  double hz(size_t Bin) const {
    return double(Bin) * SampleRate / double(WindowFrames);
  }
};

/// The spectrogram of the output lane O.Output while the script runs over
/// `Input` for `Frames` frames (none: the input buffer's length), as
/// runtime/Render.h renders it (a file's channels must match the script's
/// inputs).
Result<Spectrogram> spectrogram(const DspjitKernel &K, const ResponseOptions &O,
                                const RenderInput &Input,
                                std::optional<uint64_t> Frames,
                                const SpectrogramOptions &S = {});

} // namespace dspjit::analysis

#endif
