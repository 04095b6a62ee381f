//===- tests/unit/lexer_test.cpp - Unit tests of compiler/Lexer -----------===//
//
// What the lexer promises (dsl/LANGUAGE.md, section 2): which words are
// keywords, how numbers, ranges, glued units, operators, comments and
// strings split into tokens, where each token is, and that every malformed
// input is reported once while lexing goes on to the end of the file.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lexer.h"
#include "tests/unit/DiagnosticsView.h"

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

using namespace dspjit;

namespace dspjit {
/// Failures name catalog ids ("InvalidUtf8") rather than print bytes.
static void PrintTo(DiagId Id, std::ostream *OS) { *OS << diagName(Id); }
} // namespace dspjit

namespace {

/// A lexed source: the engine owns the text the tokens point into.
struct Lexed {
  DiagnosticEngine Diags;
  uint32_t File = 0;
  std::vector<Token> Toks;

  std::vector<Tok> kinds() const {
    std::vector<Tok> K;
    for (const Token &T : Toks)
      K.push_back(T.Kind);
    return K;
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> S;
    for (const Token &T : Toks)
      if (T.Kind != Tok::Eof)
        S.emplace_back(T.Text);
    return S;
  }
  std::vector<DiagId> errors() const { return testutil::errorIds(Diags); }
  std::pair<unsigned, unsigned> where(size_t TokenIndex) const {
    return Diags.sources().lineColumn(Toks[TokenIndex].Loc);
  }
  std::pair<unsigned, unsigned> whereDiag(size_t DiagIndex) const {
    return Diags.sources().lineColumn(Diags.all()[DiagIndex].Loc);
  }
};

std::unique_ptr<Lexed> lexText(const std::string &Text) {
  auto L = std::make_unique<Lexed>();
  L->File = L->Diags.sources().add("test.dsp", Text);
  L->Toks = lex(L->File, L->Diags);
  return L;
}

using LC = std::pair<unsigned, unsigned>;

//===-- Keywords and identifiers ------------------------------------------===//

TEST(Lexer, EveryKeywordIsItsOwnToken) {
  auto L = lexText("io param const state delay meter fn import block process "
                   "let if else for unroll break return");
  EXPECT_EQ(
      L->kinds(),
      (std::vector<Tok>{Tok::KwIo, Tok::KwParam, Tok::KwConst, Tok::KwState,
                        Tok::KwDelay, Tok::KwMeter, Tok::KwFn, Tok::KwImport,
                        Tok::KwBlock, Tok::KwProcess, Tok::KwLet, Tok::KwIf,
                        Tok::KwElse, Tok::KwFor, Tok::KwUnroll, Tok::KwBreak,
                        Tok::KwReturn, Tok::Eof}));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, WordsThatOnlyResembleKeywordsAreIdentifiers) {
  // Case matters, and a keyword is only a whole word.
  auto L = lexText("IO Param ios _if if_ iff lets process2 fnx");
  for (size_t I = 0; I + 1 < L->Toks.size(); ++I)
    EXPECT_EQ(L->Toks[I].Kind, Tok::Ident) << L->Toks[I].Text;
  EXPECT_EQ(L->texts(),
            (std::vector<std::string>{"IO", "Param", "ios", "_if", "if_", "iff",
                                      "lets", "process2", "fnx"}));
}

TEST(Lexer, BuiltInNamesAndContextualWordsAreIdentifiers) {
  // `in` introduces ranges but is also the input frame; `smooth` and
  // `nosmooth` are words only after a param's range (std.dsp defines a
  // function `smooth`), so the lexer leaves all of them as names.
  auto L = lexText("in out sr pi tau frames smooth nosmooth hz ms s db");
  for (size_t I = 0; I + 1 < L->Toks.size(); ++I)
    EXPECT_EQ(L->Toks[I].Kind, Tok::Ident) << L->Toks[I].Text;
  EXPECT_EQ(L->Toks.size(), 13u);
}

TEST(Lexer, IdentifiersMayHoldDigitsAndUnderscores) {
  auto L = lexText("_ a1 b_2 __x9 CamelCase");
  EXPECT_EQ(L->texts(),
            (std::vector<std::string>{"_", "a1", "b_2", "__x9", "CamelCase"}));
  for (size_t I = 0; I + 1 < L->Toks.size(); ++I)
    EXPECT_EQ(L->Toks[I].Kind, Tok::Ident);
}

//===-- Numbers -----------------------------------------------------------===//

TEST(Lexer, NumbersInEveryDocumentedForm) {
  auto L = lexText("1 0.5 .5 2. 1e-3 4.7E+2 1e3 007 123456789");
  EXPECT_EQ(L->texts(),
            (std::vector<std::string>{"1", "0.5", ".5", "2.", "1e-3", "4.7E+2",
                                      "1e3", "007", "123456789"}));
  for (size_t I = 0; I + 1 < L->Toks.size(); ++I)
    EXPECT_EQ(L->Toks[I].Kind, Tok::Number) << L->Toks[I].Text;
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, MinusIsNeverPartOfANumber) {
  auto L = lexText("-1");
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::Minus, Tok::Number, Tok::Eof}));
}

