//===- compiler/StorageLimits.h - How big a script may be -----------------===//
//
// Why this pass exists: a kernel runs in the audio thread with all of its
// memory allocated up front, so every size must be known, and bounded,
// before code generation: channels, array sizes, delay lengths, loop counts,
// the number of operations, and the instance memory in total. The limits are
// those of dsl/LANGUAGE.md ("Limits"); each is checked here, once, with a
// message that names the value and the limit.
//
// The elaborator calls the size checks as it meets declarations and loops
// (their sizes are constants it has just folded); checkStorage and
// checkInstanceSize run after width inference and layout.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_STORAGELIMITS_H
#define DSPJIT_COMPILER_STORAGELIMITS_H

#include "compiler/CheckReporter.h"
#include "compiler/Program.h"

#include <optional>
#include <set>

namespace dspjit {

constexpr unsigned MaxChannels = 64;
constexpr unsigned MaxLoopCount = 65536;
constexpr unsigned MaxUnrollCount = 4096;
constexpr unsigned MaxArraySize = 1u << 24;
constexpr unsigned MaxDelayFrames = 1u << 26;
constexpr unsigned MaxInlineDepth = 64;
constexpr size_t MaxProgramSize = 250000; // dsl/LANGUAGE.md, limits

/// The channel count `io` declares (1 after an error).
unsigned channelCount(double V, const Decl &Io, DiagnosticEngine &Diags);
/// The number of voices of `voices N;`, 1 to MaxVoices (1 after an error).
unsigned voiceCount(const Decl &Voices, DiagnosticEngine &Diags);

/// Checks a parameter's default, range and smoothing time and records them.
void checkParamValues(Slot &S, const Decl &D, std::optional<double> Def,
                      std::optional<double> Min, std::optional<double> Max,
                      DiagnosticEngine &Diags);
void checkSmoothing(Slot &S, const Expr &Smooth, std::optional<double> Seconds,
                    DiagnosticEngine &Diags);

/// The element count of `state x[N]` (1 after an error).
unsigned arraySize(std::optional<double> N, const Expr &Size, CheckReporter &R);

/// A delay line's length in frames (1 after an error); `Unit` is "s", "ms"
/// or empty (frames).
unsigned delayFrames(std::optional<double> Length, const Decl &D,
                     double SampleRate, CheckReporter &R);

/// The iteration count of a `for` or an `unroll` (1 after an error).
double loopCount(std::optional<double> From, std::optional<double> To,
                 bool Unroll, const Stmt &S, CheckReporter &R);

/// How many times the body being elaborated runs per frame (or per callback
/// in `block`): the product of the enclosing `for` counts. A `for` inside a
/// `for` runs its body the product of their counts each frame: each loop
/// within its limit is not enough.
class LoopNest {
public:
  /// Enters a `for` of `Count` iterations; returns the count to use (1 when
  /// the nest is over the limit, reported once per nest).
  double enter(double Count, const Stmt &S, CheckReporter &R);
  /// Leaves the loop entered when iterations() was `Saved`.
  void leave(double Saved) { Iterations = Saved; }
  double iterations() const { return Iterations; }

private:
  double Iterations = 1;
};

/// After width inference: gives every slot and local still without a width
/// the width 1, and reports delays that are read but never written.
void checkStorage(Program &P, const std::set<ptrdiff_t> &DelaysRead,
                  bool AfterSyntaxErrors, CheckReporter &R);

/// After layout: reports an instance over MaxInstanceBytes at its biggest slot.
void checkInstanceSize(const Program &P, CheckReporter &R);

} // namespace dspjit

#endif
