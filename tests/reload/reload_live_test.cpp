//===- tests/reload/reload_live_test.cpp - Saving during dspjit run -------===//
//
// Hot reload as a user meets it: `dspjit run` plays a file through a script
// on a private jackd (dummy driver, 48 kHz, 64-frame periods) and records
// the output, while the test edits the script the ways editors do. The
// recording tells what was heard: each frame of the played noise comes out
// scaled by the gain of the version that ran it, so the recording shows
// when each save went live, and that nothing else happened.
//
// The stress test saves 200 times in 20 s, alternating two versions, and
// checks that every save is accounted for, nothing crashes, and the
// resident memory does not grow.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "tests/support/ChildProcess.h"
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

  std::string path(const std::string &Name) const { return (Dir / Name).string(); }

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
        "run", path("gain.dsp"), "--play", path("in.wav"), "--record",
        path("out.wav"), "--duration", std::to_string(Seconds), "--no-status"};
    Args.insert(Args.end(), Extra.begin(), Extra.end());
    ChildOptions O;
    O.Actions = std::move(Actions);
    O.TimeoutSeconds = Seconds + 60;
    O.CloseStdin = false;
    return runChild(Dspjit, Args, O);
  }

  /// The gain of each 10 ms of the recording (median of out / in), so that
  /// the crossfades show as single odd values between steady runs.
  std::vector<float> gains() {
    auto A = readAudioFile(path("out.wav"));
    EXPECT_TRUE(A) << A.error();
    std::vector<float> G;
    if (!A)
      return G;
    const size_t Hop = size_t(Rate / 100);
    for (size_t F = 0; F + Hop <= A->frames(); F += Hop) {
      std::vector<float> R;
      for (size_t I = F; I < F + Hop; ++I)
        R.push_back(A->Samples[2 * I] / In[2 * I]);
      std::nth_element(R.begin(), R.begin() + R.size() / 2, R.end());
      G.push_back(R[R.size() / 2]);
    }
    return G;
  }

  /// The gains in the order they were heard, each steady run once
  /// (crossfade windows dropped).
  std::vector<float> heard() {
    std::vector<float> Runs;
    std::vector<float> G = gains();
    for (size_t I = 0; I + 2 < G.size(); ++I) {
      bool Steady = std::abs(G[I] - G[I + 1]) < 1e-3 && std::abs(G[I] - G[I + 2]) < 1e-3;
      if (Steady && (Runs.empty() || std::abs(Runs.back() - G[I]) > 1e-3))
        Runs.push_back(G[I]);
    }
    return Runs;
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
  for (size_t P = Text.find(What); P != std::string::npos; P = Text.find(What, P + 1))
    ++N;
  return N;
}

} // namespace

TEST_F(LiveReloadTest, EverySaveIsHeardOnceAndOnlyWhenTheCodeChanged) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  ChildResult C = run(4, timeline({at(1.0, [&] { writeInPlace("gain.dsp", gainScript("0.25")); }),
                          at(2.0, [&] { writeByRename("gain.dsp", gainScript("1.5")); }),
                          at(3.0, [&] { writeInPlace("gain.dsp", gainScript("1.5")); }),
                          at(3.5, [&] {
                            writeInPlace("gain.dsp", "// louder\n" + gainScript("1.5"));
                          })}));
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 0.25f, 1.5f})) << C.describe();
  EXPECT_EQ(count(C.Err, "live in"), 2u) << C.Err; // the same text again: nothing
  // A comment: compiled, found to be the same code, not swapped (a
  // crossfade of a signal with itself would swell by 3 dB).
  EXPECT_NE(C.Err.find("the same machine code"), std::string::npos) << C.Err;
  EXPECT_NE(C.Out.find("reloads: 2,"), std::string::npos) << C.Out;
}

TEST_F(LiveReloadTest, ABrokenSaveKeepsTheMusicPlayingAndTheNextGoodOneIsHeard) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  ChildResult C = run(4, timeline({at(1.0, [&] { writeInPlace("gain.dsp", gainScript("0.5 *")); }),
                          at(2.0, [&] { writeInPlace("gain.dsp", gainScript("2")); })}));
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 2.0f})) << C.describe();
  // The diagnostics, with line, column and caret, then the verdict.
  EXPECT_NE(C.Err.find("gain.dsp:2:"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("^"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("the last good version keeps playing"), std::string::npos) << C.Err;
  EXPECT_NE(C.Out.find("reloads: 1 (1 failed)"), std::string::npos) << C.Out;
}

TEST_F(LiveReloadTest, ADeletedScriptKeepsPlayingUntilItComesBack) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  ChildResult C = run(4, timeline({at(1.0, [&] { fs::remove(path("gain.dsp")); }),
                          at(2.5, [&] { writeInPlace("gain.dsp", gainScript("0.75")); })}));
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Err.find("is gone"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("is back"), std::string::npos) << C.Err;
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 0.75f})) << C.describe();
}