TEST(Lexer, IntegerRangeIsNumberDotDotNumber) {
  auto L = lexText("0..8");
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::Number, Tok::DotDot, Tok::Number,
                                          Tok::Eof}));
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"0", "..", "8"}));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, FractionalAndNamedRangesSplitAtDotDot) {
  auto L = lexText("0.5..8 a..b 1..n");
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"0.5", "..", "8", "a", "..",
                                                  "b", "1", "..", "n"}));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, GluedUnitIsNumberThenIdentifier) {
  auto L = lexText("500ms 2s 440hz 6db 1e3ms 2.5s");
  EXPECT_EQ(L->kinds(),
            (std::vector<Tok>{Tok::Number, Tok::Ident, Tok::Number, Tok::Ident,
                              Tok::Number, Tok::Ident, Tok::Number, Tok::Ident,
                              Tok::Number, Tok::Ident, Tok::Number, Tok::Ident,
                              Tok::Eof}));
  EXPECT_EQ(L->texts(),
            (std::vector<std::string>{"500", "ms", "2", "s", "440", "hz", "6",
                                      "db", "1e3", "ms", "2.5", "s"}));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, GluedPercentIsNumberThenPercent) {
  auto L = lexText("50%");
  EXPECT_EQ(L->kinds(),
            (std::vector<Tok>{Tok::Number, Tok::Percent, Tok::Eof}));
}

TEST(Lexer, NumberRunningIntoLettersIsMalformedAndLexingGoesOn) {
  auto L = lexText("12abc + 3");
  ASSERT_EQ(L->errors(), (std::vector<DiagId>{DiagId::MalformedNumber}));
  EXPECT_EQ(L->Diags.all()[0].Message, "malformed number '12abc'");
  EXPECT_EQ(L->whereDiag(0), LC(1, 1));
  EXPECT_EQ(L->Diags.all()[0].Length, 5u);
  // One token for the bad number, then the rest of the line.
  EXPECT_EQ(L->kinds(),
            (std::vector<Tok>{Tok::Number, Tok::Plus, Tok::Number, Tok::Eof}));
}

TEST(Lexer, ExponentWithoutDigitsIsMalformed) {
  for (const char *Bad : {"1e", "1e+", "2.5E-", "3ex"}) {
    auto L = lexText(std::string(Bad) + " ;");
    ASSERT_EQ(L->errors(), (std::vector<DiagId>{DiagId::MalformedNumber}))
        << Bad;
    EXPECT_EQ(L->Diags.all()[0].Message,
              "malformed number '" + std::string(Bad) + "'");
    EXPECT_EQ(L->kinds().back(), Tok::Eof);
    EXPECT_EQ(L->Toks[L->Toks.size() - 2].Kind, Tok::Semi) << Bad;
  }
}

TEST(Lexer, UnknownUnitGluedToANumberIsMalformed) {
  auto L = lexText("5msec");
  EXPECT_EQ(L->errors(), (std::vector<DiagId>{DiagId::MalformedNumber}));
}

//===-- Operators and punctuation -----------------------------------------===//

TEST(Lexer, EveryOperatorAndPunctuation) {
  auto L = lexText(
      "( ) [ ] { } , ; : . .. -> ? + - * / % ! = += -= *= /= == != < <= > >= "
      "&& ||");
  EXPECT_EQ(
      L->kinds(),
      (std::vector<Tok>{
          Tok::LParen,     Tok::RParen,      Tok::LBracket,   Tok::RBracket,
          Tok::LBrace,     Tok::RBrace,      Tok::Comma,      Tok::Semi,
          Tok::Colon,      Tok::Dot,         Tok::DotDot,     Tok::Arrow,
          Tok::Question,   Tok::Plus,        Tok::Minus,      Tok::Star,
          Tok::Slash,      Tok::Percent,     Tok::Not,        Tok::Assign,
          Tok::PlusAssign, Tok::MinusAssign, Tok::StarAssign, Tok::SlashAssign,
          Tok::Eq,         Tok::Ne,          Tok::Lt,         Tok::Le,
          Tok::Gt,         Tok::Ge,          Tok::AndAnd,     Tok::OrOr,
          Tok::Eof}));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, TwoCharacterOperatorsNeedNoSpaces) {
  auto L = lexText("io 2->2;a+=b-=c*=d/=e==f!=g<=h>=i&&j||k");
  EXPECT_EQ(L->kinds(),
            (std::vector<Tok>{
                Tok::KwIo,        Tok::Number, Tok::Arrow,      Tok::Number,
                Tok::Semi,        Tok::Ident,  Tok::PlusAssign, Tok::Ident,
                Tok::MinusAssign, Tok::Ident,  Tok::StarAssign, Tok::Ident,
                Tok::SlashAssign, Tok::Ident,  Tok::Eq,         Tok::Ident,
                Tok::Ne,          Tok::Ident,  Tok::Le,         Tok::Ident,
                Tok::Ge,          Tok::Ident,  Tok::AndAnd,     Tok::Ident,
                Tok::OrOr,        Tok::Ident,  Tok::Eof}));
}

