//===- tests/live/record_kill_test.cpp - Recordings that survive SIGKILL --===//
//
// `dspjit run --record` killed with SIGKILL, as the OOM killer or a crash
// would end it, at several moments: early, later, and in the middle of a
// hot reload (right after the save, while the new version compiles, and
// just after it went live, in its crossfade). Nothing is mocked: the real
// binary runs as a child on a private JACK dummy server, shared by the
// suite, and is killed for real.
//
// What was played is heard from outside: a JACK client (JackProbe)
// records dspjit's output ports, as any other client of the server would
// hear them. The script counts frames, so that every frame differs and
// says which it is: frame k (from 1) is k / 2^24 on the left and
// -k / 2^24 on the right (-k / 2^24 - 0.25 after the reload), exact in
// float for 349 s. After the kill:
//
//   - the file opens with libsndfile, and its header, read here byte by
//     byte, describes the samples on disk, give or take a header interval
//     (WriteCadence); a header that says 0 frames fails;
//   - the recording is the script's output, frame after frame from the
//     first, nothing dropped or repeated (the crossfade of a reload aside);
//   - every frame the probe heard is in the recording, bit for bit, at the
//     frame its value names (frames JACK left silent, or tore across two
//     cycles, are counted and allowed: these VMs see xruns);
//   - the recording holds all the heard frames but at most the last half
//     second (24000 frames).
//
// Each case prints what the kill cost ("[ killed   ] ... lost N frames").
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/JackProbe.h"
#include "tests/support/SharedJackServer.h"

#include <jack/jack.h>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

constexpr double Rate = 48000;
constexpr unsigned Period = 64;
/// What a kill may cost: the last half second.
constexpr uint64_t MaxLostFrames = 24000;
/// One frame of the counter, 2^-24.
constexpr float Step = 0x1p-24f;
/// The reloaded version's right channel is offset by this.
constexpr float Offset = 0.25f;

const std::string Dspjit = DSPJIT_BINARY;
/// What `dspjit run` prints once the stream has started.
const std::string Running = "Ctrl-C or 'quit' stops";
const std::string ReloadedLine = "reload 1: live";

const char *CounterScript = "io 0 -> 2;\n"
                            "state n = 0;\n"
                            "process {\n"
                            "  n = n + 1;\n"
                            "  out = [n, -n] / 16777216;\n"
                            "}\n";
/// The same counter (its state carries over), another right channel.
const char *ReloadedScript = "io 0 -> 2;\n"
                             "state n = 0;\n"
                             "process {\n"
                             "  n = n + 1;\n"
                             "  out = [n, -n - 4194304] / 16777216;\n"
                             "}\n";

/// What the header of a RIFF/WAVE or RF64 file says, read independently of
/// libsndfile (and of runtime/WavRepair).
struct WavHeader {
  uint64_t FileBytes = 0;
  uint64_t DataOffset = 0;
  uint64_t DataBytes = 0; ///< as the header says
};

uint32_t le32(const unsigned char *P) {
  return uint32_t(P[0]) | uint32_t(P[1]) << 8 | uint32_t(P[2]) << 16 |
         uint32_t(P[3]) << 24;
}

std::optional<WavHeader> readWavHeader(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  std::string Bytes((std::istreambuf_iterator<char>(In)), {});
  const auto *B = reinterpret_cast<const unsigned char *>(Bytes.data());
  if (Bytes.size() < 12 || Bytes.compare(8, 4, "WAVE") != 0)
    return std::nullopt;
  const bool Rf64 = Bytes.compare(0, 4, "RF64") == 0;
  if (!Rf64 && Bytes.compare(0, 4, "RIFF") != 0)
    return std::nullopt;
  WavHeader H;
  H.FileBytes = Bytes.size();
  uint64_t Ds64Data = 0;
  for (size_t At = 12; At + 8 <= Bytes.size();) {
    uint32_t Size = le32(B + At + 4);
    if (Rf64 && Bytes.compare(At, 4, "ds64") == 0 && At + 24 <= Bytes.size())
      Ds64Data = le32(B + At + 16) | uint64_t(le32(B + At + 20)) << 32;
    if (Bytes.compare(At, 4, "data") == 0) {
      H.DataOffset = At + 8;
      H.DataBytes = Rf64 && Size == 0xFFFFFFFF ? Ds64Data : Size;
      return H;
    }
    At += 8 + uint64_t(Size) + (Size & 1);
  }
  return std::nullopt;
}

