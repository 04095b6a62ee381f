//===- scripttest/TestLine.cpp - Reading `// test:` lines -----------------===//
//
// A recursive-descent reader over the tokens of one line; the grammar is in
// TestLine.h, and above each function the rule it reads.
//
//===----------------------------------------------------------------------===//
#include "scripttest/TestLine.h"

#include "runtime/MessageCatalog.h"
#include "session/MidiMap.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace dspjit::scripttest {

std::string TestCase::where() const {
  return Script + ":" + std::to_string(Line);
}

std::string LineError::text() const {
  return Script + ":" + std::to_string(Line) + ": error: " + Message;
}

namespace {

/// Splits at blanks; "a b" is one token, with \" and \\ inside; `//`
/// starts a comment.
Result<std::vector<std::string>> tokenize(std::string_view Spec,
                                          size_t &CommentAt) {
  CommentAt = Spec.size();
  std::vector<std::string> Tokens;
  size_t I = 0;
  while (I < Spec.size()) {
    if (std::isspace(static_cast<unsigned char>(Spec[I]))) {
      ++I;
      continue;
    }
    // A comment of its own ends the test: `-> silent  // no notes`.
    if (Spec.substr(I, 2) == "//") {
      CommentAt = I;
      break;
    }
    std::string Token;
    if (Spec[I] == '"') {
      for (++I; I < Spec.size() && Spec[I] != '"'; ++I) {
        if (Spec[I] == '\\' && I + 1 < Spec.size())
          ++I;
        Token += Spec[I];
      }
      if (I >= Spec.size())
        return fail(message<Msg::TestUnclosedQuote>());
      ++I;
    } else {
      while (I < Spec.size() &&
             !std::isspace(static_cast<unsigned char>(Spec[I])))
        Token += Spec[I++];
    }
    Tokens.push_back(std::move(Token));
  }
  return Tokens;
}

std::optional<double> number(const std::string &Text) {
  if (Text.empty())
    return std::nullopt;
  char *End = nullptr;
  double V = std::strtod(Text.c_str(), &End);
  if (*End != '\0' || !std::isfinite(V))
    return std::nullopt;
  return V;
}

/// A path written in a test, relative to the script's directory.
std::string resolve(const std::string &Script, const std::string &Path) {
  fs::path P(Path);
  if (P.is_absolute())
    return Path;
  return (fs::path(Script).parent_path() / P).lexically_normal().string();
}

/// A file name as a check or an input: it has an extension.
bool looksLikeFile(const std::string &Token) {
  return fs::path(Token).has_extension();
}

/// The tokens of one line and where the reader is.
class LineParser {
public:
  LineParser(std::vector<std::string> Tokens, TestCase &T)
      : Tokens(std::move(Tokens)), T(T) {}

  /// render-test ::= [ input ] [ duration ] { option } '->' check
  Result<void> renderTest() {
    while (!atEnd() && peek() != "->" && !peek().starts_with("--"))
      if (auto R = positional(next()); !R)
        return R;
    while (!atEnd() && peek() != "->")
      if (auto R = option(); !R)
        return R;
    if (atEnd())
      return fail(message<Msg::TestNoArrow>());
    next(); // ->
    if (auto R = check(); !R)
      return R;
    if (!atEnd())
      return fail(message<Msg::TestTrailing>(peek()));
    if (!T.MidiMaps.empty() && T.Midi.empty())
      return fail(message<Msg::TestMidiMapWithoutMidi>());
    return {};
  }

private:
  bool atEnd() const { return At >= Tokens.size(); }
  const std::string &peek() const { return Tokens[At]; }
  const std::string &next() { return Tokens[At++]; }

  /// input ::= SIGNAL | FILE;  duration ::= DURATION (either order)
  Result<void> positional(const std::string &Token) {
    if (auto D = parseDuration(Token)) {
      if (T.Length)
        return fail(message<Msg::TestTwoDurations>(T.Length->str(), Token));
      T.Length = *D;
      return {};
    }
    std::string Input = T.Signal ? T.Signal->str() : T.InputFile;
    if (!Input.empty())
      return fail(message<Msg::TestTwoInputs>(Input, Token));
    auto S = parseSignal(Token);
    if (S) {
      T.Signal = *S;
      return {};
    }
    if (!looksLikeFile(Token))
      return fail(message<Msg::TestBadInput>(Token, S.error()));
    T.InputFile = resolve(T.Script, Token);
    return {};
  }

