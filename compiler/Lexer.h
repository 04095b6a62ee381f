//===- compiler/Lexer.h - Source text to tokens ---------------------------===//
//
// Tokens are views into the source buffer plus an offset; no copies. The
// lexer reports bad input and keeps going, so one run finds every error.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_LEXER_H
#define DSPJIT_COMPILER_LEXER_H

#include "compiler/Diagnostics.h"

#include <string_view>
#include <vector>

namespace dspjit {

enum class Tok {
  Eof,
  Ident,
  Number,
  String,
  // Keywords.
  KwIo,
  KwParam,
  KwConst,
  KwState,
  KwDelay,
  KwTable,
  KwMeter,
  KwFn,
  KwImport,
  KwBlock,
  KwProcess,
  KwLet,
  KwIf,
  KwElse,
  KwFor,
  KwUnroll,
  KwBreak,
  KwReturn,
  // Punctuation.
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Semi,
  Colon,
  Dot,
  DotDot,
  Arrow,
  Question,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Not,
  Assign,
  PlusAssign,
  MinusAssign,
  StarAssign,
  SlashAssign,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  AndAnd,
  OrOr,
};

/// A short human name for a token kind ("';'", "a number").
const char *tokName(Tok K);

struct Token {
  Tok Kind = Tok::Eof;
  std::string_view Text;
  SourceLoc Loc;
};

/// Splits the text of file `FileId` into tokens, ending with Eof. Reports
/// malformed input to `Diags` and skips it.
std::vector<Token> lex(uint32_t FileId, DiagnosticEngine &Diags);

/// Renders a token list for `dspjit emit --emit=tokens`.
std::string dumpTokens(const std::vector<Token> &Tokens,
                       const SourceManager &SM);

} // namespace dspjit

#endif
