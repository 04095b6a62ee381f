//===- compiler/ElaborateTables.cpp - Tables and per-element values -------===//
//
// Why this file exists: the part of the elaborator (Elaborator.h) that
// gives `table` declarations and their reads their meaning, and that
// evaluates initial values written with the element index `i`. A table is
// read-only data known at compile time: its elements are evaluated here,
// through the same folding as every constant (ConstantFolder), or loaded
// from a sound file (TableFiles.h), and code generation compiles them into
// the kernel as constant data.
//
//===----------------------------------------------------------------------===//
#include "compiler/ConstantFolder.h"
#include "compiler/Elaborator.h"
#include "compiler/InstanceLayout.h"
#include "compiler/TableFiles.h"
#include "runtime/Messages.h"

#include <algorithm>
#include <filesystem>

namespace dspjit {

bool usesElementIndex(const Expr &E) {
  if (E.K == Expr::NameRef && E.Name == "i")
    return true;
  return std::any_of(E.Args.begin(), E.Args.end(),
                     [](const ExprPtr &A) { return usesElementIndex(*A); });
}

/// Evaluates `Init` once per element with `i` bound to the element's index
/// (once in all when it does not use `i`): Count x Width values, or nullopt
/// after reporting why not. The evaluation does not count towards the
/// program's size: nothing of it is left in the program.
std::optional<std::vector<double>>
Elaborator::elementValues(Context &Ctx, const Expr &Init, unsigned Count,
                          unsigned &Width, const std::string &Name) {
  const bool UsesIndex = usesElementIndex(Init);
  const unsigned Evaluations = UsesIndex ? Count : 1;
  const size_t SavedSize = Size;
  OpList Scratch; // where a call would put its body (it is not constant)
  OpList *SavedOut = CurrentOut;
  CurrentOut = &Scratch;
  const unsigned Errors = R.engine().errorCount();
  std::vector<double> Values;
  std::optional<std::vector<double>> Result;
  for (unsigned E = 0; E < Evaluations; ++E) {
    Ctx.Scopes.emplace_back();
    if (UsesIndex) {
      Binding B;
      B.K = Binding::ConstVal;
      B.Value = {double(E)};
      B.Loc = Init.Loc;
      Ctx.Scopes.back().emplace("i", std::move(B));
    }
    NodePtr V = expr(Ctx, Init);
    Ctx.Scopes.pop_back();
    Size = SavedSize;
    if (R.engine().errorCount() != Errors)
      break;
    if (!V->isConst()) {
      R.report(DiagId::TableElementNotConstant, Init.Loc, {Name}, Init.Length);
      break;
    }
    if (E == 0) {
      Width = unsigned(V->Value.size());
      // Past the memory limit, the other elements are not evaluated (the
      // caller reports it).
      if (uint64_t(Count) * Width * (P.DoublePrecision ? 8 : 4) >
          MaxInstanceBytes)
        break;
      Values.reserve(size_t(Width) * Count);
    } else if (V->Value.size() != Width) {
      R.report(DiagId::TableElementWidth, Init.Loc,
               {Name, std::to_string(E), std::to_string(V->Value.size()),
                std::to_string(Width)},
               Init.Length);
      break;
    }
    Values.insert(Values.end(), V->Value.begin(), V->Value.end());
    if (E + 1 == Evaluations)
      Result = std::move(Values);
  }
  CurrentOut = SavedOut;
  if (Result && !UsesIndex) // every element alike
    for (unsigned E = 1; E < Count; ++E)
      Result->insert(Result->end(), Result->begin(), Result->begin() + Width);
  return Result;
}

/// `state x[N] = [a, b, ...]` with as many lanes as elements usually means
/// one lane per element, which is `[a, b, ...][i]`: say so here, where the
/// width mismatch it causes later would not.
void Elaborator::warnVectorInit(const Decl &D, const Slot &S) {
  if (S.Count < 2 || S.Init.size() != S.Count ||
      std::all_of(
          S.Init.begin(), S.Init.end(),
          [&](double V) { return V == S.Init[0]; }))
    return;
  R.report(DiagId::StateArrayInitVector, D.Init->Loc,
           {D.Name, std::to_string(S.Count)}, D.Init->Length);
}

/// The table a top-level name declares, declared on first use (tables may
/// be used above their declaration, `t.len` in a constant included); -1
/// for a table that refers to itself.
int Elaborator::tableOf(Global &G) {
  if (G.ConstState == Global::Done)
    return G.TableId;
  if (G.ConstState == Global::InProgress) {
    R.engine().report(DiagId::NotConstant, G.D->Loc,
                      {"'" + G.D->Name + "' (it refers to itself)"},
                      G.D->NameLength);
    return -1;
  }
  G.ConstState = Global::InProgress;
  Table T;
  T.Name = G.D->Name;
  T.Loc = G.D->Loc;
  T.NameLength = G.D->NameLength;
  declareTable(*G.D, T);
  uint64_t Bytes = uint64_t(T.Data.size()) * (P.DoublePrecision ? 8 : 4);
  uint64_t Total = Bytes;
  for (const Table &Other : P.Tables)
    Total += uint64_t(Other.Data.size()) * (P.DoublePrecision ? 8 : 4);
  if (Total > MaxInstanceBytes) {
    R.engine().report(
        DiagId::TableTooLarge, T.Loc,
        {T.Name, std::to_string(Bytes), std::to_string(MaxInstanceBytes)},
        T.NameLength);
    T.Data.assign(size_t(T.Width), 0);
    T.Count = 1;
  }
  G.TableId = int(P.Tables.size());
  P.Tables.push_back(std::move(T));
  G.ConstState = Global::Done;
  return G.TableId;
}

void Elaborator::declareTable(const Decl &D, Table &T) {
  if (!D.Size) {
    loadTable(D, T);
    return;
  }
  Context Ctx = globalContext();
  T.Count =
      arraySize(scalarConst(Ctx, *D.Size, "a table's length"), *D.Size, R);
  unsigned W = 1;
  auto V = elementValues(Ctx, *D.Init, T.Count, W, D.Name);
  if (uint64_t Bytes = uint64_t(T.Count) * W * (P.DoublePrecision ? 8 : 4);
      Bytes > MaxInstanceBytes) {
    R.engine().report(
        DiagId::TableTooLarge, T.Loc,
        {T.Name, std::to_string(Bytes), std::to_string(MaxInstanceBytes)},
        T.NameLength);
    T.Count = 1;
  }
  T.Width = W;
  T.Data = V ? std::move(*V) : std::vector<double>(size_t(T.Count) * W);
}

/// `table t = file "x.wav";`: relative to the declaring file's directory.
void Elaborator::loadTable(const Decl &D, Table &T) {
  namespace fs = std::filesystem;
  T.Data = {0};
  if (D.Path.empty()) // the lexer reported the unclosed string
    return;
  fs::path Dir =
      fs::path(R.engine().sources().file(D.Loc.File).Path).parent_path();
  fs::path Path =
      fs::path(D.Path).is_absolute() ? fs::path(D.Path) : Dir / D.Path;
  T.File = Path.string();
  P.TableFiles.push_back(T.File);
  const unsigned ElemBytes = P.DoublePrecision ? 8 : 4;
  TableFileResult F = loadTableFile(T.File, D.Resample, P.SampleRate, MaxWidth,
                                    MaxInstanceBytes, ElemBytes);
  const uint32_t Length = uint32_t(D.NameLength);
  switch (F.Problem) {
  case TableFileProblem::None: break;
  case TableFileProblem::Unreadable:
    R.engine().report(DiagId::TableFileUnreadable, D.Loc,
                      {D.Name, D.Path, F.Why}, Length);
    return;
  case TableFileProblem::Empty:
    R.engine().report(DiagId::TableFileEmpty, D.Loc, {D.Name, D.Path}, Length);
    return;
  case TableFileProblem::TooManyChannels:
    R.engine().report(DiagId::TableFileChannels, D.Loc,
                      {D.Name, D.Path, std::to_string(F.File.Channels),
                       std::to_string(MaxWidth)},
                      Length);
    return;
  case TableFileProblem::TooLarge:
    R.engine().report(
        DiagId::TableTooLarge, D.Loc,
        {D.Name, std::to_string(F.Bytes), std::to_string(MaxInstanceBytes)},
        Length);
    return;
  }
  T.Width = F.File.Channels;
  T.Count = unsigned(F.File.Frames);
  T.FileRate = F.File.FileRate;
  T.Resampled = F.File.Resampled;
  T.Data = std::move(F.File.Data);
}

/// The table a name means here (a local of the same name hides it), or -1.
int Elaborator::tableNamed(Context &Ctx, const std::string &Name) {
  if (NameResolver::lookupLocal(Ctx, Name))
    return -1;
  Global *G = Names.global(Name);
  if (!G || G->D->K != Decl::Table)
    return -1;
  return tableOf(*G);
}

/// `t[k]`: element k, truncated and clamped.
NodePtr Elaborator::tableIndex(Context &Ctx, const Expr &E, int TableId) {
  NodePtr N = node(Node::TableElem, E);
  N->Id = TableId;
  N->Args.push_back(expr(Ctx, *E.Args[1]));
  return N;
}

/// `t.read(x)`, `t.wrap(x)` (each with an optional `linear` or `cubic`)
/// and `t.len`.
NodePtr Elaborator::tableMethod(Context &Ctx, const Expr &E, int TableId) {
  const Table &T = P.Tables[size_t(TableId)];
  const std::string Full = E.Name + "." + E.Method;
  if (E.Method == "len") {
    if (!E.Property && !E.Args.empty())
      R.report(DiagId::ArgCount, E.Loc,
               {Full, "0", std::to_string(E.Args.size())}, E.Length);
    return constNode(E, {double(T.Count)});
  }
  if (E.Method != "read" && E.Method != "wrap") {
    R.report(DiagId::UnknownTableMethod, E.Loc, {E.Name, E.Method}, E.Length);
    return constNode(E, {0});
  }
  if (E.Args.empty() || E.Args.size() > 2) {
    R.report(DiagId::ArgCount, E.Loc,
             {Full, "1 or 2", std::to_string(E.Args.size())}, E.Length);
    return constNode(E, {0});
  }
  bool Cubic = false;
  if (E.Args.size() == 2) {
    const Expr &Mode = *E.Args[1];
    bool Word = Mode.K == Expr::NameRef &&
                (Mode.Name == "cubic" || Mode.Name == "linear");
    if (!Word) {
      R.report(DiagId::TableInterpolation, Mode.Loc, {E.Name, E.Method},
               Mode.Length);
      return constNode(E, {0});
    }
    Cubic = Mode.Name == "cubic";
  }
  NodePtr N = node(Node::TableRead, E);
  N->Id = TableId;
  N->Cubic = Cubic;
  N->Wrap = E.Method == "wrap";
  N->Args.push_back(expr(Ctx, *E.Args[0]));
  return N;
}

} // namespace dspjit
