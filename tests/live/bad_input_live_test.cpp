//===- tests/live/bad_input_live_test.cpp - dspjit run on bad input -------===//
//
// The rows of tests/BAD_INPUT.md that need a running session: parameter
// values that are not numbers, not finite or out of range, from --set, from
// the console and from OSC; OSC packets that are not what they claim; play
// files that are empty or cut short; a disk that fills up while recording;
// and a script whose output goes non-finite. Each test starts a private
// jackd (dummy driver, 48 kHz, 64-frame periods) and runs the real `dspjit`
// binary as a child process, as tests/live/run_test.cpp does.
//
// What each checks is what the issue asks of every bad input: a clear
// message, a non-zero exit where the program ends, and no loss: the
// recording made up to the fault is a valid file, and a rejected value
// never reaches the audio.
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
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

constexpr double Rate = 48000;
const std::string Dspjit = DSPJIT_BINARY;
const std::string Examples = DSPJIT_SOURCE_DIR "/examples/";
/// What `dspjit run` prints just before it starts the stream.
const std::string Running = "Ctrl-C or 'quit' stops";

class BadInputLive : public SharedJackServerTest {
protected:
  void SetUp() override {
    SharedJackServerTest::SetUp();
    if (HasFatalFailure())
      return;
    Dir = fs::temp_directory_path() /
          ("dspjit-bad-live-" + std::to_string(getpid()));
    fs::create_directories(Dir);
  }
  void TearDown() override { fs::remove_all(Dir); }

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

  std::string writeFile(const std::string &Name, const std::string &Bytes) {
    std::ofstream(path(Name), std::ios::binary) << Bytes;
    return path(Name);
  }

  /// The recording must equal the played noise, sample for sample: no
  /// rejected value reached the audio thread.
  void expectUntouched(const std::string &Recording, uint64_t Frames) {
    auto Out = readAudioFile(Recording);
    ASSERT_TRUE(Out) << Out.error();
    ASSERT_EQ(Out->frames(), Frames);
    std::vector<float> In = noise(Frames, 2, 7);
    for (uint64_t K = 0; K < Frames * 2; ++K)
      ASSERT_EQ(Out->Samples[K], In[K]) << "sample " << K;
  }

  fs::path Dir;
};

void expectHas(const ChildResult &C, const std::string &Text) {
  EXPECT_NE(C.Err.find(Text), std::string::npos) << "expected: " << Text << "\n"
                                                 << C.describe();
}

/// A non-zero exit that is not a crash.
void expectFailed(const ChildResult &C) {
  EXPECT_FALSE(C.TimedOut) << C.describe();
  EXPECT_NE(C.Status, 0) << C.describe();
  EXPECT_FALSE(C.crashed()) << C.describe();
}

//===-- --set -------------------------------------------------------------===//

TEST_F(BadInputLive, BadSetValuesStopBeforeTheStreamStarts) {
  for (auto [Set, Message] : std::vector<std::pair<std::string, std::string>>{
           {"gain=loud", "--set takes name=number, not 'gain=loud'"},
           {"gain=nan", "cannot set 'gain' to nan: not a finite number"},
           {"gain=-inf", "cannot set 'gain' to -inf: not a finite number"},
           {"gian=3", "unknown parameter 'gian'; did you mean 'gain'?"}}) {
    ChildResult C = runChild(Dspjit, {"run", Examples + "gain.dsp",
                                      "--duration", "0.2", "--set", Set});
    expectFailed(C);
    expectHas(C, "dspjit run: error: --set ");
    expectHas(C, Message);
    EXPECT_EQ(C.Err.find(Running), std::string::npos) << "the stream started";
  }
  // Out of range: clamped with a warning, and the session runs.
  ChildResult C = runChild(Dspjit, {"run", Examples + "gain.dsp", "--duration",
                                    "0.2", "--set", "gain=1000"});
  EXPECT_EQ(C.Status, 0) << C.describe();
  expectHas(C, "warning: 'gain' = 1000 is outside [-60, 12]; using 12");
}

//===-- Scripts and files -------------------------------------------------===//

