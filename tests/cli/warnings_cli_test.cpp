//===- tests/cli/warnings_cli_test.cpp - Warnings and their flags ---------===//
//
// What `dspjit check`, `render` and `emit` print for a script with a silent
// mistake (the phaser of dsl/LANGUAGE.md section 14), and what the GCC-like
// flags change: -Wno-NAME and -WNAME, -Wno-all and -w, --Werror and
// -Werror, and an unknown name, which is refused with the list of names.
//
//===----------------------------------------------------------------------===//
#include "tests/support/ChildProcess.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

const std::string Dspjit = DSPJIT_BINARY;

class WarningsCli : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("dspjit-warnings-test-" + std::to_string(getpid()));
    fs::create_directories(Dir);
    Script = (Dir / "phaser.dsp").string();
    std::ofstream(Script)
        << "io 1 -> 1;\n"
           "fn ap(x, c) { state z = 0; let y = -c * x + z; z = x + c * y; "
           "return y; }\n"
           "process {\n"
           "    let x = in;\n"
           "    for k in 0..6 { x = ap(x, 0.5); }\n"
           "    out = x;\n"
           "}\n";
  }
  void TearDown() override { fs::remove_all(Dir); }

  ChildResult check(std::vector<std::string> Flags) {
    Flags.insert(Flags.begin(), {"check", Script});
    ChildResult C = runChild(Dspjit, Flags);
    EXPECT_FALSE(C.crashed()) << C.describe();
    return C;
  }

  fs::path Dir;
  std::string Script;
};

const char *Message =
    "'ap' keeps state, and all 6 iterations of this 'for' loop share it, "
    "feeding it only the loop's own values; write 'unroll' to give each "
    "iteration its own state (a 'for' is right to oversample: a filter fed "
    "a new input on every pass)";

TEST_F(WarningsCli, CheckPrintsTheWarningWithItsNameAndCaret) {
  ChildResult C = check({});
  EXPECT_EQ(C.Status, 0) << C.describe();
  EXPECT_EQ(C.Err, Script + ":5:25: warning: " + Message +
                       " [-Wshared-state]\n"
                       "    for k in 0..6 { x = ap(x, 0.5); }\n"
                       "                        ^~\n");
  EXPECT_NE(C.Out.find(": ok"), std::string::npos) << C.describe();
}

TEST_F(WarningsCli, EveryCompilingCommandPrintsIt) {
  std::string Wav = (Dir / "out.wav").string();
  for (std::vector<std::string> Args :
       {std::vector<std::string>{"render", Script, Wav, "--duration", "10ms"},
        {"emit", Script, "--emit=checked"}}) {
    ChildResult C = runChild(Dspjit, Args);
    EXPECT_EQ(C.Status, 0) << C.describe();
    EXPECT_NE(C.Err.find("[-Wshared-state]"), std::string::npos)
        << C.describe();
  }
}

TEST_F(WarningsCli, NoNameTurnsOneOffAndNameBackOn) {
  for (std::vector<std::string> Off :
       {std::vector<std::string>{"-Wno-shared-state"}, {"-Wno-all"}, {"-w"}}) {
    ChildResult C = check(Off);
    EXPECT_EQ(C.Status, 0) << C.describe();
    EXPECT_EQ(C.Err, "") << Off[0];
  }
  ChildResult C = check({"-Wno-shared-state", "-Wshared-state"});
  EXPECT_NE(C.Err.find("[-Wshared-state]"), std::string::npos) << C.describe();
  C = check({"-Wno-unused-let"}); // another one: this one stays
  EXPECT_NE(C.Err.find("[-Wshared-state]"), std::string::npos) << C.describe();
}

TEST_F(WarningsCli, WerrorMakesThemErrors) {
  for (const char *Flag : {"--Werror", "-Werror"}) {
    ChildResult C = check({Flag});
    EXPECT_EQ(C.Status, 1) << C.describe();
    EXPECT_NE(C.Err.find(std::string(":5:25: error: ") + Message +
                         " [-Werror=shared-state]"),
              std::string::npos)
        << C.describe();
    EXPECT_NE(C.Err.find("1 error"), std::string::npos) << C.describe();
  }
  // Off is off, errors or not.
  EXPECT_EQ(check({"--Werror", "-Wno-shared-state"}).Status, 0);
}

TEST_F(WarningsCli, AnUnknownNameIsRefusedWithTheKnownOnes) {
  ChildResult C = check({"-Wno-shared-stat"});
  EXPECT_NE(C.Status, 0) << C.describe();
  EXPECT_NE(C.Err.find("unknown warning '-Wno-shared-stat'; the warnings are "
                       "optimization-skipped, vector-init, shared-state,"),
            std::string::npos)
      << C.describe();
}

} // namespace
