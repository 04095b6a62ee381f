//===- tests/unit/parser_test.cpp - Unit tests of compiler/Parser ---------===//
//
// The grammar of dsl/LANGUAGE.md (sections 3 and 7) as the parser builds it:
// precedence and associativity, postfix chains, every declaration and
// statement form, panic-mode recovery that reports every syntax error of a
// file, and the nesting limit that keeps any input from exhausting the stack.
// Structure is compared through dumpAst, the `--emit=ast` rendering.
//
//===----------------------------------------------------------------------===//
#include "compiler/Parser.h"
#include "tests/unit/DiagnosticsView.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

using namespace dspjit;

namespace dspjit {
/// Failures name catalog ids ("NestingTooDeep") rather than numbers.
static void PrintTo(DiagId Id, std::ostream *OS) { *OS << diagName(Id); }
} // namespace dspjit

namespace {

struct Parsed {
  DiagnosticEngine Diags;
  uint32_t File = 0;
  std::vector<Token> Toks;
  ParsedFile Tree;

  std::string dump() const { return dumpAst(Tree); }
  std::vector<DiagId> errors() const { return testutil::errorIds(Diags); }
  /// Every diagnostic as `line:col: message`.
  std::vector<std::string> messages() const {
    return testutil::shortMessages(Diags);
  }
};

std::unique_ptr<Parsed> parseText(const std::string &Text) {
  auto P = std::make_unique<Parsed>();
  P->File = P->Diags.sources().add("test.dsp", Text);
  P->Toks = lex(P->File, P->Diags);
  P->Tree = parse(P->File, P->Toks, P->Diags);
  return P;
}

/// The tree of one expression, as `--emit=ast` prints it.
std::string exprTree(const std::string &Expr) {
  auto P = parseText("process { let e = " + Expr + "; }");
  EXPECT_FALSE(P->Diags.hasErrors()) << Expr << ": " << P->messages().front();
  std::string D = P->dump();
  const std::string Head = "(process\n  (let e ";
  const std::string Tail = ")\n)\n";
  if (D.compare(0, Head.size(), Head) != 0 ||
      D.size() < Head.size() + Tail.size())
    return "unexpected dump: " + D;
  return D.substr(Head.size(), D.size() - Head.size() - Tail.size());
}

/// The tree of a process body's statements, without the process wrapper.
std::string bodyTree(const std::string &Body) {
  auto P = parseText("process {\n" + Body + "\n}");
  EXPECT_FALSE(P->Diags.hasErrors()) << Body << ": " << P->messages().front();
  return P->dump();
}

//===-- Precedence and associativity ----------------------------------------===//

TEST(ParserPrecedence, SubtractionIsLeftAssociative) {
  EXPECT_EQ(exprTree("a - b - c"), "(- (- a b) c)");
}

TEST(ParserPrecedence, DivisionAndRemainderAreLeftAssociative) {
  EXPECT_EQ(exprTree("a / b / c"), "(/ (/ a b) c)");
  EXPECT_EQ(exprTree("a / b % c * d"), "(* (% (/ a b) c) d)");
}

TEST(ParserPrecedence, ProductBindsTighterThanSum) {
  EXPECT_EQ(exprTree("a + b * c"), "(+ a (* b c))");
  EXPECT_EQ(exprTree("a * b + c"), "(+ (* a b) c)");
  EXPECT_EQ(exprTree("a - b % c"), "(- a (% b c))");
}

TEST(ParserPrecedence, ParenthesesOverridePrecedence) {
  EXPECT_EQ(exprTree("(a + b) * c"), "(* (+ a b) c)");
  EXPECT_EQ(exprTree("a - (b - c)"), "(- a (- b c))");
}

TEST(ParserPrecedence, UnaryMinusBindsTighterThanProduct) {
  EXPECT_EQ(exprTree("-a * b"), "(* (neg a) b)");
  EXPECT_EQ(exprTree("a * -b"), "(* a (neg b))");
  EXPECT_EQ(exprTree("- -a"), "(neg (neg a))");
  EXPECT_EQ(exprTree("!a && b"), "(&& (not a) b)");
  EXPECT_EQ(exprTree("-!a"), "(neg (not a))");
}

TEST(ParserPrecedence, UnaryMinusAppliesToTheWholePostfixChain) {
  EXPECT_EQ(exprTree("-x[0]"), "(neg (index x 0))");
  EXPECT_EQ(exprTree("-f(a)"), "(neg (call f a))");
}

TEST(ParserPrecedence, ComparisonBindsTighterThanEquality) {
  EXPECT_EQ(exprTree("a < b == c"), "(== (< a b) c)");
  EXPECT_EQ(exprTree("a == b < c"), "(== a (< b c))");
  EXPECT_EQ(exprTree("a == b != c"), "(!= (== a b) c)");
  EXPECT_EQ(exprTree("a <= b >= c > d"), "(> (>= (<= a b) c) d)");
}

TEST(ParserPrecedence, SumBindsTighterThanComparison) {
  EXPECT_EQ(exprTree("a + b < c - d"), "(< (+ a b) (- c d))");
}

TEST(ParserPrecedence, AndBindsTighterThanOr) {
  EXPECT_EQ(exprTree("a || b && c"), "(|| a (&& b c))");
  EXPECT_EQ(exprTree("a && b || c"), "(|| (&& a b) c)");
  EXPECT_EQ(exprTree("a || b || c"), "(|| (|| a b) c)");
  EXPECT_EQ(exprTree("a == b && c != d"), "(&& (== a b) (!= c d))");
}

TEST(ParserPrecedence, TernaryIsLowestAndRightAssociative) {
  EXPECT_EQ(exprTree("a ? b : c"), "(?: a b c)");
  EXPECT_EQ(exprTree("a ? b : c ? d : e"), "(?: a b (?: c d e))");
  EXPECT_EQ(exprTree("a ? b ? c : d : e"), "(?: a (?: b c d) e)");
  EXPECT_EQ(exprTree("a || b ? c + 1 : d * 2"),
            "(?: (|| a b) (+ c 1) (* d 2))");
}

//===-- Primaries and postfix chains ----------------------------------------===//

TEST(ParserExpr, NumberValues) {
  EXPECT_EQ(exprTree("0.5"), "0.5");
  EXPECT_EQ(exprTree(".5"), "0.5");
  EXPECT_EQ(exprTree("2."), "2");
  EXPECT_EQ(exprTree("1e-3"), "0.001");
  EXPECT_EQ(exprTree("4.7E+2"), "470");
}

TEST(ParserExpr, IndexChainsAreLeftToRight) {
  EXPECT_EQ(exprTree("x[0][1]"), "(index (index x 0) 1)");
  EXPECT_EQ(exprTree("x[i + 1]"), "(index x (+ i 1))");
}

TEST(ParserExpr, MethodCallOnADelayLine) {
  EXPECT_EQ(exprTree("line.read(t)"), "(method line.read t)");
  EXPECT_EQ(exprTree("line.tap(n * 2)[1]"),
            "(index (method line.tap (* n 2)) 1)");
  EXPECT_EQ(exprTree("d.tap(1) + d.read(2.5)"),
            "(+ (method d.tap 1) (method d.read 2.5))");
}

TEST(ParserExpr, CallsWithAnyNumberOfArguments) {
  EXPECT_EQ(exprTree("noise()"), "(call noise)");
  EXPECT_EQ(exprTree("sin(x)"), "(call sin x)");
  EXPECT_EQ(exprTree("clamp(x, -1, a ? b : c)"),
            "(call clamp x (neg 1) (?: a b c))");
  EXPECT_EQ(exprTree("svf(in, f, q)[2]"), "(index (call svf in f q) 2)");
  EXPECT_EQ(exprTree("f(g(h(1)))"), "(call f (call g (call h 1)))");
}

TEST(ParserExpr, VectorLiterals) {
  EXPECT_EQ(exprTree("[1, 2, in]"), "(vector 1 2 in)");
  EXPECT_EQ(exprTree("[a]"), "(vector a)");
  EXPECT_EQ(exprTree("[[1, 2], 3][0]"), "(index (vector (vector 1 2) 3) 0)");
}

TEST(ParserExpr, EmptyVectorIsAnError) {
  auto P = parseText("process { let v = []; }");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::ExpectedExpr}));
}

