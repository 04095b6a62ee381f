//===- tests/session/session_live_test.cpp - A live session in-process ----===//
//
// The session library as an application embeds it, on a private jackd: a
// session opened, started, reloaded and stopped through the library alone,
// with two surfaces attached to its bus (the console, reading commands from
// a pipe, and OSC, with a client subscribed to events) that see the same
// events; and the stop protocol for each way a session ends, including a
// frozen audio server, where the watchdog gives up on it.
//
//===----------------------------------------------------------------------===//
#include "session/Console.h"
#include "session/Osc.h"
#include "tests/support/LiveSession.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

using namespace dspjit;
using namespace dspjit::test;
namespace event = dspjit::session::event;

namespace {

class SessionLive : public LiveSessionTest {};

/// An OSC client on 127.0.0.1 that subscribes to a server's events.
class OscClient {
public:
  explicit OscClient(unsigned ServerPort) {
    Socket = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in Any = {};
    Any.sin_family = AF_INET;
    Any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(Socket, reinterpret_cast<sockaddr *>(&Any), sizeof Any);
    Server.sin_family = AF_INET;
    Server.sin_port = htons(uint16_t(ServerPort));
    Server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  ~OscClient() { close(Socket); }

  /// Sends a message without arguments (",": an empty type tag).
  void send(const std::string &Path) {
    std::string Packet = Path;
    Packet.append(4 - Path.size() % 4, '\0');
    Packet += std::string(",\0\0\0", 4);
    sendto(Socket, Packet.data(), Packet.size(), 0,
           reinterpret_cast<sockaddr *>(&Server), sizeof Server);
  }

  /// The paths and first string argument of the packets received within
  /// `Seconds`, until one with path `Until` arrives.
  std::vector<std::pair<std::string, std::string>>
  receive(double Seconds, const std::string &Until) {
    std::vector<std::pair<std::string, std::string>> Got;
    auto End = std::chrono::steady_clock::now() +
               std::chrono::duration<double>(Seconds);
    while (std::chrono::steady_clock::now() < End) {
      pollfd P = {Socket, POLLIN, 0};
      if (poll(&P, 1, 50) <= 0)
        continue;
      char Buffer[4096] = {};
      ssize_t N = recv(Socket, Buffer, sizeof Buffer - 1, 0);
      if (N <= 0)
        continue;
      std::string Path(Buffer);
      size_t Tags = (Path.size() / 4 + 1) * 4;
      std::string Types(Buffer + Tags);
      size_t Arg = Tags + (Types.size() / 4 + 1) * 4;
      Got.push_back({Path, Types == ",s" ? std::string(Buffer + Arg) : ""});
      if (Path == Until)
        break;
    }
    return Got;
  }

private:
  int Socket = -1;
  sockaddr_in Server = {};
};

} // namespace

TEST_F(SessionLive, StartReloadStopWithTheConsoleAndOscSeeingTheSameEvents) {
  writeInPlace("gain.dsp", "io 2 -> 2;\nparam gain = 0.5 in [0, 2] nosmooth;\n"
                           "process { out = in * gain; }\n");
  auto Opened = session::Session::open(options());
  ASSERT_TRUE(Opened) << Opened.error();
  session::Session &S = **Opened;

  // The console reads a pipe, and shows events and replies as lines.
  int Pipe[2];
  ASSERT_EQ(pipe(Pipe), 0);
  std::mutex Lock;
  std::vector<std::string> ConsoleEvents, Replies;
  auto Console = session::Console::start(
      S.bus(), Pipe[0], [&](const session::ConsoleLine &L) {
        std::lock_guard<std::mutex> Guard(Lock);
        if (L.Reply)
          Replies.push_back(L.Reply->Text);
        else
          ConsoleEvents.push_back(session::eventName(*L.Happened));
      });
  auto Osc = session::OscServer::open(S.bus(), 0, {});
  ASSERT_TRUE(Osc) << Osc.error();
  OscClient Client((*Osc)->port());
  Client.send("/events");
  for (int I = 0; I < 200 && (*Osc)->handled() < 1; ++I)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ((*Osc)->handled(), 1u);
  EventLog Log(S.bus());

  ASSERT_TRUE(S.start());
  ASSERT_TRUE(Log.waitFor<event::Started>(1)) << Log.text();
  playFor(S, 0.5);
  std::string Set = "set gain 1.5\n";
  ASSERT_EQ(write(Pipe[1], Set.data(), Set.size()), ssize_t(Set.size()));
  playFor(S, 0.5);
  writeInPlace("gain.dsp", "io 2 -> 2;\nparam gain = 0.5 in [0, 2] nosmooth;\n"
                           "process { out = -in * gain; }\n");
  auto Reloaded = Log.waitFor<event::Reloaded>(10);
  ASSERT_TRUE(Reloaded) << Log.text();
  // The user's value carried over the reload.
  EXPECT_NE(session::describe(*Reloaded).find("gain=1.5"), std::string::npos)
      << session::describe(*Reloaded);
  ASSERT_TRUE(Log.waitFor<event::Optimized>(10)) << Log.text();
  playFor(S, 0.5);
  std::string Quit = "quit\n";
  ASSERT_EQ(write(Pipe[1], Quit.data(), Quit.size()), ssize_t(Quit.size()));
  S.waitUntilDone();
  event::Stopped End = S.stop();
  EXPECT_EQ(End.Reason, event::ExitReason::Requested);
  EXPECT_EQ(End.ExitStatus, 0) << Log.text();
  EXPECT_EQ(End.Reloads.Reloads, 1u);
  EXPECT_EQ(End.Recording, path("out.wav"));

  auto Packets = Client.receive(5, "/event/stopped");
  Console.reset();
  close(Pipe[1]);
  close(Pipe[0]);
  std::vector<std::string> OscEvents;
  for (const auto &[Path, Text] : Packets)
    OscEvents.push_back(Path.substr(std::strlen("/event/")));
  const std::vector<std::string> Expected = {"started", "reloaded", "optimized",
                                             "stopping", "stopped"};
  std::vector<std::string> Seen;
  for (const std::string &Name : ConsoleEvents)
    if (Name != "xrun") // as they happen
      Seen.push_back(Name);
  EXPECT_EQ(Seen, Expected) << Log.text();
  std::erase(OscEvents, "xrun");
  EXPECT_EQ(OscEvents, Expected) << Log.text();
  EXPECT_NE(Packets.front().second.find(path("gain.dsp") + " on JACK"),
            std::string::npos)
      << Packets.front().second;
  EXPECT_EQ(Replies, (std::vector<std::string>{"gain = 1.5", "stopping"}));
  // Controls after the end answer that the session has stopped.
  EXPECT_FALSE(S.bus().setParam("gain", 1).stored());
  EXPECT_EQ(session::runCommand(S.bus(), "meters").Text,
            "the session has stopped");

  // What was heard: 0.5, the user's 1.5, then the new version's -1.5.
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 1.5f, -1.5f})) << Log.text();
}

