//===- compiler/Elaborator.h - Bodies to Ops and Nodes --------------------===//
//
// Why this pass exists: it is the walk that turns the syntax of `block`,
// `process` and the functions they call into the checked program's Ops and
// Nodes, asking the other passes as it goes: NameResolver what a name means,
// ConstantFolder for the value of constant operations, Inliner to expand
// calls and `unroll`, StorageLimits whether a size is allowed. Widths are
// left open (Widths.h settles them afterwards).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_ELABORATOR_H
#define DSPJIT_COMPILER_ELABORATOR_H

#include "compiler/CheckReporter.h"
#include "compiler/Inliner.h"
#include "compiler/NameResolver.h"
#include "compiler/StorageLimits.h"

#include <optional>
#include <set>

namespace dspjit {

/// Whether an initial value uses `i`, the element index of a table or of
/// a state array (`state x[N] = i / N;`).
bool usesElementIndex(const Expr &E);

class Elaborator {
public:
  Elaborator(Program &P, const CheckOptions &Options, NameResolver &Names,
             CheckReporter &R)
      : P(P), Options(Options), Names(Names), R(R), Calls(*this, Names) {}

  /// Channels, parameters, top-level storage and constants.
  void declareGlobals();
  /// Elaborates `Body` into `Out`, in a new scope or the context's own.
  void elaborateBody(Context &Ctx, const StmtList &Body, OpList &Out,
                     bool NewScope);

  NodePtr expr(Context &Ctx, const Expr &E);
  /// A scalar compile-time constant, or nullopt after reporting why not.
  std::optional<double> scalarConst(Context &Ctx, const Expr &E,
                                    const char *What);

  // Building the program (each counts towards MaxProgramSize).
  NodePtr node(Node::Kind K, const Expr &E);
  NodePtr constNode(const Expr &E, std::vector<double> V);
  NodePtr constNodeAt(SourceLoc Loc, uint32_t Length, std::vector<double> V);
  OpPtr op(Op::Kind K, const Expr &E);
  OpPtr op(Op::Kind K, const Stmt &S);
  int newLocal(const std::string &Name);
  void countSize();
  size_t size() const { return Size; }
  /// The program grew over MaxProgramSize: everything stops.
  bool aborted() const { return Aborted; }
  /// `note.NAME`: the note slot's value (an error without `voices`).
  NodePtr noteField(const Expr &E);
  /// `voicemix(x)`, which also writes `voice.peak`.
  NodePtr voicemix(Context &Ctx, const Expr &E);
  /// The construct that ops built from now on were expanded from
  /// (Op::Origin): an `unroll` replaces a call or nothing, a call replaces
  /// nothing. Returns what to restore when the construct ends.
  struct OriginMark {
    SourceLoc Loc;
    uint32_t Length = 0;
    unsigned Copies = 0;
  };
  OriginMark enterOrigin(SourceLoc Loc, uint32_t Length, unsigned Copies);
  void leaveOrigin(OriginMark Saved) { Origin = Saved; }
  /// Where the ops being elaborated go.
  OpList &out() { return *CurrentOut; }

  Program &program() { return P; }
  CheckReporter &reporter() { return R; }
  Inliner &inliner() { return Calls; }
  /// From here on, locals belong to `process` (before: to `block`, whose
  /// values an `oversample` block holds rather than filters).
  void startProcess() { ProcessLocalsFrom = int(P.Locals.size()); }
  /// The delays something reads (those never written are reported).
  const std::set<ptrdiff_t> &delaysRead() const { return DelaysRead; }

private:
  void declareParam(Global &G);
  int declareStorage(Context &Ctx, const Decl &D, const std::string &Path);
  void declareState(Context &Ctx, const Decl &D, Slot &S);
  // Tables and per-element initial values (ElaborateTables.cpp).
  int tableOf(Global &G);
  void declareTable(const Decl &D, Table &T);
  void loadTable(const Decl &D, Table &T);
  std::optional<std::vector<double>>
  elementValues(Context &Ctx, const Expr &Init, unsigned Count, unsigned &Width,
                const std::string &Name);
  void warnVectorInit(const Decl &D, const Slot &S);
  int tableNamed(Context &Ctx, const std::string &Name);
  NodePtr tableIndex(Context &Ctx, const Expr &E, int TableId);
  NodePtr tableMethod(Context &Ctx, const Expr &E, int TableId);
  const std::vector<double> &constValue(Global &G);
  Context globalContext();

  NodePtr fold(NodePtr N);
  void noteFoldedMistake(const Node &N, const std::vector<double> &V);
  NodePtr nameExpr(Context &Ctx, const Expr &E);
  NodePtr reservedExpr(Context &Ctx, const Expr &E);
  NodePtr globalExpr(Global &G, const Expr &E);
  NodePtr unknownName(Context &Ctx, const Expr &E);
  NodePtr slotExpr(const Expr &E, int SlotId);
  NodePtr indexExpr(Context &Ctx, const Expr &E);
  NodePtr operatorExpr(Context &Ctx, const Expr &E, Node::Kind K);
  NodePtr method(Context &Ctx, const Expr &E, OpList *Out);
  NodePtr call(Context &Ctx, const Expr &E, bool WantValue);
  NodePtr builtinCall(Context &Ctx, const Expr &E, const BuiltinInfo &B);
  NodePtr iota(Context &Ctx, const Expr &E);
  void notAFunction(Context &Ctx, const Expr &E, const Global *G);

  void statement(Context &Ctx, const Stmt &S);
  void let(Context &Ctx, const Stmt &S);
  void returnStmt(Context &Ctx, const Stmt &S);
  void localDecl(Context &Ctx, const Stmt &S);
  void loop(Context &Ctx, const Stmt &S);
  /// `convolve(x, ir)` (Convolutions.cpp).
  NodePtr convolve(Context &Ctx, const Expr &E);
  /// `oversample N { }` (Oversample.cpp).
  void oversample(Context &Ctx, const Stmt &S);
  void forLoop(Context &Ctx, const Stmt &S, unsigned Count, double Start);

  /// What an assignment assigns: a local, a slot, or `out`.
  struct AssignTarget {
    Op::TargetKind Kind = Op::LocalTarget;
    int Id = -1;
    const char *ReadOnlyWhy = nullptr;
    bool Valid = true; // false: reported already
  };
  AssignTarget assignTarget(Context &Ctx, const Expr &NameE);
  AssignTarget globalTarget(const Global &G);
  void assign(Context &Ctx, const Stmt &S);
  bool checkSlotTarget(const Expr &NameE, int Id);
  NodePtr compound(const Stmt &S, NodePtr Current, NodePtr Value);

  Program &P;
  const CheckOptions &Options;
  /// Inside a `const` or a compile-time size or bound: folds use double
  /// (ConstantFolder.h, FoldArith).
  unsigned DoubleFolds = 0;
  NameResolver &Names;
  CheckReporter &R;
  Inliner Calls;
  std::set<ptrdiff_t> DelaysRead;
  /// Slots declared inside bodies, by path, to name siblings apart.
  std::map<std::string, unsigned> LocalSlotNames;
  LoopNest Loops;
  OpList *CurrentOut = nullptr;
  SourceLoc CurrentStmt;
  OriginMark Origin;
  size_t Size = 0;
  bool Aborted = false;
  /// Inside `oversample` blocks: the product of their factors, what `sr`
  /// and delay lengths in seconds are multiplied by.
  unsigned RateFactor = 1;
  int ProcessLocalsFrom = 0;
  /// `voice.peak`, made at the first voicemix() (-1 before).
  int VoicePeakSlot = -1;
};

} // namespace dspjit

#endif
