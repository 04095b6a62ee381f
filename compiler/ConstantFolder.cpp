//===- compiler/ConstantFolder.cpp - Operations on constants --------------===//
//
// Why: see ConstantFolder.h. Each case mirrors what CodeGen emits for the
// same node; change one and the other must follow.
//
//===----------------------------------------------------------------------===//
#include "compiler/ConstantFolder.h"
#include "runtime/Messages.h"

#include <cmath>

namespace dspjit {

double sumLanes(std::vector<double> L) {
  size_t N = L.size();
  while (N > 1) {
    size_t H = 1;
    while (H * 2 < N)
      H *= 2;
    for (size_t I = 0; I + H < N; ++I)
      L[I] += L[I + H];
    N = H;
  }
  return L.empty() ? 0 : L[0];
}

double evalBuiltin(Builtin F, double A, double B, double C) {
  switch (F) {
  case Builtin::Sin: return std::sin(A);
  case Builtin::Cos: return std::cos(A);
  case Builtin::Tan: return std::tan(A);
  case Builtin::Asin: return std::asin(A);
  case Builtin::Acos: return std::acos(A);
  case Builtin::Atan: return std::atan(A);
  case Builtin::Atan2: return std::atan2(A, B);
  case Builtin::Sinh: return std::sinh(A);
  case Builtin::Cosh: return std::cosh(A);
  case Builtin::Tanh: return std::tanh(A);
  case Builtin::Exp: return std::exp(A);
  case Builtin::Exp2: return std::exp2(A);
  case Builtin::Log: return std::log(A);
  case Builtin::Log2: return std::log2(A);
  case Builtin::Log10: return std::log10(A);
  case Builtin::Pow: return std::pow(A, B);
  case Builtin::Sqrt: return std::sqrt(A);
  case Builtin::Abs: return std::fabs(A);
  case Builtin::Floor: return std::floor(A);
  case Builtin::Ceil: return std::ceil(A);
  case Builtin::Round: return std::round(A);
  case Builtin::Min: return A < B ? A : B;
  case Builtin::Max: return A > B ? A : B;
  case Builtin::Clamp: {
    // As CodeGen: max by compare-and-select, then min; NaN gives the lower
    // bound.
    double Lo = A > B ? A : B;
    return Lo < C ? Lo : C;
  }
  case Builtin::Fmod: return std::fmod(A, B);
  case Builtin::Sum:
  case Builtin::Mean:
  case Builtin::Iota: break;
  }
  return 0;
}

double evalBinary(BinOp Op, double A, double B) {
  switch (Op) {
  case BinOp::Add: return A + B;
  case BinOp::Sub: return A - B;
  case BinOp::Mul: return A * B;
  case BinOp::Div: return A / B;
  case BinOp::Mod: return std::fmod(A, B);
  case BinOp::Eq: return A == B;
  case BinOp::Ne: return A != B;
  case BinOp::Lt: return A < B;
  case BinOp::Le: return A <= B;
  case BinOp::Gt: return A > B;
  case BinOp::Ge: return A >= B;
  case BinOp::And: return (A != 0) && (B != 0);
  case BinOp::Or: return (A != 0) || (B != 0);
  }
  return 0;
}

namespace {

using Lanes = std::vector<double>;

/// Folds one node; every operand is a constant.
class Folder {
public:
  Folder(const Node &N, DiagnosticEngine &Diags) : N(N), Diags(Diags) {
    for (const NodePtr &A : N.Args)
      Vals.push_back(&A->Value);
  }

  std::optional<Lanes> run() {
    switch (N.K) {
    case Node::Unary: return unary();
    case Node::Binary:
      return lanewise(binOpSpelling(N.BOp), [&](size_t I) {
        return evalBinary(N.BOp, lane(0, I), lane(1, I));
      });
    case Node::Select:
      return lanewise("?:", [&](size_t I) {
        return lane(0, I) != 0 ? lane(1, I) : lane(2, I);
      });
    case Node::Call: return call();
    case Node::Lane: return laneOf();
    case Node::Concat: return concat();
    default: return std::nullopt;
    }
  }

private:
  double lane(size_t Arg, size_t I) const {
    const Lanes &V = *Vals[Arg];
    return V.size() == 1 ? V[0] : V[I];
  }

  /// Broadcasts the operands to a common width, or reports.
  bool commonWidth(const char *OpName, size_t &Width) {
    Width = 1;
    for (const Lanes *V : Vals) {
      if (V->size() == 1 || V->size() == Width)
        continue;
      if (Width == 1) {
        Width = V->size();
        continue;
      }
      Diags.report(DiagId::WidthMismatch, N.Loc,
                   {OpName, std::to_string(Width), std::to_string(V->size())},
                   N.Length);
      return false;
    }
    return true;
  }

  template <typename Fn> Lanes lanewise(const char *OpName, Fn Lane) {
    size_t W = 1;
    if (!commonWidth(OpName, W))
      return {0};
    Lanes Out;
    for (size_t I = 0; I < W; ++I)
      Out.push_back(Lane(I));
    return Out;
  }

  Lanes unary() const {
    Lanes Out;
    for (double V : *Vals[0])
      Out.push_back(N.UOp == UnOp::Neg ? -V : double(V == 0));
    return Out;
  }

  Lanes call() {
    if (N.Fn == Builtin::Sum || N.Fn == Builtin::Mean) {
      double S = sumLanes(*Vals[0]);
      return {N.Fn == Builtin::Mean ? S / double(Vals[0]->size()) : S};
    }
    return lanewise("a call", [&](size_t I) {
      return evalBuiltin(N.Fn, lane(0, I), Vals.size() > 1 ? lane(1, I) : 0,
                         Vals.size() > 2 ? lane(2, I) : 0);
    });
  }

  Lanes laneOf() {
    const Lanes &V = *Vals[0];
    if (Vals[1]->size() != 1) {
      Diags.report(DiagId::IndexNotScalar, N.Loc,
                   {std::to_string(Vals[1]->size())}, N.Length);
      return {0};
    }
    double L = (*Vals[1])[0];
    if (L < 0 || L >= double(V.size()) || L != std::floor(L)) {
      Diags.report(DiagId::LaneOutOfRange, N.Loc,
                   {formatNumber(L), std::to_string(V.size())}, N.Length);
      return {0};
    }
    return {V[size_t(L)]};
  }

  Lanes concat() {
    Lanes Out;
    for (const Lanes *V : Vals)
      Out.insert(Out.end(), V->begin(), V->end());
    if (Out.size() > MaxWidth) {
      Diags.report(DiagId::VectorTooWide, N.Loc,
                   {std::to_string(Out.size()), std::to_string(MaxWidth)},
                   N.Length);
      Out.resize(MaxWidth);
    }
    return Out;
  }

  const Node &N;
  DiagnosticEngine &Diags;
  std::vector<const Lanes *> Vals;
};

} // namespace

std::optional<std::vector<double>> foldConstants(const Node &N,
                                                 DiagnosticEngine &Diags) {
  for (const NodePtr &A : N.Args)
    if (!A->isConst())
      return std::nullopt;
  return Folder(N, Diags).run();
}

} // namespace dspjit
