//===- compiler/Checker.h - Syntax tree to checked program ----------------===//
//
// Resolves names, evaluates constants, inlines functions (giving the state of
// each call site its own slot), expands `unroll`, infers the width of every
// value and lays out the instance: the passes Checker.cpp runs in order
// (NameResolver, Elaborator, ConstantFolder, Inliner, Widths, StorageLimits,
// InstanceLayout). Reports every error it finds; the Program it returns is
// only meaningful when no error was reported.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_CHECKER_H
#define DSPJIT_COMPILER_CHECKER_H

#include "compiler/Program.h"

namespace dspjit {

struct CheckOptions {
  double SampleRate = 48000;
  bool DoublePrecision = false;
  /// The target fuses multiply-adds, as CodeGen's tanh then does: folding
  /// follows (ConstantFolder.h).
  bool Fma = false;
  /// The parser already reported errors: skip the checks that a broken
  /// declaration would trip (missing io, process or output).
  bool AfterSyntaxErrors = false;
};

/// A parsed file and whether it is the standard library (whose definitions
/// a script's own may replace).
struct ModuleRef {
  const ParsedFile *M;
  bool IsStdLib;
};

std::unique_ptr<Program> check(const std::vector<ModuleRef> &Modules,
                               const CheckOptions &Options,
                               DiagnosticEngine &Diags);

} // namespace dspjit

#endif
