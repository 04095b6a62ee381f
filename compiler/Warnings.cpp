//===- compiler/Warnings.cpp - The silent mistakes of a checked program ---===//
//
// Why: see Warnings.h. One walk gathers what is read and written where
// (Facts); each family of warnings is then a function over it.
//
//===----------------------------------------------------------------------===//
#include "compiler/Warnings.h"
#include "runtime/Messages.h"

#include <cmath>
#include <map>

namespace dspjit {

namespace {

/// Who reads and writes each local and slot, in the whole program. A value
/// assigned to the name it reads (`x = x + 1`, `y += ...`) does not count as
/// a read of that name: it is only its own update.
struct Facts {
  std::vector<unsigned> LocalReads, SlotReads, SlotWrites;
  /// Every value assigned to a local (a call's result: its returns) or
  /// written to a slot.
  std::vector<std::vector<const Node *>> LocalValues, SlotValues;
  std::vector<const Op *> ResultOf; // by local: the Inline it is the result of
  std::vector<const Op *> InlineByIndex;

  explicit Facts(const Program &P)
      : LocalReads(P.Locals.size()), SlotReads(P.Slots.size()),
        SlotWrites(P.Slots.size()), LocalValues(P.Locals.size()),
        SlotValues(P.Slots.size()), ResultOf(P.Locals.size()),
        InlineByIndex(P.NumInlines) {
    ops(P.Block);
    ops(P.Process);
  }

  void ops(const OpList &L) {
    for (const OpPtr &O : L)
      op(*O);
  }

  void write(const Op &O) {
    SlotWrites[size_t(O.Id)]++;
    SlotValues[size_t(O.Id)].push_back(O.Value.get());
  }

  void op(const Op &O) {
    int SelfLocal = -1, SelfSlot = -1;
    switch (O.K) {
    case Op::SetLocal:
      SelfLocal = O.Id;
      LocalValues[size_t(O.Id)].push_back(O.Value.get());
      break;
    case Op::SetSlot:
    case Op::SetElem:
      SelfSlot = O.Id;
      write(O);
      break;
    case Op::SetLane:
      if (O.Target == Op::LocalTarget) {
        SelfLocal = O.Id;
        LocalValues[size_t(O.Id)].push_back(O.Value.get());
      } else if (O.Target == Op::SlotTarget) {
        SelfSlot = O.Id;
        write(O);
      }
      break;
    case Op::DelayWrite: write(O); break;
    case Op::Inline:
      ResultOf[size_t(O.Id)] = &O;
      InlineByIndex[O.Count] = &O;
      break;
    case Op::Return:
      LocalValues[size_t(InlineByIndex[size_t(O.Id)]->Id)].push_back(
          O.Value.get());
      break;
    default: break;
    }
    if (O.Value)
      node(*O.Value, SelfLocal, SelfSlot);
    if (O.Index)
      node(*O.Index, -1, -1);
    ops(O.Body);
    ops(O.Else);
  }

  void node(const Node &N, int SelfLocal, int SelfSlot) {
    if (N.K == Node::LoadLocal && N.Id != SelfLocal)
      LocalReads[size_t(N.Id)]++;
    if ((N.K == Node::LoadSlot || N.K == Node::LoadElem) && N.Id != SelfSlot)
      SlotReads[size_t(N.Id)]++;
    if (N.K == Node::Tap || N.K == Node::Read)
      SlotReads[size_t(N.Id)]++;
    for (const NodePtr &A : N.Args)
      node(*A, SelfLocal, SelfSlot);
  }
};

class Warner {
public:
  Warner(const Program &P, const std::set<uint32_t> &StdFiles,
         DiagnosticEngine &Diags)
      : P(P), F(P), StdFiles(StdFiles), Diags(Diags) {}

  void run() {
    unusedDeclarations();
    loops(P.Block, nullptr);
    loops(P.Process, nullptr);
    ops(P.Block);
    ops(P.Process);
    foldedMistakes();
  }

private:
  bool inStd(SourceLoc Loc) const {
    return !Loc.isValid() || StdFiles.count(Loc.File);
  }
  std::string nameAt(SourceLoc Loc, uint32_t Length) const {
    return std::string(
        Diags.sources().text(Loc.File).substr(Loc.Offset, Length));
  }

  // --- Declarations nothing uses ------------------------------------------

