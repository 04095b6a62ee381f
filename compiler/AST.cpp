//===- compiler/AST.cpp - Printing the syntax tree ------------------------===//
#include "compiler/AST.h"
#include "runtime/Messages.h"

#include <cstdio>

namespace dspjit {

static void dumpExpr(const Expr &E, std::string &Out) {
  switch (E.K) {
  case Expr::Number: Out += formatNumber(E.Value); return;
  case Expr::NameRef: Out += E.Name; return;
  case Expr::Unary:
    Out += E.UOp == UnOp::Neg ? "(neg " : "(not ";
    dumpExpr(*E.Args[0], Out);
    Out += ")";
    return;
  case Expr::Binary:
    Out += std::string("(") + binOpSpelling(E.BOp) + " ";
    dumpExpr(*E.Args[0], Out);
    Out += " ";
    dumpExpr(*E.Args[1], Out);
    Out += ")";
    return;
  case Expr::Ternary:
  case Expr::Call:
  case Expr::MethodCall:
  case Expr::Index:
  case Expr::Vector: {
    Out += "(";
    Out += E.K == Expr::Ternary      ? std::string("?:")
           : E.K == Expr::Call       ? "call " + E.Name
           : E.K == Expr::MethodCall ? "method " + E.Name + "." + E.Method
           : E.K == Expr::Index      ? "index"
                                     : "vector";
    for (const ExprPtr &A : E.Args) {
      Out += " ";
      dumpExpr(*A, Out);
    }
    Out += ")";
    return;
  }
  }
}

static void dumpStmts(const StmtList &Body, int Indent, std::string &Out);

static void dumpDecl(const Decl &D, int Indent, std::string &Out) {
  std::string Pad(size_t(Indent) * 2, ' ');
  auto Opt = [&](const char *Label, const ExprPtr &E) {
    if (!E)
      return;
    Out += std::string(" ") + Label + "=";
    dumpExpr(*E, Out);
  };
  switch (D.K) {
  case Decl::Io:
    Out += Pad + "(io " + formatNumber(D.Inputs) + " " +
           formatNumber(D.Outputs) + ")\n";
    return;
  case Decl::Voices:
    Out += Pad + "(voices " + formatNumber(D.Inputs) + ")\n";
    return;
  case Decl::Import: Out += Pad + "(import \"" + D.Path + "\")\n"; return;
  case Decl::Param:
  case Decl::Const:
  case Decl::State:
  case Decl::Delay:
  case Decl::Meter: {
    const char *Kind = D.K == Decl::Param   ? "param"
                       : D.K == Decl::Const ? "const"
                       : D.K == Decl::State ? "state"
                       : D.K == Decl::Delay ? "delay"
                                            : "meter";
    Out += Pad + "(" + Kind + " " + D.Name;
    Opt("init", D.Init);
    Opt("min", D.Min);
    Opt("max", D.Max);
    Opt("size", D.Size);
    if (!D.Unit.empty())
      Out += " unit=" + D.Unit;
    Opt("smooth", D.Smooth);
    if (D.Midi)
      Out += " midi=" + std::to_string(D.Midi);
    if (D.SmoothOff)
      Out += " nosmooth";
    Out += ")\n";
    return;
  }
  case Decl::Table:
    Out += Pad + "(table " + D.Name;
    Opt("size", D.Size);
    Opt("init", D.Init);
    if (!D.Path.empty())
      Out += " file=\"" + D.Path + "\"" + (D.Resample ? " resample" : "");
    Out += ")\n";
    return;
  case Decl::Fn: {
    Out += Pad + "(fn " + D.Name + " (";
    for (size_t I = 0; I < D.FnParams.size(); ++I) {
      Out += (I ? " " : "") + D.FnParams[I];
      if (I < D.FnDefaults.size() && D.FnDefaults[I]) {
        Out += "=";
        dumpExpr(*D.FnDefaults[I], Out);
      }
    }
    Out += ")\n";
    dumpStmts(D.Body, Indent + 1, Out);
    Out += Pad + ")\n";
    return;
  }
  case Decl::Block:
  case Decl::Process:
    Out += Pad + "(" + D.Name + "\n";
    dumpStmts(D.Body, Indent + 1, Out);
    Out += Pad + ")\n";
    return;
  }
}

static void dumpStmts(const StmtList &Body, int Indent, std::string &Out) {
  std::string Pad(size_t(Indent) * 2, ' ');
  for (const StmtPtr &SP : Body) {
    const Stmt &S = *SP;
    switch (S.K) {
    case Stmt::Let:
      Out += Pad + "(let " + S.Name + " ";
      dumpExpr(*S.Value, Out);
      Out += ")\n";
      break;
    case Stmt::Assign:
      Out +=
          Pad + "(" +
          (S.Compound ? std::string(binOpSpelling(S.CompoundOp)) + "=" : "=") +
          " ";
      dumpExpr(*S.Target, Out);
      Out += " ";
      dumpExpr(*S.Value, Out);
      Out += ")\n";
      break;
    case Stmt::If:
      Out += Pad + "(if ";
      dumpExpr(*S.Value, Out);
      Out += "\n";
      dumpStmts(S.Body, Indent + 1, Out);
      if (!S.Else.empty()) {
        Out += Pad + " else\n";
        dumpStmts(S.Else, Indent + 1, Out);
      }
      Out += Pad + ")\n";
      break;
    case Stmt::For:
    case Stmt::Unroll:
      Out += Pad + (S.K == Stmt::For ? "(for " : "(unroll ") + S.Name + " ";
      dumpExpr(*S.From, Out);
      Out += "..";
      dumpExpr(*S.Value, Out);
      Out += "\n";
      dumpStmts(S.Body, Indent + 1, Out);
      Out += Pad + ")\n";
      break;
    case Stmt::Break: Out += Pad + "(break)\n"; break;
    case Stmt::Return:
      Out += Pad + "(return ";
      dumpExpr(*S.Value, Out);
      Out += ")\n";
      break;
    case Stmt::ExprStmt:
      Out += Pad;
      dumpExpr(*S.Value, Out);
      Out += "\n";
      break;
    case Stmt::LocalDecl: dumpDecl(*S.Local, Indent, Out); break;
    case Stmt::Oversample:
      Out += Pad + "(oversample ";
      dumpExpr(*S.Value, Out);
      Out += S.LowLatency ? " lowlatency\n" : "\n";
      dumpStmts(S.Body, Indent + 1, Out);
      Out += Pad + ")\n";
      break;
    }
  }
}

std::string dumpAst(const ParsedFile &M) {
  std::string Out;
  for (const DeclPtr &D : M.Decls)
    dumpDecl(*D, 0, Out);
  return Out;
}

} // namespace dspjit
