//===- analysis/Response.h - What a script does to an impulse -*- C++ -*-===//
//
// The linear picture of a script: its impulse and step responses, and the
// frequency response measured from the impulse response (magnitude, phase,
// group delay), as `dspjit plot --response` draws it and the web panel shows
// it while the script plays.
//
// The impulse response runs until it has decayed: until its last
// max(2048 frames, twice the longest delay line) have stayed 160 dB below
// its peak, or for ImpulseCap frames. 160 dB and not 120: a filter's
// stopband can lie 100 dB down, and the tail cut off at -120 dB would move
// it by more than a tenth of a dB.
//
// The frequency response is the discrete-time Fourier transform of that
// impulse response, evaluated exactly (no FFT bins to interpolate) at
// log-spaced frequencies from 20 Hz to half the sample rate. The group delay
// is exact too: Re(DTFT(n h[n]) / DTFT(h[n])), in ms. The phase is unwrapped
// from 0 Hz up, each step guided by the group delay, so that a delay of
// thousands of samples still unwraps to the straight line it is.
//
// For a nonlinear or time-varying script (distortion, tremolo) these are
// the responses to a full-scale impulse, and nothing more.
//
//   ResponseOptions O;
//   O.Params = {{"freq", 500}, {"mode", 1}};
//   auto H = frequencyResponse(Kernel->info(), O);  // H->MagnitudeDb[I]
//
// Thread contract: any thread but the audio thread (each call creates and
// runs an Instance of its own: a Probe), any number at once, also while a
// live stream runs another instance of the same kernel.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_ANALYSIS_RESPONSE_H
#define DSPJIT_ANALYSIS_RESPONSE_H

#include "analysis/Probe.h"
#include "runtime/Result.h"
#include "runtime/dspjit_abi.h"

#include <cstddef>
#include <vector>

namespace dspjit::analysis {

/// How far below its peak a response must have fallen to have decayed.
inline constexpr double DecayDb = 160;
/// The longest response measured when none is asked for: 2^20 frames
/// (21.8 s at 48 kHz).
inline constexpr size_t ImpulseCap = size_t(1) << 20;

struct FrequencyResponse {
  /// Same length, log-spaced from 20 Hz to half the sample rate.
  std::vector<double> Hz, MagnitudeDb, PhaseDegrees, GroupDelayMs;
  /// The lowest and highest magnitude between each point and the midpoints
  /// to its neighbours (on the log axis), from an FFT of the impulse
  /// response zero-padded to at least twice its length: where they differ
  /// much, the response moves faster than the points can show (the teeth of
  /// an echo's comb), and a picture should draw the band, not the points.
  std::vector<double> MinDb, MaxDb;
  /// The length of the impulse response it was measured from.
  size_t ImpulseFrames = 0;
};

/// The magnitudes reported for a response of (near) nothing: |H| below
/// 1e-15 reads as this.
inline constexpr double SilentDb = -300;

/// The output lane's response to a unit impulse on the input lane, of
/// O.Length frames or, without it, until it has decayed (see the file
/// comment).
Result<std::vector<double>> impulseResponse(const DspjitKernel &K,
                                            const ResponseOptions &O);

/// The response to a unit step (1 from frame 0 on), as long as the impulse
/// response is (O.Length, or the decay of the impulse response).
Result<std::vector<double>> stepResponse(const DspjitKernel &K,
                                         const ResponseOptions &O);

/// The frequency response at `Points` log-spaced frequencies (at least 2).
Result<FrequencyResponse> frequencyResponse(const DspjitKernel &K,
                                            const ResponseOptions &O,
                                            size_t Points = 512);

/// The same from an impulse response already measured at `SampleRate`.
FrequencyResponse responseOf(const std::vector<double> &Impulse,
                             double SampleRate, size_t Points = 512);

} // namespace dspjit::analysis

#endif
