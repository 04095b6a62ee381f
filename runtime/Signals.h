//===- runtime/Signals.h - Test signals and durations by name ---*- C++ -*-===//
//
// Offline renders and golden tests feed kernels with signals named on the
// command line (`--signal noise`) and run them for a duration typed by hand
// (`--duration 1.5s`). Both must mean exactly the same thing on every
// machine: a golden file made here must match a render made elsewhere.
//
// Signal specs:
//   impulse              1 at frame 0, then 0
//   silence              all 0
//   noise                white noise in [-1, 1) from PCG32 with a fixed seed;
//                        channel c is its own stream (c = 0 is the same
//                        whatever the channel count); identical everywhere
//   sine:FREQ[:AMP]      sin(2 pi FREQ t), FREQ in Hz (> 0), AMP default 0.5;
//                        every channel gets the same wave
//
// Durations:
//   2.5   2.5s           seconds
//   500ms                milliseconds
//   1:30   1:02:03.5     minutes:seconds, hours:minutes:seconds
//   96000frames          an exact number of frames (also 96000samples)
// Seconds become frames by rounding to the nearest frame at the render rate.
//
// Thread contract: parsing allocates (control thread only). A
// SignalGenerator does not allocate after construction and may be driven
// from the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_SIGNALS_H
#define DSPJIT_RUNTIME_SIGNALS_H

#include "runtime/Result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dspjit {

struct SignalSpec {
  enum Kind { Impulse, Silence, Noise, Sine };
  Kind Type = Silence;
  double Frequency = 0;   ///< Sine only, in Hz.
  float Amplitude = 0.5f; ///< Sine only.

  /// The spec written back in the form parseSignal accepts.
  std::string str() const;
};

/// Parses a signal spec (see the file comment). On error the message lists
/// every valid form.
Result<SignalSpec> parseSignal(std::string_view Text);

/// Produces a signal block by block, interleaved, starting at frame 0.
class SignalGenerator {
public:
  /// Thread: control thread (the only allocation happens here).
  SignalGenerator(const SignalSpec &Spec, double SampleRate, unsigned Channels);

  /// Writes the next Frames frames (Frames * channels samples) to Out.
  /// Thread: any one thread at a time, including the audio thread.
  void generate(float *Out, uint64_t Frames);

  /// Frames generated so far.
  uint64_t position() const { return Position; }

private:
  /// PCG32 (O'Neill): small, fast and the same on every machine.
  struct Pcg32 {
    uint64_t State = 0, Increment = 0;
    Pcg32(uint64_t Seed, uint64_t Stream);
    uint32_t next();
  };

  SignalSpec Spec;
  double SampleRate;
  unsigned Channels;
  uint64_t Position = 0;
  std::vector<Pcg32> Noise; ///< One generator per channel.
};

/// The first Frames frames of a signal, interleaved.
/// Thread: control thread (allocates).
std::vector<float> generateSignal(const SignalSpec &Spec, double SampleRate,
                                  unsigned Channels, uint64_t Frames);

/// A length of audio as the user wrote it (see the file comment).
struct Duration {
  double Seconds = 0;                  ///< When given in time units.
  std::optional<uint64_t> ExactFrames; ///< When given as `Nframes`.

  /// The length in frames at `SampleRate`.
  uint64_t frames(double SampleRate) const;
  /// The duration written back ("2.5s", "96000frames").
  std::string str() const;
};

/// The longest duration in time units: 1e9 s, about 31 years.
constexpr double MaxDurationSeconds = 1e9;

/// Parses a duration (see the file comment). Negative, infinite and empty
/// durations are errors, and so are durations over MaxDurationSeconds;
/// zero is allowed.
Result<Duration> parseDuration(std::string_view Text);

} // namespace dspjit

#endif
