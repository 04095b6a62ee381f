//===- scripttest/Compare.h - A render against what a test expects -*- C++ -*-===//
//
// The checks of `dspjit test`, on a render already made: against a golden
// sound file sample by sample, and against a level. A failed check says
// where and by how much, so that a user can tell a real change of sound
// from noise: the channel and the first frame over the tolerance (and its
// time), the largest difference and its frame, how many samples differ,
// and the tolerance.
//
// Messages count channels from 1, as `dspjit run --map` does, and frames
// from 0, so that frame N is at N / rate seconds (its time is given too).
//
// Thread contract: pure functions (control thread; they allocate).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SCRIPTTEST_COMPARE_H
#define DSPJIT_SCRIPTTEST_COMPARE_H

#include "runtime/AudioFile.h"
#include "scripttest/TestLine.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace dspjit::scripttest {

/// Interleaved output of a render.
struct Rendered {
  std::vector<float> Samples;
  unsigned Channels = 0;
  double Rate = 0;
  uint64_t frames() const { return Channels ? Samples.size() / Channels : 0; }
};

/// What a check found: nothing (passed), or the lines that say what differed.
struct Verdict {
  std::vector<std::string> Lines;
  bool passed() const { return Lines.empty(); }
};

/// Compares sample by sample: |got - expected| <= Tolerance everywhere,
/// with the same channels, rate and length. `Name` names the golden file.
Verdict compareWithGolden(const Rendered &Got, const AudioData &Want,
                          double Tolerance, const std::string &Name);

/// True when the two hold exactly the same samples (bit for bit), channels
/// and rate: `--update` then leaves the file alone.
bool sameAudio(const Rendered &Got, const AudioData &Want);

/// The RMS over every channel and frame, in dBFS (-inf for silence).
double rmsDb(const Rendered &R);
/// The largest absolute sample, in dBFS, and where it is.
struct PeakAt {
  double Db = -INFINITY;
  unsigned Channel = 0;
  uint64_t Frame = 0;
};
PeakAt peakDb(const Rendered &R);

/// The checks on levels: Rms, Peak, Silent; Finite always passes here (the
/// runner counts non-finite samples).
Verdict checkLevel(const Rendered &R, const Check &C);

} // namespace dspjit::scripttest

#endif