TEST_F(SessionLive, ASaveBetweenTheFirstCompileAndTheStartIsApplied) {
  // The script is saved after the session compiled it and before its
  // reloader watches it: no file event will ever tell of that save, so the
  // reloader must see that the disk differs from what was compiled.
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto Opened = session::Session::open(options());
  ASSERT_TRUE(Opened) << Opened.error();
  session::Session &S = **Opened;
  EventLog Log(S.bus());
  writeInPlace("gain.dsp", gainScript("1.5"));
  ASSERT_TRUE(S.start());
  ASSERT_TRUE(Log.waitFor<event::Reloaded>(10)) << Log.text();
  ASSERT_TRUE(Log.waitFor<event::Optimized>(10)) << Log.text();
  playFor(S, 0.3);
  S.bus().requestStop();
  S.run();
  const std::vector<float> Heard = heard();
  ASSERT_FALSE(Heard.empty());
  EXPECT_EQ(Heard.back(), 1.5f) << Log.text();
}

TEST_F(SessionLive, AChangedImpulseResponseFileIsReloaded) {
  // A one-tap response makes `convolve` a gain. Its sound file is watched
  // like an import: saving another response is a reload, crossfaded like
  // any other, and the new response is heard.
  auto SaveIr = [&](float Gain) {
    auto W = writeAudioFile(path("ir.tmp.wav"), &Gain, 1, 1, Rate);
    ASSERT_TRUE(W) << W.error();
    std::filesystem::rename(path("ir.tmp.wav"), path("ir.wav"));
  };
  SaveIr(0.5f);
  writeInPlace("gain.dsp", "io 2 -> 2;\ntable ir = file \"ir.wav\";\n"
                           "process { out = convolve(in, ir); }\n");
  auto S = start(options());
  ASSERT_TRUE(S);
  ASSERT_TRUE(Log->waitFor<event::Started>(1)) << Log->text();
  playFor(*S, 0.5);
  SaveIr(1.5f);
  ASSERT_TRUE(Log->waitFor<event::Reloaded>(10)) << Log->text();
  playFor(*S, 0.5);
  S->bus().requestStop();
  S->run();
  const std::vector<float> Heard = heard();
  ASSERT_GE(Heard.size(), 2u) << Log->text();
  EXPECT_EQ(Heard.front(), 0.5f);
  EXPECT_EQ(Heard.back(), 1.5f) << Log->text();
}

