//===- compiler/Checker.cpp - Syntax tree to checked program --------------===//
//
// Two steps. Elaboration walks `block` and `process`, resolving names and
// inlining every call, and produces Ops and Nodes whose widths are not yet
// known. Width inference then runs over the result until no width changes
// (a scalar state widens when a vector is assigned to it), and a last pass
// reports mismatches.
//
//===----------------------------------------------------------------------===//
#include "compiler/Checker.h"
#include "compiler/Widths.h"
#include "runtime/Messages.h"
#include "runtime/dspjit_abi.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

namespace dspjit {

const std::vector<BuiltinInfo> &builtins() {
  static const std::vector<BuiltinInfo> Table = {
      {"sin", Builtin::Sin, 1},     {"cos", Builtin::Cos, 1},
      {"tan", Builtin::Tan, 1},     {"asin", Builtin::Asin, 1},
      {"acos", Builtin::Acos, 1},   {"atan", Builtin::Atan, 1},
      {"atan2", Builtin::Atan2, 2}, {"sinh", Builtin::Sinh, 1},
      {"cosh", Builtin::Cosh, 1},   {"tanh", Builtin::Tanh, 1},
      {"exp", Builtin::Exp, 1},     {"exp2", Builtin::Exp2, 1},
      {"log", Builtin::Log, 1},     {"log2", Builtin::Log2, 1},
      {"log10", Builtin::Log10, 1}, {"pow", Builtin::Pow, 2},
      {"sqrt", Builtin::Sqrt, 1},   {"abs", Builtin::Abs, 1},
      {"floor", Builtin::Floor, 1}, {"ceil", Builtin::Ceil, 1},
      {"round", Builtin::Round, 1}, {"min", Builtin::Min, 2},
      {"max", Builtin::Max, 2},     {"clamp", Builtin::Clamp, 3},
      {"fmod", Builtin::Fmod, 2},   {"sum", Builtin::Sum, 1},
      {"mean", Builtin::Mean, 1},   {"iota", Builtin::Iota, 1},
  };
  return Table;
}

namespace {

constexpr unsigned MaxChannels = 64;
constexpr unsigned MaxLoopCount = 65536;
constexpr unsigned MaxUnrollCount = 4096;
constexpr unsigned MaxArraySize = 1u << 24;
constexpr unsigned MaxDelayFrames = 1u << 26;
constexpr unsigned MaxInlineDepth = 64;
constexpr size_t MaxProgramSize = 250000; // dsl/LANGUAGE.md, limits

/// sum(v) of constants, in the order the generated code adds lanes
/// (CodeGen's sumLanes): a halving tree.
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

const std::set<std::string> ReservedNames = {"in", "out", "sr", "pi", "tau", "frames"};

const BuiltinInfo *findBuiltin(const std::string &Name) {
  for (const BuiltinInfo &B : builtins())
    if (Name == B.Name)
      return &B;
  return nullptr;
}

/// Evaluates a built-in on constant lanes, as the generated code would.
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
    // As CodeGen: max by compare-and-select, then min; NaN gives the lower bound.
    double Lo = A > B ? A : B;
    return Lo < C ? Lo : C;
  }
  case Builtin::Fmod: return std::fmod(A, B);
  case Builtin::Sum: case Builtin::Mean: case Builtin::Iota: break;
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

/// Numbers in messages: short, as a person would write them.
std::string fmtNum(double V) {
  char Buf[32];
  std::snprintf(Buf, sizeof Buf, "%g", V == 0 ? 0.0 : V);
  return Buf;
}

/// What a name means in a scope.
struct Binding {
  enum Kind { LocalVar, ReadOnlyLocal, ConstVal, SlotRef };
  Kind K;
  int Id = -1;
  std::vector<double> Value;
  SourceLoc Loc;
};

using Scope = std::unordered_map<std::string, Binding>;

/// A top-level name.
struct Global {
  const Decl *D = nullptr;
  bool FromStd = false;
  int SlotId = -1;
  enum { Unevaluated, InProgress, Done } ConstState = Unevaluated;
  std::vector<double> Value;
};

/// The function body being elaborated: process, block, or one inlined call.
struct Context {
  std::string Path;
  int InlineId = -1;
  std::vector<Scope> Scopes;
  std::vector<bool> Loops; // true for `unroll`
  std::map<std::string, unsigned> CallCounts;
  bool SawReturn = false;
};

class Checker {
public:
  Checker(const CheckOptions &Options, DiagnosticEngine &Diags)
      : Options(Options), Diags(Diags) {
    P = std::make_unique<Program>();
    P->SampleRate = Options.SampleRate;
    P->DoublePrecision = Options.DoublePrecision;
  }

  std::unique_ptr<Program> run(const std::vector<ModuleRef> &Modules) {
    collect(Modules);
    declareGlobals();
    if (!IoDecl && !Options.AfterSyntaxErrors)
      Diags.report(DiagId::MissingIo, firstLoc(Modules));
    if (!ProcessDecl && !Options.AfterSyntaxErrors)
      Diags.report(DiagId::MissingProcess, firstLoc(Modules));

    Scope BlockScope;
    if (BlockDecl) {
      Context Ctx;
      Ctx.Path = "block";
      Ctx.Scopes.emplace_back();
      elaborateBody(Ctx, BlockDecl->Body, P->Block, /*NewScope=*/false);
      BlockScope = std::move(Ctx.Scopes.front());
    }
    if (ProcessDecl) {
      Context Ctx;
      Ctx.Path = "process";
      Ctx.Scopes.push_back(std::move(BlockScope));
      elaborateBody(Ctx, ProcessDecl->Body, P->Process, /*NewScope=*/true);
    }
    checkUnusedFunctions();
    if (Aborted)
      return std::move(P);

    inferWidths(*P, Diags);
    finalChecks();
    if (!Diags.hasErrors())
      layoutAndLimit();
    return std::move(P);
  }

private:
  // --- Diagnostics ----------------------------------------------------------
  /// Reports unless this is a dry run and the message depends on what the
  /// arguments of a never-called function would be.
  void report(DiagId Id, SourceLoc Loc, std::initializer_list<std::string> Args,
              uint32_t Length = 1) {
    if (Quiet && (Id == DiagId::NotConstant || Id == DiagId::NotScalarConstant ||
                  Id == DiagId::LaneOutOfRange || Id == DiagId::WidthMismatch ||
                  Id == DiagId::DelayLengthRange || Id == DiagId::ArraySizeRange ||
                  Id == DiagId::LoopCountRange || Id == DiagId::NestedLoopCount ||
                  Id == DiagId::NonFiniteConstant ||
                  Id == DiagId::VectorTooWide))
      return;
    Diags.report(Id, Loc, Args, Length);
  }

