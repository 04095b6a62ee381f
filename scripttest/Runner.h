//===- scripttest/Runner.h - Running the tests of a script ------*- C++ -*-===//
//
// `dspjit test` runs each script's `// test:` lines (scripttest/TestLine.h):
// the script is compiled once per sample rate its tests ask for, each test
// renders on an instance of its own (runtime/Render.h, the same block by
// block path as `dspjit render`; with a MIDI file, through a HotSwap as
// `render --midi` plays it), and the render is checked
// (scripttest/Compare.h). A test of `error "text"` compiles the script
// and expects it to fail with an error containing the text.
//
// With Update, a golden test writes its render to its golden file (a
// float WAV, directories created) when the file is missing or its samples
// differ, and passes; a file with the same samples is left alone, so that
// an update changes only what sounds different.
//
// Thread contract: control thread; compiles, renders and does file I/O.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SCRIPTTEST_RUNNER_H
#define DSPJIT_SCRIPTTEST_RUNNER_H

#include "compiler/Compiler.h"
#include "scripttest/TestLine.h"

#include <functional>
#include <string>
#include <vector>

namespace dspjit::scripttest {

struct RunOptions {
  /// How scripts are compiled (optimization, warnings); each test's rate
  /// replaces sampleRate.
  CompileOptions Compile;
  /// Write golden files instead of failing on them.
  bool Update = false;
};

/// How one test went.
struct Outcome {
  enum Status { Passed, Failed, Updated };
  Status Result = Failed;
  std::string Script;
  unsigned Line = 0;
  /// The test as written ("impulse 1s -> golden/echo.wav").
  std::string Spec;
  /// What failed (or which file was written), one item a line.
  std::vector<std::string> Details;
  /// Compiler output that is not a failure of this test: warnings.
  std::string Warnings;
  double Seconds = 0;

  bool failed() const { return Result == Failed; }
  /// "echo.dsp:14: impulse 1s -> golden/echo.wav".
  std::string name() const;
};

/// Runs every test of `Tests` (its malformed lines are failed outcomes)
/// and gives each outcome to `Report` as soon as it is known, in line order.
void runScriptTests(const ScriptTests &Tests, const RunOptions &Options,
                    const std::function<void(const Outcome &)> &Report);

} // namespace dspjit::scripttest

#endif