  /// A declaration in a function has a slot or a local per call: it is
  /// used when one of them is.
  void unusedDeclarations() {
    std::map<std::pair<uint32_t, uint32_t>, bool> SlotUsed, LetUsed;
    std::map<std::pair<uint32_t, uint32_t>, size_t> FirstSlot;
    for (size_t I = 0; I < P.Slots.size(); ++I) {
      const Slot &S = P.Slots[I];
      // An instrument's notes are there whether the script reads them or
      // not, and voice.peak is the kernel's own.
      if (inStd(S.Loc) || S.K == Slot::Note || S.VoicePeak)
        continue;
      auto Key = std::pair(S.Loc.File, S.Loc.Offset);
      bool Used = S.K == Slot::Meter ? F.SlotWrites[I] > 0 : F.SlotReads[I] > 0;
      SlotUsed[Key] |= Used;
      FirstSlot.emplace(Key, I);
    }
    for (const auto &[Key, Used] : SlotUsed) {
      if (Used)
        continue;
      const Slot &S = P.Slots[FirstSlot[Key]];
      static const DiagId Ids[] = {DiagId::UnusedParam, DiagId::UnusedMeter,
                                   DiagId::UnusedState, DiagId::DelayNeverRead};
      Diags.report(Ids[S.K], S.Loc, {nameAt(S.Loc, S.NameLength)},
                   S.NameLength);
    }
    std::map<std::pair<uint32_t, uint32_t>, const Local *> FirstLet;
    for (size_t I = 0; I < P.Locals.size(); ++I) {
      const Local &L = P.Locals[I];
      if (!L.IsLet || inStd(L.Loc))
        continue;
      auto Key = std::pair(L.Loc.File, L.Loc.Offset);
      LetUsed[Key] |= F.LocalReads[I] > 0;
      FirstLet.emplace(Key, &L);
    }
    for (const auto &[Key, Used] : LetUsed)
      if (!Used)
        Diags.report(DiagId::UnusedLet, FirstLet[Key]->Loc,
                     {FirstLet[Key]->Name},
                     uint32_t(FirstLet[Key]->Name.size()));
  }

  // --- State shared by the iterations of a `for` --------------------------

  /// The calls that keep state in the body of each `for` loop, the
  /// innermost loop around them; a stateful call's own body starts afresh.
  void loops(const OpList &L, const Op *Loop) {
    for (const OpPtr &O : L) {
      if (O->K == Op::Loop) {
        // An `oversample` block's sub-steps are one call site's time steps.
        loops(O->Body, O->Oversample ? Loop : O.get());
        continue;
      }
      if (O->K == Op::Inline && O->Stateful) {
        if (Loop)
          sharedState(*O, *Loop);
        loops(O->Body, nullptr);
        continue;
      }
      loops(O->Body, Loop);
      loops(O->Else, Loop);
    }
  }

  /// The names a loop assigns, and the slots it writes.
  struct LoopFacts {
    const Op *Loop = nullptr;
    std::vector<bool> Locals, Slots;
    std::vector<std::vector<const Node *>> LocalValues, SlotValues;
    std::set<const Op *> Inlines;
  };

  void gather(LoopFacts &LF, const OpList &L) {
    for (const OpPtr &O : L) {
      const Op &X = *O;
      auto Assign = [&](std::vector<bool> &Set,
                        std::vector<std::vector<const Node *>> &Values,
                        int Id) {
        Set[size_t(Id)] = true;
        Values[size_t(Id)].push_back(X.Value.get());
      };
      if (X.K == Op::SetLocal ||
          (X.K == Op::SetLane && X.Target == Op::LocalTarget))
        Assign(LF.Locals, LF.LocalValues, X.Id);
      if (X.K == Op::SetSlot || X.K == Op::SetElem || X.K == Op::DelayWrite ||
          (X.K == Op::SetLane && X.Target == Op::SlotTarget))
        Assign(LF.Slots, LF.SlotValues, X.Id);
      if (X.K == Op::Return)
        Assign(LF.Locals, LF.LocalValues, F.InlineByIndex[size_t(X.Id)]->Id);
      if (X.K == Op::Inline) {
        LF.Inlines.insert(&X);
        LF.Locals[size_t(X.Id)] = true;
      }
      gather(LF, X.Body);
      gather(LF, X.Else);
    }
  }

