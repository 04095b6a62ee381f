//===- tests/live/run_test.cpp - `dspjit run` and `dspjit devices` on JACK ===//
//
// The live command end to end, as a user runs it: each test starts a
// private jackd (dummy driver, 48 kHz, 64-frame periods), runs the real
// `dspjit` binary in a child process with that server as its default, and
// looks at what came out: the recording, the timing summary, the messages
// and the exit status. Nothing is mocked.
//
// With --play and --record, the file reaches the kernel and its output
// reaches the recording inside the same callback, so the recording has no
// stream latency to allow for: recorded frame k is the kernel's output for
// played frame k. A played file shorter than the --play ring (one second)
// is wholly buffered before the stream starts, so it cannot arrive late.
//
// These VMs are jittery: xruns are never asserted to be zero. The measured
// timing is printed with each run ("[ timing ]").
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/JackServer.h"
#include "tests/support/Noise.h"
#include "tests/support/SharedJackServer.h"
#include "tests/support/Udp.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

using namespace dspjit;
using namespace dspjit::test;

namespace {

constexpr double Rate = 48000;
const std::string Dspjit = DSPJIT_BINARY;
const std::string Examples = DSPJIT_SOURCE_DIR "/examples/";

using Child = ChildResult;
using Action = ChildAction;

/// What `dspjit run` prints just before it starts the stream.
const std::string Running = "Ctrl-C or 'quit' stops";

/// Runs dspjit with `Args`, performs `Actions` in order, and waits for it
/// (killing it after `TimeoutSeconds`, which fails the test).
Child runDspjit(const std::vector<std::string> &Args,
                std::vector<Action> Actions = {}, double TimeoutSeconds = 30,
                bool CloseStdin = true) {
  ChildOptions O;
  O.Actions = std::move(Actions);
  O.TimeoutSeconds = TimeoutSeconds;
  O.CloseStdin = CloseStdin;
  Child C = runChild(Dspjit, Args, O);
  EXPECT_FALSE(C.TimedOut) << "dspjit did not finish in " << TimeoutSeconds
                           << " s\nstderr:\n"
                           << C.Err;
  return C;
}

std::string describe(const Child &C) { return C.describe(); }

class RunTest : public SharedJackServerTest {
protected:
  void SetUp() override {
    SharedJackServerTest::SetUp();
    if (HasFatalFailure())
      return;
    Dir = std::filesystem::temp_directory_path() /
          ("dspjit-run-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(Dir);
  }
  void TearDown() override { std::filesystem::remove_all(Dir); }

  std::string path(const std::string &Name) const {
    return (Dir / Name).string();
  }

  std::string writeNoise(const std::string &Name, uint64_t Frames,
                         unsigned Channels = 2) {
    std::vector<float> S = noise(Frames, Channels, 7);
    auto W = writeAudioFile(path(Name), S.data(), Frames, Channels, Rate);
    EXPECT_TRUE(W) << W.error();
    return path(Name);
  }

  std::string writeScript(const std::string &Name, const std::string &Text) {
    std::ofstream(path(Name)) << Text;
    return path(Name);
  }

  AudioData readRecording(const std::string &Path) {
    auto R = readAudioFile(Path);
    EXPECT_TRUE(R) << R.error();
    return R ? *R : AudioData{};
  }

  /// Prints the timing summary of a run, so that every run reports it.
  void report(const Child &C) {
    std::istringstream Lines(C.Out);
    std::string Line;
    while (std::getline(Lines, Line))
      std::cout << "[ timing   ] " << Line << "\n";
  }

  std::filesystem::path Dir;
};

//===-- Files through effects ---------------------------------------------===//

TEST_F(RunTest, WirePlaysAFileThroughAndRecordsItBitExact) {
  const uint64_t Frames = uint64_t(0.75 * Rate);
  std::string In = writeNoise("in.wav", Frames);
  Child C = runDspjit({"run", Examples + "wire.dsp", "--play", In, "--record",
                       path("out.wav"), "--stats-json", path("stats.json")});
  report(C);
  ASSERT_EQ(C.Status, 0) << describe(C);
  EXPECT_NE(C.Err.find("end of '" + In + "'"), std::string::npos) << C.Err;
  EXPECT_NE(C.Out.find("processing time"), std::string::npos) << C.Out;

  AudioData Out = readRecording(path("out.wav"));
  ASSERT_EQ(Out.Channels, 2u);
  // The recording ends with the played file's last frame.
  ASSERT_EQ(Out.frames(), Frames);
  std::vector<float> Expected = noise(Frames, 2, 7);
  for (uint64_t K = 0; K < Frames * 2; ++K)
    ASSERT_EQ(Out.Samples[K], Expected[K]) << "sample " << K;

  std::ifstream Json(path("stats.json"));
  std::string Text((std::istreambuf_iterator<char>(Json)), {});
  EXPECT_NE(Text.find("\"processing_us\""), std::string::npos) << Text;
  EXPECT_NE(Text.find("\"xruns\""), std::string::npos) << Text;
}

TEST_F(RunTest, RecordingsTakeRendersFormatsAndDither) {
  // --record to 16-bit FLAC: dithered on the writer thread, seeded (two
  // runs give the same file), within 1.5 steps of what was played; with
  // --no-dither, within half a step. And Ogg Vorbis, lossy float.
  const uint64_t Frames = uint64_t(0.5 * Rate);
  std::string In = writeNoise("in.wav", Frames);
  std::vector<float> Played = noise(Frames, 2, 7);
  const double Step = 1.0 / 32768;
  for (auto [Name, Dithered] :
       {std::pair{"a.flac", true}, std::pair{"b.flac", true},
        std::pair{"plain.flac", false}}) {
    std::vector<std::string> Args = {"run",      Examples + "wire.dsp",
                                     "--play",   In,
                                     "--record", path(Name),
                                     "--format", "16"};
    if (!Dithered)
      Args.push_back("--no-dither");
    Child C = runDspjit(Args);
    ASSERT_EQ(C.Status, 0) << describe(C);
    AudioData Out = readRecording(path(Name));
    EXPECT_EQ(Out.Format, SampleFormat::Pcm16);
    ASSERT_EQ(Out.frames(), Frames) << Name;
    for (uint64_t K = 0; K < Frames * 2; ++K)
      ASSERT_LE(std::fabs(Out.Samples[K] - Played[K]),
                (Dithered ? 1.5 : 0.5) * Step + 1e-9)
          << Name << ", sample " << K;
  }
  EXPECT_EQ(readRecording(path("a.flac")).Samples,
            readRecording(path("b.flac")).Samples);
  EXPECT_NE(readRecording(path("a.flac")).Samples,
            readRecording(path("plain.flac")).Samples);

  Child C = runDspjit({"run", Examples + "wire.dsp", "--play", In, "--record",
                       path("out.ogg")});
  ASSERT_EQ(C.Status, 0) << describe(C);
  EXPECT_EQ(readRecording(path("out.ogg")).frames(), Frames);
}

TEST_F(RunTest, GainScalesAPlayedFile) {
  const uint64_t Frames = uint64_t(0.5 * Rate);
  std::string In = writeNoise("in.wav", Frames);
  Child C = runDspjit({"run", Examples + "gain.dsp", "--play", In, "--record",
                       path("out.wav"), "--set", "gain=-6", "--block", "64"});
  report(C);
  ASSERT_EQ(C.Status, 0) << describe(C);
  AudioData Out = readRecording(path("out.wav"));
  ASSERT_GE(Out.frames(), Frames);
  std::vector<float> Expected = noise(Frames, 2, 7);
  const double Factor = std::pow(10.0, -6.0 / 20);
  for (uint64_t K = 0; K < Frames * 2; ++K)
    ASSERT_NEAR(Out.Samples[K], Factor * Expected[K], 1e-6) << "sample " << K;
}

TEST_F(RunTest, AGeneratorRunsForTwoSecondsLikeItsOfflineRender) {
  Child C = runDspjit({"run", Examples + "additive.dsp", "--duration", "2",
                       "--record", path("live.wav")});
  report(C);
  ASSERT_EQ(C.Status, 0) << describe(C);
  EXPECT_NE(C.Err.find("end of --duration"), std::string::npos) << C.Err;
  AudioData Live = readRecording(path("live.wav"));
  ASSERT_EQ(Live.Channels, 2u);
  EXPECT_GE(Live.frames(), uint64_t(2 * Rate));
  EXPECT_LT(Live.frames(), uint64_t(2.5 * Rate));

  // JACK calls back with its 64-frame period, so the live output is the
  // offline render with 64-frame blocks, sample for sample.
  Child R = runDspjit({"render", Examples + "additive.dsp", path("ref.wav"),
                       "--duration", "2s", "--block", "64"});
  ASSERT_EQ(R.Status, 0) << describe(R);
  AudioData Ref = readRecording(path("ref.wav"));
  uint64_t N = std::min(Live.frames(), Ref.frames()) * 2;
  ASSERT_GT(N, 0u);
  double Peak = 0;
  for (uint64_t K = 0; K < N; ++K) {
    ASSERT_EQ(Live.Samples[K], Ref.Samples[K]) << "sample " << K;
    Peak = std::max(Peak, double(std::fabs(Live.Samples[K])));
  }
  EXPECT_GT(Peak, 0.1);
}

//===-- Parameters while running ------------------------------------------===//

/// Checks that a gain recording goes from 0 dB to `ToDb` once, at a frame
/// between `After` and `Before`, and returns that frame.
uint64_t expectGainChange(const AudioData &Out, const std::vector<float> &In,
                          uint64_t Frames, double ToDb, uint64_t After,
                          uint64_t Before) {
  const double To = std::pow(10.0, ToDb / 20);
  uint64_t Change = 0;
  while (Change < Frames && Out.Samples[2 * Change] == In[2 * Change] &&
         Out.Samples[2 * Change + 1] == In[2 * Change + 1])
    ++Change;
  EXPECT_GT(Change, After) << "the gain changed too early";
  EXPECT_LT(Change, Before) << "the gain never changed";
  // 10 ms of smoothing; from 50 ms on, the new gain holds.
  uint64_t Settled = Change + uint64_t(0.05 * Rate);
  uint64_t Wrong = 0;
  for (uint64_t K = Settled * 2; K < Frames * 2; ++K)
    Wrong += !(std::fabs(Out.Samples[K] - To * In[K]) <= 1e-5);
  EXPECT_EQ(Wrong, 0u) << "after frame " << Settled;
  return Change;
}

TEST_F(RunTest, ASetCommandOnStandardInputReachesTheRecording) {
  const uint64_t Frames = uint64_t(0.9 * Rate);
  std::string In = writeNoise("in.wav", Frames);
  // A slow start leaves the file playing for 0.9 s: send the command as
  // soon as the stream is up, i.e. after the "running" line.
  Child C = runDspjit(
      {"run", Examples + "gain.dsp", "--play", In, "--record", path("out.wav")},
      {{0.3, "set gain -20\n", 0, {}, Running},
       {0.4, "get gain\n", 0, {}, Running}});
  report(C);
  ASSERT_EQ(C.Status, 0) << describe(C);
  EXPECT_NE(C.Err.find("gain = -20"), std::string::npos) << C.Err;
  AudioData Out = readRecording(path("out.wav"));
  ASSERT_GE(Out.frames(), Frames);
  uint64_t At = expectGainChange(Out, noise(Frames, 2, 7), Frames, -20, 0,
                                 Frames - uint64_t(0.06 * Rate));
  std::cout << "[ live     ] the command took effect at frame " << At << "\n";
}

/// An OSC message of one float, encoded by hand (OSC 1.0).
std::string oscMessage(const std::string &Path, std::optional<float> Value) {
  auto Pad = [](std::string S) {
    S.push_back('\0');
    while (S.size() % 4)
      S.push_back('\0');
    return S;
  };
  std::string M = Pad(Path) + Pad(Value ? ",f" : ",");
  if (Value) {
    uint32_t Bits;
    std::memcpy(&Bits, &*Value, 4);
    Bits = htonl(Bits);
    M.append(reinterpret_cast<const char *>(&Bits), 4);
  }
  return M;
}

TEST_F(RunTest, AnOscMessageReachesTheRecording) {
  const uint64_t Frames = uint64_t(0.9 * Rate);
  std::string In = writeNoise("in.wav", Frames);
  unsigned Port = freeUdpPort();
  auto Send = [Port] {
    int S = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in A = {};
    A.sin_family = AF_INET;
    A.sin_port = htons(uint16_t(Port));
    A.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string M = oscMessage("/param/gain", -12.0f);
    sendto(S, M.data(), M.size(), 0, reinterpret_cast<sockaddr *>(&A),
           sizeof A);
    close(S);
  };
  Child C = runDspjit({"run", Examples + "gain.dsp", "--play", In, "--record",
                       path("out.wav"), "--osc", std::to_string(Port)},
                      {{0.3, "", 0, Send, Running}});
  report(C);
  ASSERT_EQ(C.Status, 0) << describe(C);
  EXPECT_NE(C.Err.find("OSC on udp://127.0.0.1:" + std::to_string(Port)),
            std::string::npos)
      << C.Err;
  AudioData Out = readRecording(path("out.wav"));
  ASSERT_GE(Out.frames(), Frames);
  expectGainChange(Out, noise(Frames, 2, 7), Frames, -12, 0,
                   Frames - uint64_t(0.06 * Rate));
}

//===-- Analysis scripts --------------------------------------------------===//

const char *PeakScript = "io 2 -> 0;\n"
                         "meter peak;\n"
                         "state held = 0;\n"
                         "process {\n"
                         "  held = max(held, abs(in));\n"
                         "  peak = held;\n"
                         "}\n";

TEST_F(RunTest, AnInputOnlyMeterScriptRunsLiveAndAnswersMeters) {
  std::string Script = writeScript("peak.dsp", PeakScript);
  Child C = runDspjit(
      {"run", Script, "--duration", "1", "--stats-json", path("stats.json")},
      {{0.5, "meters\n", 0, {}, Running}});
  report(C);
  ASSERT_EQ(C.Status, 0) << describe(C);
  EXPECT_NE(C.Err.find("meters only"), std::string::npos) << C.Err;
  // The dummy driver's capture ports are silent.
  EXPECT_NE(C.Err.find("peak = 0 0"), std::string::npos) << C.Err;
  EXPECT_NE(C.Out.find("callbacks"), std::string::npos) << C.Out;
}

TEST_F(RunTest, AMeterScriptOverAPlayedFileReportsItsPeak) {
  std::string Script = writeScript("peak.dsp", PeakScript);
  const uint64_t Frames = uint64_t(0.5 * Rate);
  std::vector<float> S(Frames * 2);
  for (uint64_t K = 0; K < Frames; ++K) {
    S[2 * K] = K == 100 ? 0.75f : 0.125f;
    S[2 * K + 1] = -0.25f;
  }
  ASSERT_TRUE(writeAudioFile(path("in.wav"), S.data(), Frames, 2, Rate));
  Child C = runDspjit(
      {"run", Script, "--play", path("in.wav"), "--loop", "--duration", "1.5"},
      {{0.8, "meters\n", 0, {}, Running}});
  ASSERT_EQ(C.Status, 0) << describe(C);
  EXPECT_NE(C.Err.find("peak = 0.75 0.25"), std::string::npos) << C.Err;
}

//===-- Devices -----------------------------------------------------------===//

TEST_F(RunTest, DevicesListsJackWithDefaultsMarked) {
  Child C = runDspjit({"devices"});
  ASSERT_EQ(C.Status, 0) << describe(C);
  EXPECT_NE(C.Out.find("JACK Audio Connection Kit"), std::string::npos)
      << C.Out;
  EXPECT_NE(
      C.Out.find("system, JACK Audio Connection Kit (2 in, 2 out), 48000 Hz"),
      std::string::npos)
      << C.Out;
  EXPECT_NE(C.Out.find("* "), std::string::npos) << C.Out;
  EXPECT_NE(C.Out.find("latency"), std::string::npos) << C.Out;
}

TEST_F(RunTest, DevicesAreChosenByIndexOrName) {
  Child ByName = runDspjit(
      {"run", Examples + "wire.dsp", "--device", "SYST", "--duration", "0.3"});
  EXPECT_EQ(ByName.Status, 0) << describe(ByName);
  Child Direct = runDspjit({"run", Examples + "wire.dsp", "--host-api", "jack",
                            "--duration", "0.3", "--direct"});
  EXPECT_EQ(Direct.Status, 0) << describe(Direct);
  EXPECT_NE(Direct.Out.find("kernel.process ran as the callback itself"),
            std::string::npos)
      << Direct.Out;
}

//===-- Bad input ---------------------------------------------------------===//

/// Runs, expects a non-zero exit and `Message` on stderr.
void expectRefused(const std::vector<std::string> &Args,
                   const std::string &Message,
                   std::vector<Action> Actions = {}) {
  Child C = runDspjit(Args, std::move(Actions));
  EXPECT_NE(C.Status, 0) << describe(C);
  EXPECT_LT(C.Status, 128) << "crashed: " << describe(C);
  EXPECT_NE(C.Err.find(Message), std::string::npos) << describe(C);
}

TEST_F(RunTest, AnUnknownDeviceListsTheCandidates) {
  expectRefused({"run", Examples + "wire.dsp", "--device", "speakers"},
                "no output device matches 'speakers'; the output devices "
                "are:\n  [0] 'system' (JACK Audio Connection Kit)");
  expectRefused({"run", Examples + "wire.dsp", "--output-device", "7"},
                "no device has index 7");
}

TEST_F(RunTest, AnUnsupportedRateSaysWhatTheDeviceSupports) {
  expectRefused({"run", Examples + "wire.dsp", "--rate", "44.1k"},
                "cannot run at 44100 Hz; it supports 48000 Hz");
  expectRefused({"run", Examples + "wire.dsp", "--rate", "fast"},
                "--rate takes a rate");
}

TEST_F(RunTest, TooManyChannelsSaysWhatTheDeviceHas) {
  std::string Script =
      writeScript("quad.dsp", "io 4 -> 4;\nprocess { out = in; }\n");
  expectRefused({"run", Script}, "has 2 input channels but the script (io 4 -> "
                                 "4) needs 4");
}

TEST_F(RunTest, BadPlayFilesAreRefused) {
  expectRefused({"run", Examples + "wire.dsp", "--play", path("missing.wav")},
                "cannot open '" + path("missing.wav") + "'");
  std::ofstream(path("garbage.wav")) << "this is not a sound file";
  expectRefused({"run", Examples + "wire.dsp", "--play", path("garbage.wav")},
                "cannot open '" + path("garbage.wav") + "'");
  std::string Mono = writeNoise("mono.wav", 4800, 1);
  expectRefused({"run", Examples + "wire.dsp", "--play", Mono},
                "has 1 channel but the script (io 2 -> 2) takes 2");
  expectRefused({"run", Examples + "additive.dsp", "--play", Mono},
                "--play needs a script with inputs");
}

TEST_F(RunTest, CommandErrorsAreReportedAndGiveANonZeroExit) {
  std::string In = writeNoise("in.wav", uint64_t(Rate));
  Child C = runDspjit({"run", Examples + "gain.dsp", "--play", In},
                      {{0.3, "set gian 3\n"},
                       {0.35, "set gain 99\n"},
                       {0.4, std::string("\x01\x02garbage\xff\n", 11)},
                       {0.45, "frobnicate\n"},
                       {0.5, "set gain loud\n"},
                       {0.55, std::string(5000, 'x') + "\n"}});
  EXPECT_EQ(C.Status, 1) << describe(C);
  EXPECT_NE(C.Err.find("unknown parameter 'gian'; did you mean 'gain'?"),
            std::string::npos)
      << C.Err;
  EXPECT_NE(C.Err.find("warning: "), std::string::npos) << C.Err; // clamped
  EXPECT_NE(C.Err.find("unreadable bytes"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("unknown command 'frobnicate'"), std::string::npos)
      << C.Err;
  EXPECT_NE(C.Err.find("'loud' is not a number"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("longer than 1024 bytes"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("5 commands on standard input failed"),
            std::string::npos)
      << C.Err;
}

TEST_F(RunTest, CtrlCStopsAndTheRecordingIsValid) {
  Child C =
      runDspjit({"run", Examples + "additive.dsp", "--record", path("out.wav")},
                {{0.7, "", SIGINT, {}, Running}}, 20,
                /*CloseStdin=*/false);
  report(C);
  EXPECT_EQ(C.Status, 0) << describe(C);
  EXPECT_NE(C.Err.find("interrupted"), std::string::npos) << C.Err;
  AudioData Out = readRecording(path("out.wav"));
  EXPECT_GT(Out.frames(), 0u);
}

TEST_F(RunTest, ASecondCtrlCDuringShutdownStillLeavesAValidRecording) {
  Child C = runDspjit(
      {"run", Examples + "additive.dsp", "--record", path("out.wav")},
      {{0.7, "", SIGINT, {}, Running}, {0, "", SIGINT}, {0, "", SIGINT}}, 20,
      /*CloseStdin=*/false);
  EXPECT_TRUE(C.Status == 0 || C.Status == 130) << describe(C);
  EXPECT_LT(C.Seconds, 5.0);
  AudioData Out = readRecording(path("out.wav"));
  EXPECT_GT(Out.frames(), 0u);
}

TEST(RunWithoutJack, NoDeviceAtAllExplainsHowToStartJack) {
  // Point at a JACK server that does not exist; on a machine with a sound
  // card PortAudio still finds it, and there is nothing to test.
  setenv("JACK_DEFAULT_SERVER", "dspjit-no-such-server", 1);
  Child Devices = runDspjit({"devices"});
  if (Devices.Status == 0)
    GTEST_SKIP() << "this machine has audio devices:\n" << Devices.Out;
  Child C = runDspjit({"run", Examples + "wire.dsp"});
  unsetenv("JACK_DEFAULT_SERVER");
  EXPECT_EQ(C.Status, 1) << describe(C);
  EXPECT_NE(C.Err.find("no audio device"), std::string::npos) << C.Err;
  EXPECT_NE(C.Err.find("jackd --no-realtime -d dummy"), std::string::npos)
      << C.Err;
  EXPECT_EQ(C.Err.find("Cannot connect to server"), std::string::npos)
      << "libjack's noise leaked:\n"
      << C.Err;
}

} // namespace
