//===- tests/unit/surfaces_test.cpp - The console and OSC against bad input ===//
//
// The console's command handling and the OSC server's packet handling on
// malformed input, in-process and without an audio device: a real compiled
// kernel on a Host with no stream (Host::openOffline), whose callback the
// test drives block by block, a real ControlBus, a real Console fed bytes
// as its reader feeds what it reads, and a real OscServer handed datagrams
// as its thread hands what it receives (OscServer::handlePacket), with
// replies read back from a UDP socket. What reaches the instance is read
// from its memory. The same surfaces run live in tests/live (BadInputLive)
// and are fuzzed in tests/fuzz (fuzz_console, fuzz_osc).
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Host.h"
#include "session/Console.h"
#include "session/ControlBus.h"
#include "session/Osc.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace dspjit;
using namespace dspjit::session;

namespace {

const char *const Script = R"dsp(io 2 -> 2;
param gain = 0 in [-60, 12] db;
param wide = 0 in [-3e38, 3e38] smooth 1 ms;
meter level;
process {
    out = in * db2lin(gain) + 0 * wide * 1e-38;
    level = abs(out[0]);
}
)dsp";

class Surfaces : public ::testing::Test {
protected:
  void SetUp() override {
    CompileOptions O;
    O.optLevel = 0;
    Compiler C(O);
    std::shared_ptr<Kernel> K = C.compileSource("surfaces.dsp", Script);
    ASSERT_TRUE(K) << "the test's script does not compile";
    auto H = Host::openOffline(K->info(), {}, K);
    ASSERT_TRUE(H) << H.error();
    Offline = std::move(*H);
    Bus = std::make_unique<ControlBus>(*Offline);
  }
  void TearDown() override {
    Osc.reset();
    if (Bus)
      Bus->detach();
  }

  /// Runs `Blocks` blocks of 1024 frames through the Host's callback.
  void run(int Blocks = 1) {
    std::vector<float> In(2048, 0.5f), Out(2048);
    PaStreamCallbackTimeInfo Time = {};
    for (int B = 0; B < Blocks; ++B)
      Host::callback(In.data(), Out.data(), 1024, &Time, 0, Offline.get());
  }
  float target(const char *Name) { return *Bus->instance()->param(Name); }
  float smoothed(const char *Name) {
    return *Bus->instance()->smoothedParam(Name);
  }

  /// Types `Bytes` on a console, in reads of `Chunk` bytes, and returns
  /// its replies.
  std::vector<CommandReply> type(const std::string &Bytes,
                                 size_t Chunk = 4096) {
    std::vector<CommandReply> Replies;
    auto C = Console::start(*Bus, -1, [&](const ConsoleLine &L) {
      if (L.Reply)
        Replies.push_back(*L.Reply);
    });
    for (size_t I = 0; I < Bytes.size(); I += Chunk)
      C->feed(Bytes.data() + I, std::min(Chunk, Bytes.size() - I));
    C->endInput();
    return Replies;
  }

  /// Sends datagrams to an OSC server (opened on the first call) and
  /// returns what it logged and replied.
  struct OscResult {
    std::vector<std::string> Logged, Replies;
  };
  OscResult send(const std::vector<std::string> &Packets) {
    if (!Osc) {
      auto S = OscServer::open(*Bus, 0, [this](const std::string &M, bool) {
        std::lock_guard<std::mutex> Guard(LogLock);
        Log.push_back(M);
      });
      EXPECT_TRUE(S) << S.error();
      Osc = std::move(*S);
      Client = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      From.sin_family = AF_INET;
      From.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t Len = sizeof From;
      EXPECT_EQ(::bind(Client, reinterpret_cast<sockaddr *>(&From), Len), 0);
      EXPECT_EQ(
          ::getsockname(Client, reinterpret_cast<sockaddr *>(&From), &Len), 0);
    }
    OscResult R;
    for (const std::string &P : Packets)
      Osc->handlePacket(P.data(), P.size(), &From, sizeof From);
    char Buffer[65536];
    for (ssize_t N;
         (N = ::recv(Client, Buffer, sizeof Buffer, MSG_DONTWAIT)) >= 0;)
      R.Replies.emplace_back(Buffer, size_t(N));
    std::lock_guard<std::mutex> Guard(LogLock);
    R.Logged = std::move(Log);
    Log.clear();
    return R;
  }

  std::unique_ptr<Host> Offline;
  std::unique_ptr<ControlBus> Bus;
  std::unique_ptr<OscServer> Osc;
  int Client = -1;
  sockaddr_in From = {};
  std::mutex LogLock;
  std::vector<std::string> Log;

public:
  ~Surfaces() override {
    if (Client >= 0)
      ::close(Client);
  }
};