TEST_F(SessionLive, ALengthEndsTheSessionAtItsFrame) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto O = options(1.0);
  O.Length = *parseDuration("24000samples");
  auto S = start(std::move(O));
  ASSERT_TRUE(S);
  event::Stopped End = S->run();
  EXPECT_EQ(End.Reason, event::ExitReason::EndOfDuration);
  EXPECT_EQ(End.Why, "end of option 'duration'");
  EXPECT_EQ(End.ExitStatus, 0);
  EXPECT_GE(End.Summary.Frames, 24000u);
  EXPECT_LT(End.Summary.Frames, 24000u + 4800u);
  ASSERT_TRUE(Log->waitFor<event::Stopping>(1));
  ASSERT_TRUE(Log->waitFor<event::Stopped>(1));
}

TEST_F(SessionLive,
       TheEndOfThePlayedFileEndsTheSessionAndTheRecordingHasItAll) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  const uint64_t Frames = uint64_t(0.7 * Rate); // not a multiple of a block
  ASSERT_TRUE(writeAudioFile(path("short.wav"), In.data(), Frames, 2, Rate));
  auto O = options();
  O.Host.PlayPath = path("short.wav");
  O.Host.Loop = false;
  auto S = start(std::move(O));
  ASSERT_TRUE(S);
  event::Stopped End = S->run();
  EXPECT_EQ(End.Reason, event::ExitReason::PlayEnded);
  EXPECT_EQ(End.Why, "end of '" + path("short.wav") + "'");
  EXPECT_EQ(End.ExitStatus, 0);
  auto A = readAudioFile(path("out.wav"));
  ASSERT_TRUE(A) << A.error();
  ASSERT_EQ(A->frames(), Frames);
  for (uint64_t K = 0; K < 2 * Frames; ++K)
    ASSERT_EQ(A->Samples[K], 0.5f * In[K]) << "sample " << K;
}

TEST_F(SessionLive, AnInterruptStopsLikeCtrlC) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.3);
  S->interrupt();
  event::Stopped End = S->run();
  EXPECT_EQ(End.Reason, event::ExitReason::Interrupted);
  EXPECT_EQ(End.Why, "interrupted");
  EXPECT_EQ(End.ExitStatus, 0);
  EXPECT_FALSE(StuckStatus);
  EXPECT_TRUE(readAudioFile(path("out.wav")));
}

TEST_F(SessionLive, RefusedCommandsFromEverySurfaceMakeTheExitStatusNonZero) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  S->bus().attachSurface("the test");
  S->bus().countError("the test");
  S->bus().countError("OSC");
  S->bus().requestStop();
  event::Stopped End = S->run();
  EXPECT_EQ(End.ExitStatus, 1);
  EXPECT_EQ(End.Errors,
            std::vector<std::string>{"2 commands on the test or OSC failed"});
}

// Last, with a server of its own: it freezes jackd.
class SessionStall : public LiveSessionTest {};

TEST_F(SessionStall,
       AFrozenServerStallsTheSessionAndTheWatchdogClosesTheRecording) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto O = options(0.5);
  O.ShutdownTimeout = std::chrono::milliseconds(1000);
  O.StallGrace = std::chrono::milliseconds(1000); // 5 s by default
  O.OnShutdownStuck = [this](int Status) {
    StuckStatus = Status;
    kill(Server->pid(), SIGCONT); // so that stopping can finish
  };
  auto S = start(std::move(O));
  ASSERT_TRUE(S);
  playFor(*S, 0.2);
  ASSERT_EQ(kill(Server->pid(), SIGSTOP), 0);
  event::Stopped End = S->run();
  kill(Server->pid(), SIGCONT);
  EXPECT_EQ(End.Reason, event::ExitReason::Stalled) << Log->text();
  EXPECT_EQ(End.ExitStatus, 1);
  ASSERT_FALSE(End.Errors.empty());
  EXPECT_NE(End.Errors.back().find("the stream stalled: after 2 s of "
                                   "wall-clock time only "),
            std::string::npos)
      << End.Errors.back();
  ASSERT_TRUE(Log->waitFor<event::Stalled>(1)) << Log->text();
  // Stopping blocked on the frozen server: the watchdog closed the
  // recording, said so, and called the hook with status 1.
  EXPECT_EQ(StuckStatus, 1);
  auto Notice = Log->waitFor<event::Notice>(1, 0, [](const event::Notice &N) {
    return N.Severity == event::Notice::Error;
  });
  ASSERT_TRUE(Notice) << Log->text();
  EXPECT_NE(Notice->Text.find("did not finish within 1 s"), std::string::npos)
      << Notice->Text;
  EXPECT_NE(Notice->Text.find("is closed and valid"), std::string::npos);
  EXPECT_TRUE(readAudioFile(path("out.wav")));
}