TEST_F(BadInputLive, BadScriptsAndFilesStopBeforeTheStreamStarts) {
  fs::create_directories(path("dir.dsp"));
  std::string Empty = writeFile("empty.dsp", "");
  std::string Binary =
      writeFile("binary.dsp", std::string("\x7f"
                                          "ELF\x02\x01\x01\0\xff\xfe",
                                          10));
  std::string At44 = path("at44.wav");
  std::vector<float> Silence(2 * 4410);
  ASSERT_TRUE(writeAudioFile(At44, Silence.data(), 4410, 2, 44100));
  for (auto [Args, Message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{path("missing.dsp")},
            "cannot read '" + path("missing.dsp") + "': no such file"},
           {{path("dir.dsp")}, "it is a directory, not a file"},
           {{Empty}, "the script has no 'io' declaration"},
           {{Binary}, "invalid UTF-8 byte 0xFF in source"},
           {{Examples + "wire.dsp", "--play", At44},
            "'" + At44 +
                "' is at 44100 Hz but the stream runs at 48000 Hz; run "
                "with --rate 44100 or resample the file"},
           {{Examples + "wire.dsp", "--record", path("no/such/dir/out.wav")},
            "cannot create '" + path("no/such/dir/out.wav") + "'"},
           {{Examples + "wire.dsp", "--record", path("out.mp3")},
            "use the extension .wav"},
       }) {
    Args.insert(Args.begin(), "run");
    ChildResult C = runChild(Dspjit, Args);
    expectFailed(C);
    expectHas(C, Message);
    EXPECT_EQ(C.Err.find(Running), std::string::npos) << "the stream started";
  }
}

TEST_F(BadInputLive, BadOptionsAreRefusedBeforeTheStreamStarts) {
  // A UDP port that is taken for the whole test.
  int Taken = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in A = {};
  A.sin_family = AF_INET;
  A.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(Taken, reinterpret_cast<sockaddr *>(&A), sizeof A), 0);
  socklen_t L = sizeof A;
  getsockname(Taken, reinterpret_cast<sockaddr *>(&A), &L);
  const std::string Port = std::to_string(ntohs(A.sin_port));
  for (
      auto [Args, Message] :
      std::vector<std::pair<std::vector<std::string>, std::string>>{
          {{"--osc", Port},
           "cannot listen for OSC on 127.0.0.1:" + Port +
               ": Address already in use"},
          {{"--osc", "70000"}, "--osc: Value 70000 not in range 0 to 65535"},
          {{"--map", "3,4"},
           "has 2 input channels but the script (io 2 -> 2) with --map needs 4; "
           "choose another device or route channels with --map"},
          {{"--map", "0,1"}, "--map takes device channels counted from 1"},
          {{"--device", "99999999999"}, "no device has index 99999999999"},
          {{"--host-api", "nosuch"},
           "no host API matches 'nosuch' (available: "},
          {{"--latency", "-1"}, "--latency takes low, high or seconds"},
          {{"--format", "8"},
           "invalid sample format '8'; expected float, 16, 24 or 32"},
          {{"--block", "99999"},
           "--block: Value 99999 not in range 0 to 16384"},
          {{"--loop"}, "--loop loops the file of --play; give --play FILE"},
          {{"--duration", "1e30"}, "is longer than the limit of 1000000000 s"},
      }) {
    Args.insert(Args.begin(), {"run", Examples + "wire.dsp"});
    ChildResult C = runChild(Dspjit, Args);
    expectFailed(C);
    expectHas(C, Message);
    EXPECT_EQ(C.Err.find(Running), std::string::npos) << "the stream started";
  }
  close(Taken);
}

//===-- The console -------------------------------------------------------===//

