//===- tests/golden/Reference.cpp - Independent models of the scripts ----===//
//
// See Reference.h. Each model below is written from the algorithm, in the
// shape its original source gives it (Freeverb as Jezar's revmodel, the
// biquad as the cookbook's direct form I), not from the script.
//
//===----------------------------------------------------------------------===//
#include "Reference.h"

#include "runtime/AudioFile.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>

namespace dspjit::golden {

// --- Building blocks --------------------------------------------------------

float fract(float X) { return X - std::floor(X); }

float smoothCoef(float TimeS, float SampleRate) {
  return 1.0f - std::exp(-4.6f / std::max(TimeS * SampleRate, 1e-6f));
}

float db2lin(float Db) { return std::exp(Db * float(0.11512925464970229)); }

bool Fused = false;

float madd(float A, float B, float C) {
  if (Fused)
    return std::fma(A, B, C);
  float Product = A * B;
  return Product + C;
}

float dspTanh(float X) {
  float X2 = X * X;
  // One Horner step: fused, or a multiply and an add, each rounded.
  auto step = [X2](float Acc, float K) {
    if (Fused)
      return std::fma(X2, Acc, K);
    float Product = X2 * Acc;
    return Product + K;
  };
  float P = step(-2.76076847742355e-16f, 2.00018790482477e-13f);
  P = step(P, -8.60467152213735e-11f);
  P = step(P, 5.12229709037114e-08f);
  P = step(P, 1.48572235717979e-05f);
  P = step(P, 6.37261928875436e-04f);
  P = step(P, 4.89352455891786e-03f);
  P = X * P;
  float Q = step(1.19825839466702e-06f, 1.18534705686654e-04f);
  Q = step(Q, 2.26843463243900e-03f);
  Q = step(Q, 4.89352518554385e-03f);
  if (std::fabs(X) < 0.0004f)
    return X;
  return std::fabs(X) > 7.90531110763549805f ? std::copysign(1.0f, X) : P / Q;
}

float lin2db(float X) {
  return 20.0f * std::log10(std::max(std::fabs(X), 1e-10f));
}

float softclip(float X) {
  if (X >= 1)
    return 1;
  if (X <= -1)
    return -1;
  return 1.5f * (X - X * X * X / 3.0f);
}

float polyBlep(float T, float Dt) {
  if (T < Dt) { // the frame just after the wrap
    float U = T / Dt;
    return madd(-U, U, U + U) - 1.0f; // U + U - U * U - 1
  }
  if (T > 1.0f - Dt) { // the frame just before it
    float U = (T - 1.0f) / Dt;
    return madd(U, U, U) + U + 1.0f; // U * U + U + U + 1
  }
  return 0.0f;
}

float Phasor::next(float FreqHz, float SampleRate) {
  float Now = Phase;
  Phase = fract(Phase + FreqHz / SampleRate);
  return Now;
}

float sineOsc(Phasor &P, float FreqHz, float SampleRate) {
  return std::sin(Tau * P.next(FreqHz, SampleRate));
}

float sawOsc(Phasor &P, float FreqHz, float SampleRate) {
  float T = P.next(FreqHz, SampleRate);
  // A naive saw falls by 2 at the wrap: subtract the upward-step residual.
  return 2.0f * T - 1.0f - polyBlep(T, FreqHz / SampleRate);
}

float squareOsc(Phasor &P, float FreqHz, float SampleRate) {
  float T = P.next(FreqHz, SampleRate);
  float Dt = FreqHz / SampleRate;
  float Naive = T < 0.5f ? 1.0f : -1.0f;
  // Rises by 2 at the wrap, falls by 2 at mid-period.
  return Naive + polyBlep(T, Dt) - polyBlep(fract(T + 0.5f), Dt);
}

static constexpr int64_t LehmerModulus = 16777213; // largest prime < 2^24
static constexpr int64_t LehmerMultiplier = 4093;  // a primitive root of it

Noise::Noise(double Seed)
    : X(1 +
        int64_t(std::fmod(std::fabs(std::floor(Seed)), LehmerModulus - 1))) {}

float Noise::next() {
  X = X * LehmerMultiplier % LehmerModulus;
  return float(2 * X - LehmerModulus) / float(LehmerModulus);
}

float OnePole::process(float X, float CutoffHz, float SampleRate) {
  float Fc = std::clamp(CutoffHz, 0.0f, 0.49f * SampleRate);
  float A = 1.0f - std::exp(-Tau * Fc / SampleRate);
  Y += A * (X - Y);
  return Y;
}

float Smoother::process(float X, float TimeS, float SampleRate) {
  // Once a step no longer changes Y, or Y is within 1e-7 |X| + 1e-9 of X,
  // Y is X: the one-pole reaches it.
  float Next = Y + smoothCoef(TimeS, SampleRate) * (X - Y);
  bool Close = std::fabs(X - Next) <= 1e-7f * std::fabs(X) + 1e-9f;
  Y = Next == Y || Close ? X : Next;
  return Y;
}

float DcBlocker::process(float X, float SampleRate) {
  float R = 1.0f - Tau * 10.0f / SampleRate;
  float Y = X - X1 + R * Y1;
  X1 = X;
  Y1 = Y;
  return Y;
}

float EnvelopeFollower::process(float X, float AttackS, float ReleaseS,
                                float SampleRate) {
  float Level = std::fabs(X);
  float Coef = smoothCoef(Level > Env ? AttackS : ReleaseS, SampleRate);
  float Next = Env + Coef * (Level - Env);
  bool Close = std::fabs(Level - Next) <= 1e-7f * Level + 1e-9f;
  Env = Next == Env || Close ? Level : Next;
  return Env;
}

float onePoleLanding(float Level, float Target, float Coef) {
  float Next = madd(Coef, Target - Level, Level);
  return std::fabs(Next - Target) < 1e-5f ? Target : Next;
}

float Adsr::process(float Gate, float A, float D, float S, float R, float Trig,
                    float SampleRate) {
  bool Up = Gate > 0.5f;
  if (!Up)
    Now = Stage::Released;
  else if (Now == Stage::Released || Trig > 0.5f) // rising gate, retrigger
    Now = Stage::Attack;
  switch (Now) {
  case Stage::Attack:
    Level = std::min(Level + 1.0f / std::max(A * SampleRate, 1.0f), 1.0f);
    if (Level >= 1.0f)
      Now = Stage::Sustain; // the decay starts on the next frame
    break;
  case Stage::Sustain:
    Level = onePoleLanding(Level, std::clamp(S, 0.0f, 1.0f),
                           smoothCoef(D, SampleRate));
    break;
  case Stage::Released:
    Level = onePoleLanding(Level, 0.0f, smoothCoef(R, SampleRate));
    break;
  }
  return Level;
}

float DecayEnvelope::process(float Trig, float TimeS, float SampleRate) {
  bool Up = Trig > 0.5f;
  Level = Up && !WasUp
              ? 1.0f
              : onePoleLanding(Level, 0.0f, smoothCoef(TimeS, SampleRate));
  WasUp = Up;
  return Level;
}

float note2freq(float Key) { return 440.0f * std::exp2((Key - 69.0f) / 12.0f); }

float velGain(float Velocity, float RangeDb) {
  if (!(Velocity > 0))
    return 0.0f;
  // sqrt(gain) is a line from 10^(-range / 40) at velocity 0 to 1 at 1.
  float Floor = db2lin(-0.5f * RangeDb);
  float Root = madd(1.0f - Floor, std::clamp(Velocity, 0.0f, 1.0f), Floor);
  return Root * Root;
}

BiquadCoefs rbjCoefs(RbjShape Shape, float FreqHz, float Q, float GainDb,
                     float SampleRate) {
  float W0 = Tau * std::clamp(FreqHz, 1.0f, 0.49f * SampleRate) / SampleRate;
  float Cw = std::cos(W0), Sw = std::sin(W0);
  float Alpha = Sw / (2.0f * std::max(Q, 0.01f));
  float A = std::pow(10.0f, GainDb / 40.0f);
  // Every shape sets them all; the initial values only quiet GCC 12's
  // -Wmaybe-uninitialized, which cannot see that the switch is exhaustive.
  float B0 = 0, B1 = 0, B2 = 0, A0 = 1, A1 = 0, A2 = 0;
  switch (Shape) {
  case RbjShape::Lowpass:
    B0 = (1 - Cw) / 2, B1 = 1 - Cw, B2 = (1 - Cw) / 2;
    A0 = 1 + Alpha, A1 = -2 * Cw, A2 = 1 - Alpha;
    break;
  case RbjShape::Highpass:
    B0 = (1 + Cw) / 2, B1 = -(1 + Cw), B2 = (1 + Cw) / 2;
    A0 = 1 + Alpha, A1 = -2 * Cw, A2 = 1 - Alpha;
    break;
  case RbjShape::Bandpass: // constant 0 dB peak gain
    B0 = Alpha, B1 = 0, B2 = -Alpha;
    A0 = 1 + Alpha, A1 = -2 * Cw, A2 = 1 - Alpha;
    break;
  case RbjShape::Notch:
    B0 = 1, B1 = -2 * Cw, B2 = 1;
    A0 = 1 + Alpha, A1 = -2 * Cw, A2 = 1 - Alpha;
    break;
  case RbjShape::Peak:
    B0 = 1 + Alpha * A, B1 = -2 * Cw, B2 = 1 - Alpha * A;
    A0 = 1 + Alpha / A, A1 = -2 * Cw, A2 = 1 - Alpha / A;
    break;
  case RbjShape::LowShelf: {
    float K = 2 * std::sqrt(A) * Alpha;
    B0 = A * ((A + 1) - (A - 1) * Cw + K);
    B1 = 2 * A * ((A - 1) - (A + 1) * Cw);
    B2 = A * ((A + 1) - (A - 1) * Cw - K);
    A0 = (A + 1) + (A - 1) * Cw + K;
    A1 = -2 * ((A - 1) + (A + 1) * Cw);
    A2 = (A + 1) + (A - 1) * Cw - K;
    break;
  }
  case RbjShape::HighShelf: {
    float K = 2 * std::sqrt(A) * Alpha;
    B0 = A * ((A + 1) + (A - 1) * Cw + K);
    B1 = -2 * A * ((A - 1) + (A + 1) * Cw);
    B2 = A * ((A + 1) + (A - 1) * Cw - K);
    A0 = (A + 1) - (A - 1) * Cw + K;
    A1 = 2 * ((A - 1) - (A + 1) * Cw);
    A2 = (A + 1) - (A - 1) * Cw - K;
    break;
  }
  }
  return {B0 / A0, B1 / A0, B2 / A0, A1 / A0, A2 / A0};
}

float Biquad::process(float X, const BiquadCoefs &C) {
  float Y = C.B0 * X + C.B1 * X1 + C.B2 * X2 - C.A1 * Y1 - C.A2 * Y2;
  X2 = X1;
  X1 = X;
  Y2 = Y1;
  Y1 = Y;
  return Y;
}

Svf::Outputs Svf::process(float X, float FreqHz, float Q, float SampleRate) {
  // Simper, "Linear Trapezoidal Integrated SVF" (Cytomic, 2013).
  float G =
      std::tan(Pi * std::clamp(FreqHz, 1.0f, 0.49f * SampleRate) / SampleRate);
  float K = 1.0f / std::max(Q, 0.01f);
  float A1 = 1.0f / (1.0f + G * (G + K));
  float A2 = G * A1;
  float A3 = G * A2;
  float V3 = X - Ic2;
  float V1 = A1 * Ic1 + A2 * V3;
  float V2 = Ic2 + A2 * Ic1 + A3 * V3;
  Ic1 = 2 * V1 - Ic1;
  Ic2 = 2 * V2 - Ic2;
  return {V2, V1, X - K * V1 - V2};
}

DelayLine::DelayLine(size_t Length) : Ring(Length, 0.0f) {}

void DelayLine::write(float X) {
  Ring[Next] = X;
  Next = (Next + 1) % Ring.size();
}

float DelayLine::tap(float N) const {
  size_t Length = Ring.size();
  // fmax and fmin, not std::clamp: a NaN position reads as 1.
  float Clamped = std::fmin(std::fmax(std::trunc(N), 1.0f), float(Length));
  size_t Back = size_t(Clamped);
  return Ring[(Next + Length - Back) % Length];
}

float DelayLine::read(float T) const {
  float Clamped = std::fmin(std::fmax(T, 1.0f), float(Ring.size()));
  float Whole = std::floor(Clamped);
  float Frac = Clamped - Whole;
  float A = tap(Whole), B = tap(Whole + 1);
  return A + Frac * (B - A);
}

float FreeverbComb::process(float Input, float Feedback, float Damp) {
  float Output = Buffer[Index];
  FilterStore = Output * (1 - Damp) + FilterStore * Damp;
  Buffer[Index] = Input + FilterStore * Feedback;
  if (++Index >= Buffer.size())
    Index = 0;
  return Output;
}

float FreeverbAllpass::process(float Input, float Feedback) {
  float BufOut = Buffer[Index];
  float Output = -Input + BufOut;
  Buffer[Index] = Input + BufOut * Feedback;
  if (++Index >= Buffer.size())
    Index = 0;
  return Output;
}

// --- The execution model ----------------------------------------------------

Processor::Processor(unsigned Inputs, unsigned Outputs, double SampleRate)
    : Rate(float(SampleRate)), Inputs(Inputs), Outputs(Outputs),
      SampleRate(SampleRate), FrameIn(std::max(Inputs, 1u)), FrameOut(Outputs) {
}

int Processor::addParam(ParamSpec Spec) {
  Param P;
  // value += (1 - exp(-4.6 / (T sr))) (target - value): 99% of a step in T.
  // The constant is the language's (dsl/LANGUAGE.md, "Execution model"),
  // shared with std's smoothcoef, not ln(100) = 4.60517: at 48 kHz the two
  // differ by 0.1% in the coefficient, which these tests do see.
  double Coef = Spec.SmoothSeconds > 0
                    ? 1.0 - std::exp(-4.6 / (Spec.SmoothSeconds * SampleRate))
                    : 1.0;
  // The last (max - min) / 256 of a step is a straight line at c times
  // that per frame, and a step lands on the target once it is within one
  // such step or once a step no longer changes the value.
  double Tail = (double(Spec.Max) - double(Spec.Min)) / 256;
  P.Coef = float(Coef);
  P.Tail = float(Tail);
  P.Lands = float(Coef * Tail);
  P.Target = P.Value = Spec.Def;
  P.Spec = std::move(Spec);
  Params.push_back(std::move(P));
  return int(Params.size() - 1);
}

int Processor::addMeter(std::string Name, unsigned Width) {
  Meters.push_back({std::move(Name), std::vector<float>(Width, 0.0f)});
  return int(Meters.size() - 1);
}

bool Processor::setParam(std::string_view Name, float Value) {
  for (Param &P : Params) {
    if (P.Spec.Name == Name) {
      P.Target = Value;
      return true;
    }
  }
  return false;
}

std::vector<ParamSpec> Processor::paramSpecs() const {
  std::vector<ParamSpec> Specs;
  for (const Param &P : Params)
    Specs.push_back(P.Spec);
  return Specs;
}

std::vector<std::string> Processor::meterNames() const {
  std::vector<std::string> Names;
  for (const Meter &M : Meters)
    Names.push_back(M.Name);
  return Names;
}

const std::vector<float> *Processor::meter(std::string_view Name) const {
  for (const Meter &M : Meters)
    if (M.Name == Name)
      return &M.Lanes;
  return nullptr;
}

void Processor::process(const float *In, float *Out, unsigned Frames) {
  for (Param &P : Params) {
    P.Target = std::isnan(P.Target)
                   ? P.Spec.Def
                   : std::clamp(P.Target, P.Spec.Min, P.Spec.Max);
    if (P.Spec.SmoothSeconds <= 0)
      P.Value = P.Target;
  }
  CallbackFrames = Frames;
  beginBlock();
  for (unsigned F = 0; F < Frames; ++F) {
    for (Param &P : Params)
      if (P.Spec.SmoothSeconds > 0) {
        float Gap = P.Target - P.Value;
        float Dist = std::fabs(Gap);
        float Next =
            P.Value + std::copysign(P.Coef * std::max(Dist, P.Tail), Gap);
        P.Value = Dist <= P.Lands || Next == P.Value ? P.Target : Next;
      }
    for (unsigned C = 0; C < Inputs; ++C)
      FrameIn[C] = In[size_t(F) * Inputs + C];
    std::fill(FrameOut.begin(), FrameOut.end(), 0.0f);
    frame(FrameIn.data(), FrameOut.data());
    for (unsigned C = 0; C < Outputs; ++C) {
      float V = FrameOut[C];
      Out[size_t(F) * Outputs + C] = std::isfinite(V) ? V : 0.0f;
    }
  }
  endBlock();
}

float laneSum(const float *Lanes, unsigned N) {
  if (N == 1)
    return Lanes[0];
  std::array<float, VoiceAllocator::MaxVoices> V{};
  assert(N <= V.size());
  std::copy(Lanes, Lanes + N, V.begin());
  while (N > 2) {
    unsigned H = 1;
    while (H * 2 < N)
      H *= 2;
    for (unsigned I = 0; I < H; ++I)
      V[I] = V[I] + (I + H < N ? V[I + H] : -0.0f);
    N = H;
  }
  return V[0] + V[1];
}

Instrument::Instrument(unsigned Outputs, double SampleRate, unsigned Voices)
    : Processor(0, Outputs, SampleRate), Voices(Voices),
      Notes((NoteLayout::Fields + 1) * size_t(Voices), 0.0f),
      PeakMeter(addMeter("voice.peak", Voices)) {
  Allocator.setVoices(Voices);
  Layout.Voices = Voices;
  for (unsigned F = 0; F < NoteLayout::Fields; ++F)
    Layout.Offsets[F] = int64_t(F * Voices * sizeof(float));
  Layout.PeakOffset = int64_t(NoteLayout::Fields * Voices * sizeof(float));
}

void Instrument::beginBlock() {
  if (!Queue.empty()) {
    for (const ChannelMessage &E : Queue)
      Allocator.handle(E);
    Queue.clear();
    Allocator.write(Layout, Notes.data());
    Allocator.written();
  }
  // voice.peak starts from 0 at every callback.
  std::fill(meterLanes(PeakMeter).begin(), meterLanes(PeakMeter).end(), 0.0f);
}

void Instrument::frame(const float *In, float *Out) {
  voiceFrame(In, Out);
  // note.trigger is 1 in the note's first frame only.
  std::fill_n(Notes.begin() + NoteLayout::Trigger * Voices, Voices, 0.0f);
}

void Instrument::endBlock() {
  const std::vector<float> &Peak = meterLanes(PeakMeter);
  std::copy(Peak.begin(), Peak.end(),
            Notes.begin() + NoteLayout::Fields * Voices);
  Allocator.afterProcess(Layout, Notes.data(), callbackFrames(), sampleRate());
}

float Instrument::voicemix(const float *Lanes) {
  std::vector<float> &Peak = meterLanes(PeakMeter);
  for (unsigned V = 0; V < Voices; ++V) {
    float Magnitude = std::fabs(Lanes[V]);
    if (Magnitude > Peak[V])
      Peak[V] = Magnitude;
  }
  return laneSum(Lanes, Voices);
}

// --- The examples -----------------------------------------------------------

namespace {

class Wire : public Processor {
public:
  explicit Wire(double Sr) : Processor(2, 2, Sr) {}

protected:
  void frame(const float *In, float *Out) override {
    Out[0] = In[0];
    Out[1] = In[1];
  }
};

class Gain : public Processor {
public:
  explicit Gain(double Sr) : Processor(2, 2, Sr) {}

protected:
  void frame(const float *In, float *Out) override {
    float G = db2lin(param(GainDb));
    for (int C = 0; C < 2; ++C)
      Out[C] = In[C] * G;
  }

private:
  int GainDb = addParam({"gain", 0, -60, 12});
};

class Tremolo : public Processor {
public:
  explicit Tremolo(double Sr) : Processor(2, 2, Sr) {}

protected:
  void frame(const float *In, float *Out) override {
    // Gain 1 at the LFO's crest, 1 - depth at its trough.
    float Lfo = 0.5f + 0.5f * sineOsc(Osc, param(RateHz), Rate);
    float G = 1 - param(Depth) * (1 - Lfo);
    for (int C = 0; C < 2; ++C)
      Out[C] = In[C] * G;
  }

private:
  int RateHz = addParam({"rate", 5, 0.1f, 20});
  int Depth = addParam({"depth", 0.5f, 0, 1});
  Phasor Osc;
};

class Echo : public Processor {
public:
  explicit Echo(double Sr)
      : Processor(2, 2, Sr), Lines{DelayLine(size_t(std::ceil(2 * Sr))),
                                   DelayLine(size_t(std::ceil(2 * Sr)))} {}

protected:
  void frame(const float *In, float *Out) override {
    for (int C = 0; C < 2; ++C) {
      float Wet = Lines[C].read(param(Time) * Rate);
      Lines[C].write(In[C] + param(Feedback) * Wet);
      Out[C] = In[C] + param(Mix) * (Wet - In[C]);
    }
  }

private:
  int Time = addParam({"time", 0.35f, 0.01f, 2});
  int Feedback = addParam({"feedback", 0.4f, 0, 0.95f});
  int Mix = addParam({"mix", 0.3f, 0, 1});
  std::array<DelayLine, 2> Lines;
};

class Lowpass : public Processor {
public:
  explicit Lowpass(double Sr) : Processor(2, 2, Sr) {}

protected:
  void frame(const float *In, float *Out) override {
    for (int C = 0; C < 2; ++C)
      Out[C] = Filters[C].process(In[C], param(Cutoff), Rate);
  }

private:
  int Cutoff = addParam({"cutoff", 1000, 20, 20000});
  std::array<OnePole, 2> Filters;
};

/// A multimode RBJ biquad whose coefficients are computed once per callback.
class MultimodeBiquad : public Processor {
public:
  explicit MultimodeBiquad(double Sr) : Processor(2, 2, Sr) {}

protected:
  void beginBlock() override {
    static const RbjShape Shapes[] = {RbjShape::Lowpass,  RbjShape::Highpass,
                                      RbjShape::Bandpass, RbjShape::Notch,
                                      RbjShape::Peak,     RbjShape::LowShelf,
                                      RbjShape::HighShelf};
    int Shape = int(std::round(param(Mode)));
    Coefs = rbjCoefs(Shapes[std::clamp(Shape, 0, 6)], param(Freq), param(Q),
                     param(GainDb), Rate);
  }
  void frame(const float *In, float *Out) override {
    for (int C = 0; C < 2; ++C)
      Out[C] = Filters[C].process(In[C], Coefs);
  }

private:
  int Mode = addParam({"mode", 0, 0, 6, 0});
  int Freq = addParam({"freq", 1000, 20, 20000});
  int Q = addParam({"q", 0.707f, 0.1f, 20});
  int GainDb = addParam({"gain", 0, -24, 24});
  BiquadCoefs Coefs;
  std::array<Biquad, 2> Filters;
};

class Distortion : public Processor {
public:
  explicit Distortion(double Sr) : Processor(2, 2, Sr) {}

protected:
  void frame(const float *In, float *Out) override {
    float Drive = db2lin(param(DriveDb)), Level = db2lin(param(LevelDb));
    for (int C = 0; C < 2; ++C) {
      float Shaped = dspTanh(In[C] * Drive);
      Out[C] = Level * Tone[C].process(Shaped, param(ToneHz), Rate);
    }
  }

private:
  int DriveDb = addParam({"drive", 12, 0, 48});
  int ToneHz = addParam({"tone", 6000, 200, 20000});
  int LevelDb = addParam({"level", -6, -40, 6});
  std::array<OnePole, 2> Tone;
};

/// Jezar's revmodel (Freeverb 1.0), with its parameters smoothed per frame.
class Freeverb : public Processor {
public:
  explicit Freeverb(double Sr) : Processor(2, 2, Sr) {
    static const int CombTuning[] = {1116, 1188, 1277, 1356,
                                     1422, 1491, 1557, 1617};
    static const int AllpassTuning[] = {556, 441, 341, 225};
    const int StereoSpread = 23;
    auto Scaled = [&](int Tuning) {
      return size_t(std::round(Tuning * Sr / 44100));
    };
    for (int T : CombTuning) {
      CombL.emplace_back(Scaled(T));
      CombR.emplace_back(Scaled(T + StereoSpread));
    }
    for (int T : AllpassTuning) {
      AllpassL.emplace_back(Scaled(T));
      AllpassR.emplace_back(Scaled(T + StereoSpread));
    }
  }

protected:
  void frame(const float *In, float *Out) override {
    // revmodel::update()
    const float FixedGain = 0.015f, ScaleWet = 3, ScaleDry = 2,
                ScaleDamp = 0.4f, ScaleRoom = 0.28f, OffsetRoom = 0.7f;
    float Wet = param(WetP) * ScaleWet;
    float Wet1 = Wet * (param(Width) / 2 + 0.5f);
    float Wet2 = Wet * ((1 - param(Width)) / 2);
    float Dry = param(DryP) * ScaleDry;
    bool Frozen = param(Freeze) >= 0.5f;
    float RoomSize1 = Frozen ? 1 : param(RoomSize) * ScaleRoom + OffsetRoom;
    float Damp1 = Frozen ? 0 : param(Damp) * ScaleDamp;
    float Gain = Frozen ? 0 : FixedGain;

    // revmodel::processreplace(), one frame.
    float OutL = 0, OutR = 0;
    float Input = (In[0] + In[1]) * Gain;
    for (size_t I = 0; I < CombL.size(); ++I) {
      OutL += CombL[I].process(Input, RoomSize1, Damp1);
      OutR += CombR[I].process(Input, RoomSize1, Damp1);
    }
    for (size_t I = 0; I < AllpassL.size(); ++I) {
      OutL = AllpassL[I].process(OutL, 0.5f);
      OutR = AllpassR[I].process(OutR, 0.5f);
    }
    Out[0] = OutL * Wet1 + OutR * Wet2 + In[0] * Dry;
    Out[1] = OutR * Wet1 + OutL * Wet2 + In[1] * Dry;
  }

private:
  int RoomSize = addParam({"roomsize", 0.5f, 0, 1});
  int Damp = addParam({"damp", 0.5f, 0, 1});
  int WetP = addParam({"wet", 1.0f / 3, 0, 1});
  int DryP = addParam({"dry", 0, 0, 1});
  int Width = addParam({"width", 1, 0, 1});
  int Freeze = addParam({"freeze", 0, 0, 1, 0});
  std::vector<FreeverbComb> CombL, CombR;
  std::vector<FreeverbAllpass> AllpassL, AllpassR;
};

class Chorus : public Processor {
public:
  explicit Chorus(double Sr)
      : Processor(2, 2, Sr), Lines{DelayLine(size_t(std::ceil(0.05 * Sr))),
                                   DelayLine(size_t(std::ceil(0.05 * Sr)))} {}

protected:
  void frame(const float *In, float *Out) override {
    float Phase = Lfo.next(param(RateHz), Rate);
    for (int C = 0; C < 2; ++C) {
      // The right channel's LFO is a quarter period behind the left's.
      float Mod = std::sin(Tau * fract(Phase + 0.25f * C));
      float DelayFrames =
          madd(param(DepthMs), Mod, param(TimeMs)) * 0.001f * Rate;
      float Wet = Lines[C].read(DelayFrames);
      Lines[C].write(In[C]);
      Out[C] = madd(param(Mix), Wet - In[C], In[C]);
    }
  }

private:
  int RateHz = addParam({"rate", 0.8f, 0.05f, 5});
  int TimeMs = addParam({"time", 15, 5, 30});
  int DepthMs = addParam({"depth", 3, 0, 5});
  int Mix = addParam({"mix", 0.5f, 0, 1});
  Phasor Lfo;
  std::array<DelayLine, 2> Lines;
};

class RingMod : public Processor {
public:
  explicit RingMod(double Sr) : Processor(2, 2, Sr) {}

protected:
  void frame(const float *In, float *Out) override {
    float Carrier = sineOsc(Osc, param(Freq), Rate);
    for (int C = 0; C < 2; ++C)
      Out[C] = In[C] + param(Mix) * (In[C] * Carrier - In[C]);
  }

private:
  int Freq = addParam({"freq", 440, 1, 5000});
  int Mix = addParam({"mix", 1, 0, 1});
  Phasor Osc;
};

class Additive : public Processor {
public:
  explicit Additive(double Sr) : Processor(0, 2, Sr) {}

protected:
  void frame(const float *, float *Out) override {
    float Sum = 0, AmpSum = 0;
    for (int K = 1; K <= NumPartials; ++K) {
      float F = param(Freq) * float(K);
      float Amp = std::pow(float(K), -param(Tilt));
      if (K % 2 == 0)
        Amp *= param(Even);
      if (!(F < Rate / 2)) // at or above Nyquist: silent
        Amp = 0;
      Sum += Amp * std::sin(Tau * Phases[K - 1].next(F, Rate));
      AmpSum += Amp;
    }
    Out[0] = Out[1] = db2lin(param(Level)) * Sum / AmpSum;
  }

private:
  static constexpr int NumPartials = 64;
  int Freq = addParam({"freq", 110, 20, 2000});
  int Tilt = addParam({"tilt", 1, 0, 3});
  int Even = addParam({"even", 1, 0, 1});
  int Level = addParam({"level", -6, -60, 0});
  std::array<Phasor, NumPartials> Phases;
};

class Meter : public Processor {
public:
  explicit Meter(double Sr) : Processor(2, 2, Sr) {}

protected:
  void frame(const float *In, float *Out) override {
    for (int C = 0; C < 2; ++C) {
      Out[C] = In[C];
      float MeanSquare =
          Rms[C].process(In[C] * In[C], param(WindowMs) * 0.001f, Rate);
      meterLanes(RmsMeter)[C] = lin2db(std::sqrt(MeanSquare));
      meterLanes(PeakMeter)[C] =
          lin2db(Peak[C].process(In[C], 0, param(Release), Rate));
    }
  }

private:
  int WindowMs = addParam({"window", 300, 10, 3000});
  int Release = addParam({"release", 1.5f, 0.1f, 5});
  int RmsMeter = addMeter("rms", 2);
  int PeakMeter = addMeter("peak", 2);
  std::array<Smoother, 2> Rms;
  std::array<EnvelopeFollower, 2> Peak;
};

class Gate : public Processor {
public:
  explicit Gate(double Sr) : Processor(2, 2, Sr) {}

protected:
  void frame(const float *In, float *Out) override {
    float Level = Detector.process(std::max(std::fabs(In[0]), std::fabs(In[1])),
                                   0, 0.05f, Rate);
    if (Level > db2lin(param(Threshold))) {
      IsOpen = 1;
      HoldLeft = param(HoldMs) * 0.001f * Rate;
    } else if (Level < db2lin(param(Threshold) - param(Hysteresis))) {
      if (HoldLeft > 0)
        HoldLeft -= 1;
      else
        IsOpen = 0;
    }
    float Fade = IsOpen > GainNow ? smoothCoef(param(AttackMs) * 0.001f, Rate)
                                  : smoothCoef(param(ReleaseMs) * 0.001f, Rate);
    GainNow += Fade * (IsOpen - GainNow);
    Out[0] = In[0] * GainNow;
    Out[1] = In[1] * GainNow;
    meterLanes(OpenMeter)[0] = IsOpen;
  }

private:
  int Threshold = addParam({"threshold", -40, -80, 0});
  int Hysteresis = addParam({"hysteresis", 6, 0, 20});
  int HoldMs = addParam({"hold", 50, 0, 500});
  int AttackMs = addParam({"attack", 1, 0.1f, 50});
  int ReleaseMs = addParam({"release", 100, 5, 2000});
  int OpenMeter = addMeter("open", 1);
  EnvelopeFollower Detector;
  float IsOpen = 0, HoldLeft = 0, GainNow = 0;
};

/// Hoffmann-Burchardi's diode ring modulator as De Pra and Fontana program
/// it: forward Euler at 30 times the rate on zero-stuffed inputs, a 3rd-order
/// Butterworth (scipy's butter(3, 2/30), bilinear with prewarping, split
/// into a one-pole and a biquad) and every 30th sample kept, the first.
class DiodeRingMod : public Processor {
public:
  explicit DiodeRingMod(double Sr) : Processor(2, 1, Sr) {
    // Constants are computed in double and rounded once, as the compiler
    // folds a script's constants.
    const double T = 1 / (Over * Sr), C = 10e-9, Cp = 10e-9, L = 0.8;
    TOverC = float(T / C);
    TOverCp = float(T / Cp);
    TOverL = float(T / L);
    const double K = std::tan(3.14159265358979323846 / Over);
    OnePoleB = float(K / (K + 1));
    OnePoleA = float((K - 1) / (K + 1));
    const double A0 = 1 + K + K * K;
    Section.B0 = float(K * K / A0);
    Section.B1 = float(2 * (K * K / A0));
    Section.B2 = Section.B0;
    Section.A1 = float(2 * (K * K - 1) / A0);
    Section.A2 = float((1 - K + K * K) / A0);
  }

protected:
  void frame(const float *In, float *Out) override {
    const float Ra = 600, Ri = 50, Rm = 80, Scale = 0.4f;
    auto Diode = [](float V) { return 0.17f * V * V * V * V; };
    float Gain = db2lin(param(InputDb));
    float Carrier = Gain * In[0], Modulator = Gain * In[1];
    float Kept = 0;
    for (int J = 0; J < Over; ++J) {
      // Zero-stuffing, without gain compensation, as the authors' code.
      float Vc = J == 0 ? Carrier : 0.0f, Vm = J == 0 ? Modulator : 0.0f;
      float G4 = Diode(U4), G5 = Diode(U5), G6 = Diode(U6), G7 = Diode(U7);
      U1 = U1 + TOverC * (I1 - G4 / 2 + G5 / 2 - G6 / 2 + G7 / 2 -
                          (U1 - Scale * Vm) / Rm);
      U2 = U2 + TOverC * (I2 + G4 / 2 - G5 / 2 - G6 / 2 + G7 / 2 - U2 / Ra);
      U3 = U3 + TOverCp * (G4 + G5 - G6 - G7 - U3 / Ri);
      U4 = U1 / 2 - U2 / 2 - U3 - Scale * Vc;
      U5 = -U1 / 2 + U2 / 2 - U3 - Scale * Vc;
      U6 = U1 / 2 + U2 / 2 + U3 + Scale * Vc;
      U7 = -U1 / 2 - U2 / 2 + U3 + Scale * Vc;
      I1 = I1 - TOverL * U1;
      I2 = I2 - TOverL * U2;
      float Low = OnePoleB * U2 + OnePoleB * X1 - OnePoleA * Y1;
      X1 = U2;
      Y1 = Low;
      float Y = Butter.process(Low, Section);
      if (J == 0)
        Kept = Y;
    }
    Out[0] = db2lin(param(Level)) * Kept;
  }

private:
  static constexpr int Over = 30;
  int InputDb = addParam({"input", 0, -40, 0});
  int Level = addParam({"level", 0, -24, 48});
  float TOverC, TOverCp, TOverL, OnePoleB, OnePoleA;
  BiquadCoefs Section;
  float U1 = 0, U2 = 0, U3 = 0, U4 = 0, U5 = 0, U6 = 0, U7 = 0, I1 = 0, I2 = 0;
  float X1 = 0, Y1 = 0;
  Biquad Butter;
};

/// The EMS VCS3 filter of Fontana and Civolani: a trapezoidal diode ladder
/// whose delay-free loop is solved by fixed-point iteration on vc4, written
/// from the paper's equations as a while loop. It also counts the passes,
/// and reports their average over each callback.
class Vcs3Filter : public Processor {
public:
  explicit Vcs3Filter(double Sr) : Processor(1, 1, Sr) {
    const double C = 0.01e-6, Eta = 1.836, Vt = 0.026, Gamma = Eta * Vt;
    HalfT = float(1 / Sr / 2);
    TwoVt = float(2 * Vt);
    TwoGamma = float(2 * Gamma);
    SixGamma = float(6 * Gamma);
    PerMicroamp = float(1e-6 / (2 * C));
  }

protected:
  void beginBlock() override { Passes = 0; }