std::string texts(const std::vector<CommandReply> &Replies) {
  std::string S;
  for (const CommandReply &R : Replies)
    S += R.Text + "\n";
  return S;
}

std::string texts(const std::vector<std::string> &Lines) {
  std::string S;
  for (const std::string &L : Lines)
    S += L + "\n";
  return S;
}

//===-- The console -------------------------------------------------------===//

TEST_F(Surfaces, ConsoleValuesThatAreNotFiniteNeverReachTheInstance) {
  auto R = type("set gain nan\nset gain -nan\nset gain inf\n"
                "set gain -infinity\nset gain 1e999\nset gain -1e999\n");
  ASSERT_EQ(R.size(), 6u) << texts(R);
  for (const CommandReply &C : R)
    EXPECT_EQ(C.Status, CommandReply::Error) << C.Text;
  EXPECT_EQ(R[0].Text, "cannot set 'gain' to nan: not a finite number");
  EXPECT_EQ(R[4].Text, "set gain: '1e999' is out of range for a 32-bit float");
  run(4);
  EXPECT_EQ(target("gain"), 0.0f);
  EXPECT_EQ(smoothed("gain"), 0.0f);
  EXPECT_EQ(Bus->errors(), 6u);
}

TEST_F(Surfaces, ConsoleValuesOutOfRangeAreClampedWithAWarning) {
  auto R = type("set gain 99\nset gain -1e30\nset wide 3.4028235e38\n");
  ASSERT_EQ(R.size(), 3u) << texts(R);
  EXPECT_EQ(R[0].Status, CommandReply::Warning);
  EXPECT_EQ(R[0].Text, "'gain' = 99 is outside [-60, 12]; using 12");
  EXPECT_EQ(R[1].Status, CommandReply::Warning);
  run(4);
  EXPECT_EQ(target("gain"), -60.0f);
  EXPECT_EQ(target("wide"), 3e38f);
  EXPECT_EQ(Bus->errors(), 0u);
}

TEST_F(Surfaces, ConsoleMalformedLinesAreRefusedOneByOne) {
  auto R = type("set gain\nset gain 1 2\nget gain wide\nreset everything\n"
                "frobnicate\nsett gain 1\nset gian 1\nset level 1\n"
                "set gain 0x\nset gain 1,5\nset gain 3dB\n"
                "set gain 1\x01\n" +
                std::string("set\0gain 1\n", 11) + "set gain \x1b[A\n");
  ASSERT_EQ(R.size(), 14u) << texts(R);
  for (const CommandReply &C : R)
    EXPECT_EQ(C.Status, CommandReply::Error) << C.Text;
  EXPECT_EQ(R[0].Text, "usage: set NAME VALUE");
  EXPECT_EQ(R[4].Text,
            "unknown command 'frobnicate'; type 'help' for the list");
  EXPECT_EQ(R[5].Text, "unknown command 'sett'; did you mean 'set'?");
  EXPECT_EQ(
      R[6].Text.rfind("unknown parameter 'gian'; did you mean 'gain'?", 0), 0u)
      << R[6].Text;
  EXPECT_EQ(R[8].Text, "set gain: '0x' is not a number");
  for (size_t I = 11; I < 14; ++I)
    EXPECT_EQ(R[I].Text, "ignoring a line with unreadable bytes (control "
                         "characters); type 'help' for the commands");
  run(2);
  EXPECT_EQ(target("gain"), 0.0f);
  EXPECT_EQ(Bus->errors(), 14u);
}

TEST_F(Surfaces, ConsoleLinesTooLongAreRefusedWholeAndTheNextOneRuns) {
  auto R = type("set gain " + std::string(1100, '9') + " trailing words\n" +
                std::string(5000, 'x') + "\nset gain -6\n");
  ASSERT_EQ(R.size(), 3u) << texts(R);
  EXPECT_EQ(R[0].Text, "ignoring a line longer than 1024 bytes");
  EXPECT_EQ(R[1].Text, "ignoring a line longer than 1024 bytes");
  EXPECT_EQ(R[2].Text, "gain = -6");
  run(4);
  EXPECT_EQ(target("gain"), -6.0f);
}

TEST_F(Surfaces, ConsoleLinesAreTheSameWhereverTheReadsCutThem) {
  const std::string Input = "set gain -3\r\nget gain\nfrobnicate\n" +
                            std::string(1500, 'y') + "\nparams\nset gain 2";
  std::string Whole = texts(type(Input));
  for (size_t Chunk : {1, 2, 3, 7, 1024, 1025}) {
    SetUp();
    EXPECT_EQ(texts(type(Input, Chunk)), Whole) << "reads of " << Chunk;
  }
  EXPECT_NE(Whole.find("gain = 2\n"), std::string::npos) << Whole;
}