TEST(ParserExpr, MethodNeedsANameBeforeTheDot) {
  auto P = parseText(
      "process { let u = (a + b).read(1); let v = f(x).tap(1); let w = x[0].tap(1); }");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>(3, DiagId::Expected)));
}

TEST(ParserExpr, NumberTooLargeForAFloatIsReported) {
  auto P = parseText("process { let a = 1e39; let b = 3.4e38; }");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::NumberOutOfRange}));
  EXPECT_EQ(P->messages()[0],
            "1:19: number '1e39' is out of range for a 32-bit float");
}

//===-- Declarations ----------------------------------------------------------===//

TEST(ParserDecl, Io) {
  EXPECT_EQ(parseText("io 2 -> 1;")->dump(), "(io 2 1)\n");
  EXPECT_EQ(parseText("io 0->64;")->dump(), "(io 0 64)\n");
}

TEST(ParserDecl, ParamWithRangeOnly) {
  EXPECT_EQ(parseText("param g = 0.5 in [0, 1];")->dump(),
            "(param g init=0.5 min=0 max=1)\n");
}

TEST(ParserDecl, ParamExpressionsMayBeConstantExpressions) {
  EXPECT_EQ(parseText("param f = sr / 4 in [-1, sr / 2];")->dump(),
            "(param f init=(/ sr 4) min=(neg 1) max=(/ sr 2))\n");
}

