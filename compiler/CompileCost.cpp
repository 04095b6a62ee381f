//===- compiler/CompileCost.cpp - What a program will cost to compile -----===//
//
// See CompileCost.h. The weights are IR instructions as CodeGen.cpp emits
// them, counted on its output (`dspjit emit --emit=llvm`), not exact: what
// matters is that the estimate grows as compile time does.
//
//===----------------------------------------------------------------------===//
#include "compiler/CompileCost.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace dspjit {

namespace {

/// Vector operations are split into chunks of 8 lanes (AVX2 floats).
uint64_t chunks(unsigned Width) { return std::max(1u, (Width + 7) / 8); }

/// Built-ins that become one libm call per lane below 4 lanes, a libmvec
/// call per chunk from 4 up; each call costs instruction selection and
/// register allocation more than arithmetic does.
bool isLibmCall(Builtin F) {
  switch (F) {
  case Builtin::Sin:
  case Builtin::Cos:
  case Builtin::Tan:
  case Builtin::Asin:
  case Builtin::Acos:
  case Builtin::Atan:
  case Builtin::Atan2:
  case Builtin::Sinh:
  case Builtin::Cosh:
  case Builtin::Exp:
  case Builtin::Exp2:
  case Builtin::Log:
  case Builtin::Log2:
  case Builtin::Log10:
  case Builtin::Pow:
  case Builtin::Fmod: return true;
  default: return false;
  }
}

constexpr uint64_t CallWeight = 8;  ///< a call: arguments, clobbers
constexpr uint64_t TanhWeight = 24; ///< the inline rational tanh

uint64_t callCost(const Node &N, bool DoublePrecision) {
  unsigned W = std::max(1u, N.Width);
  if (N.Fn == Builtin::Tanh && !DoublePrecision)
    return TanhWeight * chunks(W);
  if (isLibmCall(N.Fn) || N.Fn == Builtin::Tanh)
    return CallWeight * (W >= 4 ? chunks(W) : W);
  if (N.Fn == Builtin::Sum || N.Fn == Builtin::Mean)
    return 2 + chunks(W);
  return 2 * chunks(W);
}

class Estimator {
public:
  explicit Estimator(const Program &P) : P(P) {}

  void ops(const OpList &Ops) {
    for (const OpPtr &O : Ops)
      op(*O);
  }

  CompileCost result() const {
    CompileCost C;
    C.Total = Total;
    for (const auto &[Key, Cost] : ByOrigin)
      if (Cost > C.LargestCost) {
        C.LargestCost = Cost;
        std::tie(C.Largest.File, C.Largest.Offset, C.LargestLength,
                 C.LargestCopies) = Key;
      }
    return C;
  }

private:
  uint64_t node(const Node &N) {
    uint64_t Cost = 0;
    for (const NodePtr &A : N.Args)
      Cost += node(*A);
    const uint64_t Lanes = std::max(1u, N.Width);
    switch (N.K) {
    case Node::Const:
    case Node::Frames: break;
    case Node::LoadLocal:
    case Node::LoadSlot:
    case Node::Input:
    case Node::LoadOut:
    case Node::Lane:
    case Node::Unary:
    case Node::Binary: Cost += chunks(N.Width); break;
    case Node::Select: Cost += 2 * chunks(N.Width); break;
    case Node::Concat: Cost += Lanes; break;
    case Node::Call: Cost += callCost(N, P.DoublePrecision); break;
    // A clamped index and a load per lane; a fractional read interpolates.
    case Node::LoadElem: Cost += 4 * Lanes; break;
    case Node::Tap: Cost += 6 * Lanes; break;
    case Node::Read: Cost += 14 * Lanes; break;
    case Node::TableElem: Cost += 4 * Lanes; break;
    case Node::TableRead: Cost += (N.Cubic ? 30 : 14) * Lanes; break;
    }
    return Cost;
  }

  void op(const Op &O) {
    uint64_t Cost = 2;
    if (O.Value)
      Cost += node(*O.Value);
    if (O.Index)
      Cost += node(*O.Index);
    if (O.K == Op::DelayWrite && O.Value)
      Cost += 4 * std::max(1u, O.Value->Width);
    Total += Cost;
    if (O.Origin.isValid())
      ByOrigin[{O.Origin.File, O.Origin.Offset, O.OriginLength,
                O.OriginCopies}] += Cost;
    // A `for` body is emitted once (LLVM may unroll a short one, within
    // its own size threshold).
    ops(O.Body);
    ops(O.Else);
  }

  const Program &P;
  uint64_t Total = 0;
  std::map<std::tuple<uint32_t, uint32_t, uint32_t, unsigned>, uint64_t>
      ByOrigin;
};

} // namespace

CompileCost estimateCompileCost(const Program &P) {
  Estimator E(P);
  E.ops(P.Block);
  E.ops(P.Process);
  return E.result();
}

void checkCompileCost(Program &P, CheckReporter &R, SourceLoc Fallback,
                      uint32_t FallbackLength) {
  CompileCost C = estimateCompileCost(P);
  P.CompileCost = C.Total;
  P.CostOrigin = C.Largest.isValid() ? C.Largest : Fallback;
  P.CostOriginLength = C.Largest.isValid() ? C.LargestLength : FallbackLength;
  if (C.Total <= MaxCompileCost)
    return;
  std::string Share = C.Largest.isValid()
                          ? std::to_string(C.LargestCost * 100 / C.Total) + "%"
                          : std::string();
  if (!C.Largest.isValid())
    R.report(DiagId::CompileTooCostly, Fallback,
             {std::to_string(C.Total), std::to_string(MaxCompileCost)},
             FallbackLength);
  else if (C.LargestCopies > 0)
    R.report(DiagId::CompileTooCostlyUnroll, C.Largest,
             {std::to_string(C.Total), std::to_string(MaxCompileCost),
              std::to_string(C.LargestCopies), Share},
             C.LargestLength);
  else
    R.report(DiagId::CompileTooCostlyCall, C.Largest,
             {std::to_string(C.Total), std::to_string(MaxCompileCost), Share},
             C.LargestLength);
}

} // namespace dspjit
