//===- compiler/Widths.cpp - Width inference ------------------------------===//
#include "compiler/Widths.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dspjit {

namespace {

std::string fmtNum(double V) {
  char Buf[32];
  std::snprintf(Buf, sizeof Buf, "%g", V == 0 ? 0.0 : V);
  return Buf;
}

class WidthInference {
public:
  WidthInference(Program &P, DiagnosticEngine &Diags) : P(P), Diags(Diags) {}

  /// Merges the width of an assigned value into a variable's; a scalar
  /// variable widens to a vector. Returns false on a mismatch.
  bool unify(unsigned &Var, unsigned Value) {
    if (Var == 0 || (Var == 1 && Value > 1)) {
      Changed |= Var != Value;
      Var = Value;
      return true;
    }
    return Value == Var || Value == 1;
  }

  unsigned broadcast(Node &N, const char *OpName) {
    unsigned W = 1;
    for (const NodePtr &A : N.Args) {
      unsigned AW = A->Width;
      if (AW == 1 || AW == W)
        continue;
      if (W == 1) {
        W = AW;
        continue;
      }
      if (Reporting)
        report(DiagId::WidthMismatch, N.Loc,
               {OpName, std::to_string(W), std::to_string(AW)}, N.Length);
      return W;
    }
    return W;
  }

  void requireScalar(const Node &N) {
    if (N.Width != 1 && Reporting)
      report(DiagId::IndexNotScalar, N.Loc, {std::to_string(N.Width)}, N.Length);
  }

  void width(Node &N) {
    for (NodePtr &A : N.Args)
      width(*A);
    switch (N.K) {
    case Node::Const: N.Width = unsigned(N.Value.size()); return;
    case Node::LoadLocal: N.Width = std::max(1u, P.Locals[size_t(N.Id)].Width); return;
    case Node::LoadSlot: N.Width = std::max(1u, P.Slots[size_t(N.Id)].Width); return;
    case Node::LoadElem:
      requireScalar(*N.Args[0]);
      N.Width = std::max(1u, P.Slots[size_t(N.Id)].Width);
      return;
    case Node::Input: N.Width = std::max(1u, P.Inputs); return;
    case Node::LoadOut: N.Width = std::max(1u, P.Outputs); return;
    case Node::Frames: N.Width = 1; return;
    case Node::Unary: N.Width = N.Args[0]->Width; return;
    case Node::Binary: N.Width = broadcast(N, binOpSpelling(N.BOp)); return;
    case Node::Select: N.Width = broadcast(N, "?:"); return;
    case Node::Call:
      if (N.Fn == Builtin::Sum || N.Fn == Builtin::Mean) {
        N.Width = 1;
        return;
      }
      N.Width = broadcast(N, "a call");
      return;
    case Node::Lane: {
      requireScalar(*N.Args[1]);
      const Node &I = *N.Args[1];
      unsigned W = N.Args[0]->Width;
      if (I.isConst() && I.Value.size() == 1 && Reporting &&
          (I.Value[0] < 0 || I.Value[0] >= W || I.Value[0] != std::floor(I.Value[0])))
        report(DiagId::LaneOutOfRange, N.Loc, {fmtNum(I.Value[0]), std::to_string(W)},
               N.Length);
      N.Width = 1;
      return;
    }
    case Node::Concat: {
      unsigned W = 0;
      for (const NodePtr &A : N.Args)
        W += A->Width;
      if (W > MaxWidth) {
        if (Reporting)
          report(DiagId::VectorTooWide, N.Loc, {std::to_string(W), std::to_string(MaxWidth)},
                 N.Length);
        W = MaxWidth;
      }
      N.Width = W;
      return;
    }
    case Node::Tap:
    case Node::Read: {
      unsigned W = std::max(1u, P.Slots[size_t(N.Id)].Width);
      unsigned AW = N.Args[0]->Width;
      if (AW != 1 && AW != W && Reporting)
        report(DiagId::WidthMismatch, N.Loc,
               {N.K == Node::Tap ? "tap" : "read", std::to_string(W), std::to_string(AW)},
               N.Length);
      N.Width = W;
      return;
    }
    }
  }

