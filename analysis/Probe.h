//===- analysis/Probe.h - A private instance of a kernel to measure -*- C++ -*-===//
//
// Every measurement of `dspjit plot` and the web panel runs the script on a
// signal of its own and reads what comes out: an impulse, a step, a sine at
// one level. A Probe is that set-up, shared by all of them: an Instance of
// its own (never a running one, so a live stream of the same kernel plays
// on undisturbed), the parameters set before the first frame without
// smoothing, one input lane driven and one output lane read, block by block
// as a stream of 64-frame callbacks would run it.
//
//   auto P = Probe::create(Kernel, Options);     // lanes checked, params set
//   P->run(ImpulseBlock.data(), Out.data(), 64); // lane Input in, Output out
//
// The options (ResponseOptions) say the rate, the parameters and the lanes;
// they are the same for every kind of measurement.
//
// Thread contract: a Probe is used by one thread at a time; any number may
// run at once, also next to a live stream of the same kernel (the kernel's
// code and descriptor are only read). Creating one allocates: never on the
// audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_ANALYSIS_PROBE_H
#define DSPJIT_ANALYSIS_PROBE_H

#include "runtime/Instance.h"
#include "runtime/Result.h"
#include "runtime/dspjit_abi.h"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dspjit::analysis {

/// How to run a script for a measurement.
struct ResponseOptions {
  double SampleRate = 48000;
  /// Set (clamped into range, without smoothing) before measuring.
  std::vector<std::pair<std::string, float>> Params;
  /// Impulse length in frames; none: from the decay (impulseResponse()).
  std::optional<size_t> Length;
  /// Lanes, 0-based: the input driven and the output read. The other
  /// inputs get silence.
  unsigned Input = 0, Output = 0;
  /// Frames per process() call, as a stream's frames per buffer.
  unsigned BlockSize = 64;
  /// Names the script in messages ("biquad.dsp").
  std::string KernelName = "the script";
};

class Probe {
public:
  /// An instance of `K` for `O`: fails when the script has no outputs, no
  /// input (unless `NeedsInput` is false), a lane it does not have, or a
  /// parameter it does not know.
  static Result<Probe> create(const DspjitKernel &K, const ResponseOptions &O,
                              bool NeedsInput = true);

  /// Runs `Frames` frames: `In` (null: silence) on the input lane, the
  /// output lane into `Out` (may be null).
  void run(const float *In, float *Out, size_t Frames);

  /// Frames run since create().
  size_t frames() const { return Done; }
  Instance &instance() { return I; }

private:
  Probe(Instance I, const ResponseOptions &O);

  Instance I;
  unsigned InLane, OutLane, Block;
  std::vector<float> InFrames, OutFrames; // one block, interleaved
  size_t Done = 0;
};

/// The longest delay tap of a kernel in frames (0 without delay lines): a
/// sound can come back out of a script after this long a silence.
size_t longestDelay(const DspjitKernel &K);

} // namespace dspjit::analysis

#endif