  /// option ::= '--set' NAME=NUMBER | '--rate' HZ | '--block' FRAMES
  ///          | '--midi' FILE | '--midi-map' NAME=SOURCE
  Result<void> option() {
    const std::string &Name = next();
    static const char *Known[] = {"--set", "--rate", "--block", "--midi",
                                  "--midi-map"};
    if (std::find(std::begin(Known), std::end(Known), Name) == std::end(Known))
      return fail(message<Msg::TestUnknownOption>(Name));
    if (atEnd() || next() == "->")
      return fail(message<Msg::TestOptionNeedsValue>(Name));
    const std::string &Value = Tokens[At - 1];
    if (Name == "--set")
      return set(Value);
    if (Name == "--rate") {
      auto V = number(Value);
      if (!V || *V < 1000 || *V > 768000)
        return fail(message<Msg::TestBadRate>(Value));
      T.Rate = *V;
    } else if (Name == "--block") {
      auto V = number(Value);
      if (!V || *V < 1 || *V > 65536 || *V != std::floor(*V))
        return fail(message<Msg::TestBadBlock>(Value));
      T.Block = unsigned(*V);
    } else if (Name == "--midi") {
      T.Midi = resolve(T.Script, Value);
    } else {
      if (auto M = session::parseMidiMapping(Value); !M)
        return fail(message<Msg::TestBadMidiMap>(Value, M.error()));
      T.MidiMaps.push_back(Value);
    }
    return {};
  }

  Result<void> set(const std::string &Value) {
    size_t Eq = Value.find('=');
    auto V =
        Eq == std::string::npos ? std::nullopt : number(Value.substr(Eq + 1));
    if (Eq == 0 || !V)
      return fail(message<Msg::TestSetSyntax>(Value));
    T.Sets.emplace_back(Value.substr(0, Eq), float(*V));
    return {};
  }

  /// check ::= FILE [ 'within' TOL ]
  ///         | ( 'rms' | 'peak' ) DB 'db' [ 'within' DB [ 'db' ] ]
  ///         | 'silent' | 'finite'
  Result<void> check() {
    if (atEnd())
      return fail(message<Msg::TestNoCheck>());
    const std::string &Word = next();
    Check &C = T.Expect;
    if (Word == "silent" || Word == "finite") {
      C.Type = Word == "silent" ? Check::Silent : Check::Finite;
      return {};
    }
    if (Word == "rms" || Word == "peak") {
      C.Type = Word == "rms" ? Check::Rms : Check::Peak;
      std::string Level = atEnd() ? "" : next();
      auto V = number(Level);
      if (!V || atEnd() || !isDb(next()))
        return fail(message<Msg::TestLevelSyntax>(Word, Level));
      C.Level = *V;
      C.Tolerance = Check::DefaultLevelToleranceDb;
      if (auto R = within(C.Tolerance); !R)
        return R;
      if (!atEnd() && isDb(peek()))
        next();
      return {};
    }
    if (!looksLikeFile(Word))
      return fail(message<Msg::TestUnknownCheck>(Word));
    C.Type = Check::Golden;
    C.File = Word;
    C.Tolerance = Check::DefaultGoldenTolerance;
    T.GoldenPath = resolve(T.Script, Word);
    return within(C.Tolerance);
  }

  static bool isDb(const std::string &Word) {
    return Word == "db" || Word == "dB" || Word == "DB";
  }

  /// [ 'within' TOL ]
  Result<void> within(double &Tolerance) {
    if (atEnd() || peek() != "within")
      return {};
    next();
    std::string Text = atEnd() ? "" : next();
    auto V = number(Text);
    if (!V || *V < 0)
      return fail(message<Msg::TestBadTolerance>(Text));
    Tolerance = *V;
    return {};
  }

