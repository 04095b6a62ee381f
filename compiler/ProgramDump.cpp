//===- compiler/ProgramDump.cpp - Printing the checked program ------------===//
//
// Why this file exists: `dspjit emit --emit=checked` shows what the checker
// made of a script, between the syntax tree and the LLVM IR: every call
// inlined, every `unroll` expanded, every constant folded, every width
// known, and where each slot lives in the instance (the ABI the host sees).
// S-expressions, like the syntax tree's dump; slots are `@name`, locals
// `%id`, and `:N` gives a value's width when it is a vector.
//
//===----------------------------------------------------------------------===//
#include "compiler/Program.h"
#include "runtime/Messages.h"

namespace dspjit {

namespace {

std::string lanes(const std::vector<double> &V) {
  if (V.size() == 1)
    return formatNumber(V[0]);
  std::string Out = "[";
  for (size_t I = 0; I < V.size(); ++I)
    Out += (I ? " " : "") + formatNumber(V[I]);
  return Out + "]";
}

const char *builtinName(Builtin F) {
  for (const BuiltinInfo &B : builtins())
    if (B.Id == F)
      return B.Name;
  return "?";
}

class Dumper {
public:
  explicit Dumper(const Program &P) : P(P) {}

  std::string run() {
    header();
    for (size_t I = 0; I < P.Slots.size(); ++I)
      slot(I, P.Slots[I]);
    for (size_t I = 0; I < P.Tables.size(); ++I)
      table(I, P.Tables[I]);
    for (size_t I = 0; I < P.Convolutions.size(); ++I)
      convolution(I, P.Convolutions[I]);
    for (size_t I = 0; I < P.Locals.size(); ++I)
      Out += "(local %" + std::to_string(I) + " \"" + P.Locals[I].Name +
             "\" width=" + std::to_string(P.Locals[I].Width) + ")\n";
    section("block", P.Block);
    section("process", P.Process);
    return Out;
  }

private:
  void header() {
    Out += "(program inputs=" + std::to_string(P.Inputs) +
           " outputs=" + std::to_string(P.Outputs) +
           " rate=" + formatNumber(P.SampleRate) +
           " precision=" + (P.DoublePrecision ? "double" : "float") +
           " instance=" + std::to_string(P.InstanceSize) + ")\n";
  }

  void slot(size_t I, const Slot &S) {
    static const char *const Kinds[] = {"param", "meter", "state", "delay",
                                        "note"};
    Out += "(slot " + std::to_string(I) + " " + Kinds[S.K] + " @" + S.Name +
           " width=" + std::to_string(S.Width);
    switch (S.K) {
    case Slot::Param:
      Out += " default=" + formatNumber(S.Def) + " min=" + formatNumber(S.Min) +
             " max=" + formatNumber(S.Max) +
             " smooth=" + formatNumber(S.SmoothSeconds) +
             (S.Unit.empty() ? "" : " unit=" + S.Unit) +
             " offset=" + std::to_string(S.Offset) +
             " value-offset=" + std::to_string(S.ValueOffset) +
             (S.Midi ? " midi=" + std::to_string(S.Midi) : std::string());
      break;
    case Slot::Meter:
    case Slot::Note: Out += " offset=" + std::to_string(S.Offset); break;
    case Slot::State:
      Out += (S.IsArray ? " count=" + std::to_string(S.Count) : std::string()) +
             " init=" +
             (S.ElemInit.empty() ? lanes(S.Init) : std::string("per-element")) +
             " offset=" + std::to_string(S.Offset);
      break;
    case Slot::Delay:
      Out += " length=" + std::to_string(S.Length) +
             " capacity=" + std::to_string(S.Capacity) +
             " position-offset=" + std::to_string(S.ValueOffset) +
             " offset=" + std::to_string(S.Offset);
      break;
    }
    Out += ")\n";
  }

  /// A table's shape and source, and its first elements (all of a short
  /// one): enough to see what it holds without printing a wavetable.
  void table(size_t I, const Table &T) {
    Out += "(table " + std::to_string(I) + " $" + T.Name +
           " len=" + std::to_string(T.Count) +
           " width=" + std::to_string(T.Width);
    if (T.File.empty())
      Out += " source=expr";
    else
      Out += " source=file \"" + T.File +
             "\" rate=" + formatNumber(T.FileRate) +
             (T.Resampled ? " resampled" : "");
    const size_t Shown = std::min<size_t>(T.Data.size(), 8);
    Out += " data=" +
           lanes(std::vector<double>(T.Data.begin(), T.Data.begin() + Shown)) +
           (Shown < T.Data.size() ? "..." : "") + ")\n";
  }

  /// A `convolve` call: its response, lanes, plan and state.
  void convolution(size_t I, const Convolution &C) {
    Out += "(convolution " + std::to_string(I) + " " + tableName(C.TableId) +
           " in=" + std::to_string(C.InLanes) +
           " out=" + std::to_string(C.OutLanes) + (C.Matrix ? " matrix" : "") +
           " plan-bytes=" + std::to_string(C.Plan.size()) +
           " state-bytes=" + std::to_string(C.StateBytes) +
           " offset=" + std::to_string(C.Offset) + ")\n";
  }