TEST(ParserDecl, ParamEveryUnit) {
  for (const char *U : {"hz", "s", "ms", "db", "%"}) {
    auto P = parseText(std::string("param p = 1 in [0, 2] ") + U + ";");
    EXPECT_FALSE(P->Diags.hasErrors()) << U;
    EXPECT_EQ(P->dump(),
              std::string("(param p init=1 min=0 max=2 unit=") + U + ")\n");
  }
}

TEST(ParserDecl, ParamUnitAndSmoothingInMilliseconds) {
  // `smooth 5 ms` is stored as seconds: 5 / 1000.
  EXPECT_EQ(parseText("param f = 440 in [20, 20000] hz smooth 5 ms;")->dump(),
            "(param f init=440 min=20 max=20000 unit=hz smooth=(/ 5 1000))\n");
  EXPECT_EQ(parseText("param f = 440 in [20, 20000] hz smooth 5ms;")->dump(),
            "(param f init=440 min=20 max=20000 unit=hz smooth=(/ 5 1000))\n");
}

TEST(ParserDecl, ParamSmoothingInSecondsWithOrWithoutUnit) {
  EXPECT_EQ(parseText("param a = 0 in [0, 1] smooth 0.2;")->dump(),
            "(param a init=0 min=0 max=1 smooth=0.2)\n");
  EXPECT_EQ(parseText("param a = 0 in [0, 1] smooth 2 s;")->dump(),
            "(param a init=0 min=0 max=1 smooth=2)\n");
}

TEST(ParserDecl, ParamNoSmooth) {
  EXPECT_EQ(parseText("param t = 1 in [0, 2] s nosmooth;")->dump(),
            "(param t init=1 min=0 max=2 unit=s nosmooth)\n");
  EXPECT_EQ(parseText("param t = 1 in [0, 2] nosmooth;")->dump(),
            "(param t init=1 min=0 max=2 nosmooth)\n");
}

TEST(ParserDecl, ParamUnknownUnitIsReported) {
  auto P = parseText("param x = 0 in [0, 1] furlongs;\nio 1 -> 1;");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::UnknownUnit}));
  EXPECT_EQ(P->messages()[0],
            "1:23: unknown unit 'furlongs'; expected one of hz, s, ms, db, %");
  // Recovery: the next declaration is still parsed.
  EXPECT_NE(P->dump().find("(io 1 1)"), std::string::npos);
}

TEST(ParserDecl, ParamSmoothingTimeUnitMustBeSecondsOrMilliseconds) {
  auto P = parseText("param x = 0 in [0, 1] smooth 5 hz;");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::UnknownUnit}));
}