TEST(Lexer, SpacedCharactersAreSeparateOperators) {
  auto L = lexText("- > = = . . + =");
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::Minus, Tok::Gt, Tok::Assign,
                                          Tok::Assign, Tok::Dot, Tok::Dot,
                                          Tok::Plus, Tok::Assign, Tok::Eof}));
}

TEST(Lexer, MethodCallDotIsADot) {
  auto L = lexText("line.read(t)");
  EXPECT_EQ(L->kinds(),
            (std::vector<Tok>{Tok::Ident, Tok::Dot, Tok::Ident, Tok::LParen,
                              Tok::Ident, Tok::RParen, Tok::Eof}));
}

TEST(Lexer, SingleAmpersandOrBarIsAnUnexpectedCharacter) {
  auto L = lexText("a & b | c");
  EXPECT_EQ(L->errors(), (std::vector<DiagId>{DiagId::UnexpectedChar,
                                              DiagId::UnexpectedChar}));
  EXPECT_EQ(L->Diags.all()[0].Message, "unexpected character '&'");
  EXPECT_EQ(L->Diags.all()[1].Message, "unexpected character '|'");
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "b", "c"}));
}

//===-- Comments ------------------------------------------------------------===//

TEST(Lexer, LineCommentRunsToTheEndOfTheLine) {
  auto L = lexText("a // b c ; ( \"\nd");
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "d"}));
  EXPECT_EQ(L->where(1), LC(2, 1));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, LineCommentAtEndOfFileWithoutNewline) {
  auto L = lexText("a // the end");
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::Ident, Tok::Eof}));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, BlockCommentMayGoAnywhereAndSpanLines) {
  auto L = lexText("a/*x*/b /* one\ntwo\n*/ c/**/d");
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(L->where(2), LC(3, 4));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, BlockCommentsDoNotNest) {
  // The first `*/` ends the comment: what follows is code again.
  auto L = lexText("a /* x /* y */ c */");
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::Ident, Tok::Ident, Tok::Star,
                                          Tok::Slash, Tok::Eof}));
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "c", "*", "/"}));
}

TEST(Lexer, CommentMarkersInsideCommentsAreText) {
  auto L = lexText("a // x /* y\nb /* // z */ c");
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, CommentsMayHoldAnyValidUtf8) {
  auto L = lexText(
      "a // caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8E\xB5\nb /* \xCE\xBB\xE2\x86\x92 */ c");
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, UnterminatedBlockCommentIsReportedWhereItStarts) {
  auto L = lexText("a\n  /* never closed\nb c");
  ASSERT_EQ(L->errors(), (std::vector<DiagId>{DiagId::UnterminatedComment}));
  EXPECT_EQ(L->whereDiag(0), LC(2, 3));
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::Ident, Tok::Eof}));
}

//===-- Strings -------------------------------------------------------------===//

TEST(Lexer, StringTokenKeepsItsQuotes) {
  auto L = lexText("import \"lib/filters.dsp\";");
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::KwImport, Tok::String, Tok::Semi,
                                          Tok::Eof}));
  EXPECT_EQ(L->Toks[1].Text, "\"lib/filters.dsp\"");
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, StringsHaveNoEscapesAndMayHoldCommentMarkers) {
  auto L = lexText("\"a\\\" \"// not a comment\" \"\"");
  // "a\" is a whole string (no escapes), then a string holding //, then "".
  EXPECT_EQ(L->texts(), (std::vector<std::string>{
                            "\"a\\\"", "\"// not a comment\"", "\"\""}));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, UnterminatedStringStopsAtTheLineEndAndLexingGoesOn) {
  auto L = lexText("import \"abc\nio 1 -> 1;");
  ASSERT_EQ(L->errors(), (std::vector<DiagId>{DiagId::UnterminatedString}));
  EXPECT_EQ(L->whereDiag(0), LC(1, 8));
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::KwImport, Tok::String, Tok::KwIo,
                                          Tok::Number, Tok::Arrow, Tok::Number,
                                          Tok::Semi, Tok::Eof}));
  EXPECT_EQ(L->Toks[1].Text, "\"abc");
}

