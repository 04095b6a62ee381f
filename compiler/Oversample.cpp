//===- compiler/Oversample.cpp - `oversample N { }` as ordinary ops -------===//
//
// Why this file exists: an `oversample` block is lowered, while elaborating,
// into the checked program's ordinary Ops and Nodes, so that widths, layout,
// warnings, code generation and the optimizer need nothing new for it:
//
//   1. the body is elaborated with `sr` (and delay lengths in seconds) at
//      N times the rate, into a list of its own;
//   2. every name from outside that the body reads or assigns (a `let` or
//      argument of `process` or of the function around, `in`, `out`) gets a
//      shadow local inside the block;
//   3. before the block, each value read is upsampled by a cascade of 2x
//      half-band stages into a state array of N elements; a loop of N
//      sub-steps sets the shadows from it, runs the body, and stores each
//      assigned shadow into another array; after it, those arrays are
//      decimated by the same stages in reverse and assigned to the names
//      outside.
//
// The filters' memory (delay lines for the FIR histories, state for the IIR
// sections) is named after the block's call-site path, so each block (and
// each call of a function holding one) has its own; each lane of a vector
// (a voice, a channel) is filtered on its own.
// Parameters, constants, `block` values and `state` are held, not
// filtered (they change per frame at most).
//
//===----------------------------------------------------------------------===//
#include "compiler/Elaborator.h"

#include <cmath>
#include <map>

namespace dspjit {

namespace {

#include "compiler/OversampleFilters.inc"

struct Stage {
  const double *Coefs;
  unsigned Count;
};
/// Linear phase: the even taps h[0], h[2], ... of each half-band FIR (its
/// odd taps are zero but the centre one, 1/2).
const Stage FirStages[] = {{FirStage1, std::size(FirStage1)},
                           {FirStage2, std::size(FirStage2)},
                           {FirStage3, std::size(FirStage3)},
                           {FirStage4, std::size(FirStage4)}};
/// Low latency: the allpass coefficients of each polyphase IIR half-band,
/// alternately of its two branches.
const Stage IirStages[] = {{IirStage1, std::size(IirStage1)},
                           {IirStage2, std::size(IirStage2)},
                           {IirStage3, std::size(IirStage3)},
                           {IirStage4, std::size(IirStage4)}};

unsigned stagesOf(unsigned Factor) {
  unsigned K = 0;
  while ((1u << K) < Factor)
    ++K;
  return K;
}

/// What an up and a down stage together delay, in frames at the base rate
/// of the block: stage S (from 1) works at 2^S times that rate. A FIR's
/// delay is its centre; the IIR's is its group delay at 0 Hz, the mean of
/// its branches' (first-order allpass (a + z^-1) / (1 + a z^-1): (1 - a) /
/// (1 + a) samples at the low rate, with the odd branch one sample later).
double latencyOf(unsigned Factor, bool LowLatency) {
  double Frames = 0;
  for (unsigned S = 1; S <= stagesOf(Factor); ++S) {
    double HighRateSamples = 0;
    if (!LowLatency) {
      HighRateSamples = 2.0 * (FirStages[S - 1].Count - 1);
    } else {
      const Stage &St = IirStages[S - 1];
      double Branch[2] = {0, 0};
      for (unsigned I = 0; I < St.Count; ++I)
        Branch[I % 2] += (1 - St.Coefs[I]) / (1 + St.Coefs[I]);
      HighRateSamples = 2 * (Branch[0] + Branch[1]) + 1;
    }
    Frames += HighRateSamples / double(1u << S);
  }
  return Frames;
}

/// The keys of the values that cross the block's edge: a local's id, or
/// one of these.
constexpr int InKey = -1, OutKey = -2;

class Lowering {
public:
  Lowering(Elaborator &El, const Stmt &S, unsigned Factor, std::string Path,
           int FirstInnerLocal, size_t FirstInnerSlot, int ProcessLocalsFrom)
      : El(El), P(El.program()), S(S), Factor(Factor), LowLatency(S.LowLatency),
        Path(std::move(Path)), FirstInnerLocal(FirstInnerLocal),
        FirstInnerSlot(FirstInnerSlot), ProcessLocalsFrom(ProcessLocalsFrom) {}

