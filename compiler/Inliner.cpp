//===- compiler/Inliner.cpp - Calls and `unroll` copies, inlined ----------===//
//
// Why: see Inliner.h. The call-site path is what names every slot a
// function or an unrolled copy declares, so it is built here and nowhere
// else.
//
//===----------------------------------------------------------------------===//
#include "compiler/Inliner.h"
#include "compiler/Elaborator.h"
#include "compiler/Widths.h"
#include "runtime/Messages.h"

#include <algorithm>

namespace dspjit {

namespace {
bool hasReturn(const StmtList &Body) {
  for (const StmtPtr &S : Body) {
    if (S->K == Stmt::Return)
      return true;
    if (hasReturn(S->Body) || hasReturn(S->Else))
      return true;
  }
  return false;
}
} // namespace

bool Inliner::canInline(const Expr &E, const Decl &Fn) {
  CheckReporter &R = El.reporter();
  const size_t Most = Fn.FnParams.size(), Least = Fn.requiredParams();
  if (E.Args.size() > Most || E.Args.size() < Least) {
    if (Least == Most)
      R.report(DiagId::ArgCount, E.Loc,
               {E.Name, std::to_string(Most), std::to_string(E.Args.size())},
               E.Length);
    else
      R.report(DiagId::ArgCountRange, E.Loc,
               {E.Name, std::to_string(Least), std::to_string(Most),
                std::to_string(E.Args.size())},
               E.Length);
    return false;
  }
  if (std::find(ActiveFns.begin(), ActiveFns.end(), &Fn) != ActiveFns.end()) {
    R.report(DiagId::Recursion, E.Loc, {E.Name}, uint32_t(E.Name.size()));
    return false;
  }
  if (ActiveFns.size() >= MaxInlineDepth) {
    R.report(DiagId::InlineTooDeep, E.Loc, {std::to_string(MaxInlineDepth)},
             uint32_t(E.Name.size()));
    return false;
  }
  return true;
}

/// Constant arguments are bound as constants (so that what depends on them
/// folds); the others are computed once into read-only locals, before the
/// body. A parameter left out takes its default, evaluated at this call in
/// the function's scope: it sees the top-level names and the parameters
/// before it (`fn onepole(x, cutoff_hz, rate = sr)`).
void Inliner::bindArguments(Context &Ctx, Context &Callee, const Expr &E,
                            const Decl &Fn, Op &Inline) {
  for (size_t I = 0; I < Fn.FnParams.size(); ++I) {
    const Expr *Given = I < E.Args.size() ? E.Args[I].get() : nullptr;
    const Expr *Source = Given ? Given : Fn.defaultOf(I);
    if (!Source)
      return; // a parameter without a default after one with (reported)
    NodePtr Arg = Given ? El.expr(Ctx, *Given) : El.expr(Callee, *Source);
    Binding B;
    B.Loc = Fn.FnParamLocs[I];
    Inline.ArgLocals.push_back(-1);
    Inline.ConstArgs.emplace_back();
    if (Arg->isConst()) {
      B.K = Binding::ConstVal;
      B.Value = Arg->Value;
      Inline.ConstArgs.back() = Arg->Value;
    } else {
      B.K = Binding::ReadOnlyLocal;
      B.Id = El.newLocal(Fn.FnParams[I]);
      Inline.ArgLocals.back() = B.Id;
      auto Set = El.op(Op::SetLocal, *Source);
      Set->Id = B.Id;
      Set->Value = std::move(Arg);
      El.out().push_back(std::move(Set));
    }
    if (!Callee.Scopes.back().emplace(Fn.FnParams[I], B).second)
      El.reporter().report(DiagId::Redefinition, Fn.FnParamLocs[I],
                           {Fn.FnParams[I]}, uint32_t(Fn.FnParams[I].size()));
  }
}

NodePtr Inliner::inlineCall(Context &Ctx, const Expr &E, const Decl &Fn,
                            bool WantValue) {
  if (!canInline(E, Fn))
    return El.constNode(E, {0});
  UsedFns.insert(&Fn);
  Program &P = El.program();

  auto Inline = El.op(Op::Inline, E);
  int Result = El.newLocal(E.Name + " result");
  Inline->Id = Result;
  int InlineId = int(P.NumInlines++);
  Inline->Count = unsigned(InlineId);

  Context Callee;
  unsigned Ordinal = ++Ctx.CallCounts[E.Name];
  Callee.Path = Ctx.childPath(E.Name + "#" + std::to_string(Ordinal));
  Callee.InlineId = InlineId;
  Callee.Scopes.emplace_back();
  Inline->Callee = E.Name;
  const Global *G = Names.global(E.Name);
  Inline->CalleeFromStd = G && G->FromStd;
  bindArguments(Ctx, Callee, E, Fn, *Inline);

  ActiveFns.push_back(&Fn);
  auto Saved = El.enterOrigin(E.Loc, uint32_t(E.Name.size()), /*Copies=*/0);
  const size_t SlotsBefore = P.Slots.size();
  El.elaborateBody(Callee, Fn.Body, Inline->Body, /*NewScope=*/false);
  Inline->Stateful = P.Slots.size() > SlotsBefore;
  El.leaveOrigin(Saved);
  ActiveFns.pop_back();
  El.out().push_back(std::move(Inline));

  if (WantValue && !Callee.SawReturn && !hasReturn(Fn.Body))
    El.reporter().report(DiagId::CallHasNoValue, E.Loc, {E.Name},
                         uint32_t(E.Name.size()));
  NodePtr N = El.node(Node::LoadLocal, E);
  N->Id = Result;
  return N;
}

void Inliner::unroll(Context &Ctx, const Stmt &S, unsigned Count,
                     double Start) {
  std::string SavedPath = Ctx.Path;
  auto Saved = El.enterOrigin(S.Loc, 6, std::max(Count, 1u)); // `unroll`
  for (unsigned I = 0; I < Count && !El.aborted(); ++I) {
    double V = Start + I;
    Ctx.Path = (SavedPath.empty() ? "" : SavedPath + "/") + S.Name + "=" +
               formatNumber(V);
    Ctx.Scopes.emplace_back();
    Binding B;
    B.K = Binding::ConstVal;
    B.Value = {V};
    B.Loc = S.Loc;
    Names.bind(Ctx, S.Name, std::move(B), uint32_t(S.Name.size()));
    size_t SizeBefore = El.size();
    El.elaborateBody(Ctx, S.Body, El.out(), true);
    // A copy that generates nothing still costs time to elaborate, so it
    // counts as one operation: nested unrolls of empty (or erroneous)
    // bodies once ran for minutes without reaching the size limit (4096^3
    // copies).
    if (El.size() == SizeBefore)
      El.countSize();
    Ctx.Scopes.pop_back();
  }
  El.leaveOrigin(Saved);
  Ctx.Path = SavedPath;
}

void Inliner::checkUnusedFunctions(Program &P, DiagnosticEngine &Diags) {
  for (const std::string &Name : Names.globalOrder()) {
    const Global &G = *Names.global(Name);
    if (G.FromStd || G.D->K != Decl::Fn || UsedFns.count(G.D) || El.aborted())
      continue;
    size_t NumSlots = P.Slots.size(), NumLocals = P.Locals.size();
    size_t NumConvolutions = P.Convolutions.size();
    unsigned NumInlines = P.NumInlines;
    double Latency = P.Latency;
    checkUnused(P, Name, *G.D, Diags);
    P.Slots.resize(NumSlots);
    P.Locals.resize(NumLocals);
    P.Convolutions.resize(NumConvolutions);
    P.NumInlines = NumInlines;
    P.Latency = Latency;
  }
}

void Inliner::checkUnused(Program &P, const std::string &Name, const Decl &Fn,
                          DiagnosticEngine &Diags) {
  El.reporter().DryRun = true;
  Context Ctx;
  Ctx.Path = Name;
  Ctx.InlineId = 0;
  Ctx.Scopes.emplace_back();
  for (size_t I = 0; I < Fn.FnParams.size(); ++I) {
    Binding B;
    B.K = Binding::ReadOnlyLocal;
    B.Id = El.newLocal(Fn.FnParams[I]);
    B.Loc = Fn.FnParamLocs[I];
    P.Locals[size_t(B.Id)].UnknownWidth = true;
    Names.bind(Ctx, Fn.FnParams[I], std::move(B),
               uint32_t(Fn.FnParams[I].size()));
  }
  ActiveFns.push_back(&Fn);
  OpList Scratch;
  El.elaborateBody(Ctx, Fn.Body, Scratch, false);
  ActiveFns.pop_back();
  El.reporter().DryRun = false;
  // Its returns need an Inline around them to belong to.
  auto Wrapper = std::make_unique<Op>(Op::Inline, Fn.Loc);
  Wrapper->Id = El.newLocal(Name + " result");
  Wrapper->Body = std::move(Scratch);
  OpList Outer;
  Outer.push_back(std::move(Wrapper));
  if (!El.aborted())
    inferWidthsOf(P, Outer, Diags);
}

} // namespace dspjit
