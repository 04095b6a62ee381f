//===- compiler/Parser.cpp - Tokens to syntax tree ------------------------===//
#include "compiler/Parser.h"
#include "runtime/dspjit_abi.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>

namespace dspjit {

const char *binOpSpelling(BinOp Op) {
  switch (Op) {
  case BinOp::Add: return "+";
  case BinOp::Sub: return "-";
  case BinOp::Mul: return "*";
  case BinOp::Div: return "/";
  case BinOp::Mod: return "%";
  case BinOp::Eq: return "==";
  case BinOp::Ne: return "!=";
  case BinOp::Lt: return "<";
  case BinOp::Le: return "<=";
  case BinOp::Gt: return ">";
  case BinOp::Ge: return ">=";
  case BinOp::And: return "&&";
  case BinOp::Or: return "||";
  }
  return "?";
}

namespace {

/// Thrown only inside the parser to unwind to the nearest recovery point;
/// never escapes parse().
struct SyntaxError {};

class Parser {
public:
  Parser(uint32_t FileId, const std::vector<Token> &Toks,
         DiagnosticEngine &Diags)
      : Toks(Toks), Diags(Diags) {
    M.FileId = FileId;
  }

  /// file ::= decl*
  ParsedFile run() {
    while (!at(Tok::Eof)) {
      if (TooDeep)
        break;
      size_t Start = Pos;
      try {
        if (DeclPtr D = declaration())
          M.Decls.push_back(std::move(D));
      } catch (SyntaxError &) {
        syncToDecl(Start);
      }
    }
    return std::move(M);
  }

private:
  // --- Token access -------------------------------------------------------
  const Token &tok() const { return Toks[Pos]; }
  const Token &peekTok(size_t N = 1) const {
    return Toks[std::min(Pos + N, Toks.size() - 1)];
  }
  bool at(Tok K) const { return tok().Kind == K; }
  bool atIdent(std::string_view Text) const {
    return at(Tok::Ident) && tok().Text == Text;
  }
  const Token &advance() {
    const Token &T = Toks[Pos];
    if (Pos + 1 < Toks.size())
      ++Pos;
    return T;
  }
  bool accept(Tok K) {
    if (!at(K))
      return false;
    advance();
    return true;
  }

  std::string describe(const Token &T) const {
    if (T.Kind == Tok::Ident)
      return "'" + std::string(T.Text) + "'";
    if (T.Kind == Tok::Number)
      return "number '" + std::string(T.Text) + "'";
    return tokName(T.Kind);
  }

  /// Reports a syntax error at the current token and unwinds to the nearest
  /// recovery point (not runtime/Result.h's fail(), which makes a value).
  [[noreturn]] void syntaxError(DiagId Id,
                                std::initializer_list<std::string> Args) {
    Diags.report(Id, tok().Loc, Args,
                 uint32_t(std::max<size_t>(tok().Text.size(), 1)));
    throw SyntaxError();
  }

  const Token &expect(Tok K, const char *What = nullptr) {
    if (at(K))
      return advance();
    // A missing ';' is best shown right after what it should follow.
    if (K == Tok::Semi && Pos > 0) {
      const Token &Prev = Toks[Pos - 1];
      Diags.report(
          DiagId::Expected,
          {Prev.Loc.File, uint32_t(Prev.Loc.Offset + Prev.Text.size())},
          {"';'", describe(tok())});
      throw SyntaxError();
    }
    syntaxError(DiagId::Expected, {What ? What : tokName(K), describe(tok())});
  }

  std::string expectIdent(const char *What) {
    if (!at(Tok::Ident))
      syntaxError(DiagId::Expected, {What, describe(tok())});
    return std::string(advance().Text);
  }

  // --- Recovery -----------------------------------------------------------
  static bool startsDecl(Tok K) {
    switch (K) {
    case Tok::KwIo:
    case Tok::KwParam:
    case Tok::KwConst:
    case Tok::KwState:
    case Tok::KwDelay:
    case Tok::KwTable:
    case Tok::KwMeter:
    case Tok::KwFn:
    case Tok::KwImport:
    case Tok::KwBlock:
    case Tok::KwProcess: return true;
    default: return false;
    }
  }

