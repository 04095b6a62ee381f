//===- compiler/AST.h - The syntax tree of a script -----------------------===//
//
// What the parser produces: a faithful tree of the source, names unresolved
// and widths unknown. The checker (Checker.h) turns it into a Program.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_AST_H
#define DSPJIT_COMPILER_AST_H

#include "compiler/Diagnostics.h"

#include <memory>
#include <string>
#include <vector>

namespace dspjit {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

enum class BinOp { Add, Sub, Mul, Div, Mod, Eq, Ne, Lt, Le, Gt, Ge, And, Or };
enum class UnOp { Neg, Not };

const char *binOpSpelling(BinOp Op);

struct Expr {
  enum Kind {
    Number,
    NameRef,
    Unary,
    Binary,
    Ternary,
    Call,
    MethodCall,
    Index,
    Vector
  };
  Kind K;
  SourceLoc Loc;
  uint32_t Length = 1; // source bytes, for carets
  double Value = 0;    // Number
  std::string Name;    // Name, Call (callee), Method (object)
  std::string Method;  // Method
  BinOp BOp = BinOp::Add;
  UnOp UOp = UnOp::Neg;
  /// MethodCall written without parentheses (`t.len`).
  bool Property = false;
  std::vector<ExprPtr> Args; // operands, call arguments, vector elements,
                             // Index: {base, index}, Ternary: {c, a, b}
  explicit Expr(Kind K, SourceLoc Loc) : K(K), Loc(Loc) {}
};

/// A declaration. `param`, `const` and `meter` appear at the top level only;
/// `state` and `delay` also inside function bodies (Stmt::LocalDecl).
///
/// The fields mean, by kind (a field not listed is unused):
///   Io       Inputs, Outputs: the channel counts as written.
///   Param    Name; Init = default; Min, Max = range; Unit ("hz", "s", "ms",
///            "db", "%" or empty); Smooth = smoothing time in seconds (null:
///            the default), SmoothOff for `nosmooth`; Midi = the mapping
///            (`midi cc 74 ch 2`, DspjitSlot::midi's encoding, 0: none).
///   Voices   Inputs = the number of voices as written.
///   Const    Name; Init = value.
///   State    Name; Init = initial value; Size = element count for arrays
///            (null: not an array).
///   Delay    Name; Size = length; Unit = its time unit ("s", "ms", or empty
///            for frames).
///   Table    Name; Size = element count and Init = the value of element
///            `i` (`table t[N] = EXPR;`), or Path = a sound file and
///            Resample (`table t = file "x.wav" resample;`).
///   Meter    Name.
///   Fn       Name; FnParams, FnParamLocs, FnDefaults; Body.
///   Import   Path (empty when the lexer reported the string unclosed).
///   Block, Process   Name ("block" or "process"); Body.
struct Decl {
  enum Kind {
    Io,
    Voices,
    Param,
    Const,
    State,
    Delay,
    Table,
    Meter,
    Fn,
    Import,
    Block,
    Process
  };
  Kind K;
  SourceLoc Loc;
  std::string Name;
  uint32_t NameLength = 1;
  double Inputs = 0, Outputs = 0;
  ExprPtr Init, Min, Max, Size;
  std::string Unit;
  ExprPtr Smooth;
  bool SmoothOff = false;
  uint32_t Midi = 0;
  std::vector<std::string> FnParams;
  std::vector<SourceLoc> FnParamLocs;
  /// The default value of each parameter (null: none); those with one come
  /// last, so a call gives between requiredParams() and all of them.
  std::vector<ExprPtr> FnDefaults;
  const Expr *defaultOf(size_t Param) const {
    return Param < FnDefaults.size() ? FnDefaults[Param].get() : nullptr;
  }
  size_t requiredParams() const {
    size_t N = 0;
    while (N < FnParams.size() && !defaultOf(N))
      ++N;
    return N;
  }
  StmtList Body;
  std::string Path;
  bool Resample = false;
};
using DeclPtr = std::unique_ptr<Decl>;

struct Stmt {
  enum Kind {
    Let,
    Assign,
    If,
    For,
    Unroll,
    Break,
    Return,
    ExprStmt,
    LocalDecl,
    Oversample
  };
  Kind K;
  SourceLoc Loc;
  std::string Name; // Let, For/Unroll loop variable
  ExprPtr Target;   // Assign: a Name or an Index expression
  BinOp CompoundOp = BinOp::Add;
  bool Compound = false; // `+=` and friends
  ExprPtr Value;         // Let, Assign, Return, ExprStmt, If condition,
                         // For/Unroll count, Oversample factor
  ExprPtr From;          // For/Unroll lower bound
  StmtList Body, Else;   // If, For/Unroll
  DeclPtr Local;         // LocalDecl: state or delay inside a body
  /// Oversample: Value = the factor, Body; `lowlatency` written after it.
  bool LowLatency = false;
  explicit Stmt(Kind K, SourceLoc Loc) : K(K), Loc(Loc) {}
};

/// One parsed file.
struct ParsedFile {
  uint32_t FileId = 0;
  std::vector<DeclPtr> Decls;
};

/// Renders the tree for `dspjit emit --emit=ast`.
std::string dumpAst(const ParsedFile &M);

} // namespace dspjit

#endif
