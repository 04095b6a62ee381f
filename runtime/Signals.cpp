//===- runtime/Signals.cpp - Test signals and durations by name -----------===//
//
// Deterministic generators and the spec/duration parsers; see Signals.h.
//
//===----------------------------------------------------------------------===//
#include "runtime/Signals.h"

#include "runtime/MessageCatalog.h"

#include <charconv>
#include <cmath>
#include <numbers>

namespace dspjit {

/// A whole string as a finite double, or nothing. Locale-independent.
static std::optional<double> parseNumber(std::string_view Text) {
  double Value = 0;
  const char *End = Text.data() + Text.size();
  auto [Ptr, Error] = std::from_chars(Text.data(), End, Value);
  if (Error != std::errc() || Ptr != End || !std::isfinite(Value))
    return std::nullopt;
  return Value;
}

std::string SignalSpec::str() const {
  switch (Type) {
  case Impulse: return "impulse";
  case Silence: return "silence";
  case Noise: return "noise";
  case Sine: {
    std::string Text = "sine:" + formatNumber(Frequency);
    if (Amplitude != 0.5f)
      Text += ":" + formatNumber(Amplitude);
    return Text;
  }
  }
  return "?";
}

Result<SignalSpec> parseSignal(std::string_view Text) {
  auto Invalid = [&](const std::string &Why) -> Failure {
    return fail(message<Msg::InvalidSignal>(Text, Why));
  };

  std::string_view Kind = Text.substr(0, Text.find(':'));
  std::string_view Args =
      Kind.size() < Text.size() ? Text.substr(Kind.size() + 1) : "";
  bool HasArgs = Kind.size() < Text.size();

  SignalSpec Spec;
  if (Kind == "impulse" || Kind == "silence" || Kind == "noise") {
    if (HasArgs)
      return Invalid(message<Msg::SignalTakesNoArguments>(Kind));
    Spec.Type = Kind == "impulse"   ? SignalSpec::Impulse
                : Kind == "silence" ? SignalSpec::Silence
                                    : SignalSpec::Noise;
    return Spec;
  }
  if (Kind == "sine") {
    Spec.Type = SignalSpec::Sine;
    std::string_view FreqText = Args.substr(0, Args.find(':'));
    std::optional<double> Freq = parseNumber(FreqText);
    if (!HasArgs || !Freq || *Freq <= 0)
      return Invalid(message<Msg::SineNeedsFrequency>());
    Spec.Frequency = *Freq;
    if (FreqText.size() < Args.size()) {
      std::optional<double> Amp = parseNumber(Args.substr(FreqText.size() + 1));
      if (!Amp)
        return Invalid(message<Msg::SignalAmplitudeNotNumber>());
      Spec.Amplitude = static_cast<float>(*Amp);
    }
    return Spec;
  }

  std::string Close =
      closestName(Kind, {"impulse", "silence", "noise", "sine"});
  return Invalid(Close.empty() ? std::string()
                               : message<Msg::SignalDidYouMean>(Close));
}

SignalGenerator::Pcg32::Pcg32(uint64_t Seed, uint64_t Stream)
    : Increment((Stream << 1u) | 1u) {
  next();
  State += Seed;
  next();
}

uint32_t SignalGenerator::Pcg32::next() {
  uint64_t Old = State;
  State = Old * 6364136223846793005ULL + Increment;
  uint32_t XorShifted = static_cast<uint32_t>(((Old >> 18u) ^ Old) >> 27u);
  uint32_t Rotation = static_cast<uint32_t>(Old >> 59u);
  return (XorShifted >> Rotation) | (XorShifted << ((-Rotation) & 31));
}

SignalGenerator::SignalGenerator(const SignalSpec &Spec, double SampleRate,
                                 unsigned Channels)
    : Spec(Spec), SampleRate(SampleRate), Channels(Channels) {
  if (Spec.Type == SignalSpec::Noise)
    for (unsigned C = 0; C < Channels; ++C)
      Noise.emplace_back(/*Seed=*/0x6473706a17ULL, /*Stream=*/C);
}

void SignalGenerator::generate(float *Out, uint64_t Frames) {
  for (uint64_t F = 0; F < Frames; ++F, ++Position) {
    float *Frame = Out + F * Channels;
    switch (Spec.Type) {
    case SignalSpec::Impulse:
    case SignalSpec::Silence: {
      float Value = Spec.Type == SignalSpec::Impulse && Position == 0 ? 1 : 0;
      for (unsigned C = 0; C < Channels; ++C)
        Frame[C] = Value;
      break;
    }
    case SignalSpec::Noise:
      // The top 24 bits, scaled: every value is exact in a float.
      for (unsigned C = 0; C < Channels; ++C)
        Frame[C] = static_cast<float>(Noise[C].next() >> 8) * 0x1p-23f - 1.0f;
      break;
    case SignalSpec::Sine: {
      // The phase comes from the frame number, not an accumulator, so it
      // does not drift over long renders.
      double Cycles =
          static_cast<double>(Position) * Spec.Frequency / SampleRate;
      double Phase = Cycles - std::floor(Cycles);
      float Value = static_cast<float>(Spec.Amplitude *
                                       std::sin(2 * std::numbers::pi * Phase));
      for (unsigned C = 0; C < Channels; ++C)
        Frame[C] = Value;
      break;
    }
    }
  }
}

std::vector<float> generateSignal(const SignalSpec &Spec, double SampleRate,
                                  unsigned Channels, uint64_t Frames) {
  std::vector<float> Samples(Frames * Channels);
  SignalGenerator(Spec, SampleRate, Channels).generate(Samples.data(), Frames);
  return Samples;
}

uint64_t Duration::frames(double SampleRate) const {
  if (ExactFrames)
    return *ExactFrames;
  return static_cast<uint64_t>(std::llround(Seconds * SampleRate));
}

std::string Duration::str() const {
  if (ExactFrames)
    return std::to_string(*ExactFrames) + "frames";
  return formatNumber(Seconds) + "s";
}

Result<Duration> parseDuration(std::string_view Text) {
  auto Invalid = [&]() -> Failure {
    return fail(message<Msg::InvalidDuration>(Text));
  };
  auto EndsWith = [&](std::string_view Suffix) {
    return Text.size() > Suffix.size() &&
           Text.substr(Text.size() - Suffix.size()) == Suffix;
  };

  Duration D;
  // Exact frame counts: "96000frames", and "96000samples" as `dspjit run`
  // always took (one sample per channel is a frame).
  for (std::string_view Unit : {"frames", "frame", "samples", "sample"}) {
    if (!EndsWith(Unit))
      continue;
    std::string_view Digits = Text.substr(0, Text.size() - Unit.size());
    uint64_t Frames = 0;
    auto [Ptr, Error] =
        std::from_chars(Digits.data(), Digits.data() + Digits.size(), Frames);
    if (Error != std::errc() || Ptr != Digits.data() + Digits.size())
      return Invalid();
    D.ExactFrames = Frames;
    return D;
  }

  std::optional<double> Seconds;
  if (Text.find(':') != std::string_view::npos) {
    // [h:]m:s -- every field but the last is a whole number.
    double Total = 0;
    unsigned Fields = 0;
    std::string_view Rest = Text;
    while (true) {
      size_t Colon = Rest.find(':');
      std::optional<double> Field = parseNumber(Rest.substr(0, Colon));
      bool Last = Colon == std::string_view::npos;
      if (!Field || *Field < 0 || (!Last && *Field != std::floor(*Field)))
        return Invalid();
      Total = Total * 60 + *Field;
      if (++Fields > 3)
        return Invalid();
      if (Last)
        break;
      Rest = Rest.substr(Colon + 1);
    }
    Seconds = Total;
  } else if (EndsWith("ms")) {
    if (auto Ms = parseNumber(Text.substr(0, Text.size() - 2)))
      Seconds = *Ms / 1000;
  } else if (EndsWith("s")) {
    Seconds = parseNumber(Text.substr(0, Text.size() - 1));
  } else {
    Seconds = parseNumber(Text);
  }
  if (!Seconds || *Seconds < 0)
    return Invalid();
  // Longer would not fit in a frame count at every rate (and no render or
  // session lasts 30 years).
  if (*Seconds > MaxDurationSeconds)
    return fail(message<Msg::DurationTooLong>(Text));
  D.Seconds = *Seconds;
  return D;
}

} // namespace dspjit