  static SourceLoc firstLoc(const std::vector<ModuleRef> &Modules) {
    for (auto It = Modules.rbegin(); It != Modules.rend(); ++It)
      if (!It->IsStdLib)
        return {It->M->FileId, 0};
    return {};
  }

  // --- Top-level declarations -----------------------------------------------
  void collect(const std::vector<ModuleRef> &Modules) {
    // The standard library first, so that a script's definitions replace it.
    for (bool Std : {true, false}) {
      for (const ModuleRef &MR : Modules) {
        if (MR.IsStdLib != Std)
          continue;
        for (const DeclPtr &DP : MR.M->Decls)
          collectDecl(*DP, Std);
      }
    }
  }

  void collectDecl(const Decl &D, bool Std) {
    switch (D.K) {
    case Decl::Io:
      if (IoDecl)
        Diags.report(DiagId::DuplicateSection, D.Loc, {"io"}, 2);
      else
        IoDecl = &D;
      return;
    case Decl::Process:
    case Decl::Block: {
      const Decl *&Slot = D.K == Decl::Process ? ProcessDecl : BlockDecl;
      if (Slot)
        Diags.report(DiagId::DuplicateSection, D.Loc, {D.Name}, uint32_t(D.Name.size()));
      else
        Slot = &D;
      return;
    }
    case Decl::Import:
      return;
    default:
      break;
    }
    if (ReservedNames.count(D.Name) || findBuiltin(D.Name)) {
      Diags.report(DiagId::ReservedName, D.Loc, {D.Name}, D.NameLength);
      return;
    }
    auto It = Globals.find(D.Name);
    if (It != Globals.end()) {
      if (It->second.FromStd && !Std) {
        It->second = Global{&D, Std};
        return;
      }
      Diags.report(DiagId::Redefinition, D.Loc, {D.Name}, D.NameLength);
      Diags.report(DiagId::PreviousDefinition, It->second.D->Loc, {D.Name},
                   It->second.D->NameLength);
      return;
    }
    Globals[D.Name] = Global{&D, Std};
    GlobalOrder.push_back(D.Name);
  }

  void declareGlobals() {
    if (IoDecl) {
      auto Channels = [&](double V) -> unsigned {
        if (V < 0 || V > MaxChannels || V != std::floor(V)) {
          Diags.report(DiagId::ChannelCount, IoDecl->Loc,
                       {fmtNum(V), std::to_string(MaxChannels)}, 2);
          return 1;
        }
        return unsigned(V);
      };
      P->Inputs = Channels(IoDecl->Inputs);
      P->Outputs = Channels(IoDecl->Outputs);
      if (P->Inputs == 0 && P->Outputs == 0)
        Diags.report(DiagId::NoChannels, IoDecl->Loc, {}, 2);
    }
    // Parameters first, in source order, so hosts list them as written.
    for (const std::string &Name : GlobalOrder)
      if (Globals[Name].D->K == Decl::Param)
        declareParam(Globals[Name]);
    for (const std::string &Name : GlobalOrder) {
      Global &G = Globals[Name];
      switch (G.D->K) {
      case Decl::State:
      case Decl::Delay:
      case Decl::Meter:
        G.SlotId = declareStorage(*G.D, G.D->Name);
        break;
      case Decl::Const:
        constValue(G);
        break;
      default:
        break;
      }
    }
  }

  /// A scalar compile-time constant, or nullopt after reporting why not.
  std::optional<double> scalarConst(Context &Ctx, const Expr &E, const char *What) {
    NodePtr N = expr(Ctx, E);
    if (!N->isConst()) {
      report(DiagId::NotConstant, E.Loc, {What}, E.Length);
      return std::nullopt;
    }
    if (N->Value.size() != 1) {
      report(DiagId::NotScalarConstant, E.Loc,
             {What, std::to_string(N->Value.size())}, E.Length);
      return std::nullopt;
    }
    if (!std::isfinite(N->Value[0])) {
      report(DiagId::NonFiniteConstant, E.Loc, {What}, E.Length);
      return std::nullopt;
    }
    return N->Value[0];
  }

  void declareParam(Global &G) {
    const Decl &D = *G.D;
    Context Ctx = globalContext();
    Slot S;
    S.K = Slot::Param;
    S.Name = D.Name;
    S.Loc = D.Loc;
    S.Width = 1;
    S.Unit = D.Unit;
    auto Def = scalarConst(Ctx, *D.Init, "a parameter's default");
    auto Min = scalarConst(Ctx, *D.Min, "a parameter's minimum");
    auto Max = scalarConst(Ctx, *D.Max, "a parameter's maximum");
    if (Def && Min && Max) {
      if (*Min > *Max)
        Diags.report(DiagId::ParamRangeEmpty, D.Min->Loc,
                     {D.Name, fmtNum(*Min), fmtNum(*Max)}, D.Min->Length);
      else if (*Def < *Min || *Def > *Max)
        Diags.report(DiagId::ParamDefaultOutOfRange, D.Init->Loc,
                     {fmtNum(*Def), D.Name, fmtNum(*Min), fmtNum(*Max)},
                     D.Init->Length);
      S.Def = *Def;
      S.Min = *Min;
      S.Max = *Max;
    }
    if (D.SmoothOff) {
      S.SmoothSeconds = 0;
    } else if (D.Smooth) {
      if (auto T = scalarConst(Ctx, *D.Smooth, "a smoothing time")) {
        if (*T < 0 || *T > 10)
          Diags.report(DiagId::SmoothRange, D.Smooth->Loc, {fmtNum(*T)},
                       D.Smooth->Length);
        else
          S.SmoothSeconds = *T;
      }
    }
    G.SlotId = int(P->Slots.size());
    P->Slots.push_back(S);
  }

  /// Creates the slot of a state, delay or meter declaration.
  int declareStorage(const Decl &D, const std::string &Path) {
    Context Ctx = globalContext();
    return declareStorageIn(Ctx, D, Path);
  }