  void frame(const float *In, float *Out) override {
    const float OutGain = float(5.175 + 0.5);
    float X = db2lin(param(Drive)) * In[0];
    float G = param(Current) * PerMicroamp; // I0 / (2 C)
    float Vc4 = 0, Vc4Past = 1, Xc1 = 0, Xc2 = 0, Xc3 = 0, Xc4 = 0, Vc1 = 0;
    int N = 0;
    while (N < 100 && std::fabs(Vc4 - Vc4Past) > 1e-3f * std::fabs(Vc4Past)) {
      Vc4Past = Vc4;
      float U1 = dspTanh((X - Vout) / TwoVt);
      Xc1 = G * (U1 + U2);
      Vc1 = madd(HalfT, Xc1, S1);
      U2 = dspTanh((Vc2 - Vc1) / TwoGamma);
      Xc2 = G * (U3 - U2);
      Vc2 = madd(HalfT, Xc2, S2);
      U3 = dspTanh((Vc3 - Vc2) / TwoGamma);
      Xc3 = G * (U4 - U3);
      Vc3 = madd(HalfT, Xc3, S3);
      U4 = dspTanh((Vc4 - Vc3) / TwoGamma);
      Xc4 = G * (-U5 - U4);
      Vc4 = madd(HalfT, Xc4, S4);
      U5 = dspTanh(Vc4 / SixGamma);
      Vout = OutGain * Vc4;
      ++N;
    }
    Out[0] = Vout;
    S1 = madd(HalfT, Xc1, Vc1);
    S2 = madd(HalfT, Xc2, Vc2);
    S3 = madd(HalfT, Xc3, Vc3);
    S4 = madd(HalfT, Xc4, Vc4);
    Passes += float(N);
    meterLanes(Iterations)[0] = Passes / float(callbackFrames());
  }

private:
  int Drive = addParam({"drive", 0, -40, 12});
  int Current = addParam({"current", 30, 3, 40});
  int Iterations = addMeter("iterations", 1);
  float HalfT, TwoVt, TwoGamma, SixGamma, PerMicroamp;
  float S1 = 0, S2 = 0, S3 = 0, S4 = 0, Vout = 0, Vc2 = 0, Vc3 = 0;
  float U2 = 0, U3 = 0, U4 = 0, U5 = 0;
  float Passes = 0;
};

/// examples/wavetable.dsp: the tables are computed in double, as the
/// compiler folds constants (sum() as a halving tree), then rounded to float.
class Wavetable : public Processor {
public:
  explicit Wavetable(double Sr) : Processor(1, 2, Sr) {
    for (int I = 0; I < 2048; ++I) {
      double H[8];
      for (int K = 0; K < 8; ++K)
        H[K] = std::sin(2 * M_PI * (K + 1) * I / 2048) / (K + 1);
      double Sum =
          ((H[0] + H[4]) + (H[2] + H[6])) + ((H[1] + H[5]) + (H[3] + H[7]));
      Wave.push_back(float(0.55 * Sum));
    }
    for (int I = 0; I <= 256; ++I)
      Curve.push_back(float(std::tanh(3 * (I / 128.0 - 1)) / std::tanh(3.0)));
  }

protected:
  void frame(const float *In, float *Out) override {
    float Phase = Osc.next(param(Freq), Rate);
    Out[0] = 0.5f * tableRead(Wave, Phase * 2048, true, true);
    float X = std::clamp(In[0] * param(Drive), -1.0f, 1.0f);
    Out[1] = tableRead(Curve, (X + 1) * 128, false, false);
  }

private:
  int Freq = addParam({"freq", 220, 20, 2000});
  int Drive = addParam({"drive", 4, 1, 20});
  Phasor Osc;
  std::vector<float> Wave, Curve;
};

/// examples/subsynth.dsp: per voice two detuned PolyBLEP saws, an RBJ
/// lowpass swept by a filter envelope and the key, an ADSR and the velocity
/// curve; the voices summed, then one soft clipper.
class SubSynth : public Instrument {
public:
  explicit SubSynth(double Sr) : Instrument(2, Sr, NumVoices) {}

protected:
  void voiceFrame(const float *, float *Out) override {
    float Spread = std::exp2(param(Detune) / 2400.0f);
    float A = param(Attack), D = param(Decay), R = param(Release);
    float Lanes[NumVoices];
    for (unsigned V = 0; V < NumVoices; ++V) {
      float F = note(NoteLayout::Freq, V);
      float Gate = note(NoteLayout::Gate, V);
      float Trig = note(NoteLayout::Trigger, V);
      float Osc = 0.5f * (sawOsc(Up[V], F * Spread, Rate) +
                          sawOsc(Down[V], F / Spread, Rate));
      float FilterEnv = FilterEnvs[V].process(Gate, A, D, 0, R, Trig, Rate);
      float Amp = AmpEnvs[V].process(Gate, A, D, param(Sustain), R, Trig, Rate);
      float Octaves =
          madd(param(EnvAmount), FilterEnv,
               param(KeyTrack) * (note(NoteLayout::Key, V) - 60.0f) / 12.0f);
      BiquadCoefs C =
          rbjCoefs(RbjShape::Lowpass, param(Cutoff) * std::exp2(Octaves),
                   param(Resonance), 0, Rate);
      float Voice = Filters[V].process(Osc, C);
      Lanes[V] = Voice * Amp * velGain(note(NoteLayout::Velocity, V), 40);
    }
    Out[0] = Out[1] = softclip(db2lin(param(Level)) * voicemix(Lanes));
  }

private:
  static constexpr unsigned NumVoices = 8;
  int Cutoff = addParam({"cutoff", 1200, 40, 12000, 0.01, "hz", midiCc(74)});
  int Resonance = addParam({"resonance", 2, 0.5f, 12, 0.01, "", midiCc(71)});
  int EnvAmount = addParam({"env_amount", 3, 0, 6});
  int KeyTrack = addParam({"keytrack", 0.5f, 0, 1});
  int Detune = addParam({"detune", 12, 0, 50});
  int Attack = addParam({"attack", 0.005f, 0, 2});
  int Decay = addParam({"decay", 0.3f, 0, 4});
  int Sustain = addParam({"sustain", 0.6f, 0, 1});
  int Release = addParam({"release", 0.3f, 0, 5});
  int Level = addParam({"level", -12, -60, 0});
  std::array<Phasor, NumVoices> Up, Down;
  std::array<Adsr, NumVoices> FilterEnvs, AmpEnvs;
  std::array<Biquad, NumVoices> Filters;
};

/// examples/fmbell.dsp: per voice a sine carrier phase-modulated by a sine
/// at `ratio` times its frequency, the index struck by the trigger and
/// decaying, the carrier under an ADSR with no sustain.
class FmBell : public Instrument {
public:
  explicit FmBell(double Sr) : Instrument(2, Sr, NumVoices) {}

protected:
  void voiceFrame(const float *, float *Out) override {
    float Lanes[NumVoices];
    float Sens = param(VelocityIndex);
    for (unsigned V = 0; V < NumVoices; ++V) {
      float F = note(NoteLayout::Freq, V);
      float Velocity = note(NoteLayout::Velocity, V);
      float Trig = note(NoteLayout::Trigger, V);
      float Strike = param(Index) * madd(Sens, Velocity, 1.0f - Sens);
      float Depth =
          Strike * Brightness[V].process(Trig, param(BrightnessTime), Rate);
      float Modulator = sineOsc(Modulators[V], F * param(Ratio), Rate);
      float Carrier =
          std::sin(madd(Depth, Modulator, Tau * Carriers[V].next(F, Rate)));
      float Env = Envs[V].process(note(NoteLayout::Gate, V), 0.001f,
                                  param(Ring), 0, param(Release), Trig, Rate);
      Lanes[V] = Carrier * Env * velGain(Velocity, 40);
    }
    Out[0] = Out[1] = db2lin(param(Level)) * voicemix(Lanes);
  }

private:
  static constexpr unsigned NumVoices = 16;
  int Ratio = addParam({"ratio", 3.5f, 0.5f, 12});
  int Index = addParam({"index", 4, 0, 12});
  int VelocityIndex = addParam({"velocity_index", 0.7f, 0, 1});
  int BrightnessTime = addParam({"brightness_time", 0.6f, 0.01f, 5});
  int Ring = addParam({"ring", 2, 0.05f, 10});
  int Release = addParam({"release", 0.4f, 0.01f, 5});
  int Level = addParam({"level", -12, -60, 0});
  std::array<Phasor, NumVoices> Modulators, Carriers;
  std::array<DecayEnvelope, NumVoices> Brightness;
  std::array<Adsr, NumVoices> Envs;
};

/// examples/filter_midi.dsp: tanh drive into an RBJ lowpass per channel,
/// the drive taken back out, mixed with the dry input; every parameter
/// declares a MIDI source.
class FilterMidi : public Processor {
public:
  explicit FilterMidi(double Sr) : Processor(2, 2, Sr) {}

protected:
  void frame(const float *In, float *Out) override {
    float Gain = db2lin(param(Drive));
    BiquadCoefs C =
        rbjCoefs(RbjShape::Lowpass, param(Cutoff), param(Resonance), 0, Rate);
    for (unsigned Ch = 0; Ch < 2; ++Ch) {
      float Wet = Filters[Ch].process(dspTanh(Gain * In[Ch]), C) / Gain;
      Out[Ch] = madd(param(Mix), Wet - In[Ch], In[Ch]);
    }
  }

private:
  int Cutoff = addParam({"cutoff", 800, 40, 12000, 0.01, "hz", midiCc(74)});
  int Resonance = addParam({"resonance", 4, 0.5f, 20, 0.01, "", midiCc(71)});
  int Drive = addParam({"drive", 0, 0, 24, 0.01, "db", MidiAftertouch});
  int Mix = addParam({"mix", 1, 0, 1, 0.01, "", midiCc(1)});
  std::array<Biquad, 2> Filters;
};

// The compiler's half-band coefficients (generated by
// scripts/design-oversample-filters).
#include "compiler/OversampleFilters.inc"

/// `oversample N { }`'s linear-phase filters for one lane, as
/// dsl/LANGUAGE.md specifies them: log2(N) cascaded 2x half-band stages,
/// stage 1 (the sharp one) next to the stream's rate. The coefficients are
/// the compiler's (the even taps of each half-band FIR; the centre tap is
/// 1/2); the filtering is written here independently.
class HalfBandCascade {
public:
  explicit HalfBandCascade(unsigned Factor) {
    for (unsigned F = 1; F < Factor; F *= 2) {
      const auto &[Coefs, Count] = Stages[Up.size()];
      Up.push_back({Coefs, Count, std::vector<double>(Count)});
      Down.push_back({Coefs, Count, std::vector<double>(Count),
                      std::vector<double>(Count / 2 + 1)});
    }
  }