  std::string tableName(int Id) const {
    return Id >= 0 && size_t(Id) < P.Tables.size()
               ? "$" + P.Tables[size_t(Id)].Name
               : "$?";
  }

  std::string slotName(int Id) const {
    return Id >= 0 && size_t(Id) < P.Slots.size()
               ? "@" + P.Slots[size_t(Id)].Name
               : "@?";
  }

  std::string args(const Node &N, const char *Head) const {
    std::string S = std::string("(") + Head;
    for (const NodePtr &A : N.Args)
      S += " " + node(*A);
    return S + ")";
  }

  std::string node(const Node &N) const {
    std::string S = nodeText(N);
    return N.Width > 1 && N.K != Node::Const ? S + ":" + std::to_string(N.Width)
                                             : S;
  }

  std::string nodeText(const Node &N) const {
    switch (N.K) {
    case Node::Const: return lanes(N.Value);
    case Node::LoadLocal: return "%" + std::to_string(N.Id);
    case Node::LoadSlot: return slotName(N.Id);
    case Node::LoadElem: return args(N, ("elem " + slotName(N.Id)).c_str());
    case Node::Input: return "in";
    case Node::LoadOut: return "out";
    case Node::Frames: return "frames";
    case Node::Unary: return args(N, N.UOp == UnOp::Neg ? "neg" : "not");
    case Node::Binary: return args(N, binOpSpelling(N.BOp));
    case Node::Select: return args(N, "?:");
    case Node::Call:
      if (N.Fn == Builtin::Convolve)
        return args(N, ("convolve #" + std::to_string(N.Id)).c_str());
      return args(N, builtinName(N.Fn));
    case Node::Lane: return args(N, "lane");
    case Node::Concat: return args(N, "vector");
    case Node::Tap: return args(N, ("tap " + slotName(N.Id)).c_str());
    case Node::Read: return args(N, ("read " + slotName(N.Id)).c_str());
    case Node::TableElem:
      return args(N, ("table-elem " + tableName(N.Id)).c_str());
    case Node::TableRead:
      return args(N, (std::string(N.Wrap ? "table-wrap " : "table-read ") +
                      tableName(N.Id) + (N.Cubic ? " cubic" : " linear"))
                         .c_str());
    }
    return "?";
  }

  std::string target(const Op &O) const {
    switch (O.Target) {
    case Op::LocalTarget: return "%" + std::to_string(O.Id);
    case Op::SlotTarget: return slotName(O.Id);
    case Op::OutTarget: return "out";
    }
    return "?";
  }

  void section(const char *Name, const OpList &Ops) {
    Out += std::string("(") + Name;
    ops(Ops, 1);
    Out += ")\n";
  }

  void ops(const OpList &Ops, int Indent) {
    for (const OpPtr &O : Ops) {
      Out += "\n" + std::string(size_t(Indent) * 2, ' ');
      op(*O, Indent);
    }
  }

  void op(const Op &O, int Indent) {
    std::string Value = O.Value ? " " + node(*O.Value) : "";
    std::string Index = O.Index ? " " + node(*O.Index) : "";
    switch (O.K) {
    case Op::SetLocal:
      Out += "(set %" + std::to_string(O.Id) + Value + ")";
      return;
    case Op::SetSlot: Out += "(set " + slotName(O.Id) + Value + ")"; return;
    case Op::SetElem:
      Out += "(set-elem " + slotName(O.Id) + Index + Value + ")";
      return;
    case Op::SetLane:
      Out += "(set-lane " + target(O) + Index + Value + ")";
      return;
    case Op::SetOut: Out += "(set out" + Value + ")"; return;
    case Op::DelayWrite:
      Out += "(write " + slotName(O.Id) + Value + ")";
      return;
    case Op::Break: Out += "(break)"; return;
    case Op::Return:
      Out += "(return #" + std::to_string(O.Id) + Value + ")";
      return;
    case Op::If:
      Out += "(if" + Value;
      ops(O.Body, Indent + 1);
      if (!O.Else.empty()) {
        Out += "\n" + std::string(size_t(Indent) * 2 + 2, ' ') + "(else";
        ops(O.Else, Indent + 2);
        Out += ")";
      }
      Out += ")";
      return;
    case Op::Loop:
      Out += (O.Oversample ? "(oversample-steps %" : "(for %") +
             std::to_string(O.Id) + " from=" + formatNumber(O.From) +
             " count=" + std::to_string(O.Count);
      ops(O.Body, Indent + 1);
      Out += ")";
      return;
    case Op::Inline:
      Out += "(inline #" + std::to_string(O.Count) + " result=%" +
             std::to_string(O.Id);
      ops(O.Body, Indent + 1);
      Out += ")";
      return;
    }
  }

  const Program &P;
  std::string Out;
};

} // namespace

std::string dumpProgram(const Program &P) { return Dumper(P).run(); }

} // namespace dspjit