  static bool startsStmt(Tok K) {
    switch (K) {
    case Tok::KwLet:
    case Tok::KwIf:
    case Tok::KwFor:
    case Tok::KwUnroll:
    case Tok::KwBreak:
    case Tok::KwReturn:
    case Tok::KwState:
    case Tok::KwDelay: return true;
    default: return false;
    }
  }

  /// Skips to just after the next `;`, to the next `}` of this block, or to a
  /// keyword that starts a statement (a forgotten `;` shows up there), past
  /// the failed statement's first token `Start`.
  void syncToStmt(size_t Start) {
    int Depth = 0;
    while (!at(Tok::Eof)) {
      if (Depth == 0 && Pos > Start && startsStmt(tok().Kind))
        return;
      if (at(Tok::LBrace)) {
        ++Depth;
      } else if (at(Tok::RBrace)) {
        if (Depth == 0)
          return;
        --Depth;
        if (Depth == 0) {
          advance();
          return;
        }
      } else if (at(Tok::Semi) && Depth == 0) {
        advance();
        return;
      }
      advance();
    }
  }

  /// Skips to the next declaration keyword outside any braces, after the
  /// one that failed (which began at token `Start`).
  void syncToDecl(size_t Start) {
    int Depth = 0;
    while (!at(Tok::Eof)) {
      if (Depth == 0 && startsDecl(tok().Kind) && Pos > Start)
        return;
      if (at(Tok::LBrace))
        ++Depth;
      else if (at(Tok::RBrace) && Depth > 0)
        --Depth;
      else if (at(Tok::Semi) && Depth == 0) {
        advance();
        return;
      }
      advance();
    }
  }

  /// Guards recursion. Past the limit, reports once and abandons the file.
  struct DepthGuard {
    Parser &P;
    explicit DepthGuard(Parser &P) : P(P) {
      if (++P.Depth > MaxNestingDepth) {
        if (!P.TooDeep)
          P.Diags.report(DiagId::NestingTooDeep, P.tok().Loc,
                         {std::to_string(MaxNestingDepth)});
        P.TooDeep = true;
        // Skip to the end: nothing after this point can be trusted.
        P.Pos = P.Toks.size() - 1;
        throw SyntaxError();
      }
    }
    ~DepthGuard() { --P.Depth; }
  };

  // --- Declarations -------------------------------------------------------
  DeclPtr newDecl(Decl::Kind K, const Token &At) {
    auto D = std::make_unique<Decl>();
    D->K = K;
    D->Loc = At.Loc;
    return D;
  }

  void declName(Decl &D, const char *What) {
    D.Loc = tok().Loc;
    D.NameLength = uint32_t(tok().Text.size());
    D.Name = expectIdent(What);
  }

  /// decl ::= 'io' number '->' number ';' | paramdecl
  ///        | 'const' name '=' expr ';' | statedecl | delaydecl
  ///        | 'meter' name ';' | fndecl | 'import' string ';'
  ///        | ('block' | 'process') body
  DeclPtr declaration() {
    const Token &T = tok();
    switch (T.Kind) {
    case Tok::KwIo: {
      advance();
      auto D = newDecl(Decl::Io, T);
      D->Inputs = number("the number of input channels");
      expect(Tok::Arrow);
      D->Outputs = number("the number of output channels");
      expect(Tok::Semi);
      return D;
    }
    case Tok::KwParam: return paramDecl();
    case Tok::Ident:
      // `voices` is a word only at the start of a declaration.
      if (T.Text == "voices") {
        advance();
        auto D = newDecl(Decl::Voices, T);
        D->Inputs = number("the number of voices");
        expect(Tok::Semi);
        return D;
      }
      syntaxError(DiagId::ExpectedDecl, {describe(T)});
    case Tok::KwConst: {
      advance();
      auto D = newDecl(Decl::Const, T);
      declName(*D, "a constant name");
      expect(Tok::Assign);
      D->Init = expr();
      expect(Tok::Semi);
      return D;
    }
    case Tok::KwState: return stateDecl();
    case Tok::KwDelay: return delayDecl();
    case Tok::KwTable: return tableDecl();
    case Tok::KwMeter: {
      advance();
      auto D = newDecl(Decl::Meter, T);
      declName(*D, "a meter name");
      expect(Tok::Semi);
      return D;
    }
    case Tok::KwFn: return fnDecl();
    case Tok::KwImport: {
      advance();
      auto D = newDecl(Decl::Import, T);
      const Token &S = expect(Tok::String, "a file name in quotes");
      D->Loc = S.Loc;
      bool Closed = S.Text.size() >= 2 && S.Text.back() == '"';
      D->Path = std::string(S.Text.substr(1, S.Text.size() - (Closed ? 2 : 1)));
      if (!Closed) // reported by the lexer; it took the rest of the line
        D->Path.clear();
      else
        expect(Tok::Semi);
      return D;
    }
    case Tok::KwBlock:
    case Tok::KwProcess: {
      advance();
      auto D = newDecl(T.Kind == Tok::KwBlock ? Decl::Block : Decl::Process, T);
      D->Name = std::string(T.Text);
      D->Body = body();
      return D;
    }
    default: syntaxError(DiagId::ExpectedDecl, {describe(T)});
    }
  }

