//===- tests/reload/reload_cli_test.cpp - Saving during dspjit run --------===//
//
// The command line's side of hot reload: `dspjit run` plays a file through
// a script on a private jackd (dummy driver, 48 kHz, 64-frame periods)
// while the test saves the script, and what the user reads -- the reload
// lines, the diagnostics with carets, the summary -- is checked here. What
// the session does on each kind of save is tested in-process, through the
// session library, by tests/reload/reload_live_test.cpp.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/Heard.h"
#include "tests/support/JackServer.h"
#include "tests/support/Sanitizers.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

constexpr double Rate = 48000;
const std::string Dspjit = DSPJIT_BINARY;
const std::string Running = "Ctrl-C or 'quit' stops";

std::string gainScript(const std::string &Gain) {
  return "io 2 -> 2;\nprocess { out = in * " + Gain + "; }\n";
}

class LiveReloadTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto S = JackServer::start({uint32_t(Rate), 64});
    ASSERT_TRUE(S) << S.error();
    Server = std::move(*S);
    Server->finishSetup();
    Dir = fs::temp_directory_path() /
          ("dspjit-reload-live-" + std::to_string(getpid()));
    fs::create_directories(Dir);
    // A cache of our own: no state shared with the user's or other tests.
    setenv("DSPJIT_CACHE_DIR", path("cache").c_str(), 1);
    // Noise of constant magnitude 0.25 with random signs: each recorded
    // sample divided by its input sample is the gain that processed it.
    std::vector<float> S2(size_t(Rate) * 6 * 2);
    uint32_t X = 1;
    for (float &V : S2) {
      X = X * 1664525u + 1013904223u;
      V = (X >> 31) ? 0.25f : -0.25f;
    }
    In = S2;
    auto W = writeAudioFile(path("in.wav"), S2.data(), S2.size() / 2, 2, Rate);
    ASSERT_TRUE(W) << W.error();
  }
  void TearDown() override {
    if (Server)
      Server->beginShutdown();
    Server.reset();
    fs::remove_all(Dir);
    unsetenv("DSPJIT_CACHE_DIR");
  }

  std::string path(const std::string &Name) const {
    return (Dir / Name).string();
  }

  void writeInPlace(const std::string &Name, const std::string &Text) {
    std::ofstream(path(Name), std::ios::trunc) << Text;
  }
  void writeByRename(const std::string &Name, const std::string &Text) {
    std::ofstream(path(Name + ".tmp~")) << Text;
    fs::rename(path(Name + ".tmp~"), path(Name));
  }

  /// Runs gain.dsp over in.wav for `Seconds`, doing `Actions`.
  ChildResult run(double Seconds, std::vector<ChildAction> Actions,
                  std::vector<std::string> Extra = {}) {
    std::vector<std::string> Args = {
        "run",        path("gain.dsp"), "--play",     path("in.wav"),
        "--record",   path("out.wav"),  "--duration", std::to_string(Seconds),
        "--no-status"};
    Args.insert(Args.end(), Extra.begin(), Extra.end());
    ChildOptions O;
    O.Actions = std::move(Actions);
    O.TimeoutSeconds = Seconds + 60;
    O.CloseStdin = false;
    return runChild(Dspjit, Args, O);
  }

  /// The gains heard in out.wav, in order (tests/support/Heard.h).
  std::vector<float> heard() {
    return heardGains(recordedGains(path("out.wav"), In, Rate));
  }

  std::unique_ptr<JackServer> Server;
  fs::path Dir;
  std::vector<float> In;
};

ChildAction at(double Seconds, std::function<void()> Run) {
  return {Seconds, "", 0, std::move(Run), Running};
}

/// Actions at these times after the session started playing. (runChild
/// counts each action's time from the previous one once its WaitFor text
/// is there: convert.)
std::vector<ChildAction> timeline(std::vector<ChildAction> Actions) {
  double Previous = 0;
  for (ChildAction &A : Actions) {
    double At = A.AfterSeconds;
    A.AfterSeconds = At - Previous;
    A.WaitFor = Running;
    Previous = At;
  }
  return Actions;
}

size_t count(const std::string &Text, const std::string &What) {
  size_t N = 0;
  for (size_t P = Text.find(What); P != std::string::npos;
       P = Text.find(What, P + 1))
    ++N;
  return N;
}

} // namespace

TEST_F(LiveReloadTest, TheReloadLinesDiagnosticsAndSummaryArePrinted) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  ChildResult C = run(
      4,
      timeline({at(1.0, [&] { writeInPlace("gain.dsp", gainScript("0.5 *")); }),
                at(2.0, [&] { writeInPlace("gain.dsp", gainScript("2")); }),
                at(3.0, [&] {
                  writeInPlace("gain.dsp", "// louder\n" + gainScript("2"));
                })}));
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 2.0f})) << C.describe();
  // The diagnostics, with line, column and caret, then the verdict.
  EXPECT_NE(C.Err.find("gain.dsp:2:"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("^"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("dspjit run: reload 1: " + path("gain.dsp") +
                       " does not compile (see above); the last good version "
                       "keeps playing"),
            std::string::npos)
      << C.Err;
  EXPECT_NE(C.Err.find("dspjit run: reload 2: live in "), std::string::npos)
      << C.Err;
  EXPECT_NE(C.Err.find("-O0 first); "), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("dspjit run: reload 2: optimized (-O3) live "),
            std::string::npos)
      << C.Err;
  EXPECT_NE(C.Err.find("dspjit run: reload 3: the same machine code"),
            std::string::npos)
      << C.Err;
  EXPECT_EQ(count(C.Err, "live in"), 1u) << C.Err;
  EXPECT_NE(C.Out.find("reloads: 1 (1 failed), save to sound median"),
            std::string::npos)
      << C.Out;
}