TEST_F(BadInputLive, ConsoleValuesThatAreNotFiniteNumbersNeverReachTheAudio) {
  const uint64_t Frames = uint64_t(0.9 * Rate);
  std::string In = writeNoise("in.wav", Frames);
  std::vector<ChildAction> Typed;
  for (const char *Line :
       {"set gain nan\n", "set gain -nan\n", "set gain inf\n",
        "set gain -infinity\n", "set gain 1e999\n", "set gain 0x\n",
        "set gain 1,5\n", "set gain\n", "set gain 1 2\n", "get nosuch\n",
        "set \xc3\xa9 1\n", "set gain \xff\xfe\n"})
    Typed.push_back({Typed.empty() ? 0.2 : 0.02,
                     Line,
                     0,
                     {},
                     Typed.empty() ? Running : ""});
  ChildOptions O;
  O.Actions = Typed;
  ChildResult C = runChild(
      Dspjit,
      {"run", Examples + "gain.dsp", "--play", In, "--record", path("out.wav")},
      O);
  expectFailed(C);
  expectHas(C, "error: cannot set 'gain' to nan: not a finite number");
  expectHas(C, "error: cannot set 'gain' to inf: not a finite number");
  expectHas(C, "error: cannot set 'gain' to -inf: not a finite number");
  expectHas(C, "error: set gain: '1e999' is out of range for a 32-bit float");
  expectHas(C, "error: set gain: '0x' is not a number");
  expectHas(C, "error: set gain: '1,5' is not a number");
  expectHas(C, "error: usage: set NAME VALUE");
  expectHas(C, "error: unknown parameter 'nosuch'");
  expectHas(C, "12 commands on standard input failed");
  // The session went on to the end of the file, and the recording is the
  // played file untouched (gain stayed at 0 dB).
  expectHas(C, "end of '" + In + "'");
  expectUntouched(path("out.wav"), Frames);
}

//===-- OSC ---------------------------------------------------------------===//

/// OSC 1.0 encoding by hand, so that a test can also get it wrong.
std::string oscString(std::string S) {
  S.push_back('\0');
  while (S.size() % 4)
    S.push_back('\0');
  return S;
}
std::string oscFloat(float V) {
  uint32_t Bits;
  std::memcpy(&Bits, &V, 4);
  Bits = htonl(Bits);
  return std::string(reinterpret_cast<const char *>(&Bits), 4);
}
std::string oscDouble(double V) {
  uint64_t Bits;
  std::memcpy(&Bits, &V, 8);
  std::string S(8, '\0');
  for (int I = 0; I < 8; ++I)
    S[size_t(I)] = char(Bits >> (56 - 8 * I));
  return S;
}