  double number(const char *What) {
    const Token &T = expect(Tok::Number, What);
    return std::strtod(std::string(T.Text).c_str(), nullptr);
  }

  /// paramdecl ::= 'param' name '=' expr 'in' '[' expr ',' expr ']' unit?
  ///               ('nosmooth' | 'smooth' expr timeunit?)? ';'
  /// unit ::= 'hz' | 's' | 'ms' | 'db' | '%'
  DeclPtr paramDecl() {
    auto D = newDecl(Decl::Param, advance());
    declName(*D, "a parameter name");
    expect(Tok::Assign);
    D->Init = expr();
    if (!atIdent("in"))
      syntaxError(DiagId::Expected,
                  {"'in' and a range such as 'in [0, 1]'", describe(tok())});
    advance();
    expect(Tok::LBracket);
    D->Min = expr();
    expect(Tok::Comma);
    D->Max = expr();
    expect(Tok::RBracket);
    // `smooth` and `nosmooth` are words only here (`smooth` is also a
    // standard library function).
    if ((at(Tok::Ident) && !atIdent("smooth") && !atIdent("nosmooth") &&
         !atIdent("midi")) ||
        at(Tok::Percent)) {
      std::string_view U = tok().Text;
      if (U != "hz" && U != "s" && U != "ms" && U != "db" && U != "%")
        syntaxError(DiagId::UnknownUnit, {std::string(U)});
      D->Unit = std::string(U);
      advance();
    }
    if (atIdent("nosmooth")) {
      advance();
      D->SmoothOff = true;
    } else if (atIdent("smooth")) {
      advance();
      D->Smooth = expr();
      timeUnit(*D);
    }
    if (atIdent("midi"))
      midiMapping(*D);
    expect(Tok::Semi);
    return D;
  }

  /// midi ::= 'midi' ('cc' number | 'bend' | 'aftertouch') ('ch' number)?
  /// (`midi`, `cc`, `bend`, `aftertouch` and `ch` are words only here.)
  void midiMapping(Decl &D) {
    advance();
    uint32_t Kind = 0, Number = 0, Channel = 0;
    if (atIdent("cc")) {
      advance();
      Number = midiNumber("a controller number", 0, 127);
      Kind = DSPJIT_MIDI_CC;
    } else if (atIdent("bend") || atIdent("aftertouch")) {
      Kind = atIdent("bend") ? DSPJIT_MIDI_BEND : DSPJIT_MIDI_AFTERTOUCH;
      advance();
    } else {
      syntaxError(DiagId::Expected, {"'cc', 'bend' or 'aftertouch' after "
                                     "'midi'",
                                     describe(tok())});
    }
    if (atIdent("ch")) {
      advance();
      Channel = midiNumber("a MIDI channel", 1, 16);
    }
    D.Midi = Kind << 16 | Channel << 8 | Number;
  }

  uint32_t midiNumber(const char *What, unsigned Lo, unsigned Hi) {
    const Token &T = expect(Tok::Number, What);
    double V = std::strtod(std::string(T.Text).c_str(), nullptr);
    if (V != std::floor(V) || V < Lo || V > Hi)
      Diags.report(
          DiagId::OutOfRangeNumber, T.Loc,
          {What, std::to_string(Lo), std::to_string(Hi), std::string(T.Text)},
          uint32_t(T.Text.size()));
    return uint32_t(std::clamp(V, double(Lo), double(Hi)));
  }

