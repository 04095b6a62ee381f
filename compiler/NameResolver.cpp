//===- compiler/NameResolver.cpp - What each name of a script means -------===//
//
// Why: see NameResolver.h. One table of top-level names, scopes for the
// rest, and the candidates "did you mean" chooses from.
//
//===----------------------------------------------------------------------===//
#include "compiler/NameResolver.h"
#include "runtime/Messages.h"

#include <set>

namespace dspjit {

const std::vector<BuiltinInfo> &builtins() {
  static const std::vector<BuiltinInfo> Table = {
      {"sin", Builtin::Sin, 1},           {"cos", Builtin::Cos, 1},
      {"tan", Builtin::Tan, 1},           {"asin", Builtin::Asin, 1},
      {"acos", Builtin::Acos, 1},         {"atan", Builtin::Atan, 1},
      {"atan2", Builtin::Atan2, 2},       {"sinh", Builtin::Sinh, 1},
      {"cosh", Builtin::Cosh, 1},         {"tanh", Builtin::Tanh, 1},
      {"exp", Builtin::Exp, 1},           {"exp2", Builtin::Exp2, 1},
      {"log", Builtin::Log, 1},           {"log2", Builtin::Log2, 1},
      {"log10", Builtin::Log10, 1},       {"pow", Builtin::Pow, 2},
      {"sqrt", Builtin::Sqrt, 1},         {"abs", Builtin::Abs, 1},
      {"floor", Builtin::Floor, 1},       {"ceil", Builtin::Ceil, 1},
      {"round", Builtin::Round, 1},       {"min", Builtin::Min, 2},
      {"max", Builtin::Max, 2},           {"clamp", Builtin::Clamp, 3},
      {"fmod", Builtin::Fmod, 2},         {"sum", Builtin::Sum, 1},
      {"mean", Builtin::Mean, 1},         {"iota", Builtin::Iota, 1},
      {"voicemix", Builtin::Voicemix, 1}, {"convolve", Builtin::Convolve, 2},
  };
  return Table;
}

namespace {
const std::set<std::string> ReservedNames = {"in",  "out",    "sr",  "pi",
                                             "tau", "frames", "note"};
} // namespace

bool isReservedName(const std::string &Name) {
  return ReservedNames.count(Name) != 0;
}

const BuiltinInfo *findBuiltin(const std::string &Name) {
  for (const BuiltinInfo &B : builtins())
    if (Name == B.Name)
      return &B;
  return nullptr;
}

const char *declKindName(Decl::Kind K) {
  switch (K) {
  case Decl::Param: return "parameter";
  case Decl::Const: return "constant";
  case Decl::State: return "state";
  case Decl::Delay: return "delay line";
  case Decl::Table: return "table";
  case Decl::Meter: return "meter";
  case Decl::Fn: return "function";
  default: return "declaration";
  }
}

void NameResolver::collect(const std::vector<ModuleRef> &Modules) {
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

void NameResolver::collectDecl(const Decl &D, bool Std) {
  switch (D.K) {
  case Decl::Io:
  case Decl::Voices: {
    const Decl *&Section = D.K == Decl::Io ? IoDecl : VoicesDecl;
    if (Section)
      Diags.report(DiagId::DuplicateSection, D.Loc,
                   {D.K == Decl::Io ? "io" : "voices"},
                   D.K == Decl::Io ? 2 : 6);
    else
      Section = &D;
    return;
  }
  case Decl::Process:
  case Decl::Block: {
    const Decl *&Section = D.K == Decl::Process ? ProcessDecl : BlockDecl;
    if (Section)
      Diags.report(DiagId::DuplicateSection, D.Loc, {D.Name},
                   uint32_t(D.Name.size()));
    else
      Section = &D;
    return;
  }
  case Decl::Import: return;
  default: break;
  }
  if (isReservedName(D.Name) || findBuiltin(D.Name)) {
    Diags.report(DiagId::ReservedName, D.Loc, {D.Name}, D.NameLength);
    return;
  }
  auto It = Globals.find(D.Name);
  if (It != Globals.end()) {
    if (It->second.FromStd && !Std) {
      It->second = Global{};
      It->second.D = &D;
      return;
    }
    Diags.report(DiagId::Redefinition, D.Loc, {D.Name}, D.NameLength);
    Diags.report(DiagId::PreviousDefinition, It->second.D->Loc, {D.Name},
                 It->second.D->NameLength);
    return;
  }
  Global G;
  G.D = &D;
  G.FromStd = Std;
  Globals[D.Name] = std::move(G);
  GlobalOrder.push_back(D.Name);
}

Global *NameResolver::global(const std::string &Name) {
  auto It = Globals.find(Name);
  return It == Globals.end() ? nullptr : &It->second;
}

const Binding *NameResolver::lookupLocal(const Context &Ctx,
                                         const std::string &Name) {
  for (auto It = Ctx.Scopes.rbegin(); It != Ctx.Scopes.rend(); ++It) {
    auto F = It->find(Name);
    if (F != It->end())
      return &F->second;
  }
  return nullptr;
}

int NameResolver::slotOf(const Context &Ctx, const std::string &Name) {
  if (const Binding *B = lookupLocal(Ctx, Name))
    return B->K == Binding::SlotRef ? B->Id : -1;
  if (const Global *G = global(Name))
    return G->SlotId;
  return -1;
}

bool NameResolver::isKnown(const Context &Ctx, const std::string &Name) const {
  return lookupLocal(Ctx, Name) || Globals.count(Name) || isReservedName(Name);
}

std::vector<std::string> NameResolver::visibleNames(const Context &Ctx,
                                                    bool Functions) const {
  std::vector<std::string> Names;
  if (!Functions) {
    for (const Scope &S : Ctx.Scopes)
      for (const auto &KV : S)
        Names.push_back(KV.first);
    for (const std::string &R : ReservedNames)
      if (R != "note") // not a value itself: `note.freq` is
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

std::string NameResolver::suggest(const Context &Ctx, const std::string &Name,
                                  bool Functions) const {
  return closestName(Name, visibleNames(Ctx, Functions));
}

void NameResolver::bind(Context &Ctx, const std::string &Name, Binding B,
                        uint32_t Length) {
  Scope &S = Ctx.Scopes.back();
  auto It = S.find(Name);
  if (It != S.end()) {
    Diags.report(DiagId::Redefinition, B.Loc, {Name}, Length);
    Diags.report(DiagId::PreviousDefinition, It->second.Loc, {Name}, Length);
    return;
  }
  if (isReservedName(Name) || findBuiltin(Name)) {
    Diags.report(DiagId::ReservedName, B.Loc, {Name}, Length);
    return;
  }
  S.emplace(Name, std::move(B));
}

} // namespace dspjit