  void run(OpList Inner, OpList &Out) {
    scan(Inner);
    remapOps(Inner);
    int Counter = El.newLocal(Path + " step");
    P.Locals[size_t(Counter)].Width = 1;
    auto Loop = El.op(Op::Loop, S);
    Loop->Id = Counter;
    Loop->Count = Factor;
    Loop->Oversample = Factor;
    for (auto &[Key, Shadow] : Shadows) {
      NodePtr Init;
      if (Read.count(Key)) {
        int Up = stateSlot(keyName(Key) + "/up", Factor);
        upsample(Key, source(Key), Up, Out);
        Init = elem(Up, local(Counter));
      } else {
        Init = source(Key); // assigned but not read: starts as it was
      }
      Loop->Body.push_back(setLocal(Shadow, std::move(Init)));
    }
    for (OpPtr &O : Inner)
      Loop->Body.push_back(std::move(O));
    std::map<int, int> Down;
    for (auto &[Key, Shadow] : Shadows) {
      if (!Written.count(Key))
        continue;
      Down[Key] = stateSlot(keyName(Key) + "/down", Factor);
      Loop->Body.push_back(setElem(Down[Key], local(Counter), local(Shadow)));
    }
    Out.push_back(std::move(Loop));
    for (auto &[Key, Array] : Down) {
      NodePtr V = downsample(Key, Array, Out);
      if (Key == OutKey) {
        auto O = El.op(Op::SetOut, S);
        O->Value = std::move(V);
        Out.push_back(std::move(O));
      } else {
        Out.push_back(setLocal(Key, std::move(V)));
      }
    }
  }

private:
  // --- What crosses the edge ---------------------------------------------

  bool outside(int Local) const { return Local < FirstInnerLocal; }

  /// Assignments to names from outside, and delay lines from outside
  /// written inside (refused: their length is counted at the base rate).
  void scan(const OpList &Ops) {
    for (const OpPtr &O : Ops) {
      if ((O->K == Op::SetLocal ||
           (O->K == Op::SetLane && O->Target == Op::LocalTarget)) &&
          outside(O->Id))
        Written.insert(O->Id);
      if (O->K == Op::SetOut ||
          (O->K == Op::SetLane && O->Target == Op::OutTarget))
        Written.insert(OutKey);
      if (O->K == Op::DelayWrite && size_t(O->Id) < FirstInnerSlot)
        El.reporter().report(DiagId::OversampleOuterDelay, O->Loc,
                             {P.Slots[size_t(O->Id)].Name}, O->Length);
      scan(O->Body);
      scan(O->Else);
    }
  }

  /// Whether reads of this local go through the block's edge: `process`'s
  /// own values do; `block`'s are held, unless the block assigns them.
  bool crosses(int Local) const {
    return outside(Local) &&
           (Local >= ProcessLocalsFrom || Written.count(Local));
  }

  int shadow(int Key) {
    auto [It, New] = Shadows.try_emplace(Key, -1);
    if (New)
      It->second = El.newLocal(keyName(Key) + " (oversampled)");
    return It->second;
  }

  void remapNode(NodePtr &N) {
    for (NodePtr &A : N->Args)
      remapNode(A);
    int Key = 0;
    if (N->K == Node::LoadLocal && crosses(N->Id))
      Key = N->Id;
    else if (N->K == Node::Input)
      Key = InKey;
    else if (N->K == Node::LoadOut)
      Key = OutKey;
    else
      return;
    Read.insert(Key);
    N->K = Node::LoadLocal;
    N->Id = shadow(Key);
  }

  void remapOps(OpList &Ops) {
    for (OpPtr &O : Ops) {
      if (O->Value)
        remapNode(O->Value);
      if (O->Index)
        remapNode(O->Index);
      bool LocalTarget = O->K == Op::SetLocal ||
                         (O->K == Op::SetLane && O->Target == Op::LocalTarget);
      if (LocalTarget && outside(O->Id))
        O->Id = shadow(O->Id);
      if (O->K == Op::SetOut) {
        O->K = Op::SetLocal;
        O->Id = shadow(OutKey);
      }
      if (O->K == Op::SetLane && O->Target == Op::OutTarget) {
        O->Target = Op::LocalTarget;
        O->Id = shadow(OutKey);
      }
      for (int &A : O->ArgLocals)
        if (A >= 0 && crosses(A))
          A = shadow(A);
      remapOps(O->Body);
      remapOps(O->Else);
    }
  }