  /// An optional `s` or `ms` after a time; stored in Decl::Unit for delays,
  /// folded into the smoothing expression's scale for params.
  /// timeunit ::= 's' | 'ms'
  void timeUnit(Decl &D) {
    if (!at(Tok::Ident))
      return;
    std::string_view U = tok().Text;
    if (U != "s" && U != "ms")
      syntaxError(DiagId::UnknownUnit, {std::string(U)});
    if (D.K == Decl::Param) {
      if (U == "ms") {
        auto Scaled = std::make_unique<Expr>(Expr::Binary, D.Smooth->Loc);
        Scaled->BOp = BinOp::Div;
        Scaled->Args.push_back(std::move(D.Smooth));
        auto Thousand = std::make_unique<Expr>(Expr::Number, tok().Loc);
        Thousand->Value = 1000;
        Scaled->Args.push_back(std::move(Thousand));
        D.Smooth = std::move(Scaled);
      }
    } else {
      D.Unit = std::string(U);
    }
    advance();
  }

  /// statedecl ::= 'state' name ('[' expr ']')? '=' expr ';'
  DeclPtr stateDecl() {
    auto D = newDecl(Decl::State, advance());
    declName(*D, "a state name");
    if (accept(Tok::LBracket)) {
      D->Size = expr();
      expect(Tok::RBracket);
    }
    expect(Tok::Assign, "'=' and an initial value");
    D->Init = expr();
    expect(Tok::Semi);
    return D;
  }

  /// delaydecl ::= 'delay' name '[' expr timeunit? ']' ';'
  DeclPtr delayDecl() {
    auto D = newDecl(Decl::Delay, advance());
    declName(*D, "a delay line name");
    expect(Tok::LBracket, "'[' and a length such as '[2 s]'");
    D->Size = expr();
    timeUnit(*D);
    expect(Tok::RBracket);
    expect(Tok::Semi);
    return D;
  }

  /// tabledecl ::= 'table' name '[' expr ']' '=' expr ';'
  ///             | 'table' name '=' 'file' string 'resample'? ';'
  /// (`file` and `resample` are words only here.)
  DeclPtr tableDecl() {
    auto D = newDecl(Decl::Table, advance());
    declName(*D, "a table name");
    if (accept(Tok::LBracket)) {
      D->Size = expr();
      expect(Tok::RBracket);
      expect(Tok::Assign, "'=' and the value of element 'i'");
      D->Init = expr();
      expect(Tok::Semi);
      return D;
    }
    expect(Tok::Assign, "'[' and a length, or '= file \"...\"'");
    if (!atIdent("file"))
      syntaxError(DiagId::Expected, {"'file' and a sound file's name in quotes",
                                     describe(tok())});
    advance();
    const Token &S = expect(Tok::String, "a sound file's name in quotes");
    bool Closed = S.Text.size() >= 2 && S.Text.back() == '"';
    D->Path = std::string(S.Text.substr(1, S.Text.size() - (Closed ? 2 : 1)));
    if (!Closed) // reported by the lexer; it took the rest of the line
      return D;
    if (atIdent("resample")) {
      advance();
      D->Resample = true;
    }
    expect(Tok::Semi);
    return D;
  }

  /// fndecl ::= 'fn' name '(' (fnparam (',' fnparam)*)? ')' body
  /// fnparam ::= name ('=' expr)?
  DeclPtr fnDecl() {
    auto D = newDecl(Decl::Fn, advance());
    declName(*D, "a function name");
    expect(Tok::LParen);
    if (!at(Tok::RParen)) {
      do {
        SourceLoc Loc = tok().Loc;
        D->FnParamLocs.push_back(Loc);
        D->FnParams.push_back(expectIdent("a parameter name"));
        D->FnDefaults.push_back(accept(Tok::Assign) ? expr() : nullptr);
        if (!D->FnDefaults.back() && D->requiredParams() < D->FnParams.size())
          Diags.report(DiagId::DefaultBeforeRequired, Loc, {D->FnParams.back()},
                       uint32_t(D->FnParams.back().size()));
      } while (accept(Tok::Comma));
    }
    expect(Tok::RParen);
    D->Body = body();
    return D;
  }