TEST(Lexer, UnterminatedStringAtEndOfFile) {
  auto L = lexText("\"abc");
  EXPECT_EQ(L->errors(), (std::vector<DiagId>{DiagId::UnterminatedString}));
  EXPECT_EQ(L->kinds().back(), Tok::Eof);
}

//===-- Locations -----------------------------------------------------------===//

TEST(Lexer, TokenLocationsAreLineAndByteColumn) {
  auto L = lexText("io 2 -> 2;\n\nparam  gain\n\t= 0.5;");
  ASSERT_EQ(L->Toks.size(), 11u);
  EXPECT_EQ(L->where(0), LC(1, 1));  // io
  EXPECT_EQ(L->where(1), LC(1, 4));  // 2
  EXPECT_EQ(L->where(2), LC(1, 6));  // ->
  EXPECT_EQ(L->where(3), LC(1, 9));  // 2
  EXPECT_EQ(L->where(4), LC(1, 10)); // ;
  EXPECT_EQ(L->where(5), LC(3, 1));  // param
  EXPECT_EQ(L->where(6), LC(3, 8));  // gain
  EXPECT_EQ(L->where(7), LC(4, 2));  // = (a tab is one byte)
  EXPECT_EQ(L->where(8), LC(4, 4));  // 0.5
  EXPECT_EQ(L->where(9), LC(4, 7));  // ;
  EXPECT_EQ(L->where(10), LC(4, 8)); // end of file
}

TEST(Lexer, TokenTextIsAViewOfTheSource) {
  auto L = lexText("let  value = 12.5e1;");
  std::string_view Src = L->Diags.sources().text(L->File);
  for (const Token &T : L->Toks) {
    ASSERT_LE(T.Loc.Offset + T.Text.size(), Src.size());
    EXPECT_EQ(Src.substr(T.Loc.Offset, T.Text.size()), T.Text);
    EXPECT_EQ(T.Loc.File, L->File);
  }
}

TEST(Lexer, CrLfLineEndingsCountAsOneLine) {
  auto L = lexText("a\r\nb\r\n  c");
  EXPECT_EQ(L->where(1), LC(2, 1));
  EXPECT_EQ(L->where(2), LC(3, 3));
  EXPECT_FALSE(L->Diags.hasErrors());
}

TEST(Lexer, ColumnsCountBytesAfterMultiByteCharacters) {
  // "é" is two bytes in a comment; the next line is unaffected and a
  // token after a comment on the same line counts the comment's bytes.
  auto L = lexText("/*\xC3\xA9*/x");
  EXPECT_EQ(L->where(0), LC(1, 7));
}

TEST(Lexer, EmptySourceIsJustEndOfFile) {
  auto L = lexText("");
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::Eof}));
  EXPECT_EQ(L->where(0), LC(1, 1));
  auto W = lexText(" \t\r\n\n ");
  EXPECT_EQ(W->kinds(), (std::vector<Tok>{Tok::Eof}));
  EXPECT_FALSE(W->Diags.hasErrors());
}

//===-- Errors and recovery ---------------------------------------------------===//

TEST(Lexer, EachBadCharacterIsReportedAndSkipped) {
  auto L = lexText("a @ b $ c # d ` e");
  ASSERT_EQ(L->errors().size(), 4u);
  for (DiagId Id : L->errors())
    EXPECT_EQ(Id, DiagId::UnexpectedChar);
  EXPECT_EQ(L->Diags.all()[0].Message, "unexpected character '@'");
  EXPECT_EQ(L->whereDiag(0), LC(1, 3));
  EXPECT_EQ(L->whereDiag(3), LC(1, 15));
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST(Lexer, NonAsciiLetterIsNotPartOfAnIdentifier) {
  auto L = lexText("caf\xC3\xA9 = 1;");
  ASSERT_EQ(L->errors(), (std::vector<DiagId>{DiagId::UnexpectedChar}));
  // The whole character is named, not one of its bytes.
  EXPECT_EQ(L->Diags.all()[0].Message, "unexpected character '\xC3\xA9'");
  EXPECT_EQ(L->whereDiag(0), LC(1, 4));
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"caf", "=", "1", ";"}));
}