  const LoopFacts &loopFacts(const Op &Loop) {
    auto [It, New] = LoopCache.try_emplace(&Loop);
    LoopFacts &LF = It->second;
    if (New) {
      LF.Loop = &Loop;
      LF.Locals.assign(P.Locals.size(), false);
      LF.Slots.assign(P.Slots.size(), false);
      LF.LocalValues.resize(P.Locals.size());
      LF.SlotValues.resize(P.Slots.size());
      gather(LF, Loop.Body);
    }
    return LF;
  }

  /// Whether a value brings something new into the loop on every pass: the
  /// input, a delay line, a stateful call outside the loop, or what is
  /// computed from them. Constants, parameters, the loop counter and what
  /// the loop computes from its own results do not.
  struct Freshness {
    Warner &W;
    const LoopFacts &LF;
    std::vector<bool> SeenLocal, SeenSlot;

    bool local(int Id) {
      if (SeenLocal[size_t(Id)])
        return false;
      SeenLocal[size_t(Id)] = true;
      if (const Op *Call = W.F.ResultOf[size_t(Id)]; Call && Call->Stateful) {
        if (!LF.Inlines.count(Call))
          return true; // an oscillator or a filter outside the loop
        return firstArgument(*Call);
      }
      // Inside the loop, what the loop assigns; before it, what it was.
      return any(LF.Locals[size_t(Id)] ? LF.LocalValues[size_t(Id)]
                                       : W.F.LocalValues[size_t(Id)]);
    }

    bool firstArgument(const Op &Call) {
      return !Call.ArgLocals.empty() && Call.ArgLocals[0] >= 0 &&
             local(Call.ArgLocals[0]);
    }

    bool slot(int Id) {
      const Slot &S = W.P.Slots[size_t(Id)];
      if (S.K == Slot::Param || S.K == Slot::Note || SeenSlot[size_t(Id)])
        return false;
      SeenSlot[size_t(Id)] = true;
      return any(LF.Slots[size_t(Id)] ? LF.SlotValues[size_t(Id)]
                                      : W.F.SlotValues[size_t(Id)]);
    }

    bool any(const std::vector<const Node *> &Values) {
      for (const Node *V : Values)
        if (node(*V))
          return true;
      return false;
    }

    bool node(const Node &N) {
      switch (N.K) {
      case Node::Input:
      case Node::LoadOut:
      case Node::Tap:
      case Node::Read: return true;
      case Node::LoadLocal: return local(N.Id);
      case Node::LoadSlot:
      case Node::LoadElem:
        if (slot(N.Id))
          return true;
        break;
      default: break;
      }
      for (const NodePtr &A : N.Args)
        if (node(*A))
          return true;
      return false;
    }
  };

  /// The phaser mistake: `for k in 0..6 { x = ap(x, 0.5); }` runs one
  /// allpass six times a frame on its own output, where six allpasses were
  /// meant. An oversampling loop instead feeds its filter the input (or
  /// what is computed from it) on every pass. So a stateful call is
  /// reported when its first argument, the signal by the convention of
  /// every filter, gets nothing fresh.
  void sharedState(const Op &Call, const Op &Loop) {
    if (Call.ArgLocals.empty() || inStd(Call.Loc))
      return;
    const LoopFacts &LF = loopFacts(Loop);
    Freshness Fresh{*this, LF, std::vector<bool>(P.Locals.size()),
                    std::vector<bool>(P.Slots.size())};
    if (Fresh.firstArgument(Call))
      return;
    Diags.report(DiagId::SharedState, Call.Loc,
                 {Call.Callee, std::to_string(Loop.Count)},
                 uint32_t(Call.Callee.size()));
  }

  // --- Lanes of concatenated outputs and smoothing times ------------------

  void ops(const OpList &L) {
    for (const OpPtr &O : L) {
      if (O->K == Op::Inline)
        smoothing(*O);
      Inlines.push_back(O.get());
      if (O->Value)
        nodes(*O->Value);
      if (O->Index)
        nodes(*O->Index);
      ops(O->Body);
      ops(O->Else);
      Inlines.pop_back();
    }
  }

  void nodes(const Node &N) {
    if (N.K == Node::Lane)
      laneOfOutputs(N);
    if (N.K == Node::Binary && (N.BOp == BinOp::Div || N.BOp == BinOp::Mod) &&
        N.Args[1]->isConst())
      for (double L : N.Args[1]->Value)
        if (L == 0) {
          divisionByZero(N.Loc, N.Length, N.BOp);
          break;
        }
    for (const NodePtr &A : N.Args)
      nodes(*A);
  }