  // --- Statements ---------------------------------------------------------
  /// body ::= '{' stmt* '}'
  StmtList body() {
    DepthGuard G(*this);
    expect(Tok::LBrace);
    StmtList Out;
    while (!at(Tok::RBrace) && !at(Tok::Eof)) {
      if (startsDecl(tok().Kind) && tok().Kind != Tok::KwState &&
          tok().Kind != Tok::KwDelay) {
        // A missing '}' usually shows up as a declaration inside a body.
        if (tok().Kind == Tok::KwFn || tok().Kind == Tok::KwProcess ||
            tok().Kind == Tok::KwBlock || tok().Kind == Tok::KwImport) {
          Diags.report(DiagId::Expected, tok().Loc, {"'}'", describe(tok())});
          return Out;
        }
      }
      size_t Start = Pos;
      try {
        if (StmtPtr S = statement())
          Out.push_back(std::move(S));
      } catch (SyntaxError &) {
        if (TooDeep)
          throw;
        syncToStmt(Start);
      }
    }
    expect(Tok::RBrace);
    return Out;
  }

  /// stmt ::= 'let' name '=' expr ';' | ifstmt
  ///        | ('for' | 'unroll') name 'in' expr '..' expr body
  ///        | 'break' ';' | 'return' expr ';' | statedecl | delaydecl
  ///        | 'oversample' number 'lowlatency'? body
  ///        | expr ('=' | '+=' | '-=' | '*=' | '/=') expr ';' | expr ';'
  StmtPtr statement() {
    const Token &T = tok();
    switch (T.Kind) {
    case Tok::KwLet: {
      advance();
      auto S = std::make_unique<Stmt>(Stmt::Let, tok().Loc);
      S->Name = expectIdent("a name after 'let'");
      // Once the name is read, a broken value still declares it, so that
      // its uses are not reported as unknown names too.
      size_t Start = Pos;
      try {
        expect(Tok::Assign);
        S->Value = expr();
        expect(Tok::Semi);
      } catch (SyntaxError &) {
        if (TooDeep)
          throw;
        syncToStmt(Start);
        S->Value = std::make_unique<Expr>(Expr::Number, S->Loc);
      }
      return S;
    }
    case Tok::KwIf: return ifStmt();
    case Tok::KwFor:
    case Tok::KwUnroll: {
      advance();
      auto S = std::make_unique<Stmt>(
          T.Kind == Tok::KwFor ? Stmt::For : Stmt::Unroll, T.Loc);
      S->Name = expectIdent("a loop variable");
      if (!atIdent("in"))
        syntaxError(DiagId::Expected, {"'in'", describe(tok())});
      advance();
      S->From = expr();
      expect(Tok::DotDot, "'..' as in '0..8'");
      S->Value = expr();
      S->Body = body();
      return S;
    }
    case Tok::KwBreak: {
      advance();
      expect(Tok::Semi);
      return std::make_unique<Stmt>(Stmt::Break, T.Loc);
    }
    case Tok::KwReturn: {
      advance();
      auto S = std::make_unique<Stmt>(Stmt::Return, T.Loc);
      S->Value = expr();
      expect(Tok::Semi);
      return S;
    }
    case Tok::KwState:
    case Tok::KwDelay: {
      auto S = std::make_unique<Stmt>(Stmt::LocalDecl, T.Loc);
      S->Local = T.Kind == Tok::KwState ? stateDecl() : delayDecl();
      return S;
    }
    case Tok::KwConst:
    case Tok::KwParam:
    case Tok::KwMeter:
    case Tok::KwTable:
    case Tok::KwIo:
      Diags.report(DiagId::DeclNotAllowedHere, T.Loc, {std::string(T.Text)},
                   uint32_t(T.Text.size()));
      throw SyntaxError();
    case Tok::LBrace:
    case Tok::Semi: syntaxError(DiagId::ExpectedStmt, {describe(T)});
    default: break;
    }
    if (atOversample())
      return oversample();
    ExprPtr E = expr();
    Tok K = tok().Kind;
    if (K == Tok::Assign || K == Tok::PlusAssign || K == Tok::MinusAssign ||
        K == Tok::StarAssign || K == Tok::SlashAssign) {
      if (E->K != Expr::NameRef && E->K != Expr::Index) {
        Diags.report(DiagId::NotAssignable, E->Loc, {}, E->Length);
        throw SyntaxError();
      }
      auto S = std::make_unique<Stmt>(Stmt::Assign, E->Loc);
      advance();
      S->Compound = K != Tok::Assign;
      S->CompoundOp = K == Tok::PlusAssign    ? BinOp::Add
                      : K == Tok::MinusAssign ? BinOp::Sub
                      : K == Tok::StarAssign  ? BinOp::Mul
                                              : BinOp::Div;
      S->Target = std::move(E);
      S->Value = expr();
      expect(Tok::Semi);
      return S;
    }
    auto S = std::make_unique<Stmt>(Stmt::ExprStmt, E->Loc);
    S->Value = std::move(E);
    expect(Tok::Semi);
    return S;
  }

