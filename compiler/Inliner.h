//===- compiler/Inliner.h - Calls and `unroll` copies, inlined ------------===//
//
// Why this pass exists: a kernel is one function with no calls, and a
// script's function may keep memory (`state`, `delay`) that belongs to each
// place it is called from. So every call is inlined, and its memory becomes
// new slots named by the call-site path ("process/onepole#2/y"); likewise
// every copy of an `unroll` body ("process/i=3/y"). Hosts find slots by
// these names, and they stay the same from one edit of a script to the next
// as long as the calls do, which is what lets hot reload keep state.
//
// It also checks the functions that nothing calls (a dry run: their
// arguments are unknown), so that their errors are reported too.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_INLINER_H
#define DSPJIT_COMPILER_INLINER_H

#include "compiler/NameResolver.h"

#include <set>

namespace dspjit {

class Elaborator;

class Inliner {
public:
  Inliner(Elaborator &El, NameResolver &Names) : El(El), Names(Names) {}

  /// Inlines a script function at this call site: its arguments become
  /// read-only locals (or constants), its `state` and `delay` declarations
  /// new slots named by the call-site path. Returns the call's value.
  NodePtr inlineCall(Context &Ctx, const Expr &E, const Decl &Fn,
                     bool WantValue);

  /// Elaborates `Count` copies of an `unroll` body, the loop variable a
  /// constant in each, from `Start`.
  void unroll(Context &Ctx, const Stmt &S, unsigned Count, double Start);

  /// Elaborates the functions of the script that nothing calls, so that their
  /// errors are reported too. Their parameters' values are unknown, so errors
  /// that depend on them are not reported, and everything made is dropped.
  void checkUnusedFunctions(Program &P, DiagnosticEngine &Diags);

private:
  bool canInline(const Expr &E, const Decl &Fn);
  void bindArguments(Context &Ctx, Context &Callee, const Expr &E,
                     const Decl &Fn, Op &Inline);
  void checkUnused(Program &P, const std::string &Name, const Decl &Fn,
                   DiagnosticEngine &Diags);

  Elaborator &El;
  NameResolver &Names;
  /// The functions being inlined, innermost last (to find recursion).
  std::vector<const Decl *> ActiveFns;
  std::set<const Decl *> UsedFns;
};

} // namespace dspjit

#endif
