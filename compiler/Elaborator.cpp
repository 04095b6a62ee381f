//===- compiler/Elaborator.cpp - Bodies to Ops and Nodes ------------------===//
//
// Why: see Elaborator.h. Declarations first (their sizes are constants),
// then the statements and expressions of the bodies, in source order, so
// that messages come in the order a reader meets the mistakes.
//
//===----------------------------------------------------------------------===//
#include "compiler/Elaborator.h"
#include "compiler/ConstantFolder.h"
#include "runtime/Messages.h"

#include <algorithm>
#include <cmath>

namespace dspjit {

// --- Declarations -----------------------------------------------------------

void Elaborator::declareGlobals() {
  if (const Decl *Io = Names.io()) {
    P.Inputs = channelCount(Io->Inputs, *Io, R.engine());
    P.Outputs = channelCount(Io->Outputs, *Io, R.engine());
    if (P.Inputs == 0 && P.Outputs == 0)
      R.engine().report(DiagId::NoChannels, Io->Loc, {}, 2);
  }
  // Parameters first, in source order, so hosts list them as written.
  for (const std::string &Name : Names.globalOrder())
    if (Global *G = Names.global(Name); G->D->K == Decl::Param)
      declareParam(*G);
  // An instrument's notes: what the host's voice allocator writes, one lane
  // per voice (runtime/dspjit_abi.h).
  if (const Decl *V = Names.voices()) {
    P.Voices = voiceCount(*V, R.engine());
    for (const std::string &Field : noteFields()) {
      Slot S;
      S.K = Slot::Note;
      S.Name = "note." + Field;
      S.Loc = V->Loc;
      S.NameLength = 6;
      S.Width = P.Voices;
      P.Slots.push_back(S);
    }
  }
  for (const std::string &Name : Names.globalOrder()) {
    Global &G = *Names.global(Name);
    switch (G.D->K) {
    case Decl::State:
    case Decl::Delay:
    case Decl::Meter: {
      Context Ctx = globalContext();
      G.SlotId = declareStorage(Ctx, *G.D, G.D->Name);
      break;
    }
    case Decl::Const: constValue(G); break;
    case Decl::Table: tableOf(G); break;
    default: break;
    }
  }
}

std::optional<double> Elaborator::scalarConst(Context &Ctx, const Expr &E,
                                              const char *What) {
  // Sizes, bounds and declarations' numbers are not samples: in double.
  ++DoubleFolds;
  NodePtr N = expr(Ctx, E);
  --DoubleFolds;
  if (!N->isConst()) {
    R.report(DiagId::NotConstant, E.Loc, {What}, E.Length);
    return std::nullopt;
  }
  if (N->Value.size() != 1) {
    R.report(DiagId::NotScalarConstant, E.Loc,
             {What, std::to_string(N->Value.size())}, E.Length);
    return std::nullopt;
  }
  if (!std::isfinite(N->Value[0])) {
    R.report(DiagId::NonFiniteConstant, E.Loc, {What}, E.Length);
    return std::nullopt;
  }
  return N->Value[0];
}

void Elaborator::declareParam(Global &G) {
  const Decl &D = *G.D;
  Context Ctx = globalContext();
  Slot S;
  S.K = Slot::Param;
  S.Name = D.Name;
  S.Loc = D.Loc;
  S.NameLength = D.NameLength;
  S.Width = 1;
  S.Unit = D.Unit;
  S.Midi = D.Midi;
  auto Def = scalarConst(Ctx, *D.Init, "a parameter's default");
  auto Min = scalarConst(Ctx, *D.Min, "a parameter's minimum");
  auto Max = scalarConst(Ctx, *D.Max, "a parameter's maximum");
  checkParamValues(S, D, Def, Min, Max, R.engine());
  if (D.SmoothOff)
    S.SmoothSeconds = 0;
  else if (D.Smooth)
    checkSmoothing(S, *D.Smooth,
                   scalarConst(Ctx, *D.Smooth, "a smoothing time"), R.engine());
  G.SlotId = int(P.Slots.size());
  P.Slots.push_back(S);
}

/// Creates the slot of a state, delay or meter declaration.
int Elaborator::declareStorage(Context &Ctx, const Decl &D,
                               const std::string &Path) {
  Slot S;
  S.Name = Path;
  S.Loc = D.Loc;
  S.NameLength = D.NameLength;
  if (D.K == Decl::Meter) {
    S.K = Slot::Meter;
  } else if (D.K == Decl::State) {
    declareState(Ctx, D, S);
  } else {
    S.K = Slot::Delay;
    S.Length = delayFrames(scalarConst(Ctx, *D.Size, "a delay length"), D,
                           P.SampleRate * RateFactor, R);
  }
  P.Slots.push_back(S);
  return int(P.Slots.size() - 1);
}

void Elaborator::declareState(Context &Ctx, const Decl &D, Slot &S) {
  S.K = Slot::State;
  if (D.Size) {
    S.IsArray = true;
    S.Count = arraySize(scalarConst(Ctx, *D.Size, "an array size"), *D.Size, R);
  }
  if (D.Size && usesElementIndex(*D.Init)) {
    unsigned W = 1;
    auto V = elementValues(Ctx, *D.Init, S.Count, W, D.Name);
    S.Init.assign(W, 0);
    // Not evaluated (an error, or past the memory limit, which layout
    // reports): zeros.
    if (V)
      S.ElemInit = std::move(*V);
    S.Width = W;
    return;
  }
  NodePtr Init = expr(Ctx, *D.Init);
  if (!Init->isConst()) {
    R.report(DiagId::NotConstant, D.Init->Loc, {"a state's initial value"},
             D.Init->Length);
    S.Init = {0};
  } else {
    S.Init = Init->Value;
  }
  S.Width = unsigned(S.Init.size());
  if (D.Size)
    warnVectorInit(D, S);
}

Context Elaborator::globalContext() {
  Context Ctx;
  Ctx.Scopes.emplace_back();
  return Ctx;
}

/// Evaluates a global constant on first use (declarations come in any
/// order); a cycle is reported as not constant.
const std::vector<double> &Elaborator::constValue(Global &G) {
  if (G.ConstState == Global::Done)
    return G.Value;
  if (G.ConstState == Global::InProgress) {
    R.engine().report(DiagId::NotConstant, G.D->Loc,
                      {"'" + G.D->Name + "' (it refers to itself)"},
                      G.D->NameLength);
    G.Value = {0};
    G.ConstState = Global::Done;
    return G.Value;
  }
  G.ConstState = Global::InProgress;
  Context Ctx = globalContext();
  // A `const` is evaluated in double, and rounded where it is used.
  ++DoubleFolds;
  NodePtr N = expr(Ctx, *G.D->Init);
  --DoubleFolds;
  std::vector<double> V = {0};
  if (N->isConst())
    V = N->Value;
  else
    R.engine().report(DiagId::NotConstant, G.D->Init->Loc,
                      {"the value of a 'const'"}, G.D->Init->Length);
  // A cycle may have finished this constant already.
  if (G.ConstState != Global::Done) {
    G.Value = V;
    G.ConstState = Global::Done;
  }
  return G.Value;
}

// --- Building ---------------------------------------------------------------

NodePtr Elaborator::node(Node::Kind K, const Expr &E) {
  countSize();
  return std::make_unique<Node>(K, E.Loc, E.Length);
}

NodePtr Elaborator::constNode(const Expr &E, std::vector<double> V) {
  return constNodeAt(E.Loc, E.Length, std::move(V));
}

NodePtr Elaborator::constNodeAt(SourceLoc Loc, uint32_t Length,
                                std::vector<double> V) {
  countSize();
  NodePtr N = std::make_unique<Node>(Node::Const, Loc, Length);
  N->Value = std::move(V);
  N->Width = unsigned(N->Value.size());
  return N;
}

void Elaborator::countSize() {
  if (++Size > MaxProgramSize && !Aborted) {
    R.engine().report(DiagId::ProgramTooLarge, CurrentStmt,
                      {std::to_string(MaxProgramSize)});
    Aborted = true;
  }
}

int Elaborator::newLocal(const std::string &Name) {
  P.Locals.push_back({Name, 0, false, false, {}});
  return int(P.Locals.size() - 1);
}

OpPtr Elaborator::op(Op::Kind K, const Expr &E) {
  countSize();
  auto O = std::make_unique<Op>(K, E.Loc);
  O->Length = E.Length;
  O->Origin = Origin.Loc;
  O->OriginLength = Origin.Length;
  O->OriginCopies = Origin.Copies;
  return O;
}

OpPtr Elaborator::op(Op::Kind K, const Stmt &S) {
  countSize();
  auto O = std::make_unique<Op>(K, S.Loc);
  O->Origin = Origin.Loc;
  O->OriginLength = Origin.Length;
  O->OriginCopies = Origin.Copies;
  return O;
}

Elaborator::OriginMark Elaborator::enterOrigin(SourceLoc Loc, uint32_t Length,
                                               unsigned Copies) {
  OriginMark Saved = Origin;
  const bool Unroll = Copies > 0;
  if (!Origin.Loc.isValid() || (Unroll && Origin.Copies == 0))
    Origin = {Loc, Length, Copies};
  return Saved;
}

/// A node whose operands are all constants becomes a constant. Its errors
/// are reported even in a dry run: between constants, they hold for every
/// call.
NodePtr Elaborator::fold(NodePtr N) {
  FoldArith Arith;
  if (DoubleFolds == 0) {
    Arith.Float = !Options.DoublePrecision;
    Arith.Fma = Options.Fma;
  }
  std::optional<std::vector<double>> V = foldConstants(*N, R.engine(), Arith);
  if (!V)
    return N;
  if (!R.DryRun)
    noteFoldedMistake(*N, *V);
  NodePtr C = constNodeAt(N->Loc, N->Length, std::move(*V));
  if (Arith.Fma && N->K == Node::Binary && N->BOp == BinOp::Mul)
    for (unsigned F = 0; F < 2; ++F) // a product still fuses into a sum
      C->Factors[F] = N->Args[F]->Value;
  return C;
}

/// What the warnings cannot see once a node is folded: a division by zero
/// between constants, or the first operation whose result is not finite.
void Elaborator::noteFoldedMistake(const Node &N,
                                   const std::vector<double> &V) {
  auto NonFinite = [](const std::vector<double> &Lanes) {
    for (double L : Lanes)
      if (!std::isfinite(L))
        return true;
    return false;
  };
  FoldedMistake M{N.Loc, N.Length, false, N.BOp, V};
  if (N.K == Node::Binary && (N.BOp == BinOp::Div || N.BOp == BinOp::Mod)) {
    for (double L : N.Args[1]->Value)
      M.DivisionByZero |= L == 0;
    if (M.DivisionByZero) {
      P.FoldedMistakes.push_back(std::move(M));
      return;
    }
  }
  if (!NonFinite(V))
    return;
  for (const NodePtr &A : N.Args)
    if (NonFinite(A->Value))
      return; // reported where it began
  P.FoldedMistakes.push_back(std::move(M));
}

// --- Names ------------------------------------------------------------------

NodePtr Elaborator::nameExpr(Context &Ctx, const Expr &E) {
  if (const Binding *B = NameResolver::lookupLocal(Ctx, E.Name)) {
    switch (B->K) {
    case Binding::LocalVar:
    case Binding::ReadOnlyLocal: {
      NodePtr N = node(Node::LoadLocal, E);
      N->Id = B->Id;
      return N;
    }
    case Binding::ConstVal: return constNode(E, B->Value);
    case Binding::SlotRef: return slotExpr(E, B->Id);
    }
  }
  if (isReservedName(E.Name))
    return reservedExpr(Ctx, E);
  if (Global *G = Names.global(E.Name))
    return globalExpr(*G, E);
  if (findBuiltin(E.Name)) {
    R.report(DiagId::NotAValue, E.Loc, {E.Name, "built-in function"}, E.Length);
    return constNode(E, {0});
  }
  return unknownName(Ctx, E);
}

NodePtr Elaborator::reservedExpr(Context &Ctx, const Expr &E) {
  if (E.Name == "in") {
    if (Names.io() && P.Inputs == 0)
      R.report(DiagId::NoInputs, E.Loc, {std::to_string(P.Outputs)}, E.Length);
    // `block` runs before the frames: there is no input frame to read
    // (and code generation has none to give).
    else if (Ctx.inBlock())
      R.report(DiagId::InputInBlock, E.Loc, {}, E.Length);
    return node(Node::Input, E);
  }
  if (E.Name == "out") {
    if (Names.io() && P.Outputs == 0)
      R.report(DiagId::NoOutputs, E.Loc, {std::to_string(P.Inputs)}, E.Length);
    return node(Node::LoadOut, E);
  }
  if (E.Name == "note") {
    R.report(DiagId::NotAValue, E.Loc,
             {E.Name, "voice's note (read its fields: note.freq, note.gate)"},
             E.Length);
    return constNode(E, {0});
  }
  if (E.Name == "sr")
    return constNode(E, {P.SampleRate * RateFactor});
  if (E.Name == "pi")
    return constNode(E, {M_PI});
  if (E.Name == "tau")
    return constNode(E, {2 * M_PI});
  return node(Node::Frames, E); // "frames"
}

NodePtr Elaborator::globalExpr(Global &G, const Expr &E) {
  switch (G.D->K) {
  case Decl::Const: return constNode(E, constValue(G));
  case Decl::Table:
    R.report(DiagId::TableNotAValue, E.Loc, {E.Name}, E.Length);
    return constNode(E, {0});
  case Decl::Param:
  case Decl::State:
  case Decl::Meter:
  case Decl::Delay:
    if (G.SlotId >= 0)
      return slotExpr(E, G.SlotId);
    // Only constant expressions are evaluated before every slot exists,
    // so any non-constant stand-in makes the caller report "not constant".
    return node(Node::Frames, E);
  default:
    R.report(DiagId::NotAValue, E.Loc, {E.Name, declKindName(G.D->K)},
             E.Length);
    return constNode(E, {0});
  }
}

NodePtr Elaborator::unknownName(Context &Ctx, const Expr &E) {
  std::string Close = Names.suggest(Ctx, E.Name, /*Functions=*/false);
  if (Close.empty())
    R.report(DiagId::UnknownName, E.Loc, {E.Name}, E.Length);
  else
    R.report(DiagId::UnknownNameSuggest, E.Loc, {E.Name, Close}, E.Length);
  return constNode(E, {0});
}

NodePtr Elaborator::slotExpr(const Expr &E, int SlotId) {
  const Slot &S = P.Slots[size_t(SlotId)];
  if (S.K == Slot::Delay) {
    R.report(DiagId::NotAValue, E.Loc,
             {E.Name, "delay line (read it with .tap(n) or .read(t))"},
             E.Length);
    return constNode(E, {0});
  }
  if (S.IsArray) {
    R.report(DiagId::NotAValue, E.Loc, {E.Name, "state array (index it)"},
             E.Length);
    return constNode(E, {0});
  }
  NodePtr N = node(Node::LoadSlot, E);
  N->Id = SlotId;
  return N;
}

// --- Expressions ------------------------------------------------------------

NodePtr Elaborator::expr(Context &Ctx, const Expr &E) {
  if (Aborted)
    return constNode(E, {0});
  switch (E.K) {
  case Expr::Number: return constNode(E, {E.Value});
  case Expr::NameRef: return nameExpr(Ctx, E);
  case Expr::Unary: return operatorExpr(Ctx, E, Node::Unary);
  case Expr::Binary: return operatorExpr(Ctx, E, Node::Binary);
  case Expr::Ternary: return operatorExpr(Ctx, E, Node::Select);
  case Expr::Vector: return operatorExpr(Ctx, E, Node::Concat);
  case Expr::Index: return indexExpr(Ctx, E);
  case Expr::Call: return call(Ctx, E, /*WantValue=*/true);
  case Expr::MethodCall: return method(Ctx, E, nullptr);
  }
  return constNode(E, {0});
}

/// Unary, binary, `?:` and vectors: a node over the operands, folded.
NodePtr Elaborator::operatorExpr(Context &Ctx, const Expr &E, Node::Kind K) {
  NodePtr N = node(K, E);
  N->UOp = E.UOp;
  N->BOp = E.BOp;
  for (const ExprPtr &A : E.Args)
    N->Args.push_back(expr(Ctx, *A));
  return fold(std::move(N));
}

/// `a[i]`: an element of a state array, or a lane of a vector.
NodePtr Elaborator::indexExpr(Context &Ctx, const Expr &E) {
  const Expr &Base = *E.Args[0];
  if (int TableId = Base.K == Expr::NameRef ? tableNamed(Ctx, Base.Name) : -1;
      TableId >= 0)
    return tableIndex(Ctx, E, TableId);
  int SlotId = Base.K == Expr::NameRef ? Names.slotOf(Ctx, Base.Name) : -1;
  if (SlotId >= 0 && P.Slots[size_t(SlotId)].IsArray) {
    NodePtr N = node(Node::LoadElem, E);
    N->Id = SlotId;
    N->Args.push_back(expr(Ctx, *E.Args[1]));
    return N;
  }
  NodePtr N = node(Node::Lane, E);
  N->Args.push_back(expr(Ctx, Base));
  N->Args.push_back(expr(Ctx, *E.Args[1]));
  return fold(std::move(N));
}

/// A delay line method. Writes go to `Out` (null where a value is wanted).
const std::vector<std::string> &noteFields() {
  static const std::vector<std::string> Fields = {
      "freq", "key", "velocity", "gate", "trigger", "pressure"};
  return Fields;
}

NodePtr Elaborator::noteField(const Expr &E) {
  std::string Spelled = "note." + E.Method;
  if (!P.Voices) {
    R.report(DiagId::NoteWithoutVoices, E.Loc, {Spelled}, E.Length);
    return constNode(E, {0});
  }
  const auto &Fields = noteFields();
  auto It = std::find(Fields.begin(), Fields.end(), E.Method);
  if (It == Fields.end() || !E.Property) {
    R.report(DiagId::UnknownNoteField, E.Loc, {E.Method}, E.Length);
    return constNode(E, {0});
  }
  for (size_t I = 0; I < P.Slots.size(); ++I)
    if (P.Slots[I].K == Slot::Note && P.Slots[I].Name == Spelled)
      return slotExpr(E, int(I));
  return constNode(E, {0});
}

NodePtr Elaborator::voicemix(Context &Ctx, const Expr &E) {
  NodePtr N = node(Node::Call, E);
  N->Fn = Builtin::Voicemix;
  N->Args.push_back(expr(Ctx, *E.Args[0]));
  if (!P.Voices) {
    R.report(DiagId::NoteWithoutVoices, E.Loc, {"voicemix"}, 8);
    return constNode(E, {0});
  }
  if (VoicePeakSlot < 0) {
    Slot S;
    S.K = Slot::Meter;
    S.VoicePeak = true;
    S.Name = "voice.peak";
    S.Loc = E.Loc;
    S.NameLength = 8;
    S.Width = P.Voices;
    VoicePeakSlot = int(P.Slots.size());
    P.Slots.push_back(S);
  }
  N->Id = VoicePeakSlot;
  return N; // never folded: it writes voice.peak
}

NodePtr Elaborator::method(Context &Ctx, const Expr &E, OpList *Out) {
  if (E.Name == "note")
    return noteField(E);
  if (int TableId = tableNamed(Ctx, E.Name); TableId >= 0)
    return tableMethod(Ctx, E, TableId);
  int SlotId = Names.slotOf(Ctx, E.Name);
  uint32_t NameLength = uint32_t(E.Name.size());
  if (SlotId < 0 || P.Slots[size_t(SlotId)].K != Slot::Delay) {
    std::string Close;
    if (SlotId >= 0 || Names.isKnown(Ctx, E.Name))
      R.report(DiagId::NotADelay, E.Loc, {E.Name, E.Method}, NameLength);
    else if ((Close = Names.suggest(Ctx, E.Name, false)).empty())
      R.report(DiagId::UnknownName, E.Loc, {E.Name}, NameLength);
    else
      R.report(DiagId::UnknownNameSuggest, E.Loc, {E.Name, Close}, NameLength);
    return constNode(E, {0});
  }
  bool IsWrite = E.Method == "write";
  if (!IsWrite && E.Method != "read" && E.Method != "tap") {
    R.report(DiagId::UnknownMethod, E.Loc, {E.Name, E.Method}, E.Length);
    return constNode(E, {0});
  }
  if (E.Args.size() != 1) {
    R.report(DiagId::ArgCount, E.Loc,
             {E.Name + "." + E.Method, "1", std::to_string(E.Args.size())},
             E.Length);
    return constNode(E, {0});
  }
  NodePtr Arg = expr(Ctx, *E.Args[0]);
  if (IsWrite) {
    if (!Out) {
      R.report(DiagId::CallHasNoValue, E.Loc, {E.Name + ".write"}, E.Length);
      return constNode(E, {0});
    }
    auto O = op(Op::DelayWrite, E);
    O->Id = SlotId;
    O->Value = std::move(Arg);
    Out->push_back(std::move(O));
    return nullptr;
  }
  DelaysRead.insert(SlotId);
  NodePtr N = node(E.Method == "read" ? Node::Read : Node::Tap, E);
  N->Id = SlotId;
  N->Args.push_back(std::move(Arg));
  return N;
}

NodePtr Elaborator::call(Context &Ctx, const Expr &E, bool WantValue) {
  if (const BuiltinInfo *B = findBuiltin(E.Name))
    return builtinCall(Ctx, E, *B);
  Global *G = Names.global(E.Name);
  if (!G || G->D->K != Decl::Fn) {
    notAFunction(Ctx, E, G);
    for (const ExprPtr &A : E.Args) // still check the arguments
      expr(Ctx, *A);
    return constNode(E, {0});
  }
  return Calls.inlineCall(Ctx, E, *G->D, WantValue);
}

void Elaborator::notAFunction(Context &Ctx, const Expr &E, const Global *G) {
  uint32_t NameLength = uint32_t(E.Name.size());
  if (G) {
    R.report(DiagId::NotAFunction, E.Loc, {E.Name, declKindName(G->D->K)},
             NameLength);
    return;
  }
  if (NameResolver::lookupLocal(Ctx, E.Name) || isReservedName(E.Name)) {
    R.report(DiagId::NotAFunction, E.Loc, {E.Name, "value"}, NameLength);
    return;
  }
  std::string Close = Names.suggest(Ctx, E.Name, /*Functions=*/true);
  if (Close.empty())
    R.report(DiagId::UnknownFunction, E.Loc, {E.Name}, NameLength);
  else
    R.report(DiagId::UnknownFunctionSuggest, E.Loc, {E.Name, Close},
             NameLength);
}

NodePtr Elaborator::builtinCall(Context &Ctx, const Expr &E,
                                const BuiltinInfo &B) {
  if (E.Args.size() != B.Args) {
    R.report(DiagId::ArgCount, E.Loc,
             {E.Name, std::to_string(B.Args), std::to_string(E.Args.size())},
             E.Length);
    return constNode(E, {0});
  }
  if (B.Id == Builtin::Iota)
    return iota(Ctx, E);
  if (B.Id == Builtin::Voicemix)
    return voicemix(Ctx, E);
  if (B.Id == Builtin::Convolve)
    return convolve(Ctx, E);
  NodePtr N = node(Node::Call, E);
  N->Fn = B.Id;
  for (const ExprPtr &A : E.Args)
    N->Args.push_back(expr(Ctx, *A));
  return fold(std::move(N));
}

/// iota(n) is the constant vector 0, 1, ..., n - 1.
NodePtr Elaborator::iota(Context &Ctx, const Expr &E) {
  auto N = scalarConst(Ctx, *E.Args[0], "the width given to 'iota'");
  if (!N)
    return constNode(E, {0});
  if (*N > MaxWidth) {
    R.report(DiagId::VectorTooWide, E.Loc,
             {formatNumber(*N), std::to_string(MaxWidth)}, E.Length);
    return constNode(E, {0});
  }
  if (*N < 1 || *N != std::floor(*N)) {
    R.report(DiagId::IotaWidthRange, E.Loc,
             {formatNumber(*N), std::to_string(MaxWidth)}, E.Length);
    return constNode(E, {0});
  }
  std::vector<double> V;
  for (unsigned I = 0; I < unsigned(*N); ++I)
    V.push_back(I);
  return constNode(E, V);
}

// --- Statements -------------------------------------------------------------

void Elaborator::elaborateBody(Context &Ctx, const StmtList &Body, OpList &Out,
                               bool NewScope) {
  OpList *Saved = CurrentOut;
  CurrentOut = &Out;
  if (NewScope)
    Ctx.Scopes.emplace_back();
  for (const StmtPtr &S : Body) {
    if (Aborted)
      break;
    statement(Ctx, *S);
  }
  if (NewScope)
    Ctx.Scopes.pop_back();
  CurrentOut = Saved;
}

void Elaborator::statement(Context &Ctx, const Stmt &S) {
  CurrentStmt = S.Loc;
  OpList &Out = *CurrentOut;
  switch (S.K) {
  case Stmt::Let: return let(Ctx, S);
  case Stmt::Assign: return assign(Ctx, S);
  case Stmt::If: {
    auto O = op(Op::If, S);
    O->Value = expr(Ctx, *S.Value);
    elaborateBody(Ctx, S.Body, O->Body, true);
    elaborateBody(Ctx, S.Else, O->Else, true);
    Out.push_back(std::move(O));
    return;
  }
  case Stmt::For:
  case Stmt::Unroll: return loop(Ctx, S);
  case Stmt::Break:
    if (Ctx.Loops.empty())
      R.report(DiagId::BreakOutsideLoop, S.Loc, {}, 5);
    else if (Ctx.Loops.back())
      R.report(DiagId::BreakInUnroll, S.Loc, {}, 5);
    else
      Out.push_back(op(Op::Break, S));
    return;
  case Stmt::Return: return returnStmt(Ctx, S);
  case Stmt::ExprStmt: {
    const Expr &E = *S.Value;
    if (E.K == Expr::Call)
      call(Ctx, E, /*WantValue=*/false);
    else if (E.K == Expr::MethodCall)
      method(Ctx, E, &Out);
    else
      expr(Ctx, E); // checked, then dropped: it has no effect
    return;
  }
  case Stmt::LocalDecl: return localDecl(Ctx, S);
  case Stmt::Oversample: return oversample(Ctx, S);
  }
}

void Elaborator::let(Context &Ctx, const Stmt &S) {
  NodePtr V = expr(Ctx, *S.Value);
  Binding B;
  B.K = Binding::LocalVar;
  B.Id = newLocal(S.Name);
  B.Loc = S.Loc;
  P.Locals[size_t(B.Id)].IsLet = true;
  P.Locals[size_t(B.Id)].Loc = S.Loc;
  auto O = op(Op::SetLocal, S);
  O->Id = B.Id;
  O->Value = std::move(V);
  CurrentOut->push_back(std::move(O));
  Names.bind(Ctx, S.Name, std::move(B), uint32_t(S.Name.size()));
}

void Elaborator::returnStmt(Context &Ctx, const Stmt &S) {
  NodePtr V = expr(Ctx, *S.Value);
  if (Ctx.InlineId < 0) {
    R.report(DiagId::ReturnOutsideFunction, S.Loc, {}, 6);
    return;
  }
  Ctx.SawReturn = true;
  auto O = op(Op::Return, S);
  O->Id = Ctx.InlineId;
  O->Value = std::move(V);
  CurrentOut->push_back(std::move(O));
}

void Elaborator::localDecl(Context &Ctx, const Stmt &S) {
  const Decl &D = *S.Local;
  std::string Path = Ctx.childPath(D.Name);
  // Sibling blocks may each declare their own `state s`; hosts find
  // slots by name, so the second one is `s#2`.
  if (unsigned N = ++LocalSlotNames[Path]; N > 1)
    Path += "#" + std::to_string(N);
  Binding B;
  B.K = Binding::SlotRef;
  B.Id = declareStorage(Ctx, D, Path);
  B.Loc = D.Loc;
  Names.bind(Ctx, D.Name, std::move(B), D.NameLength);
}

void Elaborator::loop(Context &Ctx, const Stmt &S) {
  bool Unroll = S.K == Stmt::Unroll;
  auto From = scalarConst(Ctx, *S.From, "a loop's start");
  auto To = scalarConst(Ctx, *S.Value, "a loop's end");
  double Count = loopCount(From, To, Unroll, S, R);
  double Start = From ? *From : 0;
  double SavedIterations = Loops.iterations();
  if (!Unroll)
    Count = Loops.enter(Count, S, R);
  Ctx.Loops.push_back(Unroll);
  if (Unroll)
    Calls.unroll(Ctx, S, unsigned(Count), Start);
  else
    forLoop(Ctx, S, unsigned(Count), Start);
  Ctx.Loops.pop_back();
  Loops.leave(SavedIterations);
}

void Elaborator::forLoop(Context &Ctx, const Stmt &S, unsigned Count,
                         double Start) {
  auto O = op(Op::Loop, S);
  O->Count = Count;
  O->From = Start;
  O->Id = newLocal(S.Name);
  P.Locals[size_t(O->Id)].Width = 1;
  Ctx.Scopes.emplace_back();
  Binding B;
  B.K = Binding::ReadOnlyLocal;
  B.Id = O->Id;
  B.Loc = S.Loc;
  Names.bind(Ctx, S.Name, std::move(B), uint32_t(S.Name.size()));
  elaborateBody(Ctx, S.Body, O->Body, true);
  Ctx.Scopes.pop_back();
  CurrentOut->push_back(std::move(O));
}

// --- Assignments ------------------------------------------------------------

Elaborator::AssignTarget Elaborator::assignTarget(Context &Ctx,
                                                  const Expr &NameE) {
  AssignTarget T;
  const std::string &Name = NameE.Name;
  if (const Binding *B = NameResolver::lookupLocal(Ctx, Name)) {
    T.Id = B->Id;
    if (B->K == Binding::LocalVar)
      T.Kind = Op::LocalTarget;
    else if (B->K == Binding::SlotRef)
      T.Kind = Op::SlotTarget;
    else if (B->K == Binding::ReadOnlyLocal)
      T.ReadOnlyWhy =
          "function parameters and loop variables are read-only; copy it with 'let'";
    else
      T.ReadOnlyWhy = "it is a compile-time constant";
    return T;
  }
  if (Name == "out") {
    T.Kind = Op::OutTarget;
    if (Names.io() && P.Outputs == 0) {
      R.report(DiagId::NoOutputs, NameE.Loc, {std::to_string(P.Inputs)},
               NameE.Length);
      T.Valid = false;
    } else if (Ctx.inBlock()) {
      // Every frame starts `out` at 0: what `block` assigns is never seen.
      R.report(DiagId::OutInBlock, NameE.Loc, {}, NameE.Length);
      T.Valid = false;
    }
    return T;
  }
  if (Name == "in") {
    T.ReadOnlyWhy = "the input is read-only; copy it with 'let'";
    return T;
  }
  if (isReservedName(Name)) {
    T.ReadOnlyWhy = "it is a built-in constant";
    return T;
  }
  if (const Global *G = Names.global(Name))
    return globalTarget(*G);
  R.report(DiagId::AssignToUnknown, NameE.Loc, {Name}, NameE.Length);
  T.Valid = false;
  return T;
}

Elaborator::AssignTarget Elaborator::globalTarget(const Global &G) {
  AssignTarget T;
  switch (G.D->K) {
  case Decl::State:
  case Decl::Meter:
    T.Kind = Op::SlotTarget;
    T.Id = G.SlotId;
    break;
  case Decl::Param:
    T.ReadOnlyWhy = "parameters are set by the host; use a 'let' or a 'state'";
    break;
  case Decl::Const: T.ReadOnlyWhy = "it is a compile-time constant"; break;
  case Decl::Table:
    T.ReadOnlyWhy = "tables are read-only (a 'state' array can be written)";
    break;
  case Decl::Delay:
    T.ReadOnlyWhy = "it is a delay line; use its write method";
    break;
  default: T.ReadOnlyWhy = "it is a function"; break;
  }
  return T;
}

/// A slot may be assigned if it is a state or a meter.
bool Elaborator::checkSlotTarget(const Expr &NameE, int Id) {
  if (Id < 0)
    return false;
  const Slot &Sl = P.Slots[size_t(Id)];
  const char *Why =
      Sl.K == Slot::Delay   ? "it is a delay line; use its write method"
      : Sl.K == Slot::Param ? "parameters are set by the host; use a "
                              "'let' or a 'state'"
                            : nullptr;
  if (Why)
    R.report(DiagId::AssignToReadOnly, NameE.Loc, {NameE.Name, Why},
             NameE.Length);
  return !Why;
}

/// `x op= v` is `x = x op v`.
NodePtr Elaborator::compound(const Stmt &S, NodePtr Current, NodePtr Value) {
  if (!S.Compound)
    return Value;
  NodePtr N = node(Node::Binary, *S.Target);
  N->BOp = S.CompoundOp;
  N->Args.push_back(std::move(Current));
  N->Args.push_back(std::move(Value));
  return fold(std::move(N));
}

void Elaborator::assign(Context &Ctx, const Stmt &S) {
  const Expr &T = *S.Target;
  const Expr &NameE = T.K == Expr::Index ? *T.Args[0] : T;
  NodePtr Value = expr(Ctx, *S.Value);
  if (NameE.K != Expr::NameRef) {
    R.report(DiagId::NotAssignable, T.Loc, {}, T.Length);
    return;
  }
  AssignTarget Target = assignTarget(Ctx, NameE);
  if (!Target.Valid)
    return;
  if (Target.ReadOnlyWhy) {
    R.report(DiagId::AssignToReadOnly, NameE.Loc,
             {NameE.Name, Target.ReadOnlyWhy}, NameE.Length);
    return;
  }
  int Id = Target.Id;
  bool IsArray = false;
  if (Target.Kind == Op::SlotTarget) {
    if (!checkSlotTarget(NameE, Id))
      return;
    IsArray = P.Slots[size_t(Id)].IsArray;
  }
  if (IsArray && T.K != Expr::Index) {
    R.report(DiagId::NotAValue, NameE.Loc,
             {NameE.Name, "state array (index it)"}, NameE.Length);
    return;
  }
  if (IsArray) {
    auto O = op(Op::SetElem, S);
    O->Id = Id;
    O->Index = expr(Ctx, *T.Args[1]);
    NodePtr Current = node(Node::LoadElem, T);
    Current->Id = Id;
    Current->Args.push_back(expr(Ctx, *T.Args[1]));
    O->Value = compound(S, std::move(Current), std::move(Value));
    CurrentOut->push_back(std::move(O));
    return;
  }
  // Plain assignment, or of one lane.
  auto Load = [&]() -> NodePtr {
    NodePtr N = node(Target.Kind == Op::LocalTarget  ? Node::LoadLocal
                     : Target.Kind == Op::SlotTarget ? Node::LoadSlot
                                                     : Node::LoadOut,
                     NameE);
    N->Id = Id;
    return N;
  };
  if (T.K == Expr::Index) {
    auto O = op(Op::SetLane, S);
    O->Target = Target.Kind;
    O->Id = Id;
    O->Index = expr(Ctx, *T.Args[1]);
    NodePtr Current = node(Node::Lane, T);
    Current->Args.push_back(Load());
    Current->Args.push_back(expr(Ctx, *T.Args[1]));
    O->Value = compound(S, std::move(Current), std::move(Value));
    CurrentOut->push_back(std::move(O));
    return;
  }
  auto O = op(Target.Kind == Op::LocalTarget  ? Op::SetLocal
              : Target.Kind == Op::SlotTarget ? Op::SetSlot
                                              : Op::SetOut,
              S);
  O->Id = Id;
  O->Value = compound(S, Load(), std::move(Value));
  CurrentOut->push_back(std::move(O));
}

} // namespace dspjit