  /// `oversample` is not a keyword (a script may name a variable so): it
  /// starts a statement when a number follows it.
  bool atOversample() const {
    return atIdent("oversample") && peekTok().Kind == Tok::Number;
  }

  /// oversample ::= 'oversample' number 'lowlatency'? body
  StmtPtr oversample() {
    auto S = std::make_unique<Stmt>(Stmt::Oversample, advance().Loc);
    S->Value = primary();
    if (atIdent("lowlatency")) {
      advance();
      S->LowLatency = true;
    }
    S->Body = body();
    return S;
  }

  /// ifstmt ::= 'if' expr body ('else' (ifstmt | body))?
  StmtPtr ifStmt() {
    DepthGuard G(*this);
    auto S = std::make_unique<Stmt>(Stmt::If, advance().Loc);
    S->Value = expr();
    S->Body = body();
    if (accept(Tok::KwElse)) {
      if (at(Tok::KwIf))
        S->Else.push_back(ifStmt());
      else
        S->Else = body();
    }
    return S;
  }

  // --- Expressions (lowest precedence first) ------------------------------
  /// expr ::= binary ('?' expr ':' expr)?
  ExprPtr expr() {
    DepthGuard G(*this);
    ExprPtr C = binary(0);
    if (!at(Tok::Question))
      return C;
    auto E = std::make_unique<Expr>(Expr::Ternary, C->Loc);
    advance();
    E->Args.push_back(std::move(C));
    E->Args.push_back(expr());
    expect(Tok::Colon, "':' of a conditional expression");
    E->Args.push_back(expr());
    finish(*E);
    return E;
  }

  static int precedence(Tok K, BinOp &Op) {
    switch (K) {
    case Tok::OrOr: Op = BinOp::Or; return 1;
    case Tok::AndAnd: Op = BinOp::And; return 2;
    case Tok::Eq: Op = BinOp::Eq; return 3;
    case Tok::Ne: Op = BinOp::Ne; return 3;
    case Tok::Lt: Op = BinOp::Lt; return 4;
    case Tok::Le: Op = BinOp::Le; return 4;
    case Tok::Gt: Op = BinOp::Gt; return 4;
    case Tok::Ge: Op = BinOp::Ge; return 4;
    case Tok::Plus: Op = BinOp::Add; return 5;
    case Tok::Minus: Op = BinOp::Sub; return 5;
    case Tok::Star: Op = BinOp::Mul; return 6;
    case Tok::Slash: Op = BinOp::Div; return 6;
    case Tok::Percent: Op = BinOp::Mod; return 6;
    default: return -1;
    }
  }

  /// binary ::= unary (binop unary)*
  /// binop ::= '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>='
  ///         | '+' | '-' | '*' | '/' | '%'   (lowest precedence first)
  /// Precedence climbing over the left-associative binary operators.
  ExprPtr binary(int MinPrec) {
    ExprPtr L = unary();
    while (true) {
      BinOp Op;
      int Prec = precedence(tok().Kind, Op);
      if (Prec < 0 || Prec < MinPrec)
        return L;
      advance();
      DepthGuard G(*this);
      ExprPtr R = binary(Prec + 1);
      auto E = std::make_unique<Expr>(Expr::Binary, L->Loc);
      E->BOp = Op;
      E->Args.push_back(std::move(L));
      E->Args.push_back(std::move(R));
      finish(*E);
      L = std::move(E);
    }
  }

  /// unary ::= ('-' | '!') unary | postfix
  ExprPtr unary() {
    if (at(Tok::Minus) || at(Tok::Not)) {
      DepthGuard G(*this);
      auto E = std::make_unique<Expr>(Expr::Unary, tok().Loc);
      E->UOp = at(Tok::Minus) ? UnOp::Neg : UnOp::Not;
      advance();
      E->Args.push_back(unary());
      finish(*E);
      return E;
    }
    return postfix();
  }