TEST(ParserDecl, ParamWithoutRangeIsReported) {
  auto P = parseText("param x = 0;");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::Expected}));
  EXPECT_EQ(P->messages()[0],
            "1:12: expected 'in' and a range such as 'in [0, 1]', found ';'");
}

TEST(ParserDecl, Const) {
  EXPECT_EQ(parseText("const c = [1, 2] * sr;")->dump(),
            "(const c init=(* (vector 1 2) sr))\n");
}

TEST(ParserDecl, StateScalarAndArray) {
  EXPECT_EQ(parseText("state y = 0;")->dump(), "(state y init=0)\n");
  EXPECT_EQ(parseText("state x[N] = v;")->dump(), "(state x init=v size=N)\n");
  EXPECT_EQ(parseText("state h[8] = [1, 2];")->dump(),
            "(state h init=(vector 1 2) size=8)\n");
}

TEST(ParserDecl, StateNeedsAnInitialValue) {
  auto P = parseText("state y;");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::Expected}));
  EXPECT_EQ(P->messages()[0],
            "1:8: expected '=' and an initial value, found ';'");
}

TEST(ParserDecl, DelayInFramesSecondsOrMilliseconds) {
  EXPECT_EQ(parseText("delay d[100];")->dump(), "(delay d size=100)\n");
  EXPECT_EQ(parseText("delay d[2 s];")->dump(), "(delay d size=2 unit=s)\n");
  EXPECT_EQ(parseText("delay d[10ms];")->dump(), "(delay d size=10 unit=ms)\n");
  EXPECT_EQ(parseText("delay d[n * sr / 1000];")->dump(),
            "(delay d size=(/ (* n sr) 1000))\n");
}

TEST(ParserDecl, DelayLengthUnitMustBeATime) {
  auto P = parseText("delay d[10 hz];");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::UnknownUnit}));
}

TEST(ParserDecl, Meter) {
  EXPECT_EQ(parseText("meter level;")->dump(), "(meter level)\n");
}

TEST(ParserDecl, FunctionWithAndWithoutParameters) {
  EXPECT_EQ(parseText("fn f(a, b) { return a + b; }")->dump(),
            "(fn f (a b)\n  (return (+ a b))\n)\n");
  EXPECT_EQ(parseText("fn g() { }")->dump(), "(fn g ()\n)\n");
}

TEST(ParserDecl, Import) {
  EXPECT_EQ(parseText("import \"lib/filters.dsp\";")->dump(),
            "(import \"lib/filters.dsp\")\n");
}

TEST(ParserDecl, ImportNeedsAString) {
  auto P = parseText("import filters;");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::Expected}));
  EXPECT_EQ(P->messages()[0],
            "1:8: expected a file name in quotes, found 'filters'");
}

TEST(ParserDecl, UnterminatedImportStringDoesNotCascade) {
  auto P = parseText("import \"lib.dsp\nio 1 -> 1;");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::UnterminatedString}));
  EXPECT_NE(P->dump().find("(io 1 1)"), std::string::npos);
}

TEST(ParserDecl, BlockAndProcess) {
  EXPECT_EQ(parseText("block { let a = 1; }\nprocess { out = in; }")->dump(),
            "(block\n  (let a 1)\n)\n(process\n  (= out in)\n)\n");
}

TEST(ParserDecl, DeclarationsKeepSourceOrder) {
  auto P =
      parseText("process { out = g; }\nparam g = 1 in [0, 1];\nio 1 -> 1;");
  EXPECT_EQ(
      P->dump(),
      "(process\n  (= out g)\n)\n(param g init=1 min=0 max=1)\n(io 1 1)\n");
}

TEST(ParserDecl, DeclarationLocationIsItsName) {
  auto P = parseText("param  gain = 1 in [0, 1];\nfn   f() { }");
  ASSERT_EQ(P->Tree.Decls.size(), 2u);
  EXPECT_EQ(P->Diags.sources().lineColumn(P->Tree.Decls[0]->Loc),
            std::make_pair(1u, 8u));
  EXPECT_EQ(P->Tree.Decls[0]->NameLength, 4u);
  EXPECT_EQ(P->Diags.sources().lineColumn(P->Tree.Decls[1]->Loc),
            std::make_pair(2u, 6u));
}

