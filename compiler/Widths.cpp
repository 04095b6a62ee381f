//===- compiler/Widths.cpp - Width inference ------------------------------===//
#include "compiler/Widths.h"
#include "compiler/Convolutions.h"
#include "runtime/Messages.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dspjit {

namespace {

bool isWholeIn(double V, unsigned Width) {
  return V >= 0 && V < Width && V == std::floor(V);
}

class WidthInference {
public:
  WidthInference(Program &P, DiagnosticEngine &Diags)
      : P(P), Diags(Diags), DelayWidthFrom(P.Slots.size(), nullptr) {}

  /// Iterates to a fixed point (widths only grow, so it ends), then makes a
  /// last pass that reports.
  void run(const std::vector<OpList *> &Lists) {
    for (unsigned Pass = 0; Pass < 16; ++Pass) {
      Changed = false;
      for (OpList *L : Lists)
        inferOps(*L);
      if (!Changed)
        break;
    }
    Reporting = true;
    for (OpList *L : Lists)
      inferOps(*L);
  }

private:
  void report(DiagId Id, const Node &N,
              std::initializer_list<std::string> Args) {
    if (Reporting)
      Diags.report(Id, N.Loc, Args, N.Length);
  }
  void report(DiagId Id, const Op &O, std::initializer_list<std::string> Args) {
    if (Reporting)
      Diags.report(Id, O.Loc, Args, O.Length);
  }

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