/// A UDP socket on 127.0.0.1 that sends to the session and hears replies.
class OscClient {
public:
  explicit OscClient(unsigned Port) : Socket(socket(AF_INET, SOCK_DGRAM, 0)) {
    To.sin_family = AF_INET;
    To.sin_port = htons(uint16_t(Port));
    To.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  ~OscClient() { close(Socket); }
  void send(const std::string &Packet) {
    sendto(Socket, Packet.data(), Packet.size(), 0,
           reinterpret_cast<sockaddr *>(&To), sizeof To);
  }
  /// The next reply within a second, or nothing.
  std::optional<std::string> reply() {
    pollfd P = {Socket, POLLIN, 0};
    if (poll(&P, 1, 1000) <= 0)
      return std::nullopt;
    char Buffer[1024];
    ssize_t N = recv(Socket, Buffer, sizeof Buffer, 0);
    return N > 0 ? std::optional<std::string>(std::string(Buffer, size_t(N)))
                 : std::nullopt;
  }

private:
  int Socket;
  sockaddr_in To = {};
};

TEST_F(BadInputLive, OscValuesAndPacketsThatAreWrongNeverReachTheAudio) {
  const uint64_t Frames = uint64_t(0.9 * Rate);
  std::string In = writeNoise("in.wav", Frames);
  const unsigned Port = freeUdpPort();
  const std::string Gain = oscString("/param/gain");
  std::vector<std::string> Bad = {
      Gain + oscString(",f") +
          oscFloat(std::numeric_limits<float>::quiet_NaN()),
      Gain + oscString(",f") + oscFloat(std::numeric_limits<float>::infinity()),
      Gain + oscString(",f") +
          oscFloat(-std::numeric_limits<float>::infinity()),
      Gain + oscString(",d") + oscDouble(1e300), // infinite as a float
      Gain + oscString(",s") + oscString("loud"),
      Gain + oscString(",ff") + oscFloat(1) + oscFloat(2),
      Gain + oscString(",T"),
      oscString("/param/nosuch") + oscString(",f") + oscFloat(1),
      oscString("/param/") + oscString(",f") + oscFloat(1),
      oscString("/frobnicate") + oscString(",f") + oscFloat(1),
      oscString("/meter/nosuch") + oscString(","),
      // Malformed: a type tag that promises a float with no bytes for it; a
      // type tag without its comma; a path that is not a path; a bundle;
      // no null after the path; and plain garbage.
      Gain + oscString(",f"),
      Gain + oscString("f") + oscFloat(1),
      oscString("param") + oscString(",f") + oscFloat(1),
      oscString("#bundle") + std::string(8, '\0'),
      std::string("/param/gain"),
      std::string("\x00\x01\x02\xff\xfe garbage \x80\x81", 16),
      std::string(60000, '\xAB'),
  };
  ChildOptions O;
  O.Actions.push_back({0.2, "", 0,
                       [&] {
                         OscClient Client(Port);
                         for (const std::string &P : Bad)
                           Client.send(P);
                         Client.send(""); // an empty datagram: ignored
                         // Still listening, and the value is the default.
                         Client.send(Gain + oscString(","));
                         auto R = Client.reply();
                         ASSERT_TRUE(R) << "no reply to /param/gain";
                         EXPECT_EQ(*R, Gain + oscString(",f") + oscFloat(0));
                       },
                       Running});
  ChildResult C =
      runChild(Dspjit,
               {"run", Examples + "gain.dsp", "--play", In, "--record",
                path("out.wav"), "--osc", std::to_string(Port)},
               O);
  expectFailed(C);
  expectHas(C, "error: OSC: cannot set 'gain' to nan: not a finite number");
  expectHas(C, "error: OSC: cannot set 'gain' to inf: not a finite number");
  expectHas(C, "error: OSC: cannot set 'gain' to -inf: not a finite number");
  expectHas(
      C, "error: OSC: /param/gain: 1e+300 is out of range for a 32-bit float");
  expectHas(C, "error: OSC: /param/gain takes one number (f, i or d), not 's'");
  expectHas(C,
            "error: OSC: /param/gain takes one number (f, i or d), not 'ff'");
  expectHas(C, "error: OSC: unknown parameter 'nosuch'");
  expectHas(C, "error: OSC: unknown address '/frobnicate'");
  expectHas(C, "error: OSC: unknown meter 'nosuch'");
  expectHas(C, "error: OSC: ignoring a packet of 16 bytes that is not an OSC "
               "message (a path such as /param/NAME, a type tag such as ,f and "
               "the arguments it announces)");
  expectHas(C, "error: OSC: ignoring an OSC bundle: bundles are not supported; "
               "send each message in a packet of its own");
  expectHas(C, "error: OSC: ignoring a packet of 16 bytes"); // garbage
  expectHas(C, "error: OSC: ignoring a packet of 60000 bytes");
  expectHas(C, std::to_string(Bad.size()) +
                   " commands on standard input or OSC failed");
  expectHas(C, "end of '" + In + "'");
  expectUntouched(path("out.wav"), Frames);
}

TEST_F(BadInputLive, OscValuesOutOfRangeAreClampedWithAWarning) {
  const unsigned Port = freeUdpPort();
  const std::string Gain = oscString("/param/gain");
  ChildOptions O;
  O.Actions.push_back({0.2, "", 0,
                       [&] {
                         OscClient Client(Port);
                         Client.send(Gain + oscString(",i") +
                                     std::string("\0\0\x03\xe8", 4)); // 1000
                         Client.send(Gain + oscString(","));
                         auto R = Client.reply();
                         ASSERT_TRUE(R) << "no reply to /param/gain";
                         EXPECT_EQ(*R, Gain + oscString(",f") + oscFloat(12));
                       },
                       Running});
  O.Actions.push_back({0.3, "quit\n"});
  ChildResult C = runChild(
      Dspjit, {"run", Examples + "gain.dsp", "--osc", std::to_string(Port)}, O);
  EXPECT_EQ(C.Status, 0) << C.describe();
  expectHas(C, "warning: OSC: 'gain' = 1000 is outside [-60, 12]; using 12");
}

//===-- Files -------------------------------------------------------------===//

TEST_F(BadInputLive, EmptyAndTruncatedPlayFiles) {
  const uint64_t Frames = uint64_t(0.5 * Rate);
  std::string Full = writeNoise("full.wav", Frames);
  std::ifstream F(Full, std::ios::binary);
  std::string Bytes((std::istreambuf_iterator<char>(F)), {});
  const size_t Header = Bytes.size() - Frames * 2 * 4;
  // No data at all: refused before the stream starts.
  std::string Hollow = writeFile("hollow.wav", Bytes.substr(0, Header));
  ChildResult H =
      runChild(Dspjit, {"run", Examples + "wire.dsp", "--play", Hollow});
  expectFailed(H);
  expectHas(H, "'" + Hollow + "' holds no audio");
  // The samples behind a header that says 0 (a recording whose program
  // was killed): refused, with the advice to repair it.
  std::string Zeroed = Bytes;
  for (size_t At : {size_t(4), Header - 4})
    Zeroed.replace(At, 4, 4, '\0');
  std::string Broken = writeFile("broken.wav", Zeroed);
  ChildResult B =
      runChild(Dspjit, {"run", Examples + "wire.dsp", "--play", Broken});
  expectFailed(B);
  expectHas(B, "'" + Broken +
                   "' says it holds no audio, but 0.5 s (24000 "
                   "frames) follow its header");
  expectHas(B, "`dspjit repair " + Broken + "`");
  std::string Empty = writeFile("empty.wav", "");
  ChildResult E =
      runChild(Dspjit, {"run", Examples + "wire.dsp", "--play", Empty});
  expectFailed(E);
  expectHas(E, "cannot open '" + Empty + "'");
  // Cut short (a header that promises more than the file holds): what is
  // there plays, and the session ends at its end.
  const uint64_t Kept = 4800;
  std::string Short =
      writeFile("short.wav", Bytes.substr(0, Header + Kept * 8));
  ChildResult S = runChild(Dspjit, {"run", Examples + "wire.dsp", "--play",
                                    Short, "--record", path("out.wav")});
  EXPECT_EQ(S.Status, 0) << S.describe();
  expectHas(S, "end of '" + Short + "'");
  expectUntouched(path("out.wav"), Kept);
}

TEST_F(BadInputLive, ADiskThatFillsUpWhileRecordingStopsWithAValidFile) {
  // The child may write files of at most 1 MiB; 10 s of stereo float is
  // 3.84 MB, so the writer fails with EFBIG after about 2.7 s, as on a
  // full disk.
  ChildOptions O;
  O.FileSizeLimit = 1 << 20;
  O.TimeoutSeconds = 20;
  ChildResult C = runChild(Dspjit,
                           {"run", Examples + "additive.dsp", "--duration",
                            "10", "--record", path("out.wav")},
                           O);
  expectFailed(C);
  expectHas(C, "recording failed: cannot write '" + path("out.wav") +
                   "': File too large");
  EXPECT_LT(C.Seconds, 8.0) << "the session went on without its recording";
  // What was recorded before the fault is a valid file, and it is the
  // script's output: the offline render with JACK's 64-frame blocks.
  auto Live = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Live) << Live.error();
  EXPECT_EQ(Live->Channels, 2u);
  EXPECT_GT(Live->frames(), uint64_t(Rate));
  EXPECT_LE(fs::file_size(path("out.wav")), uint64_t(1) << 20);
  ChildResult R =
      runChild(Dspjit, {"render", Examples + "additive.dsp", path("ref.wav"),
                        "--duration", "3s", "--block", "64"});
  ASSERT_EQ(R.Status, 0) << R.describe();
  auto Ref = readAudioFile(path("ref.wav"));
  ASSERT_TRUE(Ref) << Ref.error();
  ASSERT_LE(Live->Samples.size(), Ref->Samples.size());
  for (size_t K = 0; K < Live->Samples.size(); ++K)
    ASSERT_EQ(Live->Samples[K], Ref->Samples[K]) << "sample " << K;
}