TEST_F(LiveReloadTest, AnIoChangeIsRefusedWithAdviceAndTheOldVersionPlays) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  ChildResult C = run(3, {at(1.0, [&] {
    writeInPlace("gain.dsp", "io 2 -> 1;\nprocess { out = in[0]; }\n");
  })});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Err.find("io 2 -> 1"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("keeps playing"), std::string::npos) << C.Err;
  EXPECT_EQ(heard(), std::vector<float>{0.5f}) << C.describe();
}

TEST_F(LiveReloadTest, StateThatWentNonFiniteIsResetFromTheConsole) {
  // `boom` drives the state to infinity; sin(inf) is NaN, replaced by
  // silence. Setting boom back to 0 does not heal the state; `reset state`
  // does.
  writeInPlace("gain.dsp", R"(io 2 -> 2;
param boom = 0 in [0, 1] nosmooth;
state s = 0.5;
process { s = s * (1 + boom * 1e30); out = in * sin(s); }
)");
  ChildResult C = run(4, timeline({{1.0, "set boom 1\n"},
                                   {1.5, "set boom 0\n"},
                                   {2.5, "reset state\n"}}));
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Err.find("state and delays start again"), std::string::npos) << C.Err;
  EXPECT_EQ(heard(), (std::vector<float>{std::sin(0.5f), 0.0f, std::sin(0.5f)}))
      << C.describe();
  EXPECT_NE(C.Out.find("non-finite"), std::string::npos) << C.Out;
}

TEST_F(LiveReloadTest, TwoHundredReloadsInTwentySeconds) {
  // Alternating versions (after the first two compiles, from the cache),
  // one save every 100 ms.
  writeInPlace("gain.dsp", gainScript("0.5"));
  pid_t Pid = 0;
  auto Rss = [&] {
    std::ifstream Status("/proc/" + std::to_string(Pid) + "/status");
    std::string Line;
    while (std::getline(Status, Line))
      if (Line.rfind("VmRSS:", 0) == 0)
        return std::stol(Line.substr(6));
    return 0L;
  };
  long RssAfterWarmUp = 0, RssAtEnd = 0;
  std::vector<ChildAction> Actions;
  Actions.push_back(at(0.5, [&] {
    // The child: the dspjit process whose arguments name our script.
    for (const auto &E : fs::directory_iterator("/proc")) {
      std::ifstream Cmd(E.path() / "cmdline", std::ios::binary);
      std::string Args((std::istreambuf_iterator<char>(Cmd)), {});
      if (Args.rfind(Dspjit + '\0', 0) == 0 &&
          Args.find(path("gain.dsp")) != std::string::npos)
        Pid = pid_t(std::atol(E.path().filename().c_str()));
    }
  }));
  for (int I = 0; I < 200; ++I) {
    std::string Gain = I % 2 ? "0.5" : "0.25";
    Actions.push_back({1.0 + 0.1 * I, "", 0,
                       [this, Gain] { writeInPlace("gain.dsp", gainScript(Gain)); }});
    if (I == 19)
      Actions.push_back({1.0 + 0.1 * I + 0.05, "", 0, [&] { RssAfterWarmUp = Rss(); }});
  }
  Actions.push_back({21.8, "", 0, [&] { RssAtEnd = Rss(); }});
  ChildResult C = run(22.5, std::move(Actions), {"--loop"});
  ASSERT_EQ(C.Status, 0) << C.describe();
  ASSERT_GT(Pid, 0);
  // Every save was heard (or superseded by the next before its compile
  // finished, which prints nothing): none failed, none crashed.
  std::smatch M;
  ASSERT_TRUE(std::regex_search(C.Out, M, std::regex("reloads: (\\d+)")))
      << C.describe();
  int Reloads = std::stoi(M[1]);
  EXPECT_GE(Reloads, 190) << C.describe();
  EXPECT_LE(Reloads, 200) << C.describe();
  EXPECT_EQ(C.Out.find("failed"), std::string::npos) << C.Out;
  EXPECT_EQ(count(C.Err, "live in"), size_t(Reloads)) << C.Err;
  // Memory: what the first 20 reloads settled at, give or take 4 MiB
  // (recorded only under ASan, whose quarantine grows VmRSS without a leak).
  EXPECT_GT(RssAfterWarmUp, 0);
  if (!UnderAsan)
    EXPECT_LT(RssAtEnd - RssAfterWarmUp, 4096) << "VmRSS after 20 reloads "
                                               << RssAfterWarmUp << " kB, at the end "
                                               << RssAtEnd << " kB";
  std::cout << "[ reloads ] " << Reloads << "; VmRSS " << RssAfterWarmUp
            << " kB after 20, " << RssAtEnd << " kB after 200; "
            << C.Out.substr(C.Out.find("reloads:")) << std::flush;
}
