//===- compiler/StorageLimits.cpp - How big a script may be ---------------===//
//
// Why: see StorageLimits.h. Every size a kernel allocates or loops over is
// bounded here, before code generation can be asked to make it.
//
//===----------------------------------------------------------------------===//
#include "compiler/StorageLimits.h"
#include "runtime/Messages.h"

#include <algorithm>
#include <cmath>

namespace dspjit {

unsigned channelCount(double V, const Decl &Io, DiagnosticEngine &Diags) {
  if (V < 0 || V > MaxChannels || V != std::floor(V)) {
    Diags.report(DiagId::ChannelCount, Io.Loc,
                 {formatNumber(V), std::to_string(MaxChannels)}, 2);
    return 1;
  }
  return unsigned(V);
}

unsigned voiceCount(const Decl &Voices, DiagnosticEngine &Diags) {
  double V = Voices.Inputs;
  if (V < 1 || V > MaxVoices || V != std::floor(V)) {
    Diags.report(DiagId::OutOfRangeNumber, Voices.Loc,
                 {"the number of voices", "1", std::to_string(MaxVoices),
                  formatNumber(V)},
                 6);
    return 1;
  }
  return unsigned(V);
}

void checkParamValues(Slot &S, const Decl &D, std::optional<double> Def,
                      std::optional<double> Min, std::optional<double> Max,
                      DiagnosticEngine &Diags) {
  if (!Def || !Min || !Max)
    return;
  if (*Min > *Max)
    Diags.report(DiagId::ParamRangeEmpty, D.Min->Loc,
                 {D.Name, formatNumber(*Min), formatNumber(*Max)},
                 D.Min->Length);
  else if (*Def < *Min || *Def > *Max)
    Diags.report(
        DiagId::ParamDefaultOutOfRange, D.Init->Loc,
        {formatNumber(*Def), D.Name, formatNumber(*Min), formatNumber(*Max)},
        D.Init->Length);
  S.Def = *Def;
  S.Min = *Min;
  S.Max = *Max;
}

void checkSmoothing(Slot &S, const Expr &Smooth, std::optional<double> Seconds,
                    DiagnosticEngine &Diags) {
  if (!Seconds)
    return;
  if (*Seconds < 0 || *Seconds > 10)
    Diags.report(DiagId::SmoothRange, Smooth.Loc, {formatNumber(*Seconds)},
                 Smooth.Length);
  else
    S.SmoothSeconds = *Seconds;
}

unsigned arraySize(std::optional<double> N, const Expr &Size,
                   CheckReporter &R) {
  if (!N)
    return 1;
  double Count = std::floor(*N);
  if (Count < 1 || Count > MaxArraySize) {
    R.report(DiagId::ArraySizeRange, Size.Loc,
             {formatNumber(*N), std::to_string(MaxArraySize)}, Size.Length);
    Count = 1;
  }
  return unsigned(std::max(1.0, std::min(Count, double(MaxArraySize))));
}

unsigned delayFrames(std::optional<double> Length, const Decl &D,
                     double SampleRate, CheckReporter &R) {
  if (!Length)
    return 1;
  double Scale = D.Unit == "s"    ? SampleRate
                 : D.Unit == "ms" ? SampleRate / 1000
                                  : 1;
  double Frames = std::ceil(*Length * Scale - 1e-9);
  if (Frames < 1 || Frames > MaxDelayFrames) {
    R.report(DiagId::DelayLengthRange, D.Size->Loc,
             {formatNumber(Frames), std::to_string(MaxDelayFrames)},
             D.Size->Length);
    Frames = 1;
  }
  return unsigned(Frames);
}

double loopCount(std::optional<double> From, std::optional<double> To,
                 bool Unroll, const Stmt &S, CheckReporter &R) {
  unsigned Limit = Unroll ? MaxUnrollCount : MaxLoopCount;
  double Count = From && To ? std::ceil(*To - *From) : 1;
  if (From && To && (Count < 1 || Count > Limit)) {
    R.report(DiagId::LoopCountRange, S.From->Loc,
             {formatNumber(Count), std::to_string(Limit)}, 1);
    Count = 1;
  }
  return Count;
}

double LoopNest::enter(double Count, const Stmt &S, CheckReporter &R) {
  if (Iterations * Count > MaxLoopCount) {
    // Both factors are at most MaxLoopCount: the product is exact.
    R.report(DiagId::NestedLoopCount, S.From->Loc,
             {std::to_string(uint64_t(Iterations * Count)),
              std::to_string(MaxLoopCount)},
             1);
    // Loops inside this one are counted from here, so that one error is
    // reported per nest.
    Count = 1;
    Iterations = 1;
  }
  Iterations *= Count;
  return Count;
}

void checkStorage(Program &P, const std::set<ptrdiff_t> &DelaysRead,
                  bool AfterSyntaxErrors, CheckReporter &R) {
  for (Slot &S : P.Slots) {
    if (S.Width != 0)
      continue;
    // After a syntax error the write may be in the statement that failed
    // to parse: say nothing rather than something false.
    if (S.K == Slot::Delay && DelaysRead.count(&S - P.Slots.data()) &&
        !AfterSyntaxErrors)
      R.report(DiagId::DelayNeverWritten, S.Loc, {S.Name}, 1);
    S.Width = 1;
  }
  for (Local &L : P.Locals)
    L.Width = std::max(1u, L.Width);
}

void checkInstanceSize(const Program &P, CheckReporter &R) {
  if (P.InstanceSize <= MaxInstanceBytes)
    return;
  // At the biggest slot or `convolve` call (whose state is the response's
  // spectra and history).
  SourceLoc Biggest;
  uint64_t BiggestBytes = 0;
  for (const Slot &S : P.Slots) {
    uint64_t Bytes =
        uint64_t(S.K == Slot::Delay ? S.Capacity : S.Count) * S.Width * 4;
    if (Bytes > BiggestBytes) {
      BiggestBytes = Bytes;
      Biggest = S.Loc;
    }
  }
  for (const Convolution &C : P.Convolutions)
    if (C.StateBytes > BiggestBytes) {
      BiggestBytes = C.StateBytes;
      Biggest = C.Loc;
    }
  R.report(DiagId::InstanceTooLarge, Biggest,
           {std::to_string(P.InstanceSize), std::to_string(MaxInstanceBytes)},
           1);
}

} // namespace dspjit
