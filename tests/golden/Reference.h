//===- tests/golden/Reference.h - Independent models of the scripts -*- C++ -*-===//
//
// The golden tests compare what the JIT makes of a script with what these
// plain C++ loops make of the same algorithm. They are written from the
// algorithms' sources (the RBJ Audio EQ Cookbook, Simper's SVF paper, Jezar's
// Freeverb, the PolyBLEP literature), not translated from the scripts, and
// they follow the execution model the compiler implements (dsl/LANGUAGE.md,
// "Execution model"): parameter targets are clamped at each callback, `block`
// runs once per callback, smoothing advances before every frame, `out`
// starts each frame at 0, and non-finite output samples become 0.
//
// State is kept in 32-bit floats, like a kernel compiled without --double.
// That matters most for oscillators: a phase accumulated in float drifts
// away from one accumulated in double by more than the test's tolerance
// within a second, while two float accumulators stay in step.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_GOLDEN_REFERENCE_H
#define DSPJIT_TESTS_GOLDEN_REFERENCE_H

#include "runtime/Voices.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dspjit::golden {

constexpr float Pi = 3.14159265358979323846f;
constexpr float Tau = 6.28318530717958647692f;

// --- One building block per standard-library function ---------------------

/// x - floor(x).
float fract(float X);
/// The coefficient of a one-pole that covers 99% of a step in TimeS seconds.
float smoothCoef(float TimeS, float SampleRate);
float db2lin(float Db);
/// tanh as a script computes it at float precision (dsl/LANGUAGE.md, "Math
/// built-ins"): the rational approximation of Eigen and XLA, written here
/// from its published coefficients; each Horner step a fused multiply-add
/// when `Fused` is set, as the JIT does on CPUs with FMA (the tests set it
/// from dspjit::targetHasFma()), else a multiply and an add.
float dspTanh(float X);
extern bool Fused;
/// `A * B + C` as a script computes it when it writes a product and a sum
/// in one expression: one fused multiply-add when `Fused` is set (the JIT
/// fuses them on CPUs with FMA, dsl/LANGUAGE.md section 8), else a multiply
/// and an add, each rounded.
float madd(float A, float B, float C);
/// 20 log10 |x|, floored at -200 dB.
float lin2db(float X);
/// The cubic soft clipper 1.5 (x - x^3 / 3) on [-1, 1], +-1 beyond.
float softclip(float X);
/// The PolyBLEP residual of an upward unit-phase step at phase T, step Dt.
float polyBlep(float T, float Dt);

/// A [0, 1) ramp; next() returns the current phase and then advances.
class Phasor {
public:
  float next(float FreqHz, float SampleRate);

private:
  float Phase = 0;
};

/// Band-limited oscillators built on a Phasor.
float sineOsc(Phasor &P, float FreqHz, float SampleRate);
float sawOsc(Phasor &P, float FreqHz, float SampleRate);
float squareOsc(Phasor &P, float FreqHz, float SampleRate);

/// The Lehmer generator x <- 4093 x mod 16777213, in 64-bit integers,
/// scaled to (-1, 1).
class Noise {
public:
  explicit Noise(double Seed = 1234567);
  float next();

private:
  int64_t X;
};

/// One-pole lowpass y += (1 - exp(-tau fc / sr)) (x - y).
class OnePole {
public:
  float process(float X, float CutoffHz, float SampleRate);

private:
  float Y = 0;
};

/// One-pole smoother reaching 99% of a step in TimeS.
class Smoother {
public:
  float process(float X, float TimeS, float SampleRate);

private:
  float Y = 0;
};

/// y = x - x[n-1] + r y[n-1], corner near 10 Hz.
class DcBlocker {
public:
  float process(float X, float SampleRate);

private:
  float X1 = 0, Y1 = 0;
};

/// Peak follower of |x| with separate 99% rise and fall times.
class EnvelopeFollower {
public:
  float process(float X, float AttackS, float ReleaseS, float SampleRate);

private:
  float Env = 0;
};

/// One step of a one-pole toward Target that lands on it once within 1e-5
/// (-100 dB): the decay, sustain and release of the envelopes below.
float onePoleLanding(float Level, float Target, float Coef);

/// An ADSR envelope from 0 to 1, one lane of std's `adsr`: a straight attack
/// from the current level (a full rise in A seconds) on a rising gate or a
/// trigger while the gate is up, then one-poles (99% in D, in R) toward the
/// sustain S while the gate is up and toward 0 after it falls.
class Adsr {
public:
  float process(float Gate, float A, float D, float S, float R, float Trig,
                float SampleRate);

private:
  enum class Stage { Released, Attack, Sustain };
  Stage Now = Stage::Released;
  float Level = 0;
};

