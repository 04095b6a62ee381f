//===- tools/test.cpp - `dspjit test DIR_OR_FILES` -----------------------===//
//
// Runs the `// test:` lines of scripts (dsl/TESTING.md): the library in
// scripttest/ parses, renders and compares; this file reads the flags and
// prints. Exits 0 when every test passed, 1 otherwise.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "runtime/MessageCatalog.h"
#include "scripttest/Report.h"
#include "scripttest/Runner.h"
#include "scripttest/TestLine.h"

#include <chrono>
#include <iostream>

namespace dspjit::tools {

namespace {
struct TestOpts {
  std::vector<std::string> Paths;
  bool Update = false, Tap = false, Quiet = false;
  std::string JUnit;
  CompileFlags Flags;
};

int run(const TestOpts &O) {
  using namespace scripttest;
  auto Start = std::chrono::steady_clock::now();
  auto Scripts = findScripts(O.Paths);
  if (!Scripts) {
    std::cerr << "dspjit test: error: " << Scripts.error() << "\n";
    return 1;
  }
  Reporter Report(std::cout, O.Tap ? Reporter::Tap : Reporter::Text, O.Quiet);
  RunOptions RO{O.Flags.options(), O.Update};
  for (const std::string &Script : *Scripts) {
    auto Tests = readScriptTests(Script);
    if (!Tests) {
      std::cerr << "dspjit test: error: " << Tests.error() << "\n";
      return 1;
    }
    if (Tests->Tests.empty() && Tests->Errors.empty()) {
      std::cerr << "dspjit test: note: " << message<Msg::TestNoTests>(Script)
                << "\n";
      continue;
    }
    runScriptTests(*Tests, RO, [&](const Outcome &Result) {
      std::cerr << Result.Warnings;
      Report.add(Result);
    });
  }
  double Seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
          .count();
  Report.finish(Seconds);
  if (!O.JUnit.empty())
    if (auto W = writeJUnit(O.JUnit, Report.outcomes(), Seconds); !W) {
      std::cerr << "dspjit test: error: " << W.error() << "\n";
      return 1;
    }
  if (Report.outcomes().empty()) {
    std::cerr << "dspjit test: error: "
              << message<Msg::TestNoTests>(joinNames(O.Paths)) << "\n";
    return 1;
  }
  return Report.failures() ? 1 : 0;
}
} // namespace

Command addTest(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "test", "Run the '// test:' lines of scripts: renders against golden "
              "files and levels, expected compile errors");
  auto O = std::make_shared<TestOpts>();
  Cmd->add_option("PATHS", O->Paths,
                  "Scripts, and directories searched for .dsp scripts")
      ->required();
  Cmd->add_flag("--update", O->Update,
                "Write the golden files from the renders (float WAV)");
  Cmd->add_flag("--tap", O->Tap, "Print TAP version 13 on standard output");
  Cmd->add_option("--junit", O->JUnit, "Also write a JUnit XML report here");
  Cmd->add_flag("-q,--quiet", O->Quiet, "Print only failures and the summary");
  O->Flags.add(*Cmd, /*WithRate=*/false);
  return [O] { return run(*O); };
}

} // namespace dspjit::tools