TEST(Lexer, InvalidUtf8ByteIsReportedInHexAndLexingGoesOn) {
  auto L = lexText("a \xFF b \x80 c");
  ASSERT_EQ(L->errors(),
            (std::vector<DiagId>{DiagId::InvalidUtf8, DiagId::InvalidUtf8}));
  EXPECT_EQ(L->Diags.all()[0].Message, "invalid UTF-8 byte 0xFF in source");
  EXPECT_EQ(L->Diags.all()[1].Message, "invalid UTF-8 byte 0x80 in source");
  EXPECT_EQ(L->whereDiag(0), LC(1, 3));
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Lexer, TruncatedUtf8SequenceAtEndOfFileIsInvalid) {
  auto L = lexText("a \xE2\x82");
  EXPECT_FALSE(L->errors().empty());
  for (DiagId Id : L->errors())
    EXPECT_EQ(Id, DiagId::InvalidUtf8);
  EXPECT_EQ(L->kinds(), (std::vector<Tok>{Tok::Ident, Tok::Eof}));
}

TEST(Lexer, InvalidUtf8InsideACommentIsReported) {
  auto L = lexText("a // ok \xFE then\nb /* \xC3 */ c");
  EXPECT_EQ(L->errors(),
            (std::vector<DiagId>{DiagId::InvalidUtf8, DiagId::InvalidUtf8}));
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Lexer, OverlongAndSurrogateEncodingsAreNotValidUtf8) {
  // RFC 3629: C0/C1 lead bytes (overlong forms), encoded UTF-16 surrogates
  // (ED A0..BF) and lead bytes F5..F7 (beyond U+10FFFF) are not UTF-8.
  for (const char *Bad :
       {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF5\x80\x80\x80"}) {
    auto L = lexText(std::string("// ") + Bad + "\nx");
    EXPECT_TRUE(L->Diags.hasErrors())
        << "comment bytes accepted as UTF-8:"
        << ::testing::PrintToString(std::string(Bad));
    for (DiagId Id : L->errors())
      EXPECT_EQ(Id, DiagId::InvalidUtf8);
    EXPECT_EQ(L->texts(), (std::vector<std::string>{"x"}));
  }
}

TEST(Lexer, InvalidUtf8InsideAStringIsReported) {
  // Source text is UTF-8 everywhere (LANGUAGE.md, section 2), strings too.
  auto L = lexText("import \"a\xFF.dsp\";");
  EXPECT_EQ(L->errors(), (std::vector<DiagId>{DiagId::InvalidUtf8}));
}

TEST(Lexer, NulByteIsAnUnexpectedCharacter) {
  auto L = lexText(std::string("a\0b", 3));
  EXPECT_EQ(L->errors(), (std::vector<DiagId>{DiagId::UnexpectedChar}));
  EXPECT_EQ(L->texts(), (std::vector<std::string>{"a", "b"}));
}

TEST(Lexer, ManyDifferentErrorsInOneFileAreAllReported) {
  auto L = lexText(
      "io 1 -> 1; @\nlet x = 3q;\n\xFF\nlet s = \"open\nprocess { } /* open");
  EXPECT_EQ(L->errors(), (std::vector<DiagId>{
                             DiagId::UnexpectedChar, DiagId::MalformedNumber,
                             DiagId::InvalidUtf8, DiagId::UnterminatedString,
                             DiagId::UnterminatedComment}));
  // Lexing reached the last line.
  bool SawProcess = false;
  for (const Token &T : L->Toks)
    SawProcess |= T.Kind == Tok::KwProcess;
  EXPECT_TRUE(SawProcess);
  EXPECT_EQ(L->kinds().back(), Tok::Eof);
}

TEST(Lexer, ErrorsStopBeingRecordedAtTheLimit) {
  auto L = lexText(std::string(150, '@') + " x");
  EXPECT_EQ(L->Diags.errorCount(), DiagnosticEngine::MaxErrors);
  EXPECT_EQ(L->Diags.all().size(), size_t(DiagnosticEngine::MaxErrors));
  EXPECT_EQ(L->texts(),
            (std::vector<std::string>{"x"})); // lexing still finished
}

TEST(Lexer, DumpTokensShowsPositionKindAndText) {
  auto L = lexText("io 2 -> x;");
  std::string Dump = dumpTokens(L->Toks, L->Diags.sources());
  EXPECT_EQ(
      Dump,
      "1:1\t'io'\n1:4\ta number\t2\n1:6\t'->'\n1:9\ta name\tx\n1:10\t';'\n"
      "1:11\tend of file\n");
}

} // namespace
