//===- compiler/Convolutions.cpp - `convolve` call sites to plans ---------===//
//
// Why: see Convolutions.h. The elaboration of a call, its width, and its
// plan; the runtime does the arithmetic (runtime/Convolver.h).
//
//===----------------------------------------------------------------------===//
#include "compiler/Convolutions.h"
#include "compiler/Elaborator.h"
#include "runtime/Convolver.h"

namespace dspjit {

/// `convolve(x, ir)`: `ir` names a table; the call keeps a history, so it
/// runs once per frame at the stream's rate (not in `block`, a `for` or an
/// `oversample` block).
NodePtr Elaborator::convolve(Context &Ctx, const Expr &E) {
  const Expr &Ir = *E.Args[1];
  const int TableId = Ir.K == Expr::NameRef ? tableNamed(Ctx, Ir.Name) : -1;
  NodePtr X = expr(Ctx, *E.Args[0]);
  if (TableId < 0) {
    std::string What = "this expression";
    if (Ir.K == Expr::NameRef) {
      const Global *G = Names.global(Ir.Name);
      What = NameResolver::lookupLocal(Ctx, Ir.Name) || !G
                 ? "'" + Ir.Name + "'"
                 : "the " + std::string(declKindName(G->D->K)) + " '" +
                       Ir.Name + "'";
    }
    R.report(DiagId::ConvolveNotTable, Ir.Loc, {What}, Ir.Length);
    return constNode(E, {0});
  }
  if (Ctx.inBlock())
    R.report(DiagId::ConvolveInBlock, E.Loc, {}, 8);
  else if (Loops.iterations() > 1)
    R.report(DiagId::ConvolveInLoop, E.Loc, {}, 8);
  else if (RateFactor > 1)
    R.report(DiagId::ConvolveOversampled, E.Loc, {std::to_string(RateFactor)},
             8);
  const Table &T = P.Tables[size_t(TableId)];
  if (T.Count > MaxConvolutionTaps)
    R.report(
        DiagId::ConvolveTooLong, Ir.Loc,
        {T.Name, std::to_string(T.Count), std::to_string(MaxConvolutionTaps)},
        Ir.Length);
  Convolution C;
  C.TableId = TableId;
  C.Loc = E.Loc;
  C.Length = E.Length;
  NodePtr N = node(Node::Call, E);
  N->Fn = Builtin::Convolve;
  N->Id = int(P.Convolutions.size());
  N->Args.push_back(std::move(X));
  P.Convolutions.push_back(std::move(C));
  return N; // never folded: it keeps a history
}

unsigned convolutionWidth(Program &P, const Node &N, bool &Fits) {
  Convolution &C = P.Convolutions[size_t(N.Id)];
  const unsigned In = std::max(1u, N.Args[0]->Width);
  const unsigned Ir = P.Tables[size_t(C.TableId)].Width;
  Fits = true;
  C.InLanes = In;
  C.Matrix = false;
  if (Ir == 1 || In == 1 || Ir == In) {
    C.OutLanes = std::max(In, Ir);
    return C.OutLanes;
  }
  if (Ir == In * In) {
    C.Matrix = true;
    C.OutLanes = In;
    return In;
  }
  Fits = false;
  C.OutLanes = In;
  return In;
}

void prepareConvolutions(Program &P) {
  for (Convolution &C : P.Convolutions) {
    const Table &T = P.Tables[size_t(C.TableId)];
    ConvolutionPlan Plan = prepareConvolution(
        T.Data.data(), T.Count, T.Width, C.InLanes,
        C.Matrix ? ConvolutionForm::Matrix : ConvolutionForm::PerLane);
    C.Plan = std::move(Plan.Bytes);
    C.StateBytes = Plan.StateBytes;
  }
}

} // namespace dspjit