/// The percussive envelope: 1 on a rising trigger, then a one-pole toward 0
/// covering 99% in TimeS.
class DecayEnvelope {
public:
  float process(float Trig, float TimeS, float SampleRate);

private:
  bool WasUp = false;
  float Level = 0;
};

/// A MIDI key to Hz: 440 * 2^((key - 69) / 12).
float note2freq(float Key);
/// Velocity (0 to 1) to a gain with RangeDb of dynamic range, on
/// Dannenberg's square law; 0 for a velocity of 0 or less.
float velGain(float Velocity, float RangeDb);

/// Biquad coefficients divided by a0.
struct BiquadCoefs {
  float B0 = 1, B1 = 0, B2 = 0, A1 = 0, A2 = 0;
};

enum class RbjShape {
  Lowpass,
  Highpass,
  Bandpass,
  Notch,
  Peak,
  LowShelf,
  HighShelf
};

/// The Audio EQ Cookbook's formulas, frequency clamped to [1, 0.49 sr] and
/// Q to at least 0.01.
BiquadCoefs rbjCoefs(RbjShape Shape, float FreqHz, float Q, float GainDb,
                     float SampleRate);

/// Direct form I.
class Biquad {
public:
  float process(float X, const BiquadCoefs &C);

private:
  float X1 = 0, X2 = 0, Y1 = 0, Y2 = 0;
};

/// Simper's trapezoidal state-variable filter.
class Svf {
public:
  struct Outputs {
    float Low, Band, High;
  };
  Outputs process(float X, float FreqHz, float Q, float SampleRate);

private:
  float Ic1 = 0, Ic2 = 0;
};

/// A delay line as the language defines it: tap(n) is the n-th most recent
/// write, n truncated and clamped to [1, length] (NaN reads as 1); read(t)
/// interpolates linearly between tap(floor t) and tap(floor t + 1), t clamped
/// likewise.
class DelayLine {
public:
  explicit DelayLine(size_t Length);
  void write(float X);
  float tap(float N) const;
  float read(float T) const;

private:
  std::vector<float> Ring;
  size_t Next = 0; // where the next write goes
};

/// Jezar's comb: a circular buffer with a one-pole lowpass in the feedback.
class FreeverbComb {
public:
  explicit FreeverbComb(size_t Length) : Buffer(Length, 0.0f) {}
  float process(float Input, float Feedback, float Damp);

private:
  std::vector<float> Buffer;
  size_t Index = 0;
  float FilterStore = 0;
};

/// Jezar's allpass: output = buffer - input, buffer = input + buffer * g.
class FreeverbAllpass {
public:
  explicit FreeverbAllpass(size_t Length) : Buffer(Length, 0.0f) {}
  float process(float Input, float Feedback);

private:
  std::vector<float> Buffer;
  size_t Index = 0;
};

// --- The execution model ---------------------------------------------------

struct ParamSpec {
  std::string Name;
  float Def = 0, Min = 0, Max = 1;
  /// Time to cover 99% of a change; 0 for `nosmooth`.
  double SmoothSeconds = 0.01;
  /// The unit as the script declares it ("hz" gives a MIDI controller a
  /// logarithmic curve) and the script's MIDI mapping (DspjitSlot::midi).
  std::string Unit = "";
  uint32_t Midi = 0;
};

/// The script's `midi cc N` and `midi aftertouch`, as DspjitSlot::midi.
constexpr uint32_t midiCc(uint32_t Number) {
  return DSPJIT_MIDI_CC << 16 | Number;
}
constexpr uint32_t MidiAftertouch = DSPJIT_MIDI_AFTERTOUCH << 16;

/// A reference model of one script: params, meters and a per-frame body run
/// exactly in the order a kernel runs them.
class Processor {
public:
  Processor(unsigned Inputs, unsigned Outputs, double SampleRate);
  virtual ~Processor() = default;

  unsigned inputs() const { return Inputs; }
  unsigned outputs() const { return Outputs; }
  double sampleRate() const { return SampleRate; }

  /// Sets a parameter's target, as the host does; it is clamped at the next
  /// callback. Returns false for an unknown name.
  bool setParam(std::string_view Name, float Value);

  /// One callback: Frames interleaved frames (In may be null without
  /// inputs).
  void process(const float *In, float *Out, unsigned Frames);

  /// The parameters as declared, for a MIDI mapper to move them.
  std::vector<ParamSpec> paramSpecs() const;