  /// The common width of N's operands (scalars broadcast).
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
      if (!N.UnknownWidth)
        report(DiagId::WidthMismatch, N,
               {OpName, std::to_string(W), std::to_string(AW)});
      return W;
    }
    return W;
  }

  void requireScalar(const Node &N) {
    if (N.Width != 1 && !N.UnknownWidth)
      report(DiagId::IndexNotScalar, N, {std::to_string(N.Width)});
  }

  void width(Node &N) {
    N.UnknownWidth = false;
    for (NodePtr &A : N.Args) {
      width(*A);
      N.UnknownWidth |= A->UnknownWidth;
    }
    switch (N.K) {
    case Node::Const: N.Width = unsigned(N.Value.size()); return;
    case Node::LoadLocal: {
      const Local &L = P.Locals[size_t(N.Id)];
      N.Width = std::max(1u, L.Width);
      N.UnknownWidth = L.UnknownWidth;
      return;
    }
    case Node::LoadSlot:
    case Node::LoadElem: {
      const Slot &S = P.Slots[size_t(N.Id)];
      if (N.K == Node::LoadElem)
        requireScalar(*N.Args[0]);
      N.Width = std::max(1u, S.Width);
      N.UnknownWidth = S.UnknownWidth;
      return;
    }
    case Node::Input: N.Width = std::max(1u, P.Inputs); return;
    case Node::LoadOut: N.Width = std::max(1u, P.Outputs); return;
    case Node::Frames: N.Width = 1; return;
    case Node::Unary: N.Width = N.Args[0]->Width; return;
    case Node::Binary: N.Width = broadcast(N, binOpSpelling(N.BOp)); return;
    case Node::Select: N.Width = broadcast(N, "?:"); return;
    case Node::Call:
      if (N.Fn == Builtin::Voicemix && !N.Args[0]->UnknownWidth &&
          N.Args[0]->Width != 1 && N.Args[0]->Width != P.Voices)
        report(DiagId::VoicemixWidth, N,
               {std::to_string(P.Voices), std::to_string(N.Args[0]->Width)});
      if (N.Fn == Builtin::Convolve) {
        bool Fits = true;
        N.Width = convolutionWidth(P, N, Fits);
        const Table &T = P.Tables[size_t(P.Convolutions[size_t(N.Id)].TableId)];
        if (!Fits && !N.Args[0]->UnknownWidth)
          report(DiagId::ConvolveLanes, N,
                 {std::to_string(N.Args[0]->Width), T.Name,
                  std::to_string(T.Width),
                  std::to_string(N.Args[0]->Width * N.Args[0]->Width)});
        return;
      }
      if (N.Fn == Builtin::Sum || N.Fn == Builtin::Mean ||
          N.Fn == Builtin::Voicemix) {
        N.Width = 1;
        N.UnknownWidth = false; // a scalar, whatever it sums
        return;
      }
      N.Width = broadcast(N, "a call");
      return;
    case Node::Lane: {
      requireScalar(*N.Args[1]);
      const Node &Vec = *N.Args[0], &I = *N.Args[1];
      if (I.isConst() && I.Value.size() == 1 && !Vec.UnknownWidth &&
          !isWholeIn(I.Value[0], Vec.Width))
        report(DiagId::LaneOutOfRange, N,
               {formatNumber(I.Value[0]), std::to_string(Vec.Width)});
      N.Width = 1;
      N.UnknownWidth = false;
      return;
    }
    case Node::Concat: {
      unsigned W = 0;
      for (const NodePtr &A : N.Args)
        W += A->Width;
      if (W > MaxWidth) {
        if (!N.UnknownWidth)
          report(DiagId::VectorTooWide, N,
                 {std::to_string(W), std::to_string(MaxWidth)});
        W = MaxWidth;
      }
      N.Width = W;
      return;
    }
    case Node::TableElem:
    case Node::TableRead: {
      // One position for every lane, or one per lane: of the table's lanes,
      // or of a width-1 table read at several positions.
      unsigned W = P.Tables[size_t(N.Id)].Width;
      unsigned AW = N.Args[0]->Width;
      if (AW != 1 && W != 1 && AW != W && !N.UnknownWidth)
        report(DiagId::WidthMismatch, N,
               {N.K == Node::TableElem ? "[]" : "read", std::to_string(W),
                std::to_string(AW)});
      N.Width = W == 1 ? AW : W;
      return;
    }
    case Node::Tap:
    case Node::Read: delayReadWidth(N); return;
    }
  }

  /// A read of a delay line of width W at K positions (LANGUAGE.md section
  /// 9): one position for every lane (K = 1) or one per lane (K = W) give
  /// width W; on a line of width 1, K positions give K lanes (multi-tap).
  /// A line whose writes are not seen yet counts as width 1, so a multi-tap
  /// read that feeds the line's own write makes the line K wide, and the
  /// next pass finds a read per lane: `d.write(in + d.tap([10, 20]))`.
  void delayReadWidth(Node &N) {
    const Slot &S = P.Slots[size_t(N.Id)];
    unsigned W = std::max(1u, S.Width);
    unsigned K = N.Args[0]->Width;
    bool Unknown = N.UnknownWidth || S.UnknownWidth;
    N.UnknownWidth = Unknown;
    if (K == 1 || K == W) {
      N.Width = W;
      return;
    }
    if (W == 1) {
      N.Width = K;
      return;
    }
    // A mismatch: the read keeps the positions' width (what it had while
    // the line seemed mono) and, once reported, taints what is computed
    // from it, so that the error is given once, here, and not again where
    // the result is used.
    N.Width = K;
    if (Unknown || !Reporting)
      return;
    const char *Method = N.K == Node::Tap ? "tap" : "read";
    size_t Before = Diags.all().size();
    report(DiagId::DelayPositionsWidth, N,
           {Method, S.Name, std::to_string(K), std::to_string(W)});
    // The note goes with a new error only, not with one an unrolled copy of
    // the same read already gave.
    const Op *From = DelayWidthFrom[size_t(N.Id)];
    if (From && Diags.all().size() > Before)
      Diags.report(DiagId::DelayWidthFrom, From->Loc,
                   {S.Name, std::to_string(W)}, From->Length);
    N.UnknownWidth = true;
  }

  /// An assignment of V to a variable of width Var (UnknownVar its taint).
  void assignWidth(unsigned &Var, bool &UnknownVar, const Node &V,
                   const std::string &Name, const Op &O) {
    if (V.Width > MaxWidth)
      return;
    if (V.UnknownWidth && !UnknownVar) {
      UnknownVar = true;
      Changed = true;
    }
    unsigned Before = Var;
    if (!unify(Var, V.Width) && !UnknownVar)
      report(DiagId::AssignWidthMismatch, O,
             {std::to_string(V.Width), Name, std::to_string(Before)});
  }

  void inferOps(OpList &Ops) {
    for (OpPtr &OP : Ops) {
      Op &O = *OP;
      if (O.Value)
        width(*O.Value);
      if (O.Index)
        width(*O.Index);
      switch (O.K) {
      case Op::SetLocal: {
        Local &L = P.Locals[size_t(O.Id)];
        assignWidth(L.Width, L.UnknownWidth, *O.Value, L.Name, O);
        break;
      }
      case Op::SetSlot:
      case Op::DelayWrite:
      case Op::SetElem: {
        Slot &S = P.Slots[size_t(O.Id)];
        unsigned Before = S.Width;
        assignWidth(S.Width, S.UnknownWidth, *O.Value, S.Name, O);
        if (O.K == Op::DelayWrite && S.Width != Before)
          DelayWidthFrom[size_t(O.Id)] = &O;
        if (O.Index)
          requireScalar(*O.Index);
        break;
      }
      case Op::SetLane: {
        requireScalar(*O.Index);
        if (O.Value->Width != 1 && !O.Value->UnknownWidth)
          report(DiagId::AssignWidthMismatch, O,
                 {std::to_string(O.Value->Width), "one lane", "1"});
        bool Unknown = false;
        unsigned W = P.Outputs;
        if (O.Target == Op::LocalTarget) {
          W = std::max(1u, P.Locals[size_t(O.Id)].Width);
          Unknown = P.Locals[size_t(O.Id)].UnknownWidth;
        } else if (O.Target == Op::SlotTarget) {
          W = std::max(1u, P.Slots[size_t(O.Id)].Width);
          Unknown = P.Slots[size_t(O.Id)].UnknownWidth;
        }
        const Node &I = *O.Index;
        if (I.isConst() && I.Value.size() == 1 && !Unknown &&
            !isWholeIn(I.Value[0], W))
          report(DiagId::LaneOutOfRange, O,
                 {formatNumber(I.Value[0]), std::to_string(W)});
        break;
      }
      case Op::SetOut:
        if (O.Value->Width != 1 && O.Value->Width != P.Outputs &&
            !O.Value->UnknownWidth)
          report(DiagId::OutWidthMismatch, O,
                 {std::to_string(P.Outputs), std::to_string(P.Inputs),
                  std::to_string(O.Value->Width)});
        break;
      case Op::If:
        if (O.Value->Width != 1 && !O.Value->UnknownWidth)
          report(DiagId::ConditionNotScalar, *O.Value,
                 {std::to_string(O.Value->Width)});
        inferOps(O.Body);
        inferOps(O.Else);
        break;
      case Op::Loop: inferOps(O.Body); break;
      case Op::Inline:
        Results.push_back(O.Id);
        inferOps(O.Body);
        Results.pop_back();
        break;
      case Op::Return: {
        // A return belongs to the innermost Inline around it.
        Local &R = P.Locals[size_t(Results.back())];
        assignWidth(R.Width, R.UnknownWidth, *O.Value,
                    "the result of " + R.Name.substr(0, R.Name.find(' ')), O);
        break;
      }
      case Op::Break: break;
      }
    }
  }

  Program &P;
  DiagnosticEngine &Diags;
  std::vector<int> Results; // result locals of the Inline ops we are in
  /// The write that gave each delay line its width, for messages.
  std::vector<const Op *> DelayWidthFrom;
  bool Reporting = false, Changed = false;
};

} // namespace

void inferWidths(Program &P, DiagnosticEngine &Diags) {
  WidthInference(P, Diags).run({&P.Block, &P.Process});
}

void inferWidthsOf(Program &P, OpList &Ops, DiagnosticEngine &Diags) {
  WidthInference(P, Diags).run({&Ops});
}

} // namespace dspjit