/// The bits of a stereo frame, as one key.
uint64_t key(float L, float R) {
  uint32_t A, B;
  std::memcpy(&A, &L, 4);
  std::memcpy(&B, &R, 4);
  return uint64_t(A) << 32 | B;
}

/// The frame number (from 1) a left sample of the counter names; crossfade
/// frames are within a few percent of it.
uint64_t frameNamed(float Left) {
  return uint64_t(std::llround(double(Left) / double(Step)));
}

/// Where a kill lands, relative to the stream's start.
struct KillPoint {
  std::string Name;
  double AfterSeconds = 0; ///< after the stream started
  /// With Reload, the save happens at AfterSeconds; then the kill comes
  /// KillAfterSaveMs later, or, with AtReloadLine, as soon as the reload
  /// line is printed.
  bool Reload = false;
  int KillAfterSaveMs = 0;
  bool AtReloadLine = false;
};

/// What one killed run left, compared with what the probe heard.
struct Outcome {
  uint64_t Recorded = 0; ///< frames libsndfile reads from the file
  uint64_t HeaderFrames = 0;
  uint64_t OnDiskFrames = 0; ///< whole frames after the data chunk's start
  uint64_t LastHeard = 0;    ///< the highest frame number the probe heard
  uint64_t Heard = 0, Exact = 0, Silent = 0, Torn = 0, Unrecorded = 0;
  uint64_t Wrong = 0;
  std::string FirstWrong;
  uint64_t NotTheScripts = 0; ///< recorded frames that are not the counter
  bool ReloadWasLive = false;
  int64_t lost() const { return int64_t(LastHeard) - int64_t(Recorded); }
};

class RecordKill : public SharedJackServerTest {
protected:
  void SetUp() override {
    SharedJackServerTest::SetUp();
    if (HasFatalFailure())
      return;
    Dir = fs::temp_directory_path() /
          ("dspjit-record-kill-" + std::to_string(getpid()));
    fs::create_directories(Dir);
  }
  void TearDown() override { fs::remove_all(Dir); }

  std::string path(const std::string &Name) const {
    return (Dir / Name).string();
  }