  std::vector<std::string> meterNames() const;
  /// The lanes of a meter, as the host would read them now; null if unknown.
  const std::vector<float> *meter(std::string_view Name) const;

protected:
  /// Declares a parameter; returns the index to pass to param().
  int addParam(ParamSpec Spec);
  /// The smoothed value in use for the current frame (or block).
  float param(int Index) const { return Params[Index].Value; }
  /// Declares a meter of Width lanes; returns its index.
  int addMeter(std::string Name, unsigned Width);
  std::vector<float> &meterLanes(int Index) { return Meters[Index].Lanes; }
  /// The current callback's length in frames, which scripts read as `frames`.
  unsigned callbackFrames() const { return CallbackFrames; }

  /// Runs once per callback, after targets are clamped (the `block`).
  virtual void beginBlock() {}
  /// Runs once per callback after its last frame.
  virtual void endBlock() {}
  /// Runs once per frame: In has inputs() samples, Out outputs() zeros.
  virtual void frame(const float *In, float *Out) = 0;

  const float Rate; // the sample rate as a float, as scripts see `sr`

private:
  struct Param {
    ParamSpec Spec;
    float Target, Value, Coef;
    float Tail, Lands; // the straight last stretch (LANGUAGE.md section 11)
  };
  struct Meter {
    std::string Name;
    std::vector<float> Lanes;
  };
  unsigned Inputs, Outputs;
  double SampleRate;
  unsigned CallbackFrames = 0;
  std::vector<Param> Params;
  std::vector<Meter> Meters;
  std::vector<float> FrameIn, FrameOut;
};

/// The model of an instrument (`voices N;`). The host's side is the
/// runtime's own VoiceAllocator, driven as HotSwap drives it: the messages
/// queued before a callback are handled at its start, the notes written
/// then (note.trigger for one frame only, as the kernel clears it), and the
/// voice.peak of the callback read after it to free the quiet voices. So the
/// models see exactly the notes a kernel sees, stealing included, and what
/// is checked is the script's sound, not a second allocator.
class Instrument : public Processor {
public:
  Instrument(unsigned Outputs, double SampleRate, unsigned Voices);
  unsigned voices() const { return Voices; }
  /// Queues a channel message for the next callback (HotSwap::sendMidi).
  void sendMidi(const ChannelMessage &E) { Queue.push_back(E); }

protected:
  /// The note field `F` of voice `V` in the current frame.
  float note(NoteLayout::Field F, unsigned V) const {
    return Notes[size_t(F) * Voices + V];
  }
  /// voicemix(): the sum of the voices' lanes, added pairwise as the kernel
  /// sums a vector's lanes, and each lane's largest magnitude in voice.peak.
  float voicemix(const float *Lanes);
  /// One frame of every voice (frame(), with the notes in place).
  virtual void voiceFrame(const float *In, float *Out) = 0;

private:
  void beginBlock() final;
  void frame(const float *In, float *Out) final;
  void endBlock() final;

  unsigned Voices;
  VoiceAllocator Allocator;
  NoteLayout Layout;
  /// The six note fields, Voices lanes each, then voice.peak: the part of a
  /// kernel's instance that the allocator reads and writes.
  std::vector<float> Notes;
  std::vector<ChannelMessage> Queue;
  int PeakMeter;
};

/// The sum of N lanes in the kernel's order: halves added lane by lane
/// (the upper half padded with -0) until two lanes remain.
float laneSum(const float *Lanes, unsigned N);

/// A processor whose frame is a function: the tests use it to model the
/// one-line wrapper scripts around each standard-library function.
class FrameFunction : public Processor {
public:
  using Body = std::function<void(const float *In, float *Out)>;
  FrameFunction(unsigned Inputs, unsigned Outputs, double SampleRate, Body F)
      : Processor(Inputs, Outputs, SampleRate), F(std::move(F)) {}

protected:
  void frame(const float *In, float *Out) override { F(In, Out); }

private:
  Body F;
};

// --- Tables (dsl/LANGUAGE.md, "Tables") ----------------------------------

/// One lane of a width-1 table read, as the language defines it: `T[k]`
/// (element k, truncated, clamped, NaN -> 0), and `T.read(x)` / `T.wrap(x)`
/// with linear or Catmull-Rom interpolation, in float, in the documented
/// order of operations.
float tableElem(const std::vector<float> &T, float K);
float tableRead(const std::vector<float> &T, float X, bool Cubic, bool Wrap);

/// The names of the examples that have a reference model ("echo", ...).
std::vector<std::string> exampleNames();

/// The reference model of examples/NAME.dsp, or null if there is none.
std::unique_ptr<Processor> makeExample(std::string_view Name,
                                       double SampleRate);

} // namespace dspjit::golden

#endif