TEST(ParserDecl, StatementAtTopLevelIsReported) {
  auto P = parseText("let x = 1;\nio 1 -> 1;");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::ExpectedDecl}));
  EXPECT_EQ(
      P->messages()[0],
      "1:1: expected a declaration (io, voices, param, const, state, delay, "
      "table, "
      "meter, fn, import, block or process), found 'let'");
  EXPECT_NE(P->dump().find("(io 1 1)"), std::string::npos);
}

//===-- Statements ------------------------------------------------------------===//

TEST(ParserStmt, LetAndEveryAssignment) {
  EXPECT_EQ(
      bodyTree("let x = 1; x = 2; x += 3; x -= 4; x *= 5; x /= 6;"),
      "(process\n  (let x 1)\n  (= x 2)\n  (+= x 3)\n  (-= x 4)\n  (*= x 5)\n"
      "  (/= x 6)\n)\n");
}

TEST(ParserStmt, IndexedAssignment) {
  EXPECT_EQ(
      bodyTree("h[pos] = in; out[1] += h[0];"),
      "(process\n  (= (index h pos) in)\n  (+= (index out 1) (index h 0))\n)\n");
}

TEST(ParserStmt, Oversample) {
  EXPECT_EQ(bodyTree("oversample 4 { y = x; } oversample 2 lowlatency { }"
                     " oversample = 1;"),
            "(process\n"
            "  (oversample 4\n"
            "    (= y x)\n"
            "  )\n"
            "  (oversample 2 lowlatency\n"
            "  )\n"
            "  (= oversample 1)\n"
            ")\n");
}

TEST(ParserStmt, IfElseIfElse) {
  EXPECT_EQ(bodyTree("if a { x = 1; } else if b { x = 2; } else { x = 3; }"),
            "(process\n"
            "  (if a\n"
            "    (= x 1)\n"
            "   else\n"
            "    (if b\n"
            "      (= x 2)\n"
            "     else\n"
            "      (= x 3)\n"
            "    )\n"
            "  )\n"
            ")\n");
}

TEST(ParserStmt, IfWithoutElse) {
  EXPECT_EQ(bodyTree("if a < 1 { }"), "(process\n  (if (< a 1)\n  )\n)\n");
}

TEST(ParserStmt, ForAndUnroll) {
  EXPECT_EQ(
      bodyTree("for i in 0..8 { y += i; }\nunroll k in 1..n + 1 { z = k; }"),
      "(process\n"
      "  (for i 0..8\n"
      "    (+= y i)\n"
      "  )\n"
      "  (unroll k 1..(+ n 1)\n"
      "    (= z k)\n"
      "  )\n"
      ")\n");
}

TEST(ParserStmt, BreakAndReturn) {
  auto P =
      parseText("fn f(x) { for i in 0..4 { if x { break; } } return x * 2; }");
  EXPECT_FALSE(P->Diags.hasErrors());
  EXPECT_EQ(P->dump(), "(fn f (x)\n"
                       "  (for i 0..4\n"
                       "    (if x\n"
                       "      (break)\n"
                       "    )\n"
                       "  )\n"
                       "  (return (* x 2))\n"
                       ")\n");
}

TEST(ParserStmt, LocalStateAndDelay) {
  EXPECT_EQ(bodyTree("state s = 0; delay d[10 ms]; state a[4] = 1;"),
            "(process\n  (state s init=0)\n  (delay d size=10 unit=ms)\n"
            "  (state a init=1 size=4)\n)\n");
}

TEST(ParserStmt, CallAndMethodStatements) {
  EXPECT_EQ(bodyTree("line.write(in * 0.5); tick();"),
            "(process\n  (method line.write (* in 0.5))\n  (call tick)\n)\n");
}

TEST(ParserStmt, OnlyNamesAndIndexedNamesCanBeAssigned) {
  auto P =
      parseText("process {\n  1 = x;\n  f(x) = 1;\n  a + b = c;\n  -y = 2;\n}");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>(4, DiagId::NotAssignable)));
  EXPECT_EQ(P->messages()[1],
            "3:3: cannot assign to this expression; only names and indexed "
            "names can be assigned");
}