  /// One sample becomes N (in their order in time).
  std::vector<double> up(double X) {
    std::vector<double> Samples = {X};
    for (UpStage &St : Up) {
      std::vector<double> Next;
      for (double S : Samples) {
        push(St.History, S);
        // Zero-stuffed and filtered with gain 2: the even output is the
        // even taps' sum, the odd one the centre tap's (1/2) delayed input.
        Next.push_back(2 * dot(St.Coefs, St.History));
        Next.push_back(St.History[St.Count / 2 - 1]);
      }
      Samples = std::move(Next);
    }
    return Samples;
  }

  /// N samples become one.
  double down(std::vector<double> Samples) {
    for (size_t I = Down.size(); I-- > 0;) {
      DownStage &St = Down[I];
      std::vector<double> Next;
      for (size_t J = 0; J + 1 < Samples.size(); J += 2) {
        push(St.Even, Samples[J]);
        push(St.Odd, Samples[J + 1]);
        Next.push_back(dot(St.Coefs, St.Even) + 0.5 * St.Odd[St.Count / 2]);
      }
      Samples = std::move(Next);
    }
    return Samples.front();
  }

private:
  struct UpStage {
    const double *Coefs;
    size_t Count;
    std::vector<double> History; // newest first
  };
  struct DownStage {
    const double *Coefs;
    size_t Count;
    std::vector<double> Even, Odd;
  };
  static constexpr std::pair<const double *, size_t> Stages[] = {
      {FirStage1, std::size(FirStage1)},
      {FirStage2, std::size(FirStage2)},
      {FirStage3, std::size(FirStage3)},
      {FirStage4, std::size(FirStage4)}};