  int declareStorageIn(Context &Ctx, const Decl &D, const std::string &Path) {
    Slot S;
    S.Name = Path;
    S.Loc = D.Loc;
    if (D.K == Decl::Meter) {
      S.K = Slot::Meter;
    } else if (D.K == Decl::State) {
      S.K = Slot::State;
      if (D.Size) {
        S.IsArray = true;
        auto N = scalarConst(Ctx, *D.Size, "an array size");
        double Size = N ? std::floor(*N) : 1;
        if (N && (Size < 1 || Size > MaxArraySize)) {
          report(DiagId::ArraySizeRange, D.Size->Loc,
                 {fmtNum(*N), std::to_string(MaxArraySize)}, D.Size->Length);
          Size = 1;
        }
        S.Count = N ? unsigned(std::max(1.0, std::min(Size, double(MaxArraySize)))) : 1;
      }
      NodePtr Init = expr(Ctx, *D.Init);
      if (!Init->isConst()) {
        report(DiagId::NotConstant, D.Init->Loc, {"a state's initial value"}, D.Init->Length);
        S.Init = {0};
      } else {
        S.Init = Init->Value;
      }
      S.Width = unsigned(S.Init.size());
    } else {
      S.K = Slot::Delay;
      auto Len = scalarConst(Ctx, *D.Size, "a delay length");
      double Frames = 1;
      if (Len) {
        double Scale = D.Unit == "s" ? P->SampleRate : D.Unit == "ms" ? P->SampleRate / 1000 : 1;
        Frames = std::ceil(*Len * Scale - 1e-9);
        if (Frames < 1 || Frames > MaxDelayFrames) {
          report(DiagId::DelayLengthRange, D.Size->Loc,
                 {fmtNum(Frames), std::to_string(MaxDelayFrames)}, D.Size->Length);
          Frames = 1;
        }
      }
      S.Length = unsigned(Frames);
    }
    P->Slots.push_back(S);
    return int(P->Slots.size() - 1);
  }

  Context globalContext() {
    Context Ctx;
    Ctx.Path = "";
    Ctx.Scopes.emplace_back();
    return Ctx;
  }

  /// Evaluates a global constant on first use (declarations come in any
  /// order); a cycle is reported as not constant.
  const std::vector<double> &constValue(Global &G) {
    if (G.ConstState == Global::Done)
      return G.Value;
    if (G.ConstState == Global::InProgress) {
      Diags.report(DiagId::NotConstant, G.D->Loc,
                   {"'" + G.D->Name + "' (it refers to itself)"}, G.D->NameLength);
      G.Value = {0};
      G.ConstState = Global::Done;
      return G.Value;
    }
    G.ConstState = Global::InProgress;
    Context Ctx = globalContext();
    NodePtr N = expr(Ctx, *G.D->Init);
    std::vector<double> V = {0};
    if (N->isConst())
      V = N->Value;
    else
      Diags.report(DiagId::NotConstant, G.D->Init->Loc,
                   {"the value of a 'const'"}, G.D->Init->Length);
    // A cycle may have finished this constant already.
    if (G.ConstState != Global::Done) {
      G.Value = V;
      G.ConstState = Global::Done;
    }
    return G.Value;
  }

  // --- Node construction ----------------------------------------------------
  NodePtr node(Node::Kind K, const Expr &E) {
    countSize();
    return std::make_unique<Node>(K, E.Loc, E.Length);
  }

  NodePtr constNode(const Expr &E, std::vector<double> V) {
    NodePtr N = node(Node::Const, E);
    N->Value = std::move(V);
    N->Width = unsigned(N->Value.size());
    return N;
  }

  void countSize() {
    if (++Size > MaxProgramSize && !Aborted) {
      Diags.report(DiagId::ProgramTooLarge, CurrentStmt, {std::to_string(MaxProgramSize)});
      Aborted = true;
    }
  }

  /// Broadcasts constant operands to a common width, or reports.
  bool commonWidth(const std::vector<const std::vector<double> *> &Vals,
                   const Expr &E, const char *OpName, size_t &Width) {
    Width = 1;
    for (const auto *V : Vals) {
      if (V->size() == 1 || V->size() == Width)
        continue;
      if (Width == 1) {
        Width = V->size();
        continue;
      }
      Diags.report(DiagId::WidthMismatch, E.Loc,
             {OpName, std::to_string(Width), std::to_string(V->size())}, E.Length);
      return false;
    }
    return true;
  }

  static double lane(const std::vector<double> &V, size_t I) {
    return V.size() == 1 ? V[0] : V[I];
  }

  /// Folds a node whose operands are all constants. Its errors are reported
  /// even in a dry run: between constants, they hold for every call.
  NodePtr fold(NodePtr N, const Expr &E) {
    for (const NodePtr &A : N->Args)
      if (!A->isConst())
        return N;
    std::vector<const std::vector<double> *> Vals;
    for (const NodePtr &A : N->Args)
      Vals.push_back(&A->Value);
    std::vector<double> Out;
    size_t W = 1;
    switch (N->K) {
    case Node::Unary:
      for (double V : N->Args[0]->Value)
        Out.push_back(N->UOp == UnOp::Neg ? -V : double(V == 0));
      break;
    case Node::Binary:
      if (!commonWidth(Vals, E, binOpSpelling(N->BOp), W))
        return constNode(E, {0});
      for (size_t I = 0; I < W; ++I)
        Out.push_back(evalBinary(N->BOp, lane(*Vals[0], I), lane(*Vals[1], I)));
      break;
    case Node::Select:
      if (!commonWidth(Vals, E, "?:", W))
        return constNode(E, {0});
      for (size_t I = 0; I < W; ++I)
        Out.push_back(lane(*Vals[0], I) != 0 ? lane(*Vals[1], I) : lane(*Vals[2], I));
      break;
    case Node::Call:
      if (N->Fn == Builtin::Sum || N->Fn == Builtin::Mean) {
        double S = sumLanes(*Vals[0]);
        Out.push_back(N->Fn == Builtin::Mean ? S / double(Vals[0]->size()) : S);
        break;
      }
      if (!commonWidth(Vals, E, "a call", W))
        return constNode(E, {0});
      for (size_t I = 0; I < W; ++I)
        Out.push_back(evalBuiltin(N->Fn, lane(*Vals[0], I),
                                  Vals.size() > 1 ? lane(*Vals[1], I) : 0,
                                  Vals.size() > 2 ? lane(*Vals[2], I) : 0));
      break;
    case Node::Lane: {
      const auto &V = *Vals[0];
      if (Vals[1]->size() != 1) {
        Diags.report(DiagId::IndexNotScalar, E.Loc, {std::to_string(Vals[1]->size())}, E.Length);
        return constNode(E, {0});
      }
      double L = (*Vals[1])[0];
      if (L < 0 || L >= double(V.size()) || L != std::floor(L)) {
        Diags.report(DiagId::LaneOutOfRange, E.Loc, {fmtNum(L), std::to_string(V.size())},
               E.Length);
        return constNode(E, {0});
      }
      Out.push_back(V[size_t(L)]);
      break;
    }
    case Node::Concat:
      for (const auto *V : Vals)
        Out.insert(Out.end(), V->begin(), V->end());
      if (Out.size() > MaxWidth) {
        Diags.report(DiagId::VectorTooWide, E.Loc,
               {std::to_string(Out.size()), std::to_string(MaxWidth)}, E.Length);
        Out.resize(MaxWidth);
      }
      break;
    default:
      return N;
    }
    return constNode(E, std::move(Out));
  }