TEST(ParserStmt, TopLevelOnlyDeclarationsInsideABody) {
  auto P = parseText(
      "process {\n  param p = 1 in [0, 1];\n  const c = 1;\n  meter m;\n"
      "  io 1 -> 1;\n  out = 1;\n}");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>(4, DiagId::DeclNotAllowedHere)));
  EXPECT_EQ(P->messages()[0],
            "2:3: 'param' declarations are only allowed at the top level");
  // The statement after them is still parsed.
  EXPECT_NE(P->dump().find("(= out 1)"), std::string::npos);
}

TEST(ParserStmt, MissingSemicolonIsShownAfterThePreviousToken) {
  auto P = parseText("process {\n  let a = 1\n  out = a;\n}");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::Expected}));
  EXPECT_EQ(P->messages()[0], "2:12: expected ';', found 'out'");
}

TEST(ParserStmt, MissingClosingBraceAtEndOfFile) {
  auto P = parseText("process { out = in;");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::Expected}));
  EXPECT_EQ(P->messages()[0], "1:20: expected '}', found end of file");
}

TEST(ParserStmt, MissingClosingBraceBeforeTheNextFunction) {
  auto P = parseText("fn f(x) {\n  return x;\n\nprocess { out = f(in); }");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::Expected}));
  EXPECT_EQ(P->messages()[0], "4:1: expected '}', found 'process'");
  // Both declarations survive.
  EXPECT_NE(P->dump().find("(fn f (x)"), std::string::npos);
  EXPECT_NE(P->dump().find("(process"), std::string::npos);
}

//===-- Recovery ----------------------------------------------------------------===//

TEST(ParserRecovery, EverySyntaxErrorOfAFileIsReported) {
  auto P = parseText("io 1 -> ;\n"               // 1: a number expected
                     "param p = 1 [0, 1];\n"     // 2: ']' expected
                     "process {\n"               //
                     "  let a = ;\n"             // 4: expression expected
                     "  let b = (1 + 2;\n"       // 5: ')' expected
                     "  out = in\n"              // 6: ';' missing
                     "  out += 1;\n"             // (skipped by recovery)
                     "  let c = 3 * * 4;\n"      // 8: expression expected
                     "  out += c;\n"             // fine
                     "}\n"                       //
                     "fn f(a b) { return a; }\n" // 11: ')' expected
                     "const = 1;\n"              // 12: a name expected
                     "fn g() { return 1; }\n");  // fine
  std::vector<unsigned> Lines;
  for (const Diagnostic &D : P->Diags.all())
    Lines.push_back(P->Diags.sources().lineColumn(D.Loc).first);
  EXPECT_EQ(Lines, (std::vector<unsigned>{1, 2, 4, 5, 6, 8, 11, 12}))
      << ::testing::PrintToString(P->messages());
  // What parsed cleanly is in the tree.
  EXPECT_NE(P->dump().find("(+= out c)"), std::string::npos);
  EXPECT_NE(P->dump().find("(fn g ()"), std::string::npos);
}

TEST(ParserRecovery, MissingSemicolonDoesNotHideTheNextStatementsError) {
  // Panic mode should resume at the next statement; the statement after a
  // missing ';' starts with a keyword, so it is a natural place to resume.
  auto P = parseText("process {\n  out = in\n  let c = 3 * * 4;\n}");
  EXPECT_EQ(P->messages(), (std::vector<std::string>{
                               "2:11: expected ';', found 'let'",
                               "3:15: expected an expression, found '*'"}));
}

TEST(ParserRecovery, ErrorInsideANestedBodyResumesAtTheNextStatement) {
  auto P = parseText(
      "process {\n  if a {\n    let x = ];\n    y = 1;\n  }\n  z = 2;\n}");
  ASSERT_EQ(P->errors(), (std::vector<DiagId>{DiagId::ExpectedExpr}));
  EXPECT_NE(P->dump().find("(= y 1)"), std::string::npos);
  EXPECT_NE(P->dump().find("(= z 2)"), std::string::npos);
}