TEST_F(Surfaces, ConsoleRepliesAreBoundedByTheLongestLine) {
  // What a reply echoes comes from one line, and lines are at most 1024
  // bytes: the longest word makes the longest reply.
  const std::string Word(1000, 'w');
  auto R = type(Word + "\nset " + Word + " 1\nset gain " + Word + "\nreset " +
                Word + "\n");
  ASSERT_EQ(R.size(), 4u) << texts(R);
  for (const CommandReply &C : R)
    EXPECT_LT(C.Text.size(), 1024u + 200) << C.Text;
}

TEST_F(Surfaces, ParametersSmoothAcrossTheWholeRangeOfAFloat) {
  // From one end of a range as wide as float allows to the other: the step
  // (6e38) is beyond float, the smoothed value must not be.
  type("set wide -3e38\n");
  run(8);
  EXPECT_NEAR(smoothed("wide"), -3e38f, 1e33f);
  type("set wide 3e38\n");
  for (int B = 0; B < 8; ++B) {
    run();
    float V = smoothed("wide");
    ASSERT_TRUE(std::isfinite(V) && V >= -3e38f && V <= 3e38f)
        << "block " << B << ": " << V;
  }
  EXPECT_NEAR(smoothed("wide"), 3e38f, 1e33f);
}

TEST_F(Surfaces, ConsoleResetsReachTheKernelAndKeepValuesInRange) {
  auto R = type("set wide -3e38\nset gain 6\nreset\nreset state\n");
  ASSERT_EQ(R.size(), 4u) << texts(R);
  run(4);
  EXPECT_EQ(target("gain"), 0.0f);
  EXPECT_EQ(target("wide"), 0.0f);
  EXPECT_TRUE(std::isfinite(smoothed("wide")));
}

//===-- OSC ---------------------------------------------------------------===//

/// OSC 1.0 encoding by hand, so that a test can also get it wrong.
std::string oscString(std::string S) {
  S.push_back('\0');
  while (S.size() % 4)
    S.push_back('\0');
  return S;
}
std::string bigEndian(const void *P, size_t N) {
  std::string S(N, '\0');
  for (size_t I = 0; I < N; ++I)
    S[I] = static_cast<const char *>(P)[N - 1 - I];
  return S;
}
std::string oscFloat(float V) { return bigEndian(&V, 4); }
std::string oscInt(int32_t V) { return bigEndian(&V, 4); }
std::string oscDouble(double V) { return bigEndian(&V, 8); }
std::string oscBundle(const std::vector<std::string> &Elements) {
  std::string B = oscString("#bundle") + std::string(7, '\0') + "\1";
  for (const std::string &E : Elements)
    B += oscInt(int32_t(E.size())) + E;
  return B;
}

const std::string Gain = oscString("/param/gain");

TEST_F(Surfaces, OscValuesOfTheWrongKindNeverReachTheInstance) {
  auto R = send({
      Gain + oscString(",f") + oscFloat(NAN),
      Gain + oscString(",f") + oscFloat(-INFINITY),
      Gain + oscString(",d") + oscDouble(1e300),
      Gain + oscString(",d") + oscDouble(-NAN),
      Gain + oscString(",s") + oscString("loud"),
      Gain + oscString(",ff") + oscFloat(1) + oscFloat(2),
      Gain + oscString(",T"),
      Gain + oscString(",h") + oscDouble(0),
      Gain + oscString(",b") + oscInt(4) + "abcd",
      oscString("/param/") + oscString(",f") + oscFloat(1),
      oscString("/param/level") + oscString(",f") + oscFloat(1),
  });
  ASSERT_EQ(R.Logged.size(), 11u) << texts(R.Logged);
  EXPECT_EQ(R.Logged[0], "OSC: cannot set 'gain' to nan: not a finite number");
  EXPECT_EQ(R.Logged[2],
            "OSC: /param/gain: 1e+300 is out of range for a 32-bit float");
  EXPECT_EQ(R.Logged[4],
            "OSC: /param/gain takes one number (f, i or d), not 's'");
  EXPECT_EQ(R.Logged[7],
            "OSC: /param/gain takes one number (f, i or d), not 'h'");
  EXPECT_TRUE(R.Replies.empty());
  run(2);
  EXPECT_EQ(target("gain"), 0.0f);
  EXPECT_EQ(smoothed("gain"), 0.0f);
  EXPECT_EQ(Osc->errors(), 11u);
}

