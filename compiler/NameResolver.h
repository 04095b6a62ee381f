//===- compiler/NameResolver.h - What each name of a script means ---------===//
//
// Why this pass exists: a name in a script can mean a local, a function
// parameter, an unrolled loop's constant, a top-level declaration, a
// standard-library definition that the script replaces, a built-in constant
// (`sr`, `pi`) or a math function. One place decides, before and during
// elaboration, so that every pass agrees on it and "did you mean" sees
// every candidate.
//
// collect() is the pass proper: it gathers the top-level declarations of
// every module (the standard library first, so that a script's own replace
// it) and reports duplicates and reserved names. The lookups are what the
// elaborator asks while it walks bodies.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_NAMERESOLVER_H
#define DSPJIT_COMPILER_NAMERESOLVER_H

#include "compiler/Checker.h"

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace dspjit {

/// What a name means in a scope.
struct Binding {
  enum Kind {
    LocalVar,      // Id: a local that `=` may assign
    ReadOnlyLocal, // Id: a function parameter or `for` counter
    ConstVal,      // Value: a constant argument or unrolled counter
    SlotRef,       // Id: a slot (`state` or `delay` inside a body)
  };
  Kind K = LocalVar;
  int Id = -1;
  std::vector<double> Value;
  SourceLoc Loc;
};

using Scope = std::unordered_map<std::string, Binding>;

/// A top-level name.
struct Global {
  enum EvalState { Unevaluated, InProgress, Done };
  const Decl *D = nullptr;
  bool FromStd = false;
  int SlotId = -1;                    // param, state, delay, meter
  EvalState ConstState = Unevaluated; // const, table
  int TableId = -1;                   // table, once declared
  std::vector<double> Value;          // const, once Done
};

/// The function body being elaborated: process, block, or one inlined call.
struct Context {
  /// The call-site path that names the slots declared here
  /// ("process/onepole#2"); empty at the top level.
  std::string Path;
  int InlineId = -1; // the enclosing Inline op, -1 outside functions
  std::vector<Scope> Scopes;
  std::vector<bool> Loops; // true for `unroll`
  std::map<std::string, unsigned> CallCounts;
  bool SawReturn = false;

  /// `Path/Name`, or `Name` at the top level.
  std::string childPath(const std::string &Name) const {
    return Path.empty() ? Name : Path + "/" + Name;
  }
  /// In `block` or a function it calls: no input frame exists there.
  bool inBlock() const {
    return Path == "block" || Path.rfind("block/", 0) == 0;
  }
};

/// `in`, `out`, `sr`, `pi`, `tau`, `frames`.
bool isReservedName(const std::string &Name);
/// The math built-in of this name, or null.
const BuiltinInfo *findBuiltin(const std::string &Name);
/// "parameter", "state", ... for messages.
const char *declKindName(Decl::Kind K);

class NameResolver {
public:
  explicit NameResolver(DiagnosticEngine &Diags) : Diags(Diags) {}

  /// Gathers every module's top-level declarations.
  void collect(const std::vector<ModuleRef> &Modules);

  const Decl *io() const { return IoDecl; }
  const Decl *voices() const { return VoicesDecl; }
  const Decl *process() const { return ProcessDecl; }
  const Decl *block() const { return BlockDecl; }
  /// Top-level names in the order they were first declared.
  const std::vector<std::string> &globalOrder() const { return GlobalOrder; }
  /// The top-level declaration of this name, or null.
  Global *global(const std::string &Name);

  /// The innermost local binding of a name, or null.
  static const Binding *lookupLocal(const Context &Ctx,
                                    const std::string &Name);
  /// The slot a name refers to, or -1.
  int slotOf(const Context &Ctx, const std::string &Name);
  /// Whether the name means anything at all as a value.
  bool isKnown(const Context &Ctx, const std::string &Name) const;
  /// The closest visible name, for "did you mean"; empty if none is close.
  std::string suggest(const Context &Ctx, const std::string &Name,
                      bool Functions) const;

  /// Adds a binding to the innermost scope, or reports why it cannot be.
  void bind(Context &Ctx, const std::string &Name, Binding B, uint32_t Length);

private:
  void collectDecl(const Decl &D, bool Std);
  std::vector<std::string> visibleNames(const Context &Ctx,
                                        bool Functions) const;

  DiagnosticEngine &Diags;
  const Decl *IoDecl = nullptr, *VoicesDecl = nullptr, *ProcessDecl = nullptr,
             *BlockDecl = nullptr;
  std::unordered_map<std::string, Global> Globals;
  std::vector<std::string> GlobalOrder;
};

} // namespace dspjit

#endif