  /// Sets an expression's length from its start to the last token consumed.
  void finish(Expr &E) {
    const Token &Last = Toks[Pos > 0 ? Pos - 1 : 0];
    if (Last.Loc.File == E.Loc.File && Last.Loc.Offset >= E.Loc.Offset)
      E.Length = uint32_t(Last.Loc.Offset + Last.Text.size() - E.Loc.Offset);
  }

  /// postfix ::= primary ('[' expr ']' | '.' name '(' args ')')*
  ExprPtr postfix() {
    ExprPtr E = primary();
    while (true) {
      if (at(Tok::LBracket)) {
        DepthGuard G(*this);
        advance();
        auto I = std::make_unique<Expr>(Expr::Index, E->Loc);
        I->Args.push_back(std::move(E));
        I->Args.push_back(expr());
        expect(Tok::RBracket);
        finish(*I);
        E = std::move(I);
      } else if (at(Tok::Dot)) {
        advance();
        if (E->K != Expr::NameRef)
          syntaxError(DiagId::Expected,
                      {"a delay line before '.'", "an expression"});
        auto M = std::make_unique<Expr>(Expr::MethodCall, E->Loc);
        M->Name = E->Name;
        M->Method = expectIdent("a method name such as 'read'");
        // `t.len` is a table's length, and `note.freq` and the others are
        // the voice's note, written without parentheses.
        if ((M->Method == "len" || M->Name == "note") && !at(Tok::LParen)) {
          M->Property = true;
          finish(*M);
          E = std::move(M);
          continue;
        }
        expect(Tok::LParen);
        args(*M);
        finish(*M);
        E = std::move(M);
      } else {
        return E;
      }
    }
  }

  /// args ::= (expr (',' expr)*)? ')'
  void args(Expr &E) {
    if (!at(Tok::RParen)) {
      do
        E.Args.push_back(expr());
      while (accept(Tok::Comma));
    }
    expect(Tok::RParen);
  }

  /// primary ::= number | name | name '(' args | '(' expr ')'
  ///           | '[' expr (',' expr)* ']'
  ExprPtr primary() {
    const Token &T = tok();
    switch (T.Kind) {
    case Tok::Number: {
      advance();
      auto E = std::make_unique<Expr>(Expr::Number, T.Loc);
      E->Length = uint32_t(T.Text.size());
      E->Value = std::strtod(std::string(T.Text).c_str(), nullptr);
      if (!std::isfinite(E->Value) || std::fabs(E->Value) > FLT_MAX) {
        Diags.report(DiagId::NumberOutOfRange, T.Loc, {std::string(T.Text)},
                     E->Length);
        E->Value = 0;
      }
      return E;
    }
    case Tok::Ident: {
      advance();
      if (at(Tok::LParen)) {
        auto E = std::make_unique<Expr>(Expr::Call, T.Loc);
        E->Name = std::string(T.Text);
        advance();
        args(*E);
        finish(*E);
        return E;
      }
      auto E = std::make_unique<Expr>(Expr::NameRef, T.Loc);
      E->Name = std::string(T.Text);
      E->Length = uint32_t(T.Text.size());
      return E;
    }
    case Tok::LParen: {
      advance();
      ExprPtr E = expr();
      expect(Tok::RParen);
      return E;
    }
    case Tok::LBracket: {
      advance();
      auto E = std::make_unique<Expr>(Expr::Vector, T.Loc);
      if (!at(Tok::RBracket)) {
        do
          E->Args.push_back(expr());
        while (accept(Tok::Comma));
      }
      expect(Tok::RBracket);
      finish(*E);
      if (E->Args.empty())
        syntaxError(DiagId::ExpectedExpr, {"an empty vector"});
      return E;
    }
    default: syntaxError(DiagId::ExpectedExpr, {describe(T)});
    }
  }

  const std::vector<Token> &Toks;
  DiagnosticEngine &Diags;
  ParsedFile M;
  size_t Pos = 0;
  unsigned Depth = 0;
  bool TooDeep = false;
};

} // namespace

ParsedFile parse(uint32_t FileId, const std::vector<Token> &Tokens,
                 DiagnosticEngine &Diags) {
  return Parser(FileId, Tokens, Diags).run();
}

} // namespace dspjit
