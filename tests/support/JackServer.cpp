//===- tests/support/JackServer.cpp - A private jackd for one test process ===//
//
// fork/exec of jackd with its output in a log file, a readiness probe with
// libjack, and a careful shutdown; see JackServer.h.
//
//===----------------------------------------------------------------------===//
#include "tests/support/JackServer.h"

#include <jack/jack.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <pthread.h>
#include <sched.h>
#include <sstream>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#ifndef DSPJIT_JACKD
#define DSPJIT_JACKD "jackd"
#endif

namespace dspjit::test {

namespace {

std::atomic<unsigned> ServerCounter{0};

void quietJackMessage(const char *) {}
void printJackError(const char *Message) {
  std::fprintf(stderr, "jack: %s\n", Message);
}

/// The last lines of a log, for failure messages.
std::string tail(const std::string &Text, size_t Lines = 20) {
  size_t Start = Text.size();
  for (size_t Seen = 0; Start > 0 && Seen <= Lines;)
    if (Text[--Start] == '\n')
      ++Seen;
  return Text.substr(Start);
}

using Clock = std::chrono::steady_clock;

/// Takes the cross-process lock serializing JACK setup (see JackServer.h).
/// Returns its descriptor (close-on-exec, so jackd never inherits it), or -1
/// if the lock file cannot be opened; then setup is merely unserialized.
int acquireSetupLock() {
  std::string Path =
      (std::filesystem::temp_directory_path() /
       ("dspjit-jack-setup-" + std::to_string(getuid()) + ".lock"))
          .string();
  int Fd = open(Path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (Fd < 0)
    return -1;
  while (flock(Fd, LOCK_EX) != 0 && errno == EINTR)
    ;
  return Fd;
}

void releaseSetupLock(int &Fd) {
  if (Fd < 0)
    return;
  flock(Fd, LOCK_UN);
  close(Fd);
  Fd = -1;
}

/// Waits for the child to exit, up to Timeout. True when it has exited.
bool waitForExit(pid_t Pid, std::chrono::milliseconds Timeout, int &Status) {
  auto Deadline = Clock::now() + Timeout;
  while (true) {
    pid_t Got = waitpid(Pid, &Status, WNOHANG);
    if (Got == Pid || (Got < 0 && errno == ECHILD))
      return true;
    if (Clock::now() >= Deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

/// JACK2's registry of servers is a shared-memory file laid out as jack2's
/// shm.h says: a 24-byte header (magic "JACK" read as a little-endian
/// word, protocol, type, size, header length, entry length), then
/// MAX_SERVERS = 8 entries of {pid_t pid; char name[257];}, 264 bytes each.
/// Writers hold a System V semaphore (shm.c's JACK_SEMAPHORE_KEY).
constexpr const char *RegistryPath = "/dev/shm/jack-shm-registry";
constexpr unsigned MaxServers = 8;
constexpr size_t RegistryHeaderSize = 24, RegistryEntrySize = 264;
constexpr key_t RegistrySemaphoreKey = 0x282929;

struct RegisteredServer {
  pid_t Pid = 0;
  std::string Name; ///< As jackd registers it: "jack-UID:NAME:".
};

bool processIsAlive(pid_t Pid) { return kill(Pid, 0) == 0 || errno == EPERM; }

/// Takes (Delta -1) or gives back (+1) JACK's registry lock; SEM_UNDO
/// gives it back if this process dies holding it. False when there is no
/// such semaphore (no JACK client or server has run yet) or on a timeout.
bool adjustRegistryLock(int Semaphore, short Delta) {
  sembuf Op{0, Delta, SEM_UNDO};
  timespec Timeout{2, 0};
  while (semtimedop(Semaphore, &Op, 1, &Timeout) != 0)
    if (errno != EINTR)
      return false;
  return true;
}

/// Clears the registry entries of servers that no longer run, in place,
/// under JACK's own lock, exactly as jackd does when a server of the same
/// name starts (shm.c, jack_register_server), and returns the entries of
/// those that do. jackd reclaims a dead entry only under its own name, and
/// there are just 8: a jackd killed with SIGKILL (for example one stuck in
/// its shutdown after a client vanished mid-close) would otherwise hold its
/// entry for good, and after a few such runs no server could start ("Too
/// many servers already active"). The file is never removed: clients that
/// already mapped it would no longer see new servers. A file without the
/// expected layout (another JACK version) is left alone.
std::vector<RegisteredServer> clearDeadRegistryEntries() {
  std::vector<RegisteredServer> Alive;
  int Semaphore = semget(RegistrySemaphoreKey, 0, 0);
  int Fd = open(RegistryPath, O_RDWR | O_CLOEXEC);
  if (Semaphore < 0 || Fd < 0) {
    if (Fd >= 0)
      close(Fd);
    return Alive;
  }
  if (!adjustRegistryLock(Semaphore, -1)) {
    close(Fd);
    return Alive;
  }
  std::vector<char> Bytes(RegistryHeaderSize + MaxServers * RegistryEntrySize);
  uint32_t Magic = 0, HeaderLength = 0;
  if (pread(Fd, Bytes.data(), Bytes.size(), 0) == ssize_t(Bytes.size())) {
    std::memcpy(&Magic, Bytes.data(), sizeof Magic);
    std::memcpy(&HeaderLength, Bytes.data() + 16, sizeof HeaderLength);
  }
  if (Magic == 0x4a41434bu && HeaderLength == Bytes.size()) {
    for (unsigned I = 0; I < MaxServers; ++I) {
      size_t Offset = RegistryHeaderSize + I * RegistryEntrySize;
      char *Entry = Bytes.data() + Offset;
      int32_t Pid;
      std::memcpy(&Pid, Entry, sizeof Pid);
      if (Pid == 0)
        continue;
      if (processIsAlive(Pid)) {
        Alive.push_back({Pid, std::string(Entry + 4, strnlen(Entry + 4, 257))});
        continue;
      }
      std::memset(Entry, 0, RegistryEntrySize);
      (void)!pwrite(Fd, Entry, RegistryEntrySize, off_t(Offset));
    }
  }
  adjustRegistryLock(Semaphore, +1);
  close(Fd);
  return Alive;
}

/// Picks a server name that no running server has, from a small fixed pool
/// (dspjit-test-0 to -7), so that whatever a killed server leaves behind
/// (its registry entry, its sockets in /dev/shm) is reused by the next
/// server of that name rather than piling up. Called under the setup lock.
Result<std::string> chooseServerName() {
  std::vector<RegisteredServer> Alive = clearDeadRegistryEntries();
  std::string Prefix = "jack-" + std::to_string(getuid()) + ":";
  if (Alive.size() < MaxServers)
    for (unsigned K = 0; K < MaxServers; ++K) {
      std::string Name = "dspjit-test-" + std::to_string(K);
      bool Taken = false;
      for (const RegisteredServer &S : Alive)
        Taken |= S.Name == Prefix + Name + ":";
      if (!Taken)
        return Name;
    }
  std::string List;
  for (const RegisteredServer &S : Alive)
    List += "\n  pid " + std::to_string(S.Pid) + ": " + S.Name;
  return fail(std::string("JACK's registry of servers (") + RegistryPath +
              ") is full: 8 servers are running; stop some of them:" + List);
}

} // namespace

bool realTimeSchedulingPermitted(unsigned Priority, std::string &Why) {
  int Error = 0;
  std::thread([&] {
    sched_param P = {};
    P.sched_priority = int(Priority);
    Error = pthread_setschedparam(pthread_self(), SCHED_FIFO, &P);
  }).join();
  if (Error == 0)
    return true;
  Why = "real-time scheduling is not permitted here (SCHED_FIFO at priority " +
        std::to_string(Priority) + ": " + std::strerror(Error) +
        "); it needs root, CAP_SYS_NICE or an rtprio limit (ulimit -r) of " +
        std::to_string(Priority) + " or more";
  return false;
}

std::string JackServer::log() const {
  std::ifstream In(LogPath);
  std::stringstream Text;
  Text << In.rdbuf();
  return Text.str();
}

Result<std::unique_ptr<JackServer>>
JackServer::start(const JackServerOptions &Options) {
  int Lock = acquireSetupLock();
  auto Chosen = chooseServerName();
  if (!Chosen) {
    releaseSetupLock(Lock);
    return fail(Chosen.error());
  }
  std::string Name = *Chosen;
  std::string LogPath = (std::filesystem::temp_directory_path() /
                         (Name + "." + std::to_string(getpid()) + "-" +
                          std::to_string(ServerCounter++) + ".jackd.log"))
                            .string();

  // Point this process (and jackd itself) at the new server. Clients must
  // never start a default server behind our back.
  setenv("JACK_DEFAULT_SERVER", Name.c_str(), 1);
  setenv("JACK_NO_START_SERVER", "1", 1);
  setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);

  std::vector<std::string> Args = {DSPJIT_JACKD};
  if (Options.RealTime)
    Args.insert(Args.end(),
                {"-R", "-P", std::to_string(Options.RealTimePriority)});
  else
    Args.push_back("--no-realtime");
  Args.insert(Args.end(), {"-n", Name, "-d", "dummy", "-r",
                           std::to_string(Options.SampleRate), "-p",
                           std::to_string(Options.Period), "-C",
                           std::to_string(Options.Channels), "-P",
                           std::to_string(Options.Channels)});
  std::vector<char *> Argv;
  for (std::string &Arg : Args)
    Argv.push_back(Arg.data());
  Argv.push_back(nullptr);

  int Log =
      open(LogPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (Log < 0) {
    releaseSetupLock(Lock);
    return fail("cannot create jackd log '" + LogPath +
                "': " + std::strerror(errno));
  }
  pid_t Parent = getpid();
  pid_t Pid = fork();
  if (Pid < 0) {
    close(Log);
    releaseSetupLock(Lock);
    return fail(std::string("cannot fork jackd: ") + std::strerror(errno));
  }
  if (Pid == 0) {
    // Child: only async-signal-safe calls until exec.
    // Die with the test process, even if it crashes.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != Parent)
      _exit(1);
    int Null = open("/dev/null", O_RDONLY);
    dup2(Null, STDIN_FILENO);
    dup2(Log, STDOUT_FILENO);
    dup2(Log, STDERR_FILENO);
    execvp(Argv[0], Argv.data());
    const char Message[] = "exec of jackd failed\n";
    (void)!write(STDERR_FILENO, Message, sizeof(Message) - 1);
    _exit(127);
  }
  close(Log);

  std::unique_ptr<JackServer> Server(
      new JackServer(Name, LogPath, Pid, Options));
  Server->SetupLock = Lock;
  auto Failed = [&](const std::string &Why) -> Failure {
    Server->KeepLog = true;
    std::string Log = Server->log();
    return fail("jackd server '" + Name + "' " + Why + "; its log is " +
                LogPath + ":\n" + tail(Log));
  };

  // Probe until a client can connect. Connection failures are expected
  // while jackd starts, so keep libjack quiet meanwhile.
  jack_set_error_function(quietJackMessage);
  jack_set_info_function(quietJackMessage);
  auto Deadline =
      Clock::now() + std::chrono::duration<double>(Options.StartTimeoutSeconds);
  while (true) {
    int Status = 0;
    if (waitpid(Pid, &Status, WNOHANG) == Pid) {
      Server->Pid = -1;
      jack_set_error_function(printJackError);
      return Failed("exited at startup (status " + std::to_string(Status) +
                    ")");
    }
    jack_status_t JackStatus;
    jack_client_t *Probe = jack_client_open(
        "dspjit-probe",
        static_cast<jack_options_t>(JackNoStartServer | JackServerName),
        &JackStatus, Name.c_str());
    if (Probe) {
      jack_nframes_t Rate = jack_get_sample_rate(Probe);
      jack_nframes_t Period = jack_get_buffer_size(Probe);
      jack_client_close(Probe);
      jack_set_error_function(printJackError);
      if (Rate != Options.SampleRate || Period != Options.Period)
        return Failed("runs at " + std::to_string(Rate) + " Hz with " +
                      std::to_string(Period) + "-frame periods, not " +
                      std::to_string(Options.SampleRate) + " Hz and " +
                      std::to_string(Options.Period));
      return Server;
    }
    if (Clock::now() >= Deadline) {
      jack_set_error_function(printJackError);
      return Failed("did not accept clients within " +
                    std::to_string(Options.StartTimeoutSeconds) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void JackServer::finishSetup() { releaseSetupLock(SetupLock); }

void JackServer::beginShutdown() {
  if (SetupLock < 0)
    SetupLock = acquireSetupLock();
}

JackServer::~JackServer() {
  beginShutdown();
  if (Pid > 0) {
    int Status = 0;
    kill(Pid, SIGTERM);
    bool Clean = waitForExit(Pid, std::chrono::seconds(3), Status);
    if (!Clean) {
      kill(Pid, SIGKILL);
      waitpid(Pid, &Status, 0);
    }
    if (Clean && !KeepLog) {
      std::error_code Ignored;
      std::filesystem::remove(LogPath, Ignored);
    } else if (!Clean) {
      std::fprintf(stderr,
                   "jackd server '%s' ignored SIGTERM and was killed; "
                   "its log is %s\n",
                   Name.c_str(), LogPath.c_str());
    }
  }
  releaseSetupLock(SetupLock);
  unsetenv("JACK_DEFAULT_SERVER");
}

} // namespace dspjit::test
