//===- scripttest/TestLine.h - Expectations written in a script -*- C++ -*-===//
//
// `dspjit test` runs tests that users write in their own scripts, as
// comments, in the manner of the project's diagnostics tests (LLVM's
// `; CHECK:` lines, wren's `// expect:`): adding a test is adding a line.
//
//   // test: impulse 1s --set feedback=0.5 -> golden/echo-impulse.wav within
//   1e-6
//   // test: sine:440 0.5s -> rms -6.02 db within 0.1
//   // test: error "unknown name"
//
// This file reads those lines into values; scripttest/Runner.h runs them.
// The grammar (dsl/TESTING.md has it with examples):
//
//   test-line   ::= '//' 'test:' ( render-test | error-test )
//   error-test  ::= 'error' QUOTED
//   render-test ::= [ input ] [ duration ] { option } '->' check
//   input       ::= SIGNAL | FILE        a signal of runtime/Signals.h, or a
//                                        sound file relative to the script
//   duration    ::= DURATION             as runtime/Signals.h reads it
//   option      ::= '--set' NAME=NUMBER | '--rate' HZ | '--block' FRAMES
//                 | '--midi' FILE | '--midi-map' NAME=SOURCE
//   check       ::= FILE [ 'within' TOL ]               a golden sound file
//                 | ( 'rms' | 'peak' ) DB 'db' [ 'within' DB [ 'db' ] ]
//                 | 'silent' | 'finite'
//
// A test line is a comment alone on its line; `test:` follows `//` after
// blanks. Tokens are separated by blanks; a token in double quotes may hold
// blanks (and \" and \\); an unquoted `//` starts a comment on the test.
//
// Thread contract: parsing allocates and reads files (control thread).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SCRIPTTEST_TESTLINE_H
#define DSPJIT_SCRIPTTEST_TESTLINE_H

#include "runtime/Result.h"
#include "runtime/Signals.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dspjit::scripttest {

/// What a test checks once the script is compiled (and rendered).
struct Check {
  enum Kind {
    Golden,       ///< the render against a sound file, sample by sample
    Rms,          ///< the RMS level over every channel and frame, in dBFS
    Peak,         ///< the largest absolute sample, in dBFS
    Silent,       ///< every sample below SilentDb
    Finite,       ///< no NaN or infinity (every render test also checks it)
    CompileError, ///< the script must not compile, with this text in an error
  };
  Kind Type = Finite;
  std::string File;     ///< Golden: the path as written in the test
  double Level = 0;     ///< Rms, Peak: dBFS
  double Tolerance = 0; ///< Golden: absolute; Rms, Peak: dB
  std::string Text;     ///< CompileError: a part of the message

  /// Below -120 dBFS (1e-6) is silent.
  static constexpr double SilentDb = -120;
  static constexpr double DefaultGoldenTolerance = 1e-6;
  static constexpr double DefaultLevelToleranceDb = 0.1;
};

/// One `// test:` line, parsed. Paths are resolved against the script's
/// directory.
struct TestCase {
  std::string Script; ///< the script's path, as given
  unsigned Line = 0;  ///< from 1
  std::string Spec;   ///< the text after `test:`, trimmed
  std::optional<SignalSpec> Signal;
  std::string InputFile; ///< resolved; empty with a signal or no input
  std::optional<Duration> Length;
  std::vector<std::pair<std::string, float>> Sets;
  double Rate = 0; ///< 0: the input file's rate, else 48000
  unsigned Block = 64;
  std::string Midi; ///< a Standard MIDI File to play, resolved
  std::vector<std::string> MidiMaps;
  Check Expect;
  std::string GoldenPath; ///< Golden: Expect.File resolved

  /// "echo.dsp:14".
  std::string where() const;
  bool rendered() const { return Expect.Type != Check::CompileError; }
};

/// A line that starts like a test but does not read as one.
struct LineError {
  std::string Script;
  unsigned Line = 0;
  std::string Spec;
  std::string Message;
  /// "echo.dsp:14: error: MESSAGE", as the compiler prints diagnostics.
  std::string text() const;
};

/// Every test of a script, and the lines that failed to parse.
struct ScriptTests {
  std::string Script;
  std::vector<TestCase> Tests;
  std::vector<LineError> Errors;
};

/// Parses the text after `test:` of the line `Line` of `Script` (whose
/// directory resolves the paths). Fails with a message without a location.
Result<TestCase> parseTestLine(std::string_view Spec, const std::string &Script,
                               unsigned Line);

/// The test lines of a script's text: parsed, or errors. Also refuses a
/// script that expects a compile error and is rendered too.
ScriptTests parseScriptTests(std::string_view Text, const std::string &Script);

/// Reads a script and parses its test lines. Fails when it is unreadable.
Result<ScriptTests> readScriptTests(const std::string &Script);

/// The scripts named: files as they are, directories walked recursively for
/// `.dsp` files, in sorted order. Fails when a name does not exist.
Result<std::vector<std::string>>
findScripts(const std::vector<std::string> &Names);

} // namespace dspjit::scripttest

#endif
