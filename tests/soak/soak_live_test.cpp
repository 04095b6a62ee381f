//===- tests/soak/soak_live_test.cpp - Freeverb live for minutes, under load ===//
//
// The soak test: `dspjit run examples/freeverb.dsp` (a copy of it) plays the
// drum loop on a private jackd (dummy driver, 48 kHz, 64-frame periods,
// a deadline of 1333 us per callback) and records the output, for
// DSPJIT_SOAK_SECONDS (45 by default; 600 on demand), while the machine is
// loaded by processes of the test's own:
//
//   - a busy loop, pinned to the last CPU this process may use ("the other
//     core" of a 2-core machine);
//   - a file copy in a loop: DSPJIT_SOAK_COPY_MB (256) MiB of data copied
//     within the test's directory (on the disk of the recording), fsync'ed,
//     deleted, its source dropped from the page cache, again and again;
//   - a save of the script every DSPJIT_SOAK_RELOAD_EVERY (3) seconds, each
//     a roomsize default never used before (alternating about 0.3 and 0.8,
//     so the change is heard), saved in place or by rename in turn, with a
//     private compile cache: every reload really compiles, -O0 then -O3.
//
// DSPJIT_SOAK_LOAD=0 leaves out the busy loop and the copy (not the
// reloads): a baseline of the same machine, written to soak-<s>s-noload.json.
//
// Two variants, two tests:
//
//   SoakTest.FreeverbLiveUnderLoadWithReloads          jackd --no-realtime
//   SoakTest.FreeverbLiveUnderLoadWithReloadsRealTime  jackd -R
//
// Without real-time priority the server itself is one more process
// competing with the load: under load its dummy driver falls behind real
// time, and each late cycle is an xrun that measures the starved server,
// not dspjit. With `jackd -R` the server's threads run SCHED_FIFO, and so
// does dspjit's callback: libjack makes a client's process thread
// real-time when its server is. The test reads the scheduling of every
// thread of dspjit and of jackd from /proc (tests/support/Threads.h),
// reports which thread ran the callback and at what policy, and in the
// real-time variant requires it to be SCHED_FIFO. Where real-time
// scheduling is not permitted (a container without CAP_SYS_NICE, a user
// without an rtprio limit) the real-time variant is skipped, saying why.
//
// It prints the figures of Table 3 of De Pra and Fontana, and says whose
// each one is:
//
//   dspjit's own, measured inside the callback (the clock read at its
//   entry and exit, runtime/Stats.h): processing time min, mean, p50, p99,
//   max, and the callbacks over their deadline (without real-time
//   priority a preempted callback counts the time it waited);
//   the server's: its clock against the wall clock (a client of the
//   test's own, never activated, reads jack_frame_time every second), the
//   xruns it reported (PortAudio's status flags, set from JACK's xrun
//   notifications) by kind, and what its log says of them: cycles its
//   driver woke up for too late, and cycles that began before dspjit's
//   client had finished the last one ("Triggered": its thread had not got
//   a CPU yet; "Running": it was still at work);
//
// plus the reloads and their latencies, the load achieved, the child's
// VmRSS over time and the threads' scheduling, and writes them to
// soak-<seconds>s[-rt].json in the build tree (DSPJIT_SOAK_OUT_DIR), with
// a "sources" object naming which figures are dspjit's and which the
// server's.
//
// It asserts only what a jittery shared VM lets it assert honestly: dspjit
// exits 0 (no crash, no hang); every save went live, none failed, none came
// from the cache; no non-finite sample, neither counted by dspjit nor in the
// recording; the recording has the run's length and is not silent; the
// callback's processing time at p99 is under half the deadline; VmRSS
// grows by less than a bound after a warm-up (its largest single step
// aside: an arena that grows once is not a leak); in the real-time variant,
// the callback ran SCHED_FIFO. Xruns and deadline misses are recorded,
// never asserted: the dummy driver on these VMs reports xruns even when
// idle, without real-time priority a callback preempted by the load counts
// the wait as its own, and even with it the CI VM's kernel (PREEMPT_NONE)
// lets the file copy's kernel work hold a CPU for milliseconds before a
// SCHED_FIFO thread gets it (measured: with the copy pinned to the other
// CPU, the real-time server's longest late cycle fell from 23 ms to 0.1 ms).
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/JackServer.h"
#include "tests/support/Sanitizers.h"
#include "tests/support/Threads.h"

#include <gtest/gtest.h>
#include <jack/jack.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <new>
#include <regex>
#include <sstream>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

constexpr double Rate = 48000;
constexpr unsigned Period = 64;
const std::string Dspjit = DSPJIT_BINARY;
const std::string SourceDir = DSPJIT_SOURCE_DIR;
const std::string Running = "Ctrl-C or 'quit' stops";

double envNumber(const char *Name, double Default) {
  const char *V = std::getenv(Name);
  if (!V || !*V)
    return Default;
  char *End = nullptr;
  double X = std::strtod(V, &End);
  return End && *End == 0 && X > 0 ? X : Default;
}

/// VmRSS of a process in kB, or 0.
long vmRssKb(pid_t Pid) {
  std::ifstream Status("/proc/" + std::to_string(Pid) + "/status");
  std::string Line;
  while (std::getline(Status, Line))
    if (Line.rfind("VmRSS:", 0) == 0)
      return std::stol(Line.substr(6));
  return 0;
}

/// CPU time (user + system) of a process so far, seconds.
double cpuSeconds(pid_t Pid) {
  std::ifstream Stat("/proc/" + std::to_string(Pid) + "/stat");
  std::string Text((std::istreambuf_iterator<char>(Stat)), {});
  size_t Paren = Text.rfind(')');
  if (Paren == std::string::npos)
    return 0;
  std::istringstream Fields(Text.substr(Paren + 2));
  std::string F;
  double Ticks = 0;
  for (int I = 3; Fields >> F; ++I)
    if (I == 14 || I == 15) // utime, stime
      Ticks += std::stod(F);
  return Ticks / double(sysconf(_SC_CLK_TCK));
}

