//===- compiler/ConstantFolder.cpp - Operations on constants --------------===//
//
// Why: see ConstantFolder.h. Each case mirrors what CodeGen emits for the
// same node; change one and the other must follow.
//
//===----------------------------------------------------------------------===//
#include "compiler/ConstantFolder.h"
#include "runtime/Messages.h"

#include <cmath>
#include <optional>

namespace dspjit {

namespace {

/// A value as the kernel holds it: a float unless the kernel is double.
double held(double V, FoldArith Arith) {
  return Arith.Float ? double(float(V)) : V;
}

/// The libm built-ins at precision T (float: the float libm, what
/// CodeGen's intrinsics and calls become), or nullopt for the others.
/// `Tanh` is the caller's: the language's own in float, libm's in double.
template <class T> std::optional<T> libmBuiltin(Builtin F, T A, T B) {
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
  case Builtin::Exp: return std::exp(A);
  case Builtin::Exp2: return std::exp2(A);
  case Builtin::Log: return std::log(A);
  case Builtin::Log2: return std::log2(A);
  case Builtin::Log10: return std::log10(A);
  case Builtin::Pow: return std::pow(A, B);
  case Builtin::Sqrt: return std::sqrt(A);
  default: return std::nullopt;
  }
}

} // namespace

float fastTanh(float X, bool Fma) {
  // The coefficients as CodeGen writes them: doubles rounded to float.
  auto K = [](double V) { return float(V); };
  float X2 = X * X;
  auto Horner = [&](std::initializer_list<double> Coefs) {
    bool First = true;
    float Acc = 0;
    for (double C : Coefs) {
      if (First)
        Acc = K(C);
      else if (Fma)
        Acc = std::fma(X2, Acc, K(C));
      else
        Acc = float(X2 * Acc) + K(C);
      First = false;
    }
    return Acc;
  };
  float Num = X * Horner({-2.76076847742355e-16, 2.00018790482477e-13,
                          -8.60467152213735e-11, 5.12229709037114e-08,
                          1.48572235717979e-05, 6.37261928875436e-04,
                          4.89352455891786e-03});
  float Den = Horner({1.19825839466702e-06, 1.18534705686654e-04,
                      2.26843463243900e-03, 4.89352518554385e-03});
  float AbsX = std::fabs(X);
  float R = AbsX > K(7.90531110763549805) ? std::copysign(1.0f, X) : Num / Den;
  return AbsX < K(0.0004) ? X : R;
}

double sumLanes(std::vector<double> L, FoldArith Arith) {
  size_t N = L.size();
  for (double &V : L)
    V = held(V, Arith);
  while (N > 1) {
    size_t H = 1;
    while (H * 2 < N)
      H *= 2;
    for (size_t I = 0; I + H < N; ++I)
      L[I] = held(L[I] + L[I + H], Arith);
    N = H;
  }
  return L.empty() ? 0 : L[0];
}

double evalBuiltin(Builtin F, double A, double B, double C, FoldArith Arith) {
  if (Arith.Float) {
    // In float, as the kernel computes it: the float libm, CodeGen's tanh,
    // and the exact operations (+, floor, min...) whose float result is the
    // double result rounded once.
    const float FA = float(A), FB = float(B);
    if (F == Builtin::Tanh)
      return fastTanh(FA, Arith.Fma);
    if (auto R = libmBuiltin<float>(F, FA, FB))
      return *R;
    return float(evalBuiltin(F, FA, FB, float(C)));
  }
  if (F == Builtin::Tanh)
    return std::tanh(A);
  if (auto R = libmBuiltin<double>(F, A, B))
    return *R;
  switch (F) {
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
  default: break; // the libm ones above; Sum, Mean and Iota are not folded here
  }
  return 0;
}