  /// `svf(in, f, q)[0]` with a stereo `in`: svf returns [lp, bp, hp], each
  /// of two lanes, so lane 0 is the left lowpass alone, sent to both
  /// channels. Reported when the value picked from is (through `let`s) a
  /// call whose every return is a vector literal of several equally wide
  /// vectors.
  void laneOfOutputs(const Node &N) {
    if (inStd(N.Loc) || !N.Args[1]->isConst() ||
        N.Args[0]->K != Node::LoadLocal)
      return;
    int Id = N.Args[0]->Id;
    while (!F.ResultOf[size_t(Id)] && F.LocalValues[size_t(Id)].size() == 1 &&
           F.LocalValues[size_t(Id)][0]->K == Node::LoadLocal)
      Id = F.LocalValues[size_t(Id)][0]->Id;
    const Op *Call = F.ResultOf[size_t(Id)];
    if (!Call || F.LocalValues[size_t(Id)].empty())
      return;
    unsigned Outputs = 0, Width = 0;
    for (const Node *R : F.LocalValues[size_t(Id)]) {
      if (R->K != Node::Concat || R->Args.size() < 2)
        return;
      for (const NodePtr &A : R->Args) {
        if (A->Width < 2 || (Width && A->Width != Width))
          return;
        Width = A->Width;
      }
      if (Outputs && Outputs != R->Args.size())
        return;
      Outputs = unsigned(R->Args.size());
    }
    unsigned Lane = unsigned(N.Args[1]->Value[0]);
    Diags.report(DiagId::LaneOfMultiOutput, N.Loc,
                 {Call->Callee, std::to_string(Outputs), std::to_string(Width),
                  std::to_string(Lane), std::to_string(Lane % Width),
                  std::to_string(Lane / Width)},
                 N.Length);
  }

  /// `smooth(x, 50)` meant 50 ms: the standard library's smoothers take
  /// seconds, and a parameter's smoothing stops at 10 s. Reported at the
  /// script's own call that leads to smoothcoef.
  void smoothing(const Op &Call) {
    if (Call.Callee != "smoothcoef" || !Call.CalleeFromStd ||
        Call.ConstArgs.empty())
      return;
    double Longest = 0;
    for (double T : Call.ConstArgs[0])
      Longest = std::max(Longest, T);
    if (!(Longest > 10))
      return;
    const Op *At = &Call;
    for (auto It = Inlines.rbegin(); It != Inlines.rend() && inStd(At->Loc);
         ++It)
      if ((*It)->K == Op::Inline)
        At = *It;
    if (inStd(At->Loc))
      return;
    Diags.report(DiagId::LongSmoothing, At->Loc,
                 {formatNumber(Longest), formatNumber(Longest),
                  formatNumber(Longest / 1000)},
                 uint32_t(At->Callee.size()));
  }

  // --- Constants ------------------------------------------------------------

  void divisionByZero(SourceLoc Loc, uint32_t Length, BinOp Op) {
    if (inStd(Loc))
      return;
    Diags.report(DiagId::DivisionByZero, Loc,
                 {Op == BinOp::Div ? "/" : "%",
                  Op == BinOp::Div ? "infinite or NaN" : "NaN"},
                 Length);
  }

  void foldedMistakes() {
    for (const FoldedMistake &M : P.FoldedMistakes) {
      if (M.DivisionByZero) {
        divisionByZero(M.Loc, M.Length, M.Op);
        continue;
      }
      if (inStd(M.Loc))
        continue;
      std::string What = "NaN";
      for (double L : M.Value)
        if (std::isinf(L)) {
          What = L > 0 ? "+infinity" : "-infinity";
          break;
        }
      Diags.report(DiagId::NonfiniteConstantValue, M.Loc, {What}, M.Length);
    }
  }

  const Program &P;
  Facts F;
  const std::set<uint32_t> &StdFiles;
  DiagnosticEngine &Diags;
  std::map<const Op *, LoopFacts> LoopCache;
  std::vector<const Op *> Inlines; // the ops around the one being walked
};

} // namespace

void reportWarnings(const Program &P, const std::set<uint32_t> &StdFiles,
                    DiagnosticEngine &Diags) {
  Warner(P, StdFiles, Diags).run();
}

} // namespace dspjit