  std::vector<std::string> Tokens;
  size_t At = 0;
  TestCase &T;
};

/// The text after `// test:` when the line is such a comment.
std::optional<std::string_view> testComment(std::string_view Line) {
  size_t Start = Line.find_first_not_of(" \t");
  if (Start == std::string_view::npos || Line.substr(Start, 2) != "//")
    return std::nullopt;
  Line.remove_prefix(Start + 2);
  size_t Word = Line.find_first_not_of(" \t");
  if (Word == std::string_view::npos || Line.substr(Word, 5) != "test:")
    return std::nullopt;
  return Line.substr(Word + 5);
}

std::string_view trim(std::string_view S) {
  size_t B = S.find_first_not_of(" \t\r");
  if (B == std::string_view::npos)
    return {};
  size_t E = S.find_last_not_of(" \t\r");
  return S.substr(B, E - B + 1);
}

} // namespace

/// test-line ::= '//' 'test:' ( render-test | error-test )
/// error-test ::= 'error' QUOTED
Result<TestCase> parseTestLine(std::string_view Spec, const std::string &Script,
                               unsigned Line) {
  TestCase T;
  T.Script = Script;
  T.Line = Line;
  size_t CommentAt = 0;
  auto Tokens = tokenize(Spec, CommentAt);
  T.Spec = std::string(trim(Spec.substr(0, CommentAt)));
  if (!Tokens)
    return fail(Tokens.error());
  if (Tokens->empty())
    return fail(message<Msg::TestLineEmpty>());
  if ((*Tokens)[0] == "error") {
    std::string_view Text = trim(std::string_view(T.Spec).substr(5));
    if (Tokens->size() != 2 || (*Tokens)[1].empty() || !Text.starts_with('"'))
      return fail(message<Msg::TestErrorSyntax>());
    T.Expect.Type = Check::CompileError;
    T.Expect.Text = (*Tokens)[1];
    return T;
  }
  LineParser P(std::move(*Tokens), T);
  if (auto R = P.renderTest(); !R)
    return fail(R.error());
  return T;
}

ScriptTests parseScriptTests(std::string_view Text, const std::string &Script) {
  ScriptTests S;
  S.Script = Script;
  unsigned LineNo = 0, FirstErrorTest = 0;
  std::istringstream In{std::string(Text)};
  for (std::string Line; std::getline(In, Line);) {
    ++LineNo;
    auto Spec = testComment(Line);
    if (!Spec)
      continue;
    auto T = parseTestLine(*Spec, Script, LineNo);
    if (!T) {
      S.Errors.push_back({Script, LineNo, std::string(trim(*Spec)), T.error()});
      continue;
    }
    if (!T->rendered() && !FirstErrorTest)
      FirstErrorTest = LineNo;
    S.Tests.push_back(std::move(*T));
  }
  // A script that must not compile cannot be rendered: each render test is
  // a mistake of the test, reported at its line.
  if (FirstErrorTest)
    std::erase_if(S.Tests, [&](const TestCase &T) {
      if (!T.rendered())
        return false;
      S.Errors.push_back({Script, T.Line, T.Spec,
                          message<Msg::TestErrorAndRenders>(FirstErrorTest)});
      return true;
    });
  std::sort(
      S.Errors.begin(), S.Errors.end(),
      [](const LineError &A, const LineError &B) { return A.Line < B.Line; });
  return S;
}

Result<ScriptTests> readScriptTests(const std::string &Script) {
  std::ifstream In(Script, std::ios::binary);
  if (!In)
    return fail(message<Msg::TestNoSuchPath>(Script));
  std::ostringstream Text;
  Text << In.rdbuf();
  return parseScriptTests(Text.str(), Script);
}

Result<std::vector<std::string>>
findScripts(const std::vector<std::string> &Names) {
  std::vector<std::string> Scripts;
  for (const std::string &Name : Names) {
    std::error_code Ec;
    if (!fs::exists(Name, Ec))
      return fail(message<Msg::TestNoSuchPath>(Name));
    if (!fs::is_directory(Name, Ec)) {
      Scripts.push_back(Name);
      continue;
    }
    std::vector<std::string> Found;
    for (const auto &E : fs::recursive_directory_iterator(Name, Ec))
      if (E.is_regular_file() && E.path().extension() == ".dsp")
        Found.push_back(E.path().lexically_normal().string());
    if (Found.empty())
      return fail(message<Msg::TestNoScripts>(Name));
    std::sort(Found.begin(), Found.end());
    Scripts.insert(Scripts.end(), Found.begin(), Found.end());
  }
  return Scripts;
}

} // namespace dspjit::scripttest