double evalBinary(BinOp Op, double A, double B, FoldArith Arith) {
  A = held(A, Arith);
  B = held(B, Arith);
  switch (Op) {
  case BinOp::Add: return held(A + B, Arith);
  case BinOp::Sub: return held(A - B, Arith);
  case BinOp::Mul: return held(A * B, Arith);
  case BinOp::Div: return held(A / B, Arith);
  case BinOp::Mod: return held(std::fmod(A, B), Arith);
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

double evalFused(double A, double B, double C, FoldArith Arith) {
  if (Arith.Float)
    return std::fma(float(A), float(B), float(C));
  return std::fma(A, B, C);
}

int fusedOperand(const Node &N, bool Fma) {
  if (!Fma || N.K != Node::Binary ||
      (N.BOp != BinOp::Add && N.BOp != BinOp::Sub))
    return -1;
  auto IsProduct = [](const Node &X) {
    return (X.K == Node::Binary && X.BOp == BinOp::Mul) ||
           (X.K == Node::Const && !X.Factors[0].empty());
  };
  return IsProduct(*N.Args[1]) ? 1 : IsProduct(*N.Args[0]) ? 0 : -1;
}

namespace {

using Lanes = std::vector<double>;

/// Folds one node; every operand is a constant.
class Folder {
public:
  Folder(const Node &N, DiagnosticEngine &Diags, FoldArith Arith)
      : N(N), Diags(Diags), Arith(Arith) {
    for (const NodePtr &A : N.Args)
      Vals.push_back(&A->Value);
  }

  std::optional<Lanes> run() {
    switch (N.K) {
    case Node::Unary: return unary();
    case Node::Binary:
      if (int P = fusedOperand(N, Arith.Fma); P >= 0)
        return fused(size_t(P));
      return lanewise(binOpSpelling(N.BOp), [&](size_t I) {
        return evalBinary(N.BOp, lane(0, I), lane(1, I), Arith);
      });
    case Node::Select:
      return lanewise("?:", [&](size_t I) {
        return held(lane(0, I), Arith) != 0 ? held(lane(1, I), Arith)
                                            : held(lane(2, I), Arith);
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

  /// `c + a * b`, `a * b + c`, `c - a * b` or `a * b - c`, the product
  /// being operand P (a Const with Factors), rounded once.
  Lanes fused(size_t P) {
    const Node &Product = *N.Args[P];
    auto Factor = [&](unsigned F, size_t I) {
      const Lanes &V = Product.Factors[F];
      return held(V.size() == 1 ? V[0] : V[I], Arith);
    };
    const bool Sub = N.BOp == BinOp::Sub;
    return lanewise(binOpSpelling(N.BOp), [&](size_t I) {
      double A = Factor(0, I), B = Factor(1, I);
      double C = held(lane(1 - P, I), Arith);
      if (Sub && P == 1)
        A = -A; // c - a * b
      if (Sub && P == 0)
        C = -C; // a * b - c
      return evalFused(A, B, C, Arith);
    });
  }

  Lanes unary() const {
    Lanes Out;
    for (double V : *Vals[0])
      Out.push_back(N.UOp == UnOp::Neg ? -held(V, Arith)
                                       : double(held(V, Arith) == 0));
    return Out;
  }

  Lanes call() {
    if (N.Fn == Builtin::Sum || N.Fn == Builtin::Mean) {
      double S = sumLanes(*Vals[0], Arith);
      return {N.Fn == Builtin::Mean
                  ? evalBinary(BinOp::Div, S, double(Vals[0]->size()), Arith)
                  : S};
    }
    return lanewise("a call", [&](size_t I) {
      return evalBuiltin(N.Fn, lane(0, I), Vals.size() > 1 ? lane(1, I) : 0,
                         Vals.size() > 2 ? lane(2, I) : 0, Arith);
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
  FoldArith Arith;
  std::vector<const Lanes *> Vals;
};

} // namespace

std::optional<std::vector<double>>
foldConstants(const Node &N, DiagnosticEngine &Diags, FoldArith Arith) {
  // voicemix() also writes voice.peak, and convolve() keeps a history:
  // they always run.
  if (N.K == Node::Call &&
      (N.Fn == Builtin::Voicemix || N.Fn == Builtin::Convolve))
    return std::nullopt;
  for (const NodePtr &A : N.Args)
    if (!A->isConst())
      return std::nullopt;
  return Folder(N, Diags, Arith).run();
}

} // namespace dspjit
