//===- compiler/Lexer.cpp - Source text to tokens -------------------------===//
#include "compiler/Lexer.h"

#include <cstdio>
#include <optional>
#include <unordered_map>

namespace dspjit {

const char *tokName(Tok K) {
  switch (K) {
  case Tok::Eof: return "end of file";
  case Tok::Ident: return "a name";
  case Tok::Number: return "a number";
  case Tok::String: return "a string";
  case Tok::KwIo: return "'io'";
  case Tok::KwParam: return "'param'";
  case Tok::KwConst: return "'const'";
  case Tok::KwState: return "'state'";
  case Tok::KwDelay: return "'delay'";
  case Tok::KwTable: return "'table'";
  case Tok::KwMeter: return "'meter'";
  case Tok::KwFn: return "'fn'";
  case Tok::KwImport: return "'import'";
  case Tok::KwBlock: return "'block'";
  case Tok::KwProcess: return "'process'";
  case Tok::KwLet: return "'let'";
  case Tok::KwIf: return "'if'";
  case Tok::KwElse: return "'else'";
  case Tok::KwFor: return "'for'";
  case Tok::KwUnroll: return "'unroll'";
  case Tok::KwBreak: return "'break'";
  case Tok::KwReturn: return "'return'";
  case Tok::LParen: return "'('";
  case Tok::RParen: return "')'";
  case Tok::LBracket: return "'['";
  case Tok::RBracket: return "']'";
  case Tok::LBrace: return "'{'";
  case Tok::RBrace: return "'}'";
  case Tok::Comma: return "','";
  case Tok::Semi: return "';'";
  case Tok::Colon: return "':'";
  case Tok::Dot: return "'.'";
  case Tok::DotDot: return "'..'";
  case Tok::Arrow: return "'->'";
  case Tok::Question: return "'?'";
  case Tok::Plus: return "'+'";
  case Tok::Minus: return "'-'";
  case Tok::Star: return "'*'";
  case Tok::Slash: return "'/'";
  case Tok::Percent: return "'%'";
  case Tok::Not: return "'!'";
  case Tok::Assign: return "'='";
  case Tok::PlusAssign: return "'+='";
  case Tok::MinusAssign: return "'-='";
  case Tok::StarAssign: return "'*='";
  case Tok::SlashAssign: return "'/='";
  case Tok::Eq: return "'=='";
  case Tok::Ne: return "'!='";
  case Tok::Lt: return "'<'";
  case Tok::Le: return "'<='";
  case Tok::Gt: return "'>'";
  case Tok::Ge: return "'>='";
  case Tok::AndAnd: return "'&&'";
  case Tok::OrOr: return "'||'";
  }
  return "a token";
}

static const std::unordered_map<std::string_view, Tok> Keywords = {
    {"io", Tok::KwIo},         {"param", Tok::KwParam},
    {"const", Tok::KwConst},   {"state", Tok::KwState},
    {"delay", Tok::KwDelay},   {"meter", Tok::KwMeter},
    {"fn", Tok::KwFn},         {"import", Tok::KwImport},
    {"block", Tok::KwBlock},   {"process", Tok::KwProcess},
    {"let", Tok::KwLet},       {"if", Tok::KwIf},
    {"else", Tok::KwElse},     {"for", Tok::KwFor},
    {"unroll", Tok::KwUnroll}, {"break", Tok::KwBreak},
    {"return", Tok::KwReturn}, {"table", Tok::KwTable},
};

static bool isIdentStart(char C) {
  return (C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z') || C == '_';
}
static bool isDigit(char C) { return C >= '0' && C <= '9'; }

/// Length of the UTF-8 sequence starting at `P`, or 0 if it is not valid
/// UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
static size_t utf8Length(std::string_view S, size_t P) {
  unsigned char C = (unsigned char)S[P];
  if (C < 0x80)
    return 1;
  size_t N;
  unsigned char Lo = 0x80, Hi = 0xBF; // the allowed range of the second byte
  if (C >= 0xC2 && C <= 0xDF) {
    N = 2;
  } else if (C >= 0xE0 && C <= 0xEF) {
    N = 3;
    if (C == 0xE0)
      Lo = 0xA0; // overlong below U+0800
    if (C == 0xED)
      Hi = 0x9F; // UTF-16 surrogates
  } else if (C >= 0xF0 && C <= 0xF4) {
    N = 4;
    if (C == 0xF0)
      Lo = 0x90; // overlong below U+10000
    if (C == 0xF4)
      Hi = 0x8F; // past U+10FFFF
  } else {
    return 0; // continuation byte, C0/C1 (overlong) or F5..FF
  }
  if (P + N > S.size())
    return 0;
  unsigned char Second = (unsigned char)S[P + 1];
  if (Second < Lo || Second > Hi)
    return 0;
  for (size_t I = 2; I < N; ++I)
    if (((unsigned char)S[P + I] >> 6) != 2)
      return 0;
  return N;
}

namespace {
class Lexer {
public:
  Lexer(uint32_t FileId, DiagnosticEngine &Diags)
      : FileId(FileId), Src(Diags.sources().text(FileId)), Diags(Diags) {}

  std::vector<Token> run() {
    std::vector<Token> Out;
    while (true) {
      skipSpaceAndComments();
      if (Pos >= Src.size()) {
        Out.push_back({Tok::Eof, Src.substr(Src.size()), loc(Src.size())});
        return Out;
      }
      size_t Start = Pos;
      if (auto K = next(); K)
        Out.push_back({*K, Src.substr(Start, Pos - Start), loc(Start)});
    }
  }

private:
  SourceLoc loc(size_t Offset) const { return {FileId, uint32_t(Offset)}; }

  /// Skips one character that cannot start a token, reporting it.
  void badChar() {
    size_t N = utf8Length(Src, Pos);
    if (N == 0) {
      char Hex[4];
      std::snprintf(Hex, sizeof Hex, "%02X", (unsigned char)Src[Pos]);
      Diags.report(DiagId::InvalidUtf8, loc(Pos), {Hex});
      ++Pos;
      return;
    }
    Diags.report(DiagId::UnexpectedChar, loc(Pos),
                 {std::string(Src.substr(Pos, N))});
    Pos += N;
  }

  /// Comments may hold any valid UTF-8; invalid bytes are reported.
  void skipCommentText(size_t End) {
    while (Pos < End) {
      size_t N = utf8Length(Src, Pos);
      if (N == 0) {
        badChar();
        continue;
      }
      Pos += N;
    }
  }

  void skipSpaceAndComments() {
    while (Pos < Src.size()) {
      char C = Src[Pos];
      if (C == ' ' || C == '\t' || C == '\n' || C == '\r') {
        ++Pos;
      } else if (C == '/' && peek(1) == '/') {
        size_t End = Src.find('\n', Pos);
        skipCommentText(End == std::string_view::npos ? Src.size() : End);
      } else if (C == '/' && peek(1) == '*') {
        size_t End = Src.find("*/", Pos + 2);
        if (End == std::string_view::npos) {
          Diags.report(DiagId::UnterminatedComment, loc(Pos), {}, 2);
          skipCommentText(Src.size());
          return;
        }
        skipCommentText(End + 2);
      } else {
        return;
      }
    }
  }

  char peek(size_t Ahead) const {
    return Pos + Ahead < Src.size() ? Src[Pos + Ahead] : '\0';
  }

  std::optional<Tok> number() {
    size_t Start = Pos;
    while (isDigit(peek(0)))
      ++Pos;
    // "0..8" is a range, not "0." followed by ".8".
    if (peek(0) == '.' && peek(1) != '.') {
      ++Pos;
      while (isDigit(peek(0)))
        ++Pos;
    }
    if (peek(0) == 'e' || peek(0) == 'E') {
      size_t Save = Pos;
      ++Pos;
      if (peek(0) == '+' || peek(0) == '-')
        ++Pos;
      if (!isDigit(peek(0))) {
        while (isIdentStart(peek(0)) || isDigit(peek(0)))
          ++Pos;
        Diags.report(DiagId::MalformedNumber, loc(Start),
                     {std::string(Src.substr(Start, Pos - Start))},
                     uint32_t(Pos - Start));
        (void)Save;
        return Tok::Number; // reported; reads as its valid prefix
      }
      while (isDigit(peek(0)))
        ++Pos;
    }
    // "12abc" is a malformed number, not 12 then abc.
    if (isIdentStart(peek(0)) && !(peek(0) == 'e' || peek(0) == 'E')) {
      size_t End = Pos;
      while (isIdentStart(Src[End]) || isDigit(Src[End])) {
        ++End;
        if (End >= Src.size())
          break;
      }
      // A unit glued to a number ("500ms", "2s") reads naturally; allow it.
      std::string_view Suffix = Src.substr(Pos, End - Pos);
      if (Suffix == "s" || Suffix == "ms" || Suffix == "hz" || Suffix == "db")
        return Tok::Number;
      Pos = End;
      Diags.report(DiagId::MalformedNumber, loc(Start),
                   {std::string(Src.substr(Start, Pos - Start))},
                   uint32_t(Pos - Start));
      return Tok::Number; // reported; reads as its valid prefix
    }
    return Tok::Number;
  }

  std::optional<Tok> next() {
    char C = Src[Pos];
    if (isIdentStart(C)) {
      size_t Start = Pos;
      while (isIdentStart(peek(0)) || isDigit(peek(0)))
        ++Pos;
      auto It = Keywords.find(Src.substr(Start, Pos - Start));
      return It == Keywords.end() ? Tok::Ident : It->second;
    }
    if (isDigit(C) || (C == '.' && isDigit(peek(1))))
      return number();
    if (C == '"') {
      size_t Start = Pos++;
      while (Pos < Src.size() && Src[Pos] != '"' && Src[Pos] != '\n') {
        if (utf8Length(Src, Pos) == 0) {
          badChar(); // reports it and steps over it
          continue;
        }
        Pos += utf8Length(Src, Pos);
      }
      if (Pos >= Src.size() || Src[Pos] != '"') {
        Diags.report(DiagId::UnterminatedString, loc(Start), {},
                     uint32_t(Pos - Start));
        return Tok::String; // reported; the parser takes it as it is
      }
      ++Pos;
      return Tok::String;
    }
    auto Two = [&](char Second, Tok IfTwo, Tok IfOne) {
      if (peek(1) == Second) {
        Pos += 2;
        return IfTwo;
      }
      ++Pos;
      return IfOne;
    };
    switch (C) {
    case '(': ++Pos; return Tok::LParen;
    case ')': ++Pos; return Tok::RParen;
    case '[': ++Pos; return Tok::LBracket;
    case ']': ++Pos; return Tok::RBracket;
    case '{': ++Pos; return Tok::LBrace;
    case '}': ++Pos; return Tok::RBrace;
    case ',': ++Pos; return Tok::Comma;
    case ';': ++Pos; return Tok::Semi;
    case ':': ++Pos; return Tok::Colon;
    case '?': ++Pos; return Tok::Question;
    case '%': ++Pos; return Tok::Percent;
    case '.': return Two('.', Tok::DotDot, Tok::Dot);
    case '+': return Two('=', Tok::PlusAssign, Tok::Plus);
    case '*': return Two('=', Tok::StarAssign, Tok::Star);
    case '/': return Two('=', Tok::SlashAssign, Tok::Slash);
    case '=': return Two('=', Tok::Eq, Tok::Assign);
    case '!': return Two('=', Tok::Ne, Tok::Not);
    case '<': return Two('=', Tok::Le, Tok::Lt);
    case '>': return Two('=', Tok::Ge, Tok::Gt);
    case '-':
      if (peek(1) == '>') {
        Pos += 2;
        return Tok::Arrow;
      }
      return Two('=', Tok::MinusAssign, Tok::Minus);
    case '&':
      if (peek(1) == '&') {
        Pos += 2;
        return Tok::AndAnd;
      }
      break;
    case '|':
      if (peek(1) == '|') {
        Pos += 2;
        return Tok::OrOr;
      }
      break;
    default: break;
    }
    badChar();
    return std::nullopt;
  }

  uint32_t FileId;
  std::string_view Src;
  DiagnosticEngine &Diags;
  size_t Pos = 0;
};
} // namespace

std::vector<Token> lex(uint32_t FileId, DiagnosticEngine &Diags) {
  return Lexer(FileId, Diags).run();
}

std::string dumpTokens(const std::vector<Token> &Tokens,
                       const SourceManager &SM) {
  std::string Out;
  for (const Token &T : Tokens) {
    auto [Line, Col] = SM.lineColumn(T.Loc);
    Out += std::to_string(Line) + ":" + std::to_string(Col) + "\t" +
           tokName(T.Kind);
    if (T.Kind == Tok::Ident || T.Kind == Tok::Number || T.Kind == Tok::String)
      Out += "\t" + std::string(T.Text);
    Out += "\n";
  }
  return Out;
}

} // namespace dspjit