// A failed recording is reported once, with how much of it was kept.
TEST_F(BadInputLive, AFailedRecordingIsReportedOnceWithWhatItKept) {
  ChildOptions O;
  O.FileSizeLimit = 1 << 20;
  O.TimeoutSeconds = 20;
  ChildResult C = runChild(Dspjit,
                           {"run", Examples + "additive.dsp", "--duration",
                            "10", "--record", path("out.wav")},
                           O);
  expectFailed(C);
  size_t First = C.Err.find("File too large");
  ASSERT_NE(First, std::string::npos) << C.describe();
  EXPECT_EQ(C.Err.find("File too large", First + 1), std::string::npos)
      << C.describe();
  expectHas(C, "'" + path("out.wav") + "' keeps the first ");
}

TEST_F(BadInputLive, ARecordingOnAFullDiskIsRefusedBeforeTheStreamStarts) {
  fs::create_symlink("/dev/full", path("full.wav"));
  ChildResult C =
      runChild(Dspjit, {"run", Examples + "additive.dsp", "--duration", "1",
                        "--record", path("full.wav")});
  expectFailed(C);
  expectHas(C, "cannot create '" + path("full.wav") +
                   "': No space left on device");
  EXPECT_EQ(C.Err.find(Running), std::string::npos) << "the stream started";
}