TEST(ParserRecovery, StrayBraceOrSemicolonIsNotAStatement) {
  auto P = parseText("process { ; x = 1; }");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::ExpectedStmt}));
  EXPECT_NE(P->dump().find("(= x 1)"), std::string::npos);
}

TEST(ParserRecovery, ParsingAlwaysTerminatesOnGarbage) {
  for (const char *Junk :
       {"}}}}", "{{{{", "((((", "process", "process {", "fn", "fn f(", "param",
        "io", "io 1 ->", "state x[", "delay", "import",
        "process { for i in 0.. { } }", "process { if { } else }",
        "process { x = a ? b ; }", "] ) , ; . ..", "process { d. }"}) {
    auto P = parseText(Junk);
    EXPECT_TRUE(P->Diags.hasErrors()) << Junk;
  }
}

//===-- Nesting limit -------------------------------------------------------------===//

std::string nestedParens(size_t Depth) {
  return "io 1 -> 1;\nprocess { out = " + std::string(Depth, '(') + "in" +
         std::string(Depth, ')') + "; }\n";
}

TEST(ParserNesting, ModerateNestingIsAccepted) {
  auto P = parseText(nestedParens(100));
  EXPECT_FALSE(P->Diags.hasErrors()) << P->messages().front();
}

TEST(ParserNesting, DeepParenthesesGiveOneError) {
  auto P = parseText(nestedParens(200));
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::NestingTooDeep}));
  EXPECT_EQ(P->Diags.all()[0].Message,
            "nesting is too deep (the limit is 128 levels)");
}

TEST(ParserNesting, HundredThousandParenthesesGiveOneErrorAndNoCrash) {
  auto P = parseText(nestedParens(100000));
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::NestingTooDeep}));
}

TEST(ParserNesting, HundredThousandUnaryMinusesGiveOneError) {
  auto P = parseText("process { out = " + std::string(100000, '-') + "1; }");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::NestingTooDeep}));
}

TEST(ParserNesting, HundredThousandVectorBracketsGiveOneError) {
  auto P = parseText("process { out = " + std::string(100000, '[') + "1" +
                     std::string(100000, ']') + "; }");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::NestingTooDeep}));
}

TEST(ParserNesting, HundredThousandIndexExpressionsGiveOneError) {
  // x[x[x[...0]]]: every index is an expression nested in the last.
  std::string Deep;
  for (int I = 0; I < 100000; ++I)
    Deep += "x[";
  Deep += "0" + std::string(100000, ']');
  auto P = parseText("process { out = " + Deep + "; }");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::NestingTooDeep}));
}

TEST(ParserNesting, HundredThousandNestedIfsGiveOneError) {
  std::string Deep;
  for (int I = 0; I < 100000; ++I)
    Deep += "if 1 { ";
  Deep += std::string(100000, '}');
  auto P = parseText("process { " + Deep + " }");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::NestingTooDeep}));
}

TEST(ParserNesting, HundredThousandNestedTernariesGiveOneError) {
  std::string Deep;
  for (int I = 0; I < 100000; ++I)
    Deep += "a ? b : ";
  auto P = parseText("process { out = " + Deep + "c; }");
  EXPECT_EQ(P->errors(), (std::vector<DiagId>{DiagId::NestingTooDeep}));
}

TEST(ParserNesting, LongFlatChainsAreNotNesting) {
  // Left-associative chains and postfix chains grow the tree, not the
  // parser's recursion: 10000 terms are fine.
  std::string Sum = "in";
  for (int I = 0; I < 10000; ++I)
    Sum += " + in";
  EXPECT_FALSE(parseText("process { out = " + Sum + "; }")->Diags.hasErrors());
  std::string Lanes = "v";
  for (int I = 0; I < 10000; ++I)
    Lanes += "[0]";
  EXPECT_FALSE(
      parseText("process { out = " + Lanes + "; }")->Diags.hasErrors());
}

TEST(ParserNesting, ErrorsBeforeTheDeepPartAreKept) {
  auto P = parseText("param = 1;\n" + nestedParens(1000));
  EXPECT_EQ(P->errors(),
            (std::vector<DiagId>{DiagId::Expected, DiagId::NestingTooDeep}));
}

} // namespace