  /// Connects the probe to every output port of dspjit's PortAudio
  /// client (retrying while they appear).
  static void connectProbe(JackProbe &Probe) {
    for (int Try = 0; Try < 200; ++Try) {
      std::vector<std::string> Outs =
          Probe.findPorts("^PortAudio.*:out_", JackPortIsOutput);
      if (Outs.size() >= 2) {
        for (unsigned C = 0; C < 2; ++C) {
          auto Ok = Probe.connect(Outs[C], Probe.recordPort(C));
          EXPECT_TRUE(Ok) << Ok.error();
        }
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "dspjit's output ports never appeared";
  }

  /// Runs the counter with --record, kills it at `K`, and compares the
  /// recording with what the probe heard.
  Outcome killAt(const KillPoint &K) {
    const std::string Script = path("counter.dsp");
    const std::string Wav = path("out.wav");
    std::ofstream(Script) << CounterScript;
    auto Probe = JackProbe::open({"listener", 0, 2, uint64_t(12 * Rate)});
    EXPECT_TRUE(Probe) << Probe.error();
    if (!Probe)
      return {};
    JackProbe &P = **Probe;

    int Pid = -1;
    ChildOptions O;
    O.TimeoutSeconds = 40;
    O.CloseStdin = false;
    O.OnStart = [&Pid](int Id) { Pid = Id; };
    auto Kill = [&Pid] {
      if (Pid > 0)
        kill(Pid, SIGKILL);
    };
    O.Actions.push_back({0, "", 0, [&P] { connectProbe(P); }, Running});
    if (!K.Reload) {
      O.Actions.push_back({K.AfterSeconds, "", SIGKILL, {}, Running});
    } else if (K.AtReloadLine) {
      O.Actions.push_back({K.AfterSeconds, "", 0,
                           [&] { std::ofstream(Script) << ReloadedScript; },
                           Running});
      O.Actions.push_back({0, "", SIGKILL, {}, ReloadedLine});
    } else {
      O.Actions.push_back({K.AfterSeconds, "", 0,
                           [&] {
                             std::ofstream(Script) << ReloadedScript;
                             std::this_thread::sleep_for(
                                 std::chrono::milliseconds(K.KillAfterSaveMs));
                             Kill();
                           },
                           Running});
    }
    ChildResult C =
        runChild(Dspjit, {"run", Script, "--record", Wav, "--no-status"}, O);
    // Whatever the server still had in flight when the client died.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    P.stop();
    EXPECT_FALSE(C.TimedOut) << C.describe();
    EXPECT_EQ(C.Status, 128 + SIGKILL) << "not killed: " << C.describe();
    EXPECT_NE(C.Err.find(Running), std::string::npos) << C.describe();

    Outcome R = compare(Wav, P, K.Reload);
    R.ReloadWasLive = C.Err.find(ReloadedLine) != std::string::npos;
    std::cout << "[ killed   ] " << K.Name << ": " << describe(R) << "\n";
    return R;
  }

  /// Reads the recording and matches what the probe heard against it.
  Outcome compare(const std::string &Wav, const JackProbe &P, bool Reload) {
    Outcome R;
    auto Header = readWavHeader(Wav);
    EXPECT_TRUE(Header) << Wav << " has no RIFF/WAVE header with a data chunk";
    auto Audio = readAudioFile(Wav);
    EXPECT_TRUE(Audio) << Audio.error();
    if (!Header || !Audio)
      return R;
    EXPECT_EQ(Audio->Channels, 2u);
    EXPECT_EQ(Audio->SampleRate, Rate);
    if (Audio->Channels != 2)
      return R;
    R.Recorded = Audio->frames();
    R.HeaderFrames = Header->DataBytes / 8;
    R.OnDiskFrames = (Header->FileBytes - Header->DataOffset) / 8;
    const std::vector<float> &S = Audio->Samples;

    // The recording is the counter from its first frame on.
    std::unordered_map<uint64_t, uint64_t> Index;
    for (uint64_t I = 0; I < R.Recorded; ++I) {
      const float L = S[2 * I], Rt = S[2 * I + 1];
      const float N = float(I + 1) * Step;
      bool Ours = L == N && (Rt == -N || (Reload && Rt == -N - Offset));
      R.NotTheScripts += !Ours;
      Index.emplace(key(L, Rt), I);
    }

    // Every frame heard is in the recording where its value says.
    const uint64_t N = P.recordedFrames();
    const std::vector<float> &L = P.recorded(0), &Rt = P.recorded(1);
    std::unordered_map<uint32_t, uint64_t> LeftAt, RightAt; // bits -> frame
    for (uint64_t I = 0; I < R.Recorded; ++I) {
      uint32_t A, B;
      std::memcpy(&A, &S[2 * I], 4);
      std::memcpy(&B, &S[2 * I + 1], 4);
      LeftAt.emplace(A, I);
      RightAt.emplace(B, I);
    }
    for (uint64_t J = 0; J < N; ++J) {
      if (L[J] == 0 && Rt[J] == 0) {
        ++R.Silent;
        continue;
      }
      ++R.Heard;
      R.LastHeard = std::max(R.LastHeard, frameNamed(L[J]));
      if (Index.count(key(L[J], Rt[J]))) {
        ++R.Exact;
        continue;
      }
      if (frameNamed(L[J]) > R.Recorded) {
        ++R.Unrecorded; // played after the last recorded frame: the loss
        continue;
      }
      // Torn: each channel is silent or a recorded frame's, the two from
      // cycles close by (a late client leaves JACK reading one port before
      // the other; while the probe connects, one port is connected first).
      uint32_t A, B;
      std::memcpy(&A, &L[J], 4);
      std::memcpy(&B, &Rt[J], 4);
      auto Left = LeftAt.find(A), Right = RightAt.find(B);
      const bool LeftOk = L[J] == 0 || Left != LeftAt.end();
      const bool RightOk = Rt[J] == 0 || Right != RightAt.end();
      const bool Close =
          LeftOk && RightOk &&
          (L[J] == 0 || Rt[J] == 0 ||
           std::llabs(int64_t(Left->second) - int64_t(Right->second)) <=
               int64_t(32 * Period));
      if (Close) {
        ++R.Torn;
        continue;
      }
      if (R.Wrong++ == 0) {
        const uint64_t F = frameNamed(L[J]);
        std::ostringstream Out;
        Out << "heard frame " << J << " = (" << L[J] << ", " << Rt[J]
            << "), frame " << F << " of the counter";
        if (F >= 1)
          Out << ", which the recording has as (" << S[2 * (F - 1)] << ", "
              << S[2 * (F - 1) + 1] << ")";
        R.FirstWrong = Out.str();
      }
    }
    return R;
  }

  static std::string describe(const Outcome &R) {
    std::ostringstream Out;
    Out << "recorded " << R.Recorded << " frames (" << R.Recorded / Rate
        << " s), heard up to frame " << R.LastHeard << ": lost " << R.lost()
        << " frames (" << double(R.lost()) / Rate * 1000 << " ms); header "
        << R.HeaderFrames << " frames, " << R.OnDiskFrames << " on disk; heard "
        << R.Heard << " (" << R.Exact << " exact, " << R.Torn << " torn, "
        << R.Unrecorded << " after the recording), " << R.Silent << " silent, "
        << R.Wrong << " wrong; " << R.NotTheScripts
        << " recorded frames not the counter's"
        << (R.ReloadWasLive ? "; the reload had gone live" : "");
    if (!R.FirstWrong.empty())
      Out << "; first wrong: " << R.FirstWrong;
    return Out.str();
  }

  /// What every kill must leave.
  static void expectSurvived(const Outcome &R, bool Reload) {
    EXPECT_GT(R.Recorded, uint64_t(0.2 * Rate)) << describe(R);
    // The header describes the file: libsndfile reads what it says, and it
    // says all but the last header interval or so of the samples on disk.
    EXPECT_EQ(R.Recorded, std::min(R.HeaderFrames, R.OnDiskFrames))
        << describe(R);
    EXPECT_LE(R.OnDiskFrames - std::min(R.OnDiskFrames, R.HeaderFrames),
              uint64_t(0.25 * Rate))
        << describe(R);
    // The script's output, frame after frame; a reload's crossfade (20 ms)
    // mixes the two versions.
    EXPECT_LE(R.NotTheScripts, Reload ? uint64_t(0.02 * Rate) + Period : 0)
        << describe(R);
    // What was heard is what was recorded, bit for bit.
    EXPECT_EQ(R.Wrong, 0u) << describe(R);
    EXPECT_GT(R.Exact, R.Heard / 2) << describe(R);
    EXPECT_GT(R.Heard, uint64_t(0.1 * Rate)) << describe(R);
    // And at most the last half second of it is missing.
    EXPECT_LE(R.lost(), int64_t(MaxLostFrames)) << describe(R);
  }

  fs::path Dir;
};

TEST_F(RecordKill, KilledEarlyTheRecordingKeepsAllButTheLastHalfSecond) {
  Outcome R = killAt({"0.7 s in", 0.7});
  expectSurvived(R, false);
}

TEST_F(RecordKill, KilledLaterTheRecordingKeepsAllButTheLastHalfSecond) {
  Outcome R = killAt({"2.5 s in", 2.5});
  expectSurvived(R, false);
}

TEST_F(RecordKill, KilledRightAfterASaveTheRecordingSurvives) {
  Outcome R = killAt({"at a save, 1 s in", 1.0, true, 0});
  expectSurvived(R, true);
  EXPECT_FALSE(R.ReloadWasLive) << describe(R);
}

TEST_F(RecordKill, KilledWhileTheReloadCompilesTheRecordingSurvives) {
  Outcome R = killAt({"6 ms after a save, 1 s in", 1.0, true, 6});
  expectSurvived(R, true);
}

TEST_F(RecordKill, KilledInTheReloadsCrossfadeTheRecordingSurvives) {
  Outcome R = killAt({"at the reload line, 1 s in", 1.0, true, 0, true});
  expectSurvived(R, true);
  EXPECT_TRUE(R.ReloadWasLive) << describe(R);
}

} // namespace