  // --- Names ------------------------------------------------------------------
  const Binding *lookupLocal(Context &Ctx, const std::string &Name) {
    for (auto It = Ctx.Scopes.rbegin(); It != Ctx.Scopes.rend(); ++It) {
      auto F = It->find(Name);
      if (F != It->end())
        return &F->second;
    }
    return nullptr;
  }

  /// Every name visible in a context, for "did you mean".
  std::vector<std::string> visibleNames(Context &Ctx, bool Functions) {
    std::vector<std::string> Names;
    if (!Functions) {
      for (const Scope &S : Ctx.Scopes)
        for (const auto &KV : S)
          Names.push_back(KV.first);
      for (const std::string &R : ReservedNames)
        Names.push_back(R);
    } else {
      for (const BuiltinInfo &B : builtins())
        Names.push_back(B.Name);
    }
    for (const auto &KV : Globals)
      if ((KV.second.D->K == Decl::Fn) == Functions)
        Names.push_back(KV.first);
    return Names;
  }

  static const char *declKindName(Decl::Kind K) {
    switch (K) {
    case Decl::Param: return "parameter";
    case Decl::Const: return "constant";
    case Decl::State: return "state";
    case Decl::Delay: return "delay line";
    case Decl::Meter: return "meter";
    case Decl::Fn: return "function";
    default: return "declaration";
    }
  }

  NodePtr nameExpr(Context &Ctx, const Expr &E) {
    if (const Binding *B = lookupLocal(Ctx, E.Name)) {
      switch (B->K) {
      case Binding::LocalVar:
      case Binding::ReadOnlyLocal: {
        NodePtr N = node(Node::LoadLocal, E);
        N->Id = B->Id;
        return N;
      }
      case Binding::ConstVal:
        return constNode(E, B->Value);
      case Binding::SlotRef:
        return slotExpr(E, B->Id);
      }
    }
    if (E.Name == "in") {
      if (IoDecl && P->Inputs == 0)
        report(DiagId::NoInputs, E.Loc, {std::to_string(P->Outputs)}, E.Length);
      // `block` runs before the frames: there is no input frame to read
      // (and code generation has none to give).
      else if (Ctx.Path == "block" || Ctx.Path.rfind("block/", 0) == 0)
        report(DiagId::InputInBlock, E.Loc, {}, E.Length);
      return node(Node::Input, E);
    }
    if (E.Name == "out") {
      if (IoDecl && P->Outputs == 0)
        report(DiagId::NoOutputs, E.Loc, {std::to_string(P->Inputs)}, E.Length);
      return node(Node::LoadOut, E);
    }
    if (E.Name == "sr")
      return constNode(E, {P->SampleRate});
    if (E.Name == "pi")
      return constNode(E, {M_PI});
    if (E.Name == "tau")
      return constNode(E, {2 * M_PI});
    if (E.Name == "frames")
      return node(Node::Frames, E);
    auto It = Globals.find(E.Name);
    if (It != Globals.end()) {
      Global &G = It->second;
      switch (G.D->K) {
      case Decl::Const:
        return constNode(E, constValue(G));
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
        report(DiagId::NotAValue, E.Loc, {E.Name, declKindName(G.D->K)}, E.Length);
        return constNode(E, {0});
      }
    }
    if (findBuiltin(E.Name)) {
      report(DiagId::NotAValue, E.Loc, {E.Name, "built-in function"}, E.Length);
      return constNode(E, {0});
    }
    std::string Close = closestName(E.Name, visibleNames(Ctx, false));
    if (Close.empty())
      report(DiagId::UnknownName, E.Loc, {E.Name}, E.Length);
    else
      report(DiagId::UnknownNameSuggest, E.Loc, {E.Name, Close}, E.Length);
    return constNode(E, {0});
  }

  NodePtr slotExpr(const Expr &E, int SlotId) {
    const Slot &S = P->Slots[size_t(SlotId)];
    if (S.K == Slot::Delay) {
      report(DiagId::NotAValue, E.Loc,
             {E.Name, "delay line (read it with .tap(n) or .read(t))"}, E.Length);
      return constNode(E, {0});
    }
    if (S.IsArray) {
      report(DiagId::NotAValue, E.Loc, {E.Name, "state array (index it)"}, E.Length);
      return constNode(E, {0});
    }
    NodePtr N = node(Node::LoadSlot, E);
    N->Id = SlotId;
    return N;
  }

  /// The slot a name refers to, if it is one.
  int slotOf(Context &Ctx, const std::string &Name) {
    if (const Binding *B = lookupLocal(Ctx, Name))
      return B->K == Binding::SlotRef ? B->Id : -1;
    auto It = Globals.find(Name);
    if (It != Globals.end())
      return It->second.SlotId;
    return -1;
  }

  // --- Expressions ------------------------------------------------------------
  NodePtr expr(Context &Ctx, const Expr &E) {
    if (Aborted)
      return constNode(E, {0});
    switch (E.K) {
    case Expr::Number:
      return constNode(E, {E.Value});
    case Expr::NameRef:
      return nameExpr(Ctx, E);
    case Expr::Unary: {
      NodePtr N = node(Node::Unary, E);
      N->UOp = E.UOp;
      N->Args.push_back(expr(Ctx, *E.Args[0]));
      return fold(std::move(N), E);
    }
    case Expr::Binary: {
      NodePtr N = node(Node::Binary, E);
      N->BOp = E.BOp;
      N->Args.push_back(expr(Ctx, *E.Args[0]));
      N->Args.push_back(expr(Ctx, *E.Args[1]));
      return fold(std::move(N), E);
    }
    case Expr::Ternary: {
      NodePtr N = node(Node::Select, E);
      for (const ExprPtr &A : E.Args)
        N->Args.push_back(expr(Ctx, *A));
      return fold(std::move(N), E);
    }
    case Expr::Vector: {
      NodePtr N = node(Node::Concat, E);
      for (const ExprPtr &A : E.Args)
        N->Args.push_back(expr(Ctx, *A));
      return fold(std::move(N), E);
    }
    case Expr::Index: {
      const Expr &Base = *E.Args[0];
      int SlotId = Base.K == Expr::NameRef ? slotOf(Ctx, Base.Name) : -1;
      if (SlotId >= 0 && P->Slots[size_t(SlotId)].IsArray) {
        NodePtr N = node(Node::LoadElem, E);
        N->Id = SlotId;
        N->Args.push_back(expr(Ctx, *E.Args[1]));
        return N;
      }
      NodePtr N = node(Node::Lane, E);
      N->Args.push_back(expr(Ctx, Base));
      N->Args.push_back(expr(Ctx, *E.Args[1]));
      return fold(std::move(N), E);
    }
    case Expr::Call:
      return call(Ctx, E, /*WantValue=*/true);
    case Expr::MethodCall:
      return method(Ctx, E, nullptr);
    }
    return constNode(E, {0});
  }