  std::string keyName(int Key) const {
    std::string Name = Key == InKey    ? "in"
                       : Key == OutKey ? "out"
                                       : P.Locals[size_t(Key)].Name;
    return Path + "/" + Name;
  }

  // --- Building ops and nodes ---------------------------------------------

  NodePtr node(Node::Kind K) {
    El.countSize();
    return std::make_unique<Node>(K, S.Loc, 10);
  }
  NodePtr constant(double V) { return El.constNodeAt(S.Loc, 10, {V}); }
  NodePtr local(int Id) {
    NodePtr N = node(Node::LoadLocal);
    N->Id = Id;
    return N;
  }
  NodePtr source(int Key) {
    if (Key == InKey)
      return node(Node::Input);
    if (Key == OutKey)
      return node(Node::LoadOut);
    return local(Key);
  }
  NodePtr binary(BinOp Op, NodePtr A, NodePtr B) {
    NodePtr N = node(Node::Binary);
    N->BOp = Op;
    N->Args.push_back(std::move(A));
    N->Args.push_back(std::move(B));
    return N;
  }
  NodePtr elem(int Slot, NodePtr Index) {
    NodePtr N = node(Node::LoadElem);
    N->Id = Slot;
    N->Args.push_back(std::move(Index));
    return N;
  }
  NodePtr elem(int Slot, unsigned Index) { return elem(Slot, constant(Index)); }
  NodePtr scalar(int Slot) {
    NodePtr N = node(Node::LoadSlot);
    N->Id = Slot;
    return N;
  }
  OpPtr setLocal(int Id, NodePtr V) {
    auto O = El.op(Op::SetLocal, S);
    O->Id = Id;
    O->Value = std::move(V);
    return O;
  }
  OpPtr setElem(int Slot, NodePtr Index, NodePtr V) {
    auto O = El.op(Op::SetElem, S);
    O->Id = Slot;
    O->Index = std::move(Index);
    O->Value = std::move(V);
    return O;
  }
  OpPtr setSlot(int Slot, NodePtr V) {
    auto O = El.op(Op::SetSlot, S);
    O->Id = Slot;
    O->Value = std::move(V);
    return O;
  }
  /// A new slot of this kind named `Name`, its width left to inference:
  /// that of the value it filters.
  Slot &newSlot(Slot::Kind K, const std::string &Name) {
    Slot &Sl = P.Slots.emplace_back();
    Sl.K = K;
    Sl.Name = Name;
    Sl.Loc = S.Loc;
    Sl.NameLength = 10;
    return Sl;
  }
  int lastSlot() const { return int(P.Slots.size() - 1); }
  /// A state array (or scalar state for Count 0) of zeros.
  int stateSlot(const std::string &Name, unsigned Count) {
    Slot &Sl = newSlot(Slot::State, Name);
    Sl.Count = std::max(Count, 1u);
    Sl.IsArray = Count > 0;
    Sl.Init = {0};
    return lastSlot();
  }
  /// A new local holding V.
  int hold(const std::string &Name, NodePtr V, OpList &Out) {
    int Id = El.newLocal(Name);
    Out.push_back(setLocal(Id, std::move(V)));
    return Id;
  }
  /// A FIR's history: a delay line of the last Count samples (a ring, so
  /// that a new sample is one write rather than a shift of the others).
  int historySlot(const std::string &Name, unsigned Count) {
    newSlot(Slot::Delay, Name).Length = Count;
    return lastSlot();
  }
  /// Puts `V` first in a history.
  void push(int History, NodePtr V, OpList &Out) {
    auto O = El.op(Op::DelayWrite, S);
    O->Id = History;
    O->Value = std::move(V);
    Out.push_back(std::move(O));
  }
  /// The sample `J` places back in a history (0: the newest).
  NodePtr past(int History, unsigned J) {
    NodePtr N = node(Node::Tap);
    N->Id = History;
    N->Args.push_back(constant(J + 1));
    return N;
  }
  /// sum over J of Gain * Coefs[J] * History[J], added as a balanced tree:
  /// floating-point sums are not reassociated, and a chain of 80 dependent
  /// multiply-adds would take 80 times their latency per sample.
  NodePtr dot(const Stage &St, double Gain, int History) {
    std::vector<NodePtr> Terms;
    for (unsigned J = 0; J < St.Count; ++J)
      Terms.push_back(
          binary(BinOp::Mul, constant(Gain * St.Coefs[J]), past(History, J)));
    while (Terms.size() > 1) {
      std::vector<NodePtr> Sums;
      for (size_t I = 0; I + 1 < Terms.size(); I += 2)
        Sums.push_back(
            binary(BinOp::Add, std::move(Terms[I]), std::move(Terms[I + 1])));
      if (Terms.size() % 2)
        Sums.push_back(std::move(Terms.back()));
      Terms = std::move(Sums);
    }
    return std::move(Terms.front());
  }

