//===- compiler/CheckReporter.h - The checking passes' diagnostics --------===//
//
// Why this exists: the functions of a script that nothing calls are checked
// too (a dry run, Inliner::checkUnusedFunctions), with their parameters'
// values unknown. During a dry run the messages that depend on those values
// would be guesses, so every checking pass reports through this filter.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_CHECKREPORTER_H
#define DSPJIT_COMPILER_CHECKREPORTER_H

#include "compiler/Diagnostics.h"

namespace dspjit {

class CheckReporter {
public:
  explicit CheckReporter(DiagnosticEngine &Diags) : Diags(Diags) {}

  /// Reports, unless this is a dry run and the message depends on what the
  /// arguments of a never-called function would be.
  void report(DiagId Id, SourceLoc Loc, std::initializer_list<std::string> Args,
              uint32_t Length = 1) {
    if (DryRun && dependsOnArguments(Id))
      return;
    Diags.report(Id, Loc, Args, Length);
  }

  /// The engine itself, for messages true whatever the arguments.
  DiagnosticEngine &engine() { return Diags; }

  /// Elaborating a function that nothing calls.
  bool DryRun = false;

private:
  static bool dependsOnArguments(DiagId Id) {
    switch (Id) {
    case DiagId::NotConstant:
    case DiagId::NotScalarConstant:
    case DiagId::LaneOutOfRange:
    case DiagId::WidthMismatch:
    case DiagId::DelayLengthRange:
    case DiagId::ArraySizeRange:
    case DiagId::LoopCountRange:
    case DiagId::NestedLoopCount:
    case DiagId::NonFiniteConstant:
    case DiagId::VectorTooWide: return true;
    default: return false;
    }
  }

  DiagnosticEngine &Diags;
};

} // namespace dspjit

#endif