/// Nearest-rank percentile.
double percentile(std::vector<double> V, double Q) {
  if (V.empty())
    return 0;
  std::sort(V.begin(), V.end());
  size_t Rank = size_t(std::ceil(Q * double(V.size())));
  return V[std::min(V.size() - 1, Rank ? Rank - 1 : 0)];
}

/// A number from dspjit's --stats-json: `Key` at the top level, or inside
/// the object `Object`.
double jsonNumber(const std::string &Json, const std::string &Object,
                  const std::string &Key) {
  size_t From = 0, To = Json.size();
  if (!Object.empty()) {
    From = Json.find("\"" + Object + "\"");
    if (From == std::string::npos)
      return NAN;
    To = Json.find('}', From);
  }
  size_t P = Json.find("\"" + Key + "\"", From);
  if (P == std::string::npos || P > To)
    return NAN;
  P = Json.find(':', P);
  return std::strtod(Json.c_str() + P + 1, nullptr);
}

std::string fmt(const char *Format, double X) {
  char B[256];
  std::snprintf(B, sizeof B, Format, X);
  return B;
}

/// The load: processes of the test's own, killed (by pid) when it ends,
/// and killed by the kernel should the test die first (PR_SET_PDEATHSIG).
class Load {
public:
  Load() {
    void *M = mmap(nullptr, sizeof(Counters), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    Shared = M == MAP_FAILED ? nullptr : new (M) Counters;
  }
  ~Load() {
    stop();
    if (Shared)
      munmap(Shared, sizeof(Counters));
  }

  /// Spins on `Cpu` (or wherever the scheduler likes, for -1).
  void startBusyLoop(int Cpu) {
    Busy = fork();
    if (Busy == 0) {
      orphanDies();
      if (Cpu >= 0) {
        cpu_set_t Set;
        CPU_ZERO(&Set);
        CPU_SET(Cpu, &Set);
        sched_setaffinity(0, sizeof Set, &Set);
      }
      volatile uint64_t X = 0;
      for (;;)
        X = X + 1;
    }
  }

  /// Copies `From` to `To` in a loop: write, fsync, delete; the source is
  /// dropped from the page cache after each pass so that it is read again.
  void startCopy(const std::string &From, const std::string &To) {
    CopyTo = To;
    const char *F = From.c_str(), *T = CopyTo.c_str();
    Copy = fork();
    if (Copy == 0) {
      orphanDies();
      static char Buffer[1 << 20];
      for (;;) {
        int In = open(F, O_RDONLY);
        int Out = open(T, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (In < 0 || Out < 0)
          _exit(1);
        ssize_t N;
        while ((N = read(In, Buffer, sizeof Buffer)) > 0) {
          for (ssize_t Done = 0; Done < N;) {
            ssize_t W = write(Out, Buffer + Done, size_t(N - Done));
            if (W <= 0)
              _exit(1);
            Done += W;
          }
          Shared->Bytes.fetch_add(uint64_t(N), std::memory_order_relaxed);
        }
        fsync(Out);
        close(Out);
        posix_fadvise(In, 0, 0, POSIX_FADV_DONTNEED);
        close(In);
        unlink(T);
        Shared->Copies.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  /// Figures taken just before the load stops.
  void sample() {
    if (Busy > 0)
      BusyCpu = cpuSeconds(Busy);
    if (Shared) {
      Copies = Shared->Copies.load();
      Bytes = Shared->Bytes.load();
    }
  }

  void stop() {
    for (pid_t *P : {&Busy, &Copy})
      if (*P > 0) {
        kill(*P, SIGKILL);
        waitpid(*P, nullptr, 0);
        *P = -1;
      }
    if (!CopyTo.empty())
      unlink(CopyTo.c_str());
  }

  bool copyAlive() const {
    return Copy > 0 && waitpid(Copy, nullptr, WNOHANG) == 0;
  }

  double BusyCpu = 0;
  uint64_t Copies = 0, Bytes = 0;

private:
  struct Counters {
    std::atomic<uint64_t> Copies{0}, Bytes{0};
  };
  static void orphanDies() {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
      _exit(0);
  }
  pid_t Busy = -1, Copy = -1;
  std::string CopyTo;
  Counters *Shared = nullptr;
};

/// The last CPU this process may run on, or -1 with only one.
int otherCpu() {
  cpu_set_t Set;
  CPU_ZERO(&Set);
  if (sched_getaffinity(0, sizeof Set, &Set) != 0 || CPU_COUNT(&Set) < 2)
    return -1;
  int Last = -1;
  for (int C = 0; C < CPU_SETSIZE; ++C)
    if (CPU_ISSET(C, &Set))
      Last = C;
  return Last;
}

/// The pid of the dspjit process whose arguments name `Script`, or 0.
pid_t findDspjit(const std::string &Script) {
  for (const auto &E : fs::directory_iterator("/proc")) {
    std::ifstream Cmd(E.path() / "cmdline", std::ios::binary);
    std::string Args((std::istreambuf_iterator<char>(Cmd)), {});
    if (Args.rfind(Dspjit + '\0', 0) == 0 &&
        Args.find(Script) != std::string::npos)
      return pid_t(std::atol(E.path().filename().c_str()));
  }
  return 0;
}

struct Latencies {
  std::vector<double> Ms;
  std::string text() const {
    return fmt("median %.1f", percentile(Ms, 0.5)) +
           fmt(", p99 %.1f", percentile(Ms, 0.99)) +
           fmt(", max %.1f ms",
               Ms.empty() ? 0 : *std::max_element(Ms.begin(), Ms.end()));
  }
  std::string json() const {
    return fmt("{\"count\": %.0f", double(Ms.size())) +
           fmt(", \"median\": %.6g", percentile(Ms, 0.5)) +
           fmt(", \"p99\": %.6g", percentile(Ms, 0.99)) +
           fmt(", \"max\": %.6g}",
               Ms.empty() ? 0 : *std::max_element(Ms.begin(), Ms.end()));
  }
};

/// The server's frame clock against the wall clock, read by a JACK client
/// of the test's own that is never activated: it takes no part in the
/// server's cycles, so it costs the server nothing.
class ServerClock {
public:
  explicit ServerClock(const std::string &Server) {
    jack_status_t Status;
    Client = jack_client_open(
        "dspjit-soak-clock",
        static_cast<jack_options_t>(JackNoStartServer | JackServerName),
        &Status, Server.c_str());
  }
  ~ServerClock() { close(); }
  void close() {
    if (Client)
      jack_client_close(Client);
    Client = nullptr;
  }
  bool ok() const { return Client != nullptr; }

  /// Reads the clock at `WallSeconds`.
  void sample(double WallSeconds) {
    if (!Client)
      return;
    uint32_t F = jack_frame_time(Client);
    if (Samples.empty())
      Frames.push_back(0);
    else
      Frames.push_back(Frames.back() + uint32_t(F - Last)); // wraps at 2^32
    Last = F;
    Samples.push_back(WallSeconds);
  }
  /// Drops the samples after `WallSeconds` (dspjit's shutdown).
  void dropAfter(double WallSeconds) {
    while (!Samples.empty() && Samples.back() > WallSeconds) {
      Samples.pop_back();
      Frames.pop_back();
    }
  }
  /// Seconds of the server's clock per second of wall clock, from the first
  /// sample to the last; 0 without two samples.
  double ratio() const {
    return Samples.size() < 2 ? 0 : ratio(0, Samples.size() - 1);
  }
  /// The lowest ratio over any `Window` seconds of wall clock.
  double worstRatio(double Window) const {
    double Worst = 0;
    for (size_t I = 0, J = 0; I < Samples.size(); ++I) {
      J = std::max(J, I);
      while (J < Samples.size() && Samples[J] - Samples[I] < Window)
        ++J;
      if (J == Samples.size())
        break;
      double R = ratio(I, J);
      Worst = Worst == 0 ? R : std::min(Worst, R);
    }
    return Worst;
  }
  double seconds() const {
    return Samples.size() < 2 ? 0 : Samples.back() - Samples.front();
  }

private:
  double ratio(size_t I, size_t J) const {
    return double(Frames[J] - Frames[I]) / Rate / (Samples[J] - Samples[I]);
  }
  jack_client_t *Client = nullptr;
  uint32_t Last = 0;
  std::vector<double> Samples;  ///< wall-clock seconds
  std::vector<uint64_t> Frames; ///< server frames since the first sample
};

/// The scheduling of the threads of dspjit and of jackd, sampled every
/// second; the callback thread is the one that slept most often.
struct Scheduling {
  std::vector<std::pair<double, std::vector<ThreadInfo>>> Child;
  std::vector<ThreadInfo> Server;

  void sample(double WallSeconds, pid_t Dspjit, pid_t Jackd) {
    if (Dspjit > 0)
      if (std::vector<ThreadInfo> T = threadsOf(Dspjit); !T.empty())
        Child.push_back({WallSeconds, std::move(T)});
    if (Jackd > 0)
      if (std::vector<ThreadInfo> T = threadsOf(Jackd); !T.empty())
        Server = std::move(T);
  }
  void dropAfter(double WallSeconds) {
    while (!Child.empty() && Child.back().first > WallSeconds)
      Child.pop_back();
  }
  /// dspjit's threads at the last sample.
  const std::vector<ThreadInfo> &last() const {
    static const std::vector<ThreadInfo> None;
    return Child.empty() ? None : Child.back().second;
  }
  const ThreadInfo *callbackThread() const { return busiestSleeper(last()); }
  /// Of the samples that saw the callback thread, how many saw it run
  /// SCHED_FIFO or SCHED_RR, and how many saw it at all.
  std::pair<unsigned, unsigned> callbackRealTimeSamples() const {
    unsigned RealTime = 0, Seen = 0;
    if (const ThreadInfo *C = callbackThread())
      for (const auto &[T, Threads] : Child)
        if (const ThreadInfo *Same = findThread(Threads, C->Tid)) {
          ++Seen;
          RealTime += Same->realTime();
        }
    return {RealTime, Seen};
  }
  /// jackd's threads at real-time priority, as "SCHED_FIFO priority 10 x2".
  std::string serverRealTime() const {
    std::map<std::string, unsigned> Count;
    for (const ThreadInfo &T : Server)
      if (T.realTime())
        ++Count[T.scheduling()];
    std::string S;
    for (const auto &[Policy, N] : Count)
      S += (S.empty() ? "" : ", ") + Policy + " x" + std::to_string(N);
    return S.empty() ? "none" : S;
  }
};

/// What jackd's log says of its xruns: cycles its dummy driver found
/// itself late for (the server's own: the time logged is how long the late
/// cycle had run since it began, so a short one means that the driver's
/// sleep woke up late), and clients that had not finished their cycle when
/// the next one began, by their state: "Triggered" (woken, but not yet
/// given a CPU) or "Running" (still processing).
struct ServerLog {
  unsigned DriverLate = 0;
  double DriverLateMaxUs = 0;
  std::map<std::string, unsigned> ClientLate; ///< by state

  explicit ServerLog(const std::string &Log) {
    std::regex Late("JackTimedDriver::Process XRun = (\\d+) usec");
    for (std::sregex_iterator M(Log.begin(), Log.end(), Late), E; M != E; ++M) {
      ++DriverLate;
      DriverLateMaxUs = std::max(DriverLateMaxUs, std::stod((*M)[1]));
    }
    std::regex Client("JackEngine::XRun: client = .* was not finished, "
                      "state = (\\w+)");
    for (std::sregex_iterator M(Log.begin(), Log.end(), Client), E; M != E; ++M)
      ++ClientLate[(*M)[1]];
  }
  /// "Triggered 500, Running 12", or "none".
  std::string clientLateText() const {
    std::string S;
    for (const auto &[State, Count] : ClientLate)
      S += (S.empty() ? "" : ", ") + State + " " + std::to_string(Count);
    return S.empty() ? "none" : S;
  }
  std::string clientLateJson() const {
    std::string S;
    for (const auto &[State, Count] : ClientLate)
      S += (S.empty() ? "\"" : ", \"") + State + "\": " + std::to_string(Count);
    return "{" + S + "}";
  }
};

/// "[X]" without its brackets.
std::string unbracketed(const std::string &List) {
  return List.size() < 2 ? List : List.substr(1, List.size() - 2);
}

std::string loadAverage() {
  std::ifstream A("/proc/loadavg");
  std::string S;
  std::getline(A, S);
  return S.substr(0, S.find(' ', S.find(' ', S.find(' ') + 1) + 1));
}

/// The soak in one of its two variants (see the top of the file).
void soak(bool RealTime) {
  const double Seconds = envNumber("DSPJIT_SOAK_SECONDS", 45);
  const double ReloadEvery = envNumber("DSPJIT_SOAK_RELOAD_EVERY", 3);
  const double CopyMb = envNumber("DSPJIT_SOAK_COPY_MB", 256);
  // DSPJIT_SOAK_LOAD=0: no busy loop and no copy (the reloads remain), for
  // a baseline of the same machine.
  const char *LoadEnv = std::getenv("DSPJIT_SOAK_LOAD");
  const bool Loaded = !LoadEnv || std::string(LoadEnv) != "0";
  const double WarmUp = std::max(15.0, 0.2 * Seconds);
  // After the warm-up VmRSS moved by 4 to 64 kB in the runs measured (75 s
  // and 600 s, 24 and 199 reloads). 2 MiB is 30 times that, and less than
  // ten leaked instances of Freeverb (198 kB each, `dspjit info`): a
  // reload that leaked its old instance, or its compiled code, fails even
  // the short run.
  const long RssBoundKb = long(envNumber("DSPJIT_SOAK_RSS_BOUND_KB", 2048));
  const double P99Bound = 0.5;
  ASSERT_GE(Seconds, 20) << "DSPJIT_SOAK_SECONDS: at least 20";

  JackServerOptions SO;
  SO.SampleRate = uint32_t(Rate);
  SO.Period = Period;
  SO.RealTime = RealTime;
  auto Server = JackServer::start(SO);
  ASSERT_TRUE(Server) << Server.error();
  struct ServerStop {
    JackServer &S;
    ~ServerStop() { S.beginShutdown(); }
  } StopServer{**Server};
  if (RealTime) {
    // The right to SCHED_FIFO was checked; jackd may still have been
    // refused (a priority above this process's limit).
    std::vector<ThreadInfo> T = threadsOf((*Server)->pid());
    if (std::none_of(T.begin(), T.end(),
                     [](const ThreadInfo &I) { return I.realTime(); }))
      GTEST_SKIP()
          << "jackd -R runs no thread at real-time priority; its log:\n"
          << (*Server)->log();
  }
  // The server's clock, read by a client of ours opened now, under the
  // setup lock.
  ServerClock Clock((*Server)->name());
  ASSERT_TRUE(Clock.ok()) << "cannot open a JACK client on the server";
  (*Server)->finishSetup();

  const fs::path Dir =
      fs::temp_directory_path() / ("dspjit-soak-" + std::to_string(getpid()));
  fs::remove_all(Dir);
  fs::create_directories(Dir);
  const bool Keep = std::getenv("DSPJIT_SOAK_KEEP") != nullptr;
  struct DirRemove {
    fs::path D;
    bool Keep;
    ~DirRemove() {
      if (!Keep)
        fs::remove_all(D);
    }
  } RemoveDir{Dir, Keep};
  auto path = [&](const std::string &Name) { return (Dir / Name).string(); };
  setenv("DSPJIT_CACHE_DIR", path("cache").c_str(), 1);

  // The script: a copy of freeverb.dsp whose roomsize default we edit.
  std::ifstream In(SourceDir + "/examples/freeverb.dsp");
  std::string Text((std::istreambuf_iterator<char>(In)), {});
  std::smatch Room;
  ASSERT_TRUE(
      std::regex_search(Text, Room, std::regex("param roomsize = ([0-9.]+)")));
  const size_t At = size_t(Room.position(1)), Len = size_t(Room.length(1));
  auto version = [&](int I) {
    // Alternating 0.3 and 0.8, each value new: every save compiles.
    double V = (I % 2 ? 0.8 : 0.3) + 1e-6 * I;
    return Text.substr(0, At) + fmt("%.6f", V) + Text.substr(At + Len);
  };
  const std::string Script = path("freeverb.dsp");
  std::ofstream(Script) << Text;

  // The copy's source: pseudo-random, so nothing below compresses it.
  if (Loaded) {
    std::vector<uint32_t> Chunk(1 << 18);
    uint32_t X = 12345;
    std::ofstream Big(path("copy-from.bin"), std::ios::binary);
    for (int M = 0; M < int(CopyMb); ++M) {
      for (uint32_t &W : Chunk)
        W = X = X * 1664525u + 1013904223u;
      Big.write(reinterpret_cast<const char *>(Chunk.data()), 1 << 20);
    }
    ASSERT_TRUE(Big.good());
  }

  Load L;
  const int Cpu = otherCpu();
  if (Loaded) {
    L.startBusyLoop(Cpu);
    L.startCopy(path("copy-from.bin"), path("copy-to.bin"));
  }

  // The actions: find the child, sample its VmRSS every second until it
  // ends (on a loaded machine the dummy driver may run slower than real
  // time, so the run can outlast Seconds), save the script every
  // ReloadEvery seconds until the last 3 s of audio (for the last save to go
  // live and be optimized). Times are wall-clock seconds since dspjit
  // started.
  pid_t Pid = 0;
  auto T0 = std::chrono::steady_clock::now();
  auto Now = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - T0)
        .count();
  };
  std::vector<std::pair<double, long>> Rss; // (seconds, kB)
  Scheduling Sched;
  const pid_t Jackd = (*Server)->pid();
  int Saves = 0;
  std::vector<ChildAction> Actions;
  Actions.push_back({0.2, "", 0,
                     [&] {
                       Pid = findDspjit(Script);
                       Rss.push_back({Now(), vmRssKb(Pid)});
                     },
                     Running});
  std::vector<std::pair<double, std::function<void()>>> Timed;
  const double Timeout = 2 * Seconds + 60;
  for (double T = 1; T < Timeout; T += 1)
    Timed.push_back({T, [&] {
                       if (Pid <= 0)
                         return;
                       const double At = Now();
                       if (long K = vmRssKb(Pid))
                         Rss.push_back({At, K});
                       Clock.sample(At);
                       Sched.sample(At, Pid, Jackd);
                     }});
  // Saves go on while the recording (float, 2 channels: 8 bytes a frame)
  // holds less than Seconds - 3 of audio, however slowly the server runs.
  const std::string Out = path("out.wav"), StatsJson = path("stats.json");
  auto AudioSoFar = [&] {
    std::error_code E;
    uintmax_t Bytes = fs::file_size(Out, E);
    return E ? 0.0 : double(Bytes) / 8 / Rate;
  };
  auto Save = [&] {
    if (AudioSoFar() > Seconds - 3)
      return;
    const int I = Saves;
    std::string V = version(I);
    if (I % 2) { // as editors do: a temporary renamed over it
      std::ofstream(Script + ".tmp~") << V;
      fs::rename(Script + ".tmp~", Script);
    } else {
      std::ofstream(Script, std::ios::trunc) << V;
    }
    ++Saves;
  };
  for (int K = 1; ReloadEvery * K < Timeout; ++K)
    Timed.push_back({ReloadEvery * K + 0.5, Save});
  // Twice in the warm-up, a second save 20 ms after one: the two compiles
  // overlap, each on its own thread, and glibc gives the second thread a
  // malloc arena of its own that stays with the process (about 4 MB once
  // it has held an -O3 compile). Without this the first overlap came when
  // the load made it happen, at 373 s or 688 s in the 10-minute runs: a
  // one-time step of 3.8 MB after the warm-up, not a leak, but the bound
  // below could not tell them apart.
  // Each pair sits halfway between two regular saves, so that its second
  // save is optimized before the next one comes.
  for (double At : {0.3 * WarmUp, 0.6 * WarmUp}) {
    const double T =
        ReloadEvery * std::floor(At / ReloadEvery) + 0.5 + 0.5 * ReloadEvery;
    Timed.push_back({T, Save});
    Timed.push_back({T + 0.02, Save});
  }
  std::stable_sort(
      Timed.begin(), Timed.end(),
      [](const auto &A, const auto &B) { return A.first < B.first; });
  for (auto &[T, F] : Timed)
    Actions.push_back({T, "", 0, F});

  ChildOptions O;
  O.Actions = std::move(Actions);
  O.TimeoutSeconds = Timeout;
  O.CloseStdin = false;
  T0 = std::chrono::steady_clock::now();
  ChildResult C = runChild(Dspjit,
                           {"run", Script, "--play",
                            SourceDir + "/examples/audio/drums.wav", "--loop",
                            "--record", Out, "--duration", fmt("%.0f", Seconds),
                            "--no-status", "--stats-json", StatsJson},
                           O);
  const bool CopyRan = L.copyAlive();
  L.sample();
  L.stop();

  // dspjit's own figures.
  std::ifstream JsonIn(StatsJson);
  const std::string Json((std::istreambuf_iterator<char>(JsonIn)), {});
  auto J = [&](const std::string &Object, const std::string &Key) {
    return jsonNumber(Json, Object, Key);
  };
  // The reloads, from their lines on standard error.
  Latencies Live, Optimized, Compile0, Compile3;
  int Cached = 0;
  {
    std::regex LiveLine(
        "reload \\d+: live in ([0-9.]+) ms \\(compile ([0-9.]+) ms([^)]*)\\)");
    std::regex OptLine(
        "reload \\d+: optimized \\(-O\\d\\) live ([0-9.]+) ms after the save "
        "\\(compile ([0-9.]+) ms([^)]*)\\)");
    for (std::sregex_iterator M(C.Err.begin(), C.Err.end(), LiveLine), E;
         M != E; ++M) {
      Live.Ms.push_back(std::stod((*M)[1]));
      Compile0.Ms.push_back(std::stod((*M)[2]));
      Cached += (*M)[3].str().find("cache") != std::string::npos;
    }
    for (std::sregex_iterator M(C.Err.begin(), C.Err.end(), OptLine), E; M != E;
         ++M) {
      Optimized.Ms.push_back(std::stod((*M)[1]));
      Compile3.Ms.push_back(std::stod((*M)[2]));
      Cached += (*M)[3].str().find("cache") != std::string::npos;
    }
  }
  int SkippedSaves = 0;
  {
    std::regex SkippedLine("; (\\d+) older saves? skipped");
    for (std::sregex_iterator M(C.Err.begin(), C.Err.end(), SkippedLine), E;
         M != E; ++M)
      SkippedSaves += std::stoi((*M)[1]);
  }
  int Reloads = -1;
  std::smatch M;
  if (std::regex_search(C.Out, M, std::regex("reloads: (\\d+)")))
    Reloads = std::stoi(M[1]);
  // The recording.
  uint64_t RecFrames = 0, RecNonfinite = 0;
  double Peak = 0, SumSquares = 0;
  if (auto A = readAudioFile(Out)) {
    RecFrames = A->frames();
    for (float V : A->Samples) {
      if (!std::isfinite(V)) {
        ++RecNonfinite;
        continue;
      }
      Peak = std::max(Peak, double(std::fabs(V)));
      SumSquares += double(V) * V;
    }
  }
  const double RecRms =
      RecFrames ? std::sqrt(SumSquares / double(2 * RecFrames)) : 0;
  // VmRSS: at the start, after the warm-up, the highest after it, the end
  // (the last sample at least 1.5 s before the exit, so not the shutdown).
  while (!Rss.empty() && Rss.back().first > C.Seconds - 1.5)
    Rss.pop_back();
  // The largest rise between two samples after the warm-up is known too: a
  // malloc arena or a JIT memory slab that grows once is a step, not a
  // leak; a leak grows with every reload. The bound is for the growth
  // without that one step (a single 4 MB step was seen once in CI).
  long RssStart = Rss.empty() ? 0 : Rss.front().second, RssWarm = 0, RssMax = 0;
  long RssStep = 0, RssPrevious = 0;
  double RssWarmAt = 0;
  for (auto [T, K] : Rss) {
    if (T >= WarmUp && RssWarm) {
      RssStep = std::max(RssStep, K - RssPrevious);
    } else if (T >= WarmUp) {
      RssWarm = K;
      RssWarmAt = T;
    }
    if (T >= WarmUp)
      RssMax = std::max(RssMax, K);
    RssPrevious = K;
  }
  const long RssEnd = Rss.empty() ? 0 : Rss.back().second;
  const double RssEndAt = Rss.empty() ? 0 : Rss.back().first;

  // The server's clock and the threads, over the same span as VmRSS; the
  // clock's client closes before the server stops.
  Clock.dropAfter(C.Seconds - 1.5);
  Sched.dropAfter(C.Seconds - 1.5);
  (*Server)->beginShutdown();
  Clock.close();
  const ServerLog Log((*Server)->log());
  const ThreadInfo *Callback = Sched.callbackThread();
  const auto [CallbackRtSamples, CallbackSamples] =
      Sched.callbackRealTimeSamples();
  const double ServerRatio = Clock.ratio(), WorstRatio = Clock.worstRatio(10);
  const std::string Variant = RealTime ? "-rt" : "";

  // The figures, as a table and as JSON.
  std::ostringstream T;
  T << "[ soak ] examples/freeverb.dsp live for " << Seconds
    << " s on a private JACK dummy server, 64 frames at 48 kHz (deadline "
    << fmt("%.1f", J("", "deadline_us")) << " us), "
    << (RealTime ? "jackd -R (real-time)" : "jackd --no-realtime")
    << (Loaded ? ", under load" : ", without load") << ":\n"
    << "  load: "
    << (!Loaded
            ? std::string("none (DSPJIT_SOAK_LOAD=0)")
            : "busy loop " +
                  (Cpu >= 0 ? "pinned to CPU " + std::to_string(Cpu)
                            : std::string("unpinned")) +
                  fmt(", %.1f s of CPU", L.BusyCpu) + "; file copy of " +
                  fmt("%.0f", CopyMb) + " MiB x " + std::to_string(L.Copies) +
                  fmt(" (%.2f GiB", double(L.Bytes) / (1 << 30)) +
                  fmt(", %.0f MB/s)",
                      double(L.Bytes) / 1e6 / std::max(1.0, C.Seconds)))
    << "; a save every " << ReloadEvery << " s; load average now "
    << loadAverage() << "\n"
    << fmt("  exit %.0f", C.Status) << fmt(" after %.1f s; ", C.Seconds)
    << fmt("callbacks %.0f", J("", "callbacks"))
    << fmt(", frames %.0f", J("", "frames"))
    << fmt(" (%.2f s of audio)\n", J("", "frames") / Rate)
    << "  dspjit's own figures, measured inside its callback (the clock read "
       "at its entry and exit):\n"
    << "    callback thread: "
    << (Callback
            ? "tid " + std::to_string(Callback->Tid) + ", " +
                  Callback->scheduling() + " (in " +
                  std::to_string(CallbackRtSamples) + " of " +
                  std::to_string(CallbackSamples) + " samples real-time), " +
                  std::to_string(Callback->VoluntarySwitches) + " sleeps, " +
                  std::to_string(Callback->InvoluntarySwitches) + " preemptions"
            : std::string("not found"))
    << "\n"
    << "    processing time   min      mean     p50      p99      max\n"
    << fmt("      microseconds %8.2f", J("processing_us", "min"))
    << fmt(" %8.2f", J("processing_us", "mean"))
    << fmt(" %8.2f", J("processing_us", "p50"))
    << fmt(" %8.2f", J("processing_us", "p99"))
    << fmt(" %8.2f\n", J("processing_us", "max"))
    << "      of deadline           "
    << fmt("%7.2f%%", 100 * J("share_of_deadline", "mean"))
    << fmt(" %7.2f%%", 100 * J("share_of_deadline", "p50"))
    << fmt(" %7.2f%%", 100 * J("share_of_deadline", "p99"))
    << fmt(" %7.2f%%\n", 100 * J("share_of_deadline", "max"))
    << fmt("    over deadline: %.0f callbacks", J("", "over_deadline"))
    << fmt(" (%.3f%%)", 100 * J("", "over_deadline_share"))
    << (RealTime ? "\n"
                 : "; without real-time priority a preempted callback "
                   "counts the time it waited\n")
    << "  the server's figures:\n"
    << fmt("    its clock ran at %.4f x real time", ServerRatio)
    << fmt(" (worst 10 s: %.4f x;", WorstRatio)
    << " jack_frame_time over the wall clock, "
    << fmt("%.0f s)\n", Clock.seconds())
    << "    its threads at real-time priority: " << Sched.serverRealTime()
    << "\n"
    << fmt("    xruns it reported (PortAudio's flags): %.0f",
           J("xruns", "total"))
    << fmt(" (input underflow %.0f", J("xruns", "input_underflow"))
    << fmt(", input overflow %.0f", J("xruns", "input_overflow"))
    << fmt(", output underflow %.0f", J("xruns", "output_underflow"))
    << fmt(", output overflow %.0f", J("xruns", "output_overflow"))
    << fmt(", priming output %.0f)\n", J("xruns", "priming_output"))
    << "    its log: " << Log.DriverLate << " late cycles of its driver"
    << fmt(" (the longest had run %.0f us since it began; one that ran less "
           "than a period was late from the start: its sleep woke up late)",
           Log.DriverLateMaxUs)
    << "; dspjit's client not finished when the next cycle began: "
    << Log.clientLateText()
    << " (Triggered: woken but not yet given a CPU; Running: still "
       "processing)\n"
    << fmt("  files: %.0f frames of --play late", J("", "play_underrun_frames"))
    << fmt(", %.0f frames of --record dropped", J("", "record_dropped_frames"))
    << fmt("; non-finite samples: %.0f silenced", J("", "nonfinite_samples"))
    << ", " << RecNonfinite << " in the recording (" << RecFrames << " frames"
    << fmt(", peak %.3f", Peak) << fmt(", rms %.4f)\n", RecRms)
    << "  reloads: " << Saves << " saves, " << Reloads << " live, " << Cached
    << " from the cache; save to sound (-O0) " << Live.text() << "; -O3 live "
    << Optimized.text() << "\n"
    << "           compile -O0 " << Compile0.text() << "; -O3 "
    << Compile3.text() << "\n"
    << "  VmRSS: " << RssStart << " kB at the start, " << RssWarm
    << " kB after the warm-up (" << fmt("%.0f s), ", RssWarmAt) << RssMax
    << " kB at most after it, " << RssEnd
    << fmt(" kB at the end (%.0f s): ", RssEndAt) << (RssEnd - RssWarm)
    << " kB since the warm-up, its largest step " << RssStep << " kB\n";
  const std::string OutJson = std::string(DSPJIT_SOAK_OUT_DIR) + "/soak-" +
                              fmt("%.0f", Seconds) + "s" + Variant +
                              (Loaded ? "" : "-noload") + ".json";
  T << "  figures: " << OutJson << "\n";
  std::cout << T.str() << "dspjit's summary:\n" << C.Out << std::flush;
  {
    std::ostringstream RssSeries;
    for (size_t I = 0; I < Rss.size(); ++I)
      RssSeries << (I ? ", " : "") << fmt("[%.1f, ", Rss[I].first)
                << Rss[I].second << "]";
    std::ofstream F(OutJson);
    F << "{\n  \"script\": \"examples/freeverb.dsp\",\n  \"seconds\": "
      << Seconds << ",\n  \"variant\": \""
      << (RealTime ? "realtime" : "no-realtime")
      << "\",\n  \"wall_seconds\": " << C.Seconds
      << ",\n  \"exit_status\": " << C.Status
      << ",\n  \"load_average_at_end\": \"" << loadAverage() << "\""
      << ",\n  \"sources\": {\"dspjit\": \"measured inside dspjit's "
         "callback: dspjit_stats.processing_us, "
         "dspjit_stats.share_of_deadline, dspjit_stats.over_deadline, "
         "callback_thread\", \"server\": \"the JACK server's: "
         "server.clock_ratio, server.worst_10s_ratio, server.log, "
         "server.threads, and dspjit_stats.xruns (PortAudio's status "
         "flags, set from the server's xrun notifications)\"}"
      << ",\n  \"load\": {\"loaded\": " << (Loaded ? "true" : "false")
      << ", \"busy_cpu\": " << Cpu << ", \"busy_cpu_seconds\": " << L.BusyCpu
      << ", \"copy_mib\": " << CopyMb << ", \"copies\": " << L.Copies
      << ", \"copied_bytes\": " << L.Bytes
      << ", \"reload_every_s\": " << ReloadEvery << "},\n  \"dspjit_stats\": "
      << (Json.empty() ? std::string("null")
                       : Json.substr(0, Json.find_last_not_of(" \n") + 1))
      << ",\n  \"callback_thread\": "
      << (Callback ? unbracketed(threadsJson({*Callback}))
                   : std::string("null"))
      << ",\n  \"callback_thread_realtime_samples\": [" << CallbackRtSamples
      << ", " << CallbackSamples << "]"
      << ",\n  \"dspjit_threads\": " << threadsJson(Sched.last())
      << ",\n  \"server\": {\"realtime\": " << (RealTime ? "true" : "false")
      << ", \"clock_ratio\": " << fmt("%.6f", ServerRatio)
      << ", \"worst_10s_ratio\": " << fmt("%.6f", WorstRatio)
      << ", \"clock_seconds\": " << fmt("%.1f", Clock.seconds())
      << ", \"log\": {\"driver_late_cycles\": " << Log.DriverLate
      << ", \"driver_late_cycle_max_us\": " << Log.DriverLateMaxUs
      << ", \"client_not_finished\": " << Log.clientLateJson()
      << "}, \"threads\": " << threadsJson(Sched.Server) << "}"
      << ",\n  \"reloads\": {\"saves\": " << Saves << ", \"live\": " << Reloads
      << ", \"from_cache\": " << Cached << ", \"skipped\": " << SkippedSaves
      << ", \"save_to_sound_ms\": " << Live.json()
      << ", \"optimized_live_ms\": " << Optimized.json()
      << ", \"compile_o0_ms\": " << Compile0.json()
      << ", \"compile_o3_ms\": " << Compile3.json()
      << "},\n  \"recording\": {\"frames\": " << RecFrames
      << ", \"nonfinite\": " << RecNonfinite << ", \"peak\": " << Peak
      << ", \"rms\": " << RecRms
      << "},\n  \"vmrss_kb\": {\"start\": " << RssStart
      << ", \"after_warm_up\": " << RssWarm << ", \"warm_up_s\": " << RssWarmAt
      << ", \"max_after_warm_up\": " << RssMax << ", \"end\": " << RssEnd
      << ", \"growth_after_warm_up\": " << (RssEnd - RssWarm)
      << ", \"series\": [" << RssSeries.str() << "]}\n}\n";
  }

  // What can honestly be asserted.
  ASSERT_EQ(C.Status, 0) << C.describe();
  ASSERT_FALSE(Json.empty()) << "no " << StatsJson;
  if (Loaded) { // the load was what the figures say
    EXPECT_TRUE(CopyRan) << "the file copy stopped";
    EXPECT_GT(L.Copies, 0u);
    EXPECT_GT(L.BusyCpu, 0.1 * C.Seconds) << "the busy loop hardly ran";
  }
  // Every save went live, compiled for real, and nothing failed, but for
  // the newest save winning: of a pair 20 ms apart, the first is either
  // heard at -O0 and never optimized, or skipped altogether (said in the
  // second's reload line). Every other save is heard, then optimized.
  EXPECT_GT(Saves, 0);
  EXPECT_EQ(Reloads + SkippedSaves, Saves) << C.describe();
  EXPECT_EQ(int(Live.Ms.size()) + SkippedSaves, Saves) << C.Err;
  EXPECT_GE(int(Optimized.Ms.size()), Saves - 2) << C.Err;
  EXPECT_LE(int(Optimized.Ms.size()), int(Live.Ms.size())) << C.Err;
  EXPECT_EQ(Cached, 0) << C.Err;
  EXPECT_EQ(C.Out.find("failed"), std::string::npos) << C.Out;
  EXPECT_EQ(C.Err.find("keeps playing"), std::string::npos) << C.Err;
  // No non-finite sample anywhere; a recording of the whole run, not silent.
  EXPECT_EQ(J("", "nonfinite_samples"), 0.0);
  EXPECT_EQ(RecNonfinite, 0u);
  // The stream ran to the end of --duration (dspjit stops by the wall clock
  // if the server runs slower than half real time), a block or a few over.
  EXPECT_GE(J("", "frames"), Seconds * Rate)
      << fmt("the server ran at %.2f x real time",
             J("", "frames") / Rate / C.Seconds)
      << (C.Err.find("stalled") != std::string::npos
              ? ", under half: dspjit stopped by its wall-clock guard\n"
              : "\n")
      << C.describe();
  EXPECT_LT(J("", "frames"), (Seconds + 1) * Rate);
  EXPECT_EQ(double(RecFrames),
            J("", "frames") - J("", "record_dropped_frames"));
  EXPECT_GT(RecRms, 1e-3);
  // The callback's own time, at the 99th percentile, well within the deadline.
  EXPECT_LT(J("share_of_deadline", "p99"), P99Bound);
  // No leak: VmRSS after the warm-up stays within a bound.
  EXPECT_GT(RssWarm, 0);
  if (!UnderAsan) {
    EXPECT_LT(RssEnd - RssWarm - RssStep, RssBoundKb)
        << "VmRSS grew from " << RssWarm << " kB at " << RssWarmAt << " s to "
        << RssEnd << " kB at " << RssEndAt << " s, its largest step " << RssStep
        << " kB";
  }
  // The callback thread is the one that slept once a cycle, and in the
  // real-time variant it ran SCHED_FIFO all along, as libjack makes a
  // client's process thread when its server is real-time.
  ASSERT_NE(Callback, nullptr) << "no thread of dspjit seen";
  EXPECT_GT(double(Callback->VoluntarySwitches), 0.5 * J("", "callbacks"))
      << "the thread that slept most often slept less than once in two "
         "callbacks: it is not the callback's; dspjit's threads: "
      << threadsJson(Sched.last());
  if (RealTime) {
    EXPECT_EQ(Callback->Policy, SCHED_FIFO)
        << "dspjit's callback thread ran " << Callback->scheduling()
        << " on a real-time server; dspjit's threads: "
        << threadsJson(Sched.last()) << "\njackd's log:\n"
        << (*Server)->log();
    EXPECT_EQ(CallbackRtSamples, CallbackSamples);
  }
}

} // namespace

TEST(SoakTest, FreeverbLiveUnderLoadWithReloads) { soak(false); }

TEST(SoakTest, FreeverbLiveUnderLoadWithReloadsRealTime) {
  std::string Why;
  if (!realTimeSchedulingPermitted(JackServerOptions().RealTimePriority, Why))
    GTEST_SKIP() << Why;
  soak(true);
}