  /// The memory of one branch of an IIR stage: x1 and y1 of each of its
  /// sections, shared by the samples the stage filters in one frame.
  std::vector<std::pair<int, int>> branchState(const Stage &St, unsigned Branch,
                                               const std::string &Name) {
    std::vector<std::pair<int, int>> Sections;
    for (unsigned I = Branch; I < St.Count; I += 2) {
      std::string Section = Name + "/" + std::to_string(I);
      Sections.push_back(
          {stateSlot(Section + "/x1", 0), stateSlot(Section + "/y1", 0)});
    }
    return Sections;
  }

  /// One branch of an IIR stage: the first-order allpass sections of
  /// coefficients Branch, Branch + 2, ... applied to X in series, each
  /// y = a (x - y1) + x1.
  NodePtr allpasses(const Stage &St, unsigned Branch,
                    const std::vector<std::pair<int, int>> &Sections, NodePtr X,
                    const std::string &Name, OpList &Out) {
    for (unsigned I = Branch, K = 0; I < St.Count; I += 2, ++K) {
      auto [X1, Y1] = Sections[K];
      int In = hold(Name + " x", std::move(X), Out);
      NodePtr Y = binary(BinOp::Add,
                         binary(BinOp::Mul, constant(St.Coefs[I]),
                                binary(BinOp::Sub, local(In), scalar(Y1))),
                         scalar(X1));
      int Result = hold(Name + " y", std::move(Y), Out);
      Out.push_back(setSlot(X1, local(In)));
      Out.push_back(setSlot(Y1, local(Result)));
      X = local(Result);
    }
    return X;
  }

  // --- The filters --------------------------------------------------------

  /// Two samples at twice the rate for every sample of `In`, in order.
  std::vector<int> upStage(unsigned StageIndex, const std::vector<int> &In,
                           const std::string &Name, OpList &Out) {
    std::vector<int> Result;
    if (!LowLatency) {
      // Zero-stuffed and filtered with gain 2: the even output is the
      // even taps' dot product, the odd one the centre tap's delayed input.
      const Stage &St = FirStages[StageIndex];
      int History = historySlot(Name, St.Count);
      for (int X : In) {
        push(History, local(X), Out);
        Result.push_back(hold(Name + " even", dot(St, 2, History), Out));
        Result.push_back(
            hold(Name + " odd", past(History, St.Count / 2 - 1), Out));
      }
      return Result;
    }
    const Stage &St = IirStages[StageIndex];
    auto A = branchState(St, 0, Name + "/a"),
         B = branchState(St, 1, Name + "/b");
    for (int X : In) {
      Result.push_back(hold(Name + " even",
                            allpasses(St, 0, A, local(X), Name + "/a", Out),
                            Out));
      Result.push_back(hold(
          Name + " odd", allpasses(St, 1, B, local(X), Name + "/b", Out), Out));
    }
    return Result;
  }

  /// One sample for every two of `In`.
  std::vector<int> downStage(unsigned StageIndex, const std::vector<int> &In,
                             const std::string &Name, OpList &Out) {
    std::vector<int> Result;
    if (!LowLatency) {
      // y[n] = sum_j h[2j] v[2n - 2j] + v[2n + 1 - centre] / 2.
      const Stage &St = FirStages[StageIndex];
      unsigned K = St.Count / 2;
      int Even = historySlot(Name + "/even", St.Count);
      int Odd = historySlot(Name + "/odd", K + 1);
      for (size_t I = 0; I + 1 < In.size(); I += 2) {
        push(Even, local(In[I]), Out);
        push(Odd, local(In[I + 1]), Out);
        NodePtr Y = binary(BinOp::Add, dot(St, 1, Even),
                           binary(BinOp::Mul, constant(0.5), past(Odd, K)));
        Result.push_back(hold(Name + " y", std::move(Y), Out));
      }
      return Result;
    }
    // y[n] = (A0(v[2n]) + A1(v[2n - 1])) / 2: the odd branch's output is
    // used one sample later.
    const Stage &St = IirStages[StageIndex];
    int Previous = stateSlot(Name + "/previous", 0);
    auto SA = branchState(St, 0, Name + "/a"),
         SB = branchState(St, 1, Name + "/b");
    for (size_t I = 0; I + 1 < In.size(); I += 2) {
      NodePtr A = allpasses(St, 0, SA, local(In[I]), Name + "/a", Out);
      int B =
          hold(Name + " b",
               allpasses(St, 1, SB, local(In[I + 1]), Name + "/b", Out), Out);
      NodePtr Y = binary(BinOp::Mul, constant(0.5),
                         binary(BinOp::Add, std::move(A), scalar(Previous)));
      Result.push_back(hold(Name + " y", std::move(Y), Out));
      Out.push_back(setSlot(Previous, local(B)));
    }
    return Result;
  }