  void assignWidth(unsigned &Var, const Node &V, const std::string &Name, const Op &O) {
    if (V.Width > MaxWidth)
      return;
    unsigned Before = Var;
    if (!unify(Var, V.Width) && Reporting)
      report(DiagId::AssignWidthMismatch, O.Loc,
             {std::to_string(V.Width), Name, std::to_string(Before)}, O.Length);
  }

  void inferOps(OpList &Ops, std::vector<int> &Inlines) {
    for (OpPtr &OP : Ops) {
      Op &O = *OP;
      if (O.Value)
        width(*O.Value);
      if (O.Index)
        width(*O.Index);
      switch (O.K) {
      case Op::SetLocal:
        assignWidth(P.Locals[size_t(O.Id)].Width, *O.Value, P.Locals[size_t(O.Id)].Name, O);
        break;
      case Op::SetSlot:
      case Op::DelayWrite:
      case Op::SetElem: {
        Slot &S = P.Slots[size_t(O.Id)];
        assignWidth(S.Width, *O.Value, S.Name, O);
        if (O.Index)
          requireScalar(*O.Index);
        break;
      }
      case Op::SetLane: {
        requireScalar(*O.Index);
        if (O.Value->Width != 1 && Reporting)
          report(DiagId::AssignWidthMismatch, O.Loc,
                 {std::to_string(O.Value->Width), "one lane", "1"}, O.Length);
        unsigned W = O.Target == Op::OutTarget     ? P.Outputs
                     : O.Target == Op::LocalTarget ? std::max(1u, P.Locals[size_t(O.Id)].Width)
                                                   : std::max(1u, P.Slots[size_t(O.Id)].Width);
        const Node &I = *O.Index;
        if (I.isConst() && I.Value.size() == 1 && Reporting &&
            (I.Value[0] < 0 || I.Value[0] >= W || I.Value[0] != std::floor(I.Value[0])))
          report(DiagId::LaneOutOfRange, O.Loc, {fmtNum(I.Value[0]), std::to_string(W)},
                 O.Length);
        break;
      }
      case Op::SetOut:
        if (O.Value->Width != 1 && O.Value->Width != P.Outputs && Reporting)
          report(DiagId::OutWidthMismatch, O.Loc,
                 {std::to_string(P.Outputs), std::to_string(P.Inputs),
                  std::to_string(O.Value->Width)},
                 O.Length);
        break;
      case Op::If:
        if (O.Value->Width != 1 && Reporting)
          report(DiagId::ConditionNotScalar, O.Value->Loc, {std::to_string(O.Value->Width)},
                 O.Value->Length);
        inferOps(O.Body, Inlines);
        inferOps(O.Else, Inlines);
        break;
      case Op::Loop:
        inferOps(O.Body, Inlines);
        break;
      case Op::Inline:
        Inlines.push_back(O.Id);
        inferOps(O.Body, Inlines);
        Inlines.pop_back();
        break;
      case Op::Return: {
        // The innermost Inline is the one this return belongs to.
        int Result = Inlines.back();
        assignWidth(P.Locals[size_t(Result)].Width, *O.Value,
                    "the result of " + P.Locals[size_t(Result)].Name.substr(
                                           0, P.Locals[size_t(Result)].Name.find(' ')),
                    O);
        break;
      }
      case Op::Break:
        break;
      }
    }
  }

  void run() {
    std::vector<int> Inlines;
    for (unsigned Pass = 0; Pass < 16; ++Pass) {
      Changed = false;
      inferOps(P.Block, Inlines);
      inferOps(P.Process, Inlines);
      if (!Changed)
        break;
    }
    Reporting = true;
    inferOps(P.Block, Inlines);
    inferOps(P.Process, Inlines);
  }

private:
  void report(DiagId Id, SourceLoc Loc, std::initializer_list<std::string> Args,
              uint32_t Length = 1) {
    Diags.report(Id, Loc, Args, Length);
  }

  Program &P;
  DiagnosticEngine &Diags;
  bool Reporting = false, Changed = false;
};

} // namespace

void inferWidths(Program &P, DiagnosticEngine &Diags) { WidthInference(P, Diags).run(); }

} // namespace dspjit
