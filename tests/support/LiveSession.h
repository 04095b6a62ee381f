//===- tests/support/LiveSession.h - Sessions in-process on a private jackd -===//
//
// The fixture of in-process live tests: one private jackd (dummy driver,
// 48 kHz, 64-frame periods) for the whole suite, a PaSession open for as
// long (sessions nest in it), a temporary directory with its own kernel
// cache, and a played file of noise with constant magnitude 0.25 and
// random signs, so that each recorded sample divided by its input sample is
// the gain of the version that processed it: the recording tells what was
// heard, and when each save went live.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_LIVESESSION_H
#define DSPJIT_TESTS_SUPPORT_LIVESESSION_H

#include "runtime/AudioFile.h"
#include "session/Session.h"
#include "tests/support/EventLog.h"
#include "tests/support/Heard.h"
#include "tests/support/JackServer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace dspjit::test {

class LiveSessionTest : public ::testing::Test {
protected:
  static constexpr double Rate = 48000;

  static void SetUpTestSuite() {
    auto S = JackServer::start({uint32_t(Rate), 64});
    ASSERT_TRUE(S) << S.error();
    Server = std::move(*S).release();
    auto P = session::openAudio();
    ASSERT_TRUE(P) << P.error();
    Audio = new PaSession(std::move(*P));
    Server->finishSetup();
  }
  static void TearDownTestSuite() {
    if (Server)
      Server->beginShutdown();
    delete Audio;
    Audio = nullptr;
    delete Server;
    Server = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(Server && Audio) << "no JACK server";
    Dir = std::filesystem::temp_directory_path() /
          ("dspjit-session-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(Dir);
    std::vector<float> S(size_t(Rate) * 6 * 2);
    uint32_t X = 1;
    for (float &V : S) {
      X = X * 1664525u + 1013904223u;
      V = (X >> 31) ? 0.25f : -0.25f;
    }
    In = S;
    auto W = writeAudioFile(path("in.wav"), S.data(), S.size() / 2, 2, Rate);
    ASSERT_TRUE(W) << W.error();
  }
  void TearDown() override { std::filesystem::remove_all(Dir); }

  std::string path(const std::string &Name) const {
    return (Dir / Name).string();
  }
  void writeInPlace(const std::string &Name, const std::string &Text) {
    std::ofstream(path(Name), std::ios::trunc) << Text;
  }
  void writeByRename(const std::string &Name, const std::string &Text) {
    std::ofstream(path(Name + ".tmp~")) << Text;
    std::filesystem::rename(path(Name + ".tmp~"), path(Name));
  }
  static std::string gainScript(const std::string &Gain) {
    return "io 2 -> 2;\nprocess { out = in * " + Gain + "; }\n";
  }

  /// gain.dsp over in.wav, recorded to out.wav, for `Seconds` (none: until
  /// stopped).
  session::SessionOptions options(std::optional<double> Seconds = {}) {
    session::SessionOptions O;
    O.Script = path("gain.dsp");
    O.Host.PlayPath = path("in.wav");
    O.Host.RecordPath = path("out.wav");
    O.Host.Loop = !Seconds || *Seconds > 5.5;
    if (Seconds)
      O.Length = Duration{*Seconds, std::nullopt};
    O.Compile.cacheDir = path("cache"); // no state shared with the user's
    // Never end the test process: record what the watchdog would do.
    O.OnShutdownStuck = [this](int Status) { StuckStatus = Status; };
    return O;
  }

  /// Opens and starts a session with an EventLog attached.
  std::unique_ptr<session::Session> start(session::SessionOptions O) {
    std::string Diagnostics;
    auto S =
        session::Session::open(std::move(O), [&](const DiagnosticEngine &D) {
          std::ostringstream Text;
          D.print(Text);
          Diagnostics += Text.str();
        });
    EXPECT_TRUE(S) << (S ? "" : S.error()) << Diagnostics;
    if (!S)
      return nullptr;
    Log = std::make_unique<EventLog>((*S)->bus());
    auto Started = (*S)->start();
    EXPECT_TRUE(Started) << (Started ? "" : Started.error());
    return std::move(*S);
  }

  /// The gains heard in out.wav, in order (tests/support/Heard.h).
  std::vector<float> heard() {
    return heardGains(recordedGains(path("out.wav"), In, Rate));
  }

  /// Sleeps `Seconds` of audio processed by `S` (not of wall-clock time).
  static void playFor(session::Session &S, double Seconds) {
    auto Summary = S.bus().summary();
    if (!Summary || !(Seconds > 0))
      return;
    uint64_t Until = Summary->Frames + uint64_t(Seconds * Rate);
    for (int I = 0; I < int(Seconds * 400) + 2000; ++I) {
      auto Now = S.bus().summary();
      if (!Now || Now->Frames >= Until)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  static inline JackServer *Server = nullptr;
  static inline PaSession *Audio = nullptr;
  std::filesystem::path Dir;
  std::vector<float> In;
  std::unique_ptr<EventLog> Log;
  std::optional<int> StuckStatus;
};

} // namespace dspjit::test

#endif