  void upsample(int Key, NodePtr Source, int Array, OpList &Out) {
    std::string Name = keyName(Key) + "/up";
    std::vector<int> Samples = {hold(Name + " x", std::move(Source), Out)};
    for (unsigned St = 0; St < stagesOf(Factor); ++St)
      Samples = upStage(St, Samples, Name + std::to_string(St + 1), Out);
    for (unsigned I = 0; I < Samples.size(); ++I)
      Out.push_back(setElem(Array, constant(I), local(Samples[I])));
  }

  NodePtr downsample(int Key, int Array, OpList &Out) {
    std::string Name = keyName(Key) + "/down";
    std::vector<int> Samples;
    for (unsigned I = 0; I < Factor; ++I)
      Samples.push_back(hold(Name + " x", elem(Array, I), Out));
    for (unsigned St = stagesOf(Factor); St > 0; --St)
      Samples = downStage(St - 1, Samples, Name + std::to_string(St), Out);
    return local(Samples.front());
  }

  Elaborator &El;
  Program &P;
  const Stmt &S;
  unsigned Factor;
  bool LowLatency;
  std::string Path;
  int FirstInnerLocal;
  size_t FirstInnerSlot;
  int ProcessLocalsFrom;
  std::set<int> Written, Read;
  std::map<int, int> Shadows; // key -> shadow local
};

} // namespace

void Elaborator::oversample(Context &Ctx, const Stmt &S) {
  unsigned Factor = 2;
  if (auto F = scalarConst(Ctx, *S.Value, "an oversampling factor")) {
    if (*F == 2 || *F == 4 || *F == 8 || *F == 16) {
      Factor = unsigned(*F);
    } else {
      char Buf[32];
      std::snprintf(Buf, sizeof(Buf), "%g", *F);
      R.report(DiagId::OversampleFactor, S.Value->Loc, {Buf}, S.Value->Length);
    }
  }
  if (Ctx.inBlock())
    R.report(DiagId::OversampleInBlock, S.Loc, {}, 10);
  else if (Loops.iterations() > 1)
    R.report(DiagId::OversampleInLoop, S.Loc, {}, 10);
  else if (RateFactor * Factor > 16)
    R.report(DiagId::OversampleTooDeep, S.Loc,
             {std::to_string(RateFactor * Factor)}, 10);
  std::string Path = Ctx.childPath(
      "oversample#" + std::to_string(++Ctx.CallCounts["oversample"]));

  // The body: at N times the rate; `break` and `return` cannot leave it
  // (they would skip the decimation).
  const int FirstInnerLocal = int(P.Locals.size());
  const size_t FirstInnerSlot = P.Slots.size();
  const unsigned SavedRate = RateFactor;
  RateFactor *= Factor;
  std::vector<bool> SavedLoops = std::move(Ctx.Loops);
  Ctx.Loops.clear();
  const int SavedInline = Ctx.InlineId;
  Ctx.InlineId = -1;
  OpList Inner;
  elaborateBody(Ctx, S.Body, Inner, /*NewScope=*/true);
  Ctx.InlineId = SavedInline;
  Ctx.Loops = std::move(SavedLoops);
  RateFactor = SavedRate;
  if (Aborted)
    return;

  Lowering L(*this, S, Factor, Path, FirstInnerLocal, FirstInnerSlot,
             ProcessLocalsFrom);
  L.run(std::move(Inner), out());
  P.Latency += latencyOf(Factor, S.LowLatency) / SavedRate;
}

} // namespace dspjit