//===-- Non-finite output -------------------------------------------------===//

TEST_F(BadInputLive, NonFiniteOutputIsSilencedAndCountedInTheStatistics) {
  std::string Script =
      writeFile("nan.dsp", "io 0 -> 2;\nstate n = 0;\n"
                           "process { n += 1; out = n / (n - n); }\n");
  ChildResult C =
      runChild(Dspjit, {"run", Script, "--duration", "48000samples", "--record",
                        path("out.wav"), "--stats-json", path("stats.json")});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Out.find(" non-finite samples silenced"), std::string::npos)
      << C.Out;
  auto Out = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Out) << Out.error();
  ASSERT_GE(Out->frames(), uint64_t(Rate));
  for (float S : Out->Samples)
    ASSERT_EQ(S, 0.0f);
  std::ifstream Json(path("stats.json"));
  std::string Text((std::istreambuf_iterator<char>(Json)), {});
  size_t At = Text.find("\"nonfinite_samples\": ");
  ASSERT_NE(At, std::string::npos) << Text;
  uint64_t Count = std::stoull(Text.substr(At + 21));
  // Every sample of every callback, recorded or not.
  EXPECT_GE(Count, 2 * Out->frames()) << Text;
  EXPECT_EQ(Count % 2, 0u) << Text;
}

TEST_F(BadInputLive, TheStatusLineCountsNonFiniteSamples) {
  std::string Script =
      writeFile("nan.dsp", "io 0 -> 2;\nstate n = 0;\n"
                           "process { n += 1; out = n / (n - n); }\n");
  ChildOptions O;
  O.StderrIsATerminal = true; // the status line is drawn on terminals only
  ChildResult C = runChild(Dspjit, {"run", Script, "--duration", "1.5"}, O);
  ASSERT_EQ(C.Status, 0) << C.describe();
  expectHas(C, "xruns ");   // a status line was drawn
  expectHas(C, "NaN/inf "); // with the count
  expectHas(C, "(reset state?)");
}

} // namespace

//===-- An audio server that stops -----------------------------------------===//

TEST_F(BadInputLive,
       AStalledServerEndsTheSessionWithAnErrorAndAValidRecording) {
  // Freeze jackd (SIGSTOP) half a second in: no more callbacks. After twice
  // the duration plus 5 s of wall-clock time, run gives up, says why, and
  // exits non-zero; the recording of what was processed stays valid.
  pid_t Jackd = 0;
  for (const auto &E : fs::directory_iterator("/proc")) {
    std::ifstream Cmd(E.path() / "cmdline", std::ios::binary);
    std::string Args((std::istreambuf_iterator<char>(Cmd)), {});
    if (Args.find("jackd") != std::string::npos &&
        Args.find(std::string("\0-n\0", 4) + Server->name() + '\0') !=
            std::string::npos)
      Jackd = pid_t(std::atol(E.path().filename().c_str()));
  }
  ASSERT_GT(Jackd, 0) << "jackd of " << Server->name() << " not found";
  ChildOptions O;
  O.Actions = {{0.5, "", 0, [&] { kill(Jackd, SIGSTOP); }, Running}};
  O.TimeoutSeconds = 30;
  ChildResult C = runChild(Dspjit,
                           {"run", Examples + "additive.dsp", "--duration", "1",
                            "--record", path("out.wav"), "--no-status"},
                           O);
  kill(Jackd, SIGCONT);
  expectFailed(C);
  expectHas(C, "the stream stalled");
  expectHas(C, "is the audio server running in real time?");
  auto Out = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Out) << Out.error();
  EXPECT_GT(Out->frames(), 0u);
  EXPECT_LT(Out->frames(), uint64_t(Rate));
}