TEST_F(Surfaces, OscMalformedPacketsAreRefusedAndTheServerGoesOn) {
  auto R = send({
      Gain + oscString(",f"),                                 // no data for f
      oscString("/param/wide") + oscString(",d") + oscInt(0), // half a d
      Gain + oscString("f") + oscFloat(1),                    // no comma
      Gain,                                                   // no type tag
      oscString("param") + oscString(",f") + oscFloat(1),     // not a path
      "/param/gain",                                          // no NUL
      std::string("\x00\x01\x02\xff\xfe garbage \x80\x81", 16),
      std::string(60000, '\xAB'),
      "",                                         // ignored, as it says nothing
      Gain + oscString(",f") + oscFloat(1) + "x", // a byte too many
  });
  ASSERT_EQ(R.Logged.size(), 9u) << texts(R.Logged);
  EXPECT_EQ(R.Logged[6],
            "OSC: ignoring a packet of 16 bytes that is not an OSC message (a "
            "path such as /param/NAME, a type tag such as ,f and the "
            "arguments it announces)");
  EXPECT_EQ(R.Logged[7].rfind("OSC: ignoring a packet of 60000 bytes", 0), 0u);
  run(2);
  EXPECT_EQ(target("gain"), 0.0f);
  // Still answering.
  R = send({Gain + oscString(",f") + oscFloat(-6), Gain + oscString(",")});
  EXPECT_TRUE(R.Logged.empty()) << texts(R.Logged);
  ASSERT_EQ(R.Replies.size(), 1u);
  EXPECT_EQ(R.Replies[0], Gain + oscString(",f") + oscFloat(-6));
}

TEST_F(Surfaces, OscBundlesAreRefusedHoweverDeeplyNested) {
  const std::string Quit = oscString("/quit") + oscString(",");
  std::string Deep = Quit;
  for (int I = 0; I < 1000; ++I)
    Deep = oscBundle({Deep});
  auto R = send({
      oscBundle({Gain + oscString(",f") + oscFloat(-3)}),
      oscBundle({oscBundle({oscBundle({Quit})})}),
      Deep,
      oscString("#bundle") + std::string(8, '\0') + oscInt(1000) + Quit,
      oscString("#bundle"),
  });
  ASSERT_EQ(R.Logged.size(), 5u) << texts(R.Logged);
  for (const std::string &L : R.Logged)
    EXPECT_EQ(L, "OSC: ignoring an OSC bundle: bundles are not supported; "
                 "send each message in a packet of its own");
  EXPECT_EQ(Offline->stopReason(), StopReason::None) << "a /quit got through";
  run(2);
  EXPECT_EQ(target("gain"), 0.0f);
}

TEST_F(Surfaces, OscMessagesQuoteAtMostTwoHundredBytesOfWhatTheyWereSent) {
  // A datagram holds 64 KiB; what a message quotes of it is cut.
  const std::string Long(20000, 'n');
  auto R = send({
      oscString("/" + Long) + oscString(",f") + oscFloat(1),
      oscString("/param/" + Long) + oscString(",f") + oscFloat(1),
      oscString("/meter/" + Long) + oscString(","),
      Gain + oscString("," + std::string(10000, 'f')) +
          [] {
            std::string F;
            for (int I = 0; I < 10000; ++I)
              F += oscFloat(1);
            return F;
          }(),
  });
  ASSERT_EQ(R.Logged.size(), 4u) << texts(R.Logged);
  for (const std::string &L : R.Logged)
    EXPECT_LT(L.size(), 400u) << L;
  EXPECT_EQ(R.Logged[0], "OSC: unknown address '/" + std::string(199, 'n') +
                             "... (20001 bytes)' (expected /param/NAME, "
                             "/meters, /meter/NAME, /events or /quit)");
  EXPECT_EQ(R.Logged[1].rfind("OSC: unknown parameter '" +
                                  std::string(200, 'n') + "... (20000 bytes)'",
                              0),
            0u)
      << R.Logged[1];
  EXPECT_NE(
      R.Logged[3].find("not '" + std::string(200, 'f') + "... (10000 bytes)'"),
      std::string::npos)
      << R.Logged[3];
}

TEST_F(Surfaces, OscValuesOutOfRangeAreClampedWithAWarning) {
  auto R =
      send({Gain + oscString(",i") + oscInt(1000),
            oscString("/param/wide") + oscString(",d") + oscDouble(-3.4e38)});
  ASSERT_EQ(R.Logged.size(), 2u) << texts(R.Logged);
  EXPECT_EQ(R.Logged[0], "OSC: 'gain' = 1000 is outside [-60, 12]; using 12");
  run(4);
  EXPECT_EQ(target("gain"), 12.0f);
  EXPECT_EQ(target("wide"), -3e38f);
  EXPECT_EQ(Osc->errors(), 0u);
}

} // namespace
