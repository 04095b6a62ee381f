//===- runtime/Automation.h - Parameter values that move over time -*- C++ -*-===//
//
// `dspjit render --automate cutoff=ramp:200@0s,2000@5s,200@10s` (or
// `cutoff=moves.csv`, rows of time and value) gives a parameter a curve
// through breakpoints instead of one value. Between two breakpoints the
// value moves in a straight line, or, for a parameter in hz, exponentially
// (equal ratios in equal times: a sweep that sounds even); before the first
// breakpoint it holds the first value, after the last the last. Two
// breakpoints at one time make a jump.
//
// Sample-accurate and deterministic: the curve is evaluated at every frame,
// and the render splits its blocks so that each frame's value is the
// parameter's target at that frame (a kernel reads its targets at the start
// of a callback): while a curve moves, one frame per callback; while every
// curve holds, whole blocks, split only where one starts to move. The
// target then goes through the parameter's smoother like any value a host
// sets, so a curve sounds as it would live, without zipper noise. At frame
// 0 the value is set without a ramp from the default, as `--set` does.
// (A script's `block` values are computed once per callback, so while a
// curve moves they are computed every frame.)
//
// Thread contract: parsing and playing allocate nothing per frame but may
// allocate while parsing; everything here runs on the render's thread,
// never on an audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_AUTOMATION_H
#define DSPJIT_RUNTIME_AUTOMATION_H

#include "runtime/Result.h"
#include "runtime/dspjit_abi.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dspjit {

/// One parameter's curve.
struct Automation {
  struct Point {
    uint64_t Frame = 0;
    float Value = 0;
  };
  std::string Param;
  /// Sorted by frame; at least one.
  std::vector<Point> Points;
  /// Between breakpoints: equal ratios in equal times (parameters in hz).
  bool Exponential = false;

  /// The target at `Frame`.
  float valueAt(uint64_t Frame) const;
  /// How many frames from `Frame` on the value stays what it is at
  /// `Frame` (at least 1; UINT64_MAX once the curve holds for good).
  uint64_t holdsFor(uint64_t Frame) const;
};

/// Parses `NAME=ramp:V@T,V@T,...` or `NAME=FILE.csv` for a parameter of
/// `Kernel` at `Rate`. Times are durations ("5s", "1:30", "24000frames"; in
/// a CSV file, a number is seconds), non-decreasing; values must be in the
/// parameter's range, and above 0 for a parameter in hz. A relative CSV
/// path is read from the working directory.
Result<Automation> parseAutomation(std::string_view Spec,
                                   const DspjitKernel &Kernel, double Rate);

/// Plays curves into a parameter setter during a render
/// (RenderOptions::Automate).
class AutomationPlayer {
public:
  using Setter = std::function<void(const std::string &Param, float Value)>;
  AutomationPlayer(std::vector<Automation> Curves, Setter Set);

  /// Sets every curve's value at `Frame` (only those that changed since the
  /// last call: the values at frame 0 are for the caller to set without a
  /// ramp, as `--set` does) and returns how many frames they hold from
  /// there.
  uint64_t apply(uint64_t Frame);

  const std::vector<Automation> &curves() const { return Curves; }

private:
  std::vector<Automation> Curves;
  std::vector<float> Last; ///< what each curve last set (at first, frame 0's)
  Setter Set;
};

} // namespace dspjit

#endif