  /// A delay line method. Writes go to `Out` (null where a value is wanted).
  NodePtr method(Context &Ctx, const Expr &E, OpList *Out) {
    int SlotId = slotOf(Ctx, E.Name);
    bool IsDelay = SlotId >= 0 && P->Slots[size_t(SlotId)].K == Slot::Delay;
    if (!IsDelay) {
      if (SlotId < 0 && !lookupLocal(Ctx, E.Name) && !Globals.count(E.Name) &&
          !ReservedNames.count(E.Name)) {
        std::string Close = closestName(E.Name, visibleNames(Ctx, false));
        if (Close.empty())
          report(DiagId::UnknownName, E.Loc, {E.Name}, uint32_t(E.Name.size()));
        else
          report(DiagId::UnknownNameSuggest, E.Loc, {E.Name, Close}, uint32_t(E.Name.size()));
      } else {
        report(DiagId::NotADelay, E.Loc, {E.Name, E.Method}, uint32_t(E.Name.size()));
      }
      return constNode(E, {0});
    }
    bool IsWrite = E.Method == "write";
    if (!IsWrite && E.Method != "read" && E.Method != "tap") {
      report(DiagId::UnknownMethod, E.Loc, {E.Name, E.Method}, E.Length);
      return constNode(E, {0});
    }
    if (E.Args.size() != 1) {
      report(DiagId::ArgCount, E.Loc,
             {E.Name + "." + E.Method, "1", std::to_string(E.Args.size())}, E.Length);
      return constNode(E, {0});
    }
    NodePtr Arg = expr(Ctx, *E.Args[0]);
    if (IsWrite) {
      if (!Out) {
        report(DiagId::CallHasNoValue, E.Loc, {E.Name + ".write"}, E.Length);
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

  NodePtr call(Context &Ctx, const Expr &E, bool WantValue) {
    if (const BuiltinInfo *B = findBuiltin(E.Name)) {
      if (E.Args.size() != B->Args) {
        report(DiagId::ArgCount, E.Loc,
               {E.Name, std::to_string(B->Args), std::to_string(E.Args.size())}, E.Length);
        return constNode(E, {0});
      }
      if (B->Id == Builtin::Iota) {
        auto N = scalarConst(Ctx, *E.Args[0], "the width given to 'iota'");
        if (!N)
          return constNode(E, {0});
        if (*N > MaxWidth) {
          report(DiagId::VectorTooWide, E.Loc, {fmtNum(*N), std::to_string(MaxWidth)},
                 E.Length);
          return constNode(E, {0});
        }
        if (*N < 1 || *N != std::floor(*N)) {
          report(DiagId::IotaWidthRange, E.Loc, {fmtNum(*N), std::to_string(MaxWidth)},
                 E.Length);
          return constNode(E, {0});
        }
        std::vector<double> V;
        for (unsigned I = 0; I < unsigned(*N); ++I)
          V.push_back(I);
        return constNode(E, V);
      }
      NodePtr N = node(Node::Call, E);
      N->Fn = B->Id;
      for (const ExprPtr &A : E.Args)
        N->Args.push_back(expr(Ctx, *A));
      return fold(std::move(N), E);
    }
    auto It = Globals.find(E.Name);
    if (It == Globals.end() || It->second.D->K != Decl::Fn) {
      if (It != Globals.end()) {
        report(DiagId::NotAFunction, E.Loc, {E.Name, declKindName(It->second.D->K)},
               uint32_t(E.Name.size()));
      } else if (lookupLocal(Ctx, E.Name) || ReservedNames.count(E.Name)) {
        report(DiagId::NotAFunction, E.Loc, {E.Name, "value"}, uint32_t(E.Name.size()));
      } else {
        std::string Close = closestName(E.Name, visibleNames(Ctx, true));
        if (Close.empty())
          report(DiagId::UnknownFunction, E.Loc, {E.Name}, uint32_t(E.Name.size()));
        else
          report(DiagId::UnknownFunctionSuggest, E.Loc, {E.Name, Close},
                 uint32_t(E.Name.size()));
      }
      for (const ExprPtr &A : E.Args) // still check the arguments
        expr(Ctx, *A);
      return constNode(E, {0});
    }
    return inlineCall(Ctx, E, *It->second.D, WantValue);
  }

  /// Inlines a script function at this call site: its arguments become
  /// read-only locals (or constants), its `state` and `delay` declarations
  /// new slots named by the call-site path.
  NodePtr inlineCall(Context &Ctx, const Expr &E, const Decl &Fn, bool WantValue) {
    if (E.Args.size() != Fn.FnParams.size()) {
      report(DiagId::ArgCount, E.Loc,
             {E.Name, std::to_string(Fn.FnParams.size()), std::to_string(E.Args.size())},
             E.Length);
      return constNode(E, {0});
    }
    if (std::find(ActiveFns.begin(), ActiveFns.end(), &Fn) != ActiveFns.end()) {
      report(DiagId::Recursion, E.Loc, {E.Name}, uint32_t(E.Name.size()));
      return constNode(E, {0});
    }
    if (ActiveFns.size() >= MaxInlineDepth) {
      report(DiagId::InlineTooDeep, E.Loc, {std::to_string(MaxInlineDepth)},
             uint32_t(E.Name.size()));
      return constNode(E, {0});
    }
    UsedFns.insert(&Fn);

    auto Inline = op(Op::Inline, E);
    int Result = newLocal(E.Name + " result");
    Inline->Id = Result;
    int InlineId = int(P->NumInlines++);
    Inline->Count = unsigned(InlineId);

    Context Callee;
    unsigned Ordinal = ++Ctx.CallCounts[E.Name];
    Callee.Path = (Ctx.Path.empty() ? "" : Ctx.Path + "/") + E.Name + "#" +
                  std::to_string(Ordinal);
    Callee.InlineId = InlineId;
    Callee.Scopes.emplace_back();
    for (size_t I = 0; I < E.Args.size(); ++I) {
      NodePtr Arg = expr(Ctx, *E.Args[I]);
      Binding B;
      B.Loc = Fn.FnParamLocs[I];
      if (Arg->isConst()) {
        B.K = Binding::ConstVal;
        B.Value = Arg->Value;
      } else {
        B.K = Binding::ReadOnlyLocal;
        B.Id = newLocal(Fn.FnParams[I]);
        auto Set = op(Op::SetLocal, *E.Args[I]);
        Set->Id = B.Id;
        Set->Value = std::move(Arg);
        CurrentOut->push_back(std::move(Set));
      }
      if (!Callee.Scopes.back().emplace(Fn.FnParams[I], B).second)
        report(DiagId::Redefinition, Fn.FnParamLocs[I], {Fn.FnParams[I]},
               uint32_t(Fn.FnParams[I].size()));
    }

    ActiveFns.push_back(&Fn);
    OpList *SavedOut = CurrentOut;
    elaborateBody(Callee, Fn.Body, Inline->Body, /*NewScope=*/false);
    CurrentOut = SavedOut;
    ActiveFns.pop_back();
    CurrentOut->push_back(std::move(Inline));

    if (WantValue && !Callee.SawReturn && !hasReturn(Fn.Body)) {
      report(DiagId::CallHasNoValue, E.Loc, {E.Name}, uint32_t(E.Name.size()));
    }
    NodePtr N = node(Node::LoadLocal, E);
    N->Id = Result;
    return N;
  }

  static bool hasReturn(const StmtList &Body) {
    for (const StmtPtr &S : Body) {
      if (S->K == Stmt::Return)
        return true;
      if (hasReturn(S->Body) || hasReturn(S->Else))
        return true;
    }
    return false;
  }

  int newLocal(const std::string &Name) {
    P->Locals.push_back({Name, 0});
    return int(P->Locals.size() - 1);
  }

  OpPtr op(Op::Kind K, const Expr &E) {
    countSize();
    auto O = std::make_unique<Op>(K, E.Loc);
    O->Length = E.Length;
    return O;
  }
  OpPtr op(Op::Kind K, const Stmt &S) {
    countSize();
    return std::make_unique<Op>(K, S.Loc);
  }

  // --- Statements -------------------------------------------------------------
  void elaborateBody(Context &Ctx, const StmtList &Body, OpList &Out, bool NewScope) {
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

  void bind(Context &Ctx, const std::string &Name, Binding B, uint32_t Length) {
    Scope &S = Ctx.Scopes.back();
    auto It = S.find(Name);
    if (It != S.end()) {
      report(DiagId::Redefinition, B.Loc, {Name}, Length);
      report(DiagId::PreviousDefinition, It->second.Loc, {Name}, Length);
      return;
    }
    if (ReservedNames.count(Name) || findBuiltin(Name)) {
      report(DiagId::ReservedName, B.Loc, {Name}, Length);
      return;
    }
    S.emplace(Name, std::move(B));
  }

  void statement(Context &Ctx, const Stmt &S) {
    CurrentStmt = S.Loc;
    OpList &Out = *CurrentOut;
    switch (S.K) {
    case Stmt::Let: {
      NodePtr V = expr(Ctx, *S.Value);
      Binding B;
      B.K = Binding::LocalVar;
      B.Id = newLocal(S.Name);
      B.Loc = S.Loc;
      auto O = op(Op::SetLocal, S);
      O->Id = B.Id;
      O->Value = std::move(V);
      Out.push_back(std::move(O));
      bind(Ctx, S.Name, std::move(B), uint32_t(S.Name.size()));
      return;
    }
    case Stmt::Assign:
      assign(Ctx, S);
      return;
    case Stmt::If: {
      auto O = op(Op::If, S);
      O->Value = expr(Ctx, *S.Value);
      elaborateBody(Ctx, S.Body, O->Body, true);
      elaborateBody(Ctx, S.Else, O->Else, true);
      Out.push_back(std::move(O));
      return;
    }
    case Stmt::For:
    case Stmt::Unroll:
      loop(Ctx, S);
      return;
    case Stmt::Break:
      if (Ctx.Loops.empty())
        report(DiagId::BreakOutsideLoop, S.Loc, {}, 5);
      else if (Ctx.Loops.back())
        report(DiagId::BreakInUnroll, S.Loc, {}, 5);
      else
        Out.push_back(op(Op::Break, S));
      return;
    case Stmt::Return: {
      NodePtr V = expr(Ctx, *S.Value);
      if (Ctx.InlineId < 0) {
        report(DiagId::ReturnOutsideFunction, S.Loc, {}, 6);
        return;
      }
      Ctx.SawReturn = true;
      auto O = op(Op::Return, S);
      O->Id = Ctx.InlineId;
      O->Value = std::move(V);
      Out.push_back(std::move(O));
      return;
    }
    case Stmt::ExprStmt: {
      const Expr &E = *S.Value;
      if (E.K == Expr::Call) {
        call(Ctx, E, /*WantValue=*/false);
      } else if (E.K == Expr::MethodCall) {
        method(Ctx, E, &Out);
      } else {
        expr(Ctx, E); // checked, then dropped: it has no effect
      }
      return;
    }
    case Stmt::LocalDecl: {
      const Decl &D = *S.Local;
      std::string Path = (Ctx.Path.empty() ? "" : Ctx.Path + "/") + D.Name;
      // Sibling blocks may each declare their own `state s`; hosts find
      // slots by name, so the second one is `s#2`.
      if (unsigned N = ++LocalSlotNames[Path]; N > 1)
        Path += "#" + std::to_string(N);
      Binding B;
      B.K = Binding::SlotRef;
      B.Id = declareStorageIn(Ctx, D, Path);
      B.Loc = D.Loc;
      bind(Ctx, D.Name, std::move(B), D.NameLength);
      return;
    }
    }
  }

  void loop(Context &Ctx, const Stmt &S) {
    bool Unroll = S.K == Stmt::Unroll;
    auto From = scalarConst(Ctx, *S.From, "a loop's start");
    auto To = scalarConst(Ctx, *S.Value, "a loop's end");
    unsigned Limit = Unroll ? MaxUnrollCount : MaxLoopCount;
    double Count = From && To ? std::ceil(*To - *From) : 1;
    if (From && To && (Count < 1 || Count > Limit)) {
      report(DiagId::LoopCountRange, S.From->Loc,
             {fmtNum(Count), std::to_string(Limit)}, 1);
      Count = 1;
    }
    double Start = From ? *From : 0;
    // A `for` inside a `for` runs its body the product of their counts
    // each frame: each loop within its limit is not enough.
    double SavedIterations = LoopIterations;
    if (!Unroll) {
      if (LoopIterations * Count > MaxLoopCount) {
        // Both factors are at most MaxLoopCount: the product is exact.
        report(DiagId::NestedLoopCount, S.From->Loc,
               {std::to_string(uint64_t(LoopIterations * Count)),
                std::to_string(MaxLoopCount)}, 1);
        // Loops inside this one are counted from here, so that one error
        // is reported per nest.
        Count = 1;
        LoopIterations = 1;
      }
      LoopIterations *= Count;
    }
    Ctx.Loops.push_back(Unroll);
    if (Unroll) {
      std::string SavedPath = Ctx.Path;
      for (unsigned I = 0; I < unsigned(Count) && !Aborted; ++I) {
        double V = Start + I;
        Ctx.Path = (SavedPath.empty() ? "" : SavedPath + "/") + S.Name + "=" + fmtNum(V);
        Ctx.Scopes.emplace_back();
        Binding B;
        B.K = Binding::ConstVal;
        B.Value = {V};
        B.Loc = S.Loc;
        bind(Ctx, S.Name, std::move(B), uint32_t(S.Name.size()));
        size_t SizeBefore = Size;
        elaborateBody(Ctx, S.Body, *CurrentOut, true);
        // A copy that generates nothing still costs time to elaborate, so
        // it counts as one operation: nested unrolls of empty (or
        // erroneous) bodies once ran for minutes without reaching the size
        // limit (4096^3 copies).
        if (Size == SizeBefore)
          countSize();
        Ctx.Scopes.pop_back();
      }
      Ctx.Path = SavedPath;
    } else {
      auto O = op(Op::Loop, S);
      O->Count = unsigned(Count);
      O->From = Start;
      O->Id = newLocal(S.Name);
      P->Locals[size_t(O->Id)].Width = 1;
      Ctx.Scopes.emplace_back();
      Binding B;
      B.K = Binding::ReadOnlyLocal;
      B.Id = O->Id;
      B.Loc = S.Loc;
      bind(Ctx, S.Name, std::move(B), uint32_t(S.Name.size()));
      elaborateBody(Ctx, S.Body, O->Body, true);
      Ctx.Scopes.pop_back();
      CurrentOut->push_back(std::move(O));
    }
    Ctx.Loops.pop_back();
    LoopIterations = SavedIterations;
  }

  void assign(Context &Ctx, const Stmt &S) {
    const Expr &T = *S.Target;
    const Expr &NameE = T.K == Expr::Index ? *T.Args[0] : T;
    NodePtr Value = expr(Ctx, *S.Value);
    auto Compound = [&](NodePtr Current) {
      if (!S.Compound)
        return std::move(Value);
      NodePtr N = node(Node::Binary, *S.Target);
      N->BOp = S.CompoundOp;
      N->Args.push_back(std::move(Current));
      N->Args.push_back(std::move(Value));
      return fold(std::move(N), *S.Target);
    };
    if (NameE.K != Expr::NameRef) {
      report(DiagId::NotAssignable, T.Loc, {}, T.Length);
      return;
    }
    const std::string &Name = NameE.Name;

    // Work out what is assigned: a local, a slot, or `out`.
    Op::TargetKind Kind;
    int Id = -1;
    const char *ReadOnlyWhy = nullptr;
    if (const Binding *B = lookupLocal(Ctx, Name)) {
      if (B->K == Binding::LocalVar) {
        Kind = Op::LocalTarget;
        Id = B->Id;
      } else if (B->K == Binding::SlotRef) {
        Kind = Op::SlotTarget;
        Id = B->Id;
      } else if (B->K == Binding::ReadOnlyLocal) {
        ReadOnlyWhy = "function parameters and loop variables are read-only; copy it with 'let'";
      } else {
        ReadOnlyWhy = "it is a compile-time constant";
      }
    } else if (Name == "out") {
      Kind = Op::OutTarget;
      if (IoDecl && P->Outputs == 0) {
        report(DiagId::NoOutputs, NameE.Loc, {std::to_string(P->Inputs)}, NameE.Length);
        return;
      }
    } else if (Name == "in") {
      ReadOnlyWhy = "the input is read-only; copy it with 'let'";
    } else if (ReservedNames.count(Name)) {
      ReadOnlyWhy = "it is a built-in constant";
    } else if (auto It = Globals.find(Name); It != Globals.end()) {
      switch (It->second.D->K) {
      case Decl::State:
      case Decl::Meter:
        Kind = Op::SlotTarget;
        Id = It->second.SlotId;
        break;
      case Decl::Param:
        ReadOnlyWhy = "parameters are set by the host; use a 'let' or a 'state'";
        break;
      case Decl::Const:
        ReadOnlyWhy = "it is a compile-time constant";
        break;
      case Decl::Delay:
        ReadOnlyWhy = "it is a delay line; use its write method";
        break;
      default:
        ReadOnlyWhy = "it is a function";
        break;
      }
    } else {
      report(DiagId::AssignToUnknown, NameE.Loc, {Name}, NameE.Length);
      return;
    }
    if (ReadOnlyWhy) {
      report(DiagId::AssignToReadOnly, NameE.Loc, {Name, ReadOnlyWhy}, NameE.Length);
      return;
    }
    if (Kind == Op::SlotTarget) {
      if (Id < 0)
        return;
      const Slot &Sl = P->Slots[size_t(Id)];
      if (Sl.K == Slot::Delay) {
        report(DiagId::AssignToReadOnly, NameE.Loc,
               {Name, "it is a delay line; use its write method"}, NameE.Length);
        return;
      }
      if (Sl.K == Slot::Param) {
        report(DiagId::AssignToReadOnly, NameE.Loc,
               {Name, "parameters are set by the host; use a 'let' or a 'state'"},
               NameE.Length);
        return;
      }
      if (Sl.IsArray) {
        if (T.K != Expr::Index) {
          report(DiagId::NotAValue, NameE.Loc, {Name, "state array (index it)"}, NameE.Length);
          return;
        }
        auto O = op(Op::SetElem, S);
        O->Id = Id;
        O->Index = expr(Ctx, *T.Args[1]);
        NodePtr Current = node(Node::LoadElem, T);
        Current->Id = Id;
        Current->Args.push_back(expr(Ctx, *T.Args[1]));
        O->Value = Compound(std::move(Current));
        CurrentOut->push_back(std::move(O));
        return;
      }
    }
    // Plain assignment, or of one lane.
    auto Load = [&]() -> NodePtr {
      NodePtr N = node(Kind == Op::LocalTarget  ? Node::LoadLocal
                       : Kind == Op::SlotTarget ? Node::LoadSlot
                                                : Node::LoadOut,
                       NameE);
      N->Id = Id;
      return N;
    };
    if (T.K == Expr::Index) {
      auto O = op(Op::SetLane, S);
      O->Target = Kind;
      O->Id = Id;
      O->Index = expr(Ctx, *T.Args[1]);
      NodePtr Current = node(Node::Lane, T);
      Current->Args.push_back(Load());
      Current->Args.push_back(expr(Ctx, *T.Args[1]));
      O->Value = Compound(std::move(Current));
      CurrentOut->push_back(std::move(O));
      return;
    }
    auto O = op(Kind == Op::LocalTarget  ? Op::SetLocal
                : Kind == Op::SlotTarget ? Op::SetSlot
                                         : Op::SetOut,
                S);
    O->Id = Id;
    O->Value = Compound(Load());
    CurrentOut->push_back(std::move(O));
  }

  /// Elaborates the functions of the script that nothing calls, so that their
  /// errors are reported too. Their parameters' values are unknown, so errors
  /// that depend on them are not reported, and everything made is dropped.
  void checkUnusedFunctions() {
    for (const std::string &Name : GlobalOrder) {
      Global &G = Globals[Name];
      if (G.FromStd || G.D->K != Decl::Fn || UsedFns.count(G.D) || Aborted)
        continue;
      size_t NumSlots = P->Slots.size(), NumLocals = P->Locals.size();
      unsigned NumInlines = P->NumInlines;
      Quiet = true;
      Context Ctx;
      Ctx.Path = Name;
      Ctx.InlineId = 0;
      Ctx.Scopes.emplace_back();
      for (size_t I = 0; I < G.D->FnParams.size(); ++I) {
        Binding B;
        B.K = Binding::ReadOnlyLocal;
        B.Id = newLocal(G.D->FnParams[I]);
        B.Loc = G.D->FnParamLocs[I];
        P->Locals[size_t(B.Id)].UnknownWidth = true;
        bind(Ctx, G.D->FnParams[I], std::move(B), uint32_t(G.D->FnParams[I].size()));
      }
      ActiveFns.push_back(G.D);
      OpList Scratch;
      elaborateBody(Ctx, G.D->Body, Scratch, false);
      ActiveFns.pop_back();
      Quiet = false;
      // Its returns need an Inline around them to belong to.
      auto Wrapper = std::make_unique<Op>(Op::Inline, G.D->Loc);
      Wrapper->Id = newLocal(Name + " result");
      Wrapper->Body = std::move(Scratch);
      OpList Outer;
      Outer.push_back(std::move(Wrapper));
      if (!Aborted)
        inferWidthsOf(*P, Outer, Diags);
      P->Slots.resize(NumSlots);
      P->Locals.resize(NumLocals);
      P->NumInlines = NumInlines;
    }
  }

  void finalChecks() {
    for (Slot &S : P->Slots) {
      if (S.Width == 0) {
        // After a syntax error the write may be in the statement that
        // failed to parse: say nothing rather than something false.
        if (S.K == Slot::Delay && DelaysRead.count(&S - P->Slots.data()) &&
            !Options.AfterSyntaxErrors)
          report(DiagId::DelayNeverWritten, S.Loc, {S.Name}, 1);
        S.Width = 1;
      }
    }
    for (Local &L : P->Locals)
      L.Width = std::max(1u, L.Width);
    if (ProcessDecl && P->Outputs > 0 && !Options.AfterSyntaxErrors &&
        !assignsOut(P->Process) && !assignsOut(P->Block))
      report(DiagId::OutNotAssigned, ProcessDecl->Loc, {std::to_string(P->Outputs)}, 7);
  }

  bool assignsOut(const OpList &Ops) {
    for (const OpPtr &O : Ops) {
      if (O->K == Op::SetOut || (O->K == Op::SetLane && O->Target == Op::OutTarget))
        return true;
      if (assignsOut(O->Body) || assignsOut(O->Else))
        return true;
    }
    return false;
  }

  void layoutAndLimit() {
    layoutInstance(*P);
    if (P->InstanceSize > MaxInstanceBytes) {
      const Slot *Biggest = &P->Slots.front();
      uint64_t BiggestBytes = 0;
      for (const Slot &S : P->Slots) {
        uint64_t Bytes = uint64_t(S.K == Slot::Delay ? S.Capacity : S.Count) * S.Width;
        if (Bytes > BiggestBytes) {
          BiggestBytes = Bytes;
          Biggest = &S;
        }
      }
      report(DiagId::InstanceTooLarge, Biggest->Loc,
             {std::to_string(P->InstanceSize), std::to_string(MaxInstanceBytes)}, 1);
    }
  }

  const CheckOptions &Options;
  DiagnosticEngine &Diags;
  std::unique_ptr<Program> P;
  const Decl *IoDecl = nullptr, *ProcessDecl = nullptr, *BlockDecl = nullptr;
  std::unordered_map<std::string, Global> Globals;
  std::vector<std::string> GlobalOrder;
  std::vector<const Decl *> ActiveFns;
  std::set<const Decl *> UsedFns;
  std::set<ptrdiff_t> DelaysRead;
  std::map<std::string, unsigned> LocalSlotNames;
  OpList *CurrentOut = nullptr;
  SourceLoc CurrentStmt;
  size_t Size = 0;
  /// How many times the body being elaborated runs per frame (or per
  /// callback in `block`): the product of the enclosing `for` counts.
  double LoopIterations = 1;
  bool Aborted = false, Quiet = false;
};

} // namespace

void layoutInstance(Program &P) {
  uint64_t ElemSize = P.DoublePrecision ? 8 : 4;
  uint64_t Offset = sizeof(DspjitInstanceHeader);
  auto Align = [&](uint64_t A) { Offset = (Offset + A - 1) / A * A; };
  for (Slot &S : P.Slots) {
    switch (S.K) {
    case Slot::Param:
      S.Offset = uint32_t(Offset);
      S.ValueOffset = uint32_t(Offset + 4);
      Offset += 8;
      break;
    case Slot::Meter:
      S.Offset = uint32_t(Offset);
      Offset += 4 * uint64_t(S.Width);
      break;
    case Slot::State:
      Align(ElemSize);
      S.Offset = uint32_t(std::min<uint64_t>(Offset, UINT32_MAX));
      Offset += ElemSize * S.Width * S.Count;
      break;
    case Slot::Delay:
      S.ValueOffset = uint32_t(std::min<uint64_t>(Offset, UINT32_MAX));
      Offset += 4;
      break;
    }
  }
  // Delay buffers last, each on its own cache line. Their sizes are powers
  // of two and every line advances one frame at a time, so if they all
  // started on the same 4 KiB boundary, each frame's reads and writes would
  // fall in one L1 set and evict each other (Freeverb's 24 lines ran 1.7x
  // slower for it). Each buffer starts a different number of lines in.
  unsigned DelayIndex = 0;
  for (Slot &S : P.Slots) {
    if (S.K != Slot::Delay)
      continue;
    uint64_t Cap = 1;
    while (Cap < uint64_t(S.Length) + 2)
      Cap <<= 1;
    S.Capacity = uint32_t(Cap);
    Align(InstanceAlign);
    Offset += (uint64_t(DelayIndex++) * 37 % 64) * InstanceAlign;
    S.Offset = uint32_t(std::min<uint64_t>(Offset, UINT32_MAX));
    Offset += Cap * S.Width * ElemSize;
  }
  Align(InstanceAlign);
  P.InstanceSize = Offset;
}

std::unique_ptr<Program> check(const std::vector<ModuleRef> &Modules,
                               const CheckOptions &Options, DiagnosticEngine &Diags) {
  return Checker(Options, Diags).run(Modules);
}

} // namespace dspjit