  static void push(std::vector<double> &H, double X) {
    std::copy_backward(H.begin(), H.end() - 1, H.end());
    H[0] = X;
  }
  static double dot(const double *Coefs, const std::vector<double> &H) {
    double Sum = 0;
    for (size_t J = 0; J < H.size(); ++J)
      Sum += Coefs[J] * H[J];
    return Sum;
  }

  std::vector<UpStage> Up;
  std::vector<DownStage> Down;
};

/// A sound file of examples/ir, as the table that loads it sees it.
AudioData impulseResponse(const std::string &Name) {
  auto A =
      readAudioFile(std::string(DSPJIT_SOURCE_DIR) + "/examples/ir/" + Name);
  assert(A && "examples/ir: run scripts/make-impulse-responses");
  return std::move(*A);
}

/// Direct-form convolution of one lane with one channel of an impulse
/// response, in double: the input's history back to its first frame (or
/// the response's length, if shorter).
class DirectConvolution {
public:
  DirectConvolution(const AudioData &Ir, unsigned Channel) {
    for (uint64_t F = 0; F < Ir.frames(); ++F)
      Taps.push_back(Ir.Samples[F * Ir.Channels + Channel]);
  }

  double process(double X) {
    History.push_back(X);
    double Sum = 0;
    size_t N = std::min(History.size(), Taps.size());
    for (size_t K = 0; K < N; ++K)
      Sum += Taps[K] * History[History.size() - 1 - K];
    return Sum;
  }

private:
  std::vector<double> Taps, History;
};

/// examples/amp.dsp: a one-pole highpass at 80 Hz and the gain, an asymmetric
/// tanh curve inside `oversample 4`, the mono cabinet on each channel.
class Amp : public Processor {
public:
  explicit Amp(double Sr)
      : Processor(2, 2, Sr), Cabinet(impulseResponse("cabinet.wav")),
        Oversamplers{HalfBandCascade(4), HalfBandCascade(4)},
        Cabinets{DirectConvolution(Cabinet, 0), DirectConvolution(Cabinet, 0)} {
  }

protected:
  void frame(const float *In, float *Out) override {
    float Gain = db2lin(param(GainDb)), Bias = param(BiasAmount);
    for (int Ch = 0; Ch < 2; ++Ch) {
      float X = (In[Ch] - Coupling[Ch].process(In[Ch], 80, Rate)) * Gain;
      std::vector<double> Up = Oversamplers[Ch].up(X);
      for (double &U : Up)
        U = dspTanh(float(U) + Bias) - dspTanh(Bias);
      float Y = float(Oversamplers[Ch].down(Up));
      Out[Ch] = db2lin(param(LevelDb)) * float(Cabinets[Ch].process(Y));
    }
  }

private:
  int GainDb = addParam({"gain", 24, 0, 48});
  int BiasAmount = addParam({"bias", 0.2f, 0, 0.5f});
  int LevelDb = addParam({"level", -12, -40, 6});
  AudioData Cabinet;
  std::array<OnePole, 2> Coupling;
  std::array<HalfBandCascade, 2> Oversamplers;
  std::array<DirectConvolution, 2> Cabinets;
};

/// examples/reverb.dsp: each channel convolved with its channel of the
/// hall, a one-pole on the wet signal, mixed with the dry.
class Reverb : public Processor {
public:
  explicit Reverb(double Sr)
      : Processor(2, 2, Sr), Hall(impulseResponse("hall.wav")),
        Tails{DirectConvolution(Hall, 0), DirectConvolution(Hall, 1)} {}

protected:
  void frame(const float *In, float *Out) override {
    for (int Ch = 0; Ch < 2; ++Ch) {
      float Wet = Tone[Ch].process(float(Tails[Ch].process(In[Ch])),
                                   param(ToneHz), Rate);
      Out[Ch] = In[Ch] + param(Mix) * (Wet - In[Ch]);
    }
  }

private:
  int Mix = addParam({"mix", 0.3f, 0, 1});
  int ToneHz = addParam({"tone", 8000, 500, 20000});
  AudioData Hall;
  std::array<DirectConvolution, 2> Tails;
  std::array<OnePole, 2> Tone;
};

using Factory = std::unique_ptr<Processor> (*)(double);

template <class T> std::unique_ptr<Processor> make(double Sr) {
  return std::make_unique<T>(Sr);
}

const std::map<std::string, Factory, std::less<>> &examples() {
  static const std::map<std::string, Factory, std::less<>> Table = {
      {"wire", make<Wire>},
      {"gain", make<Gain>},
      {"tremolo", make<Tremolo>},
      {"echo", make<Echo>},
      {"lowpass", make<Lowpass>},
      {"biquad", make<MultimodeBiquad>},
      {"distortion", make<Distortion>},
      {"freeverb", make<Freeverb>},
      {"chorus", make<Chorus>},
      {"ringmod", make<RingMod>},
      {"additive", make<Additive>},
      {"meter", make<Meter>},
      {"gate", make<Gate>},
      {"diode_ringmod", make<DiodeRingMod>},
      {"vcs3_filter", make<Vcs3Filter>},
      {"wavetable", make<Wavetable>},
      {"subsynth", make<SubSynth>},
      {"fmbell", make<FmBell>},
      {"filter_midi", make<FilterMidi>},
      {"amp", make<Amp>},
      {"reverb", make<Reverb>},
  };
  return Table;
}

} // namespace

std::vector<std::string> exampleNames() {
  std::vector<std::string> Names;
  for (const auto &[Name, F] : examples())
    Names.push_back(Name);
  return Names;
}

std::unique_ptr<Processor> makeExample(std::string_view Name,
                                       double SampleRate) {
  auto It = examples().find(Name);
  if (It == examples().end())
    return nullptr;
  return It->second(SampleRate);
}

// --- Tables ------------------------------------------------------------------

float tableElem(const std::vector<float> &T, float K) {
  const float Last = float(T.size() - 1);
  float C = K > 0 ? K : 0; // NaN -> 0
  C = C < Last ? C : Last;
  return T[std::min(size_t(C), T.size() - 1)];
}

float tableRead(const std::vector<float> &T, float X, bool Cubic, bool Wrap) {
  const size_t N = T.size();
  float Pos;
  if (Wrap) {
    const float L = float(N);
    Pos = X - std::floor(X / L) * L;
    if (!(Pos > 0)) // NaN (from NaN or infinite x) and -0 -> 0
      Pos = 0;
    if (!(Pos < L))
      Pos = 0;
  } else {
    Pos = X > 0 ? X : 0;
    Pos = Pos < float(N - 1) ? Pos : float(N - 1);
  }
  const size_t I = std::min(size_t(Pos), N - 1);
  const float F = Pos - float(I);
  auto At = [&](long J) {
    if (Wrap)
      return T[size_t((J % long(N) + long(N)) % long(N))];
    return T[size_t(std::clamp(J, 0L, long(N) - 1))];
  };
  const float P0 = At(long(I) - 1), P1 = At(long(I)), P2 = At(long(I) + 1),
              P3 = At(long(I) + 2);
  if (!Cubic)
    return P1 + F * (P2 - P1);
  const float C1 = 0.5f * (P2 - P0);
  const float C2 = P0 - 2.5f * P1 + 2.0f * P2 - 0.5f * P3;
  const float C3 = 0.5f * (P3 - P0) + 1.5f * (P1 - P2);
  return ((C3 * F + C2) * F + C1) * F + P1;
}

} // namespace dspjit::golden
