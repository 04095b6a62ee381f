//===- compiler/Checker.cpp - Syntax tree to checked program --------------===//
//
// Why this file exists: the checker is a sequence of passes, each with one
// job and its own file; this is the driver that runs them in order.
//
//   1. NameResolver   collects the top-level declarations of every module;
//   2. Elaborator     declares the channels, parameters, storage and
//                     constants, then walks `block` and `process` into Ops
//                     and Nodes, folding constants (ConstantFolder) and
//                     inlining calls and `unroll` copies (Inliner);
//   3. Inliner        checks the functions that nothing calls (a dry run);
//   4. Widths         infers every width, to a fixed point, and reports
//                     mismatches;
//   5. StorageLimits  settles what is left open and reports delays never
//                     written; then `out` must have been assigned;
//   6. Convolutions   prepares each `convolve` call's plan (its response's
//                     partitions and spectra) and the state it needs;
//   7. InstanceLayout places every slot in the instance memory, and
//      StorageLimits checks the instance's size;
//   8. CompileCost    estimates what code generation will cost and refuses
//                     a program that would take too long to compile;
//   9. Warnings       reports the silent mistakes of a program without
//                     errors (state shared by a loop, unused names, ...).
//
//===----------------------------------------------------------------------===//
#include "compiler/Checker.h"
#include "compiler/CompileCost.h"
#include "compiler/Convolutions.h"
#include "compiler/Elaborator.h"
#include "compiler/InstanceLayout.h"
#include "compiler/Warnings.h"
#include "compiler/Widths.h"

namespace dspjit {

namespace {

/// Where errors about the whole script go: the start of the script itself.
SourceLoc firstLoc(const std::vector<ModuleRef> &Modules) {
  for (auto It = Modules.rbegin(); It != Modules.rend(); ++It)
    if (!It->IsStdLib)
      return {It->M->FileId, 0};
  return {};
}

bool assignsOut(const OpList &Ops) {
  for (const OpPtr &O : Ops) {
    if (O->K == Op::SetOut ||
        (O->K == Op::SetLane && O->Target == Op::OutTarget))
      return true;
    if (assignsOut(O->Body) || assignsOut(O->Else))
      return true;
  }
  return false;
}

/// Elaborates `block`, then `process`, which sees the names `block` defined.
void elaborateSections(Elaborator &El, const NameResolver &Names, Program &P) {
  Scope BlockScope;
  if (const Decl *Block = Names.block()) {
    Context Ctx;
    Ctx.Path = "block";
    Ctx.Scopes.emplace_back();
    El.elaborateBody(Ctx, Block->Body, P.Block, /*NewScope=*/false);
    BlockScope = std::move(Ctx.Scopes.front());
  }
  El.startProcess();
  if (const Decl *Process = Names.process()) {
    Context Ctx;
    Ctx.Path = "process";
    Ctx.Scopes.push_back(std::move(BlockScope));
    El.elaborateBody(Ctx, Process->Body, P.Process, /*NewScope=*/true);
  }
}

} // namespace

std::unique_ptr<Program> check(const std::vector<ModuleRef> &Modules,
                               const CheckOptions &Options,
                               DiagnosticEngine &Diags) {
  auto P = std::make_unique<Program>();
  P->SampleRate = Options.SampleRate;
  P->DoublePrecision = Options.DoublePrecision;
  CheckReporter R(Diags);

  NameResolver Names(Diags);
  Names.collect(Modules);
  Elaborator El(*P, Options, Names, R);
  El.declareGlobals();
  if (!Names.io() && !Options.AfterSyntaxErrors)
    Diags.report(DiagId::MissingIo, firstLoc(Modules));
  if (!Names.process() && !Options.AfterSyntaxErrors)
    Diags.report(DiagId::MissingProcess, firstLoc(Modules));
  elaborateSections(El, Names, *P);
  El.inliner().checkUnusedFunctions(*P, Diags);
  if (El.aborted())
    return P;

  inferWidths(*P, Diags);
  checkStorage(*P, El.delaysRead(), Options.AfterSyntaxErrors, R);
  if (Names.process() && P->Outputs > 0 && !Options.AfterSyntaxErrors &&
      !assignsOut(P->Process))
    R.report(DiagId::OutNotAssigned, Names.process()->Loc,
             {std::to_string(P->Outputs)}, 7);
  if (Diags.hasErrors())
    return P;
  prepareConvolutions(*P);
  layoutInstance(*P);
  checkInstanceSize(*P, R);
  checkCompileCost(*P, R, Names.process() ? Names.process()->Loc : SourceLoc{},
                   7);
  if (Diags.hasErrors())
    return P;
  std::set<uint32_t> StdFiles;
  for (const ModuleRef &M : Modules)
    if (M.IsStdLib)
      StdFiles.insert(M.M->FileId);
  reportWarnings(*P, StdFiles, Diags);
  return P;
}

} // namespace dspjit
