//===- tests/support/JackServer.h - A private jackd for one test process -*- C++ -*-===//
//
// Live tests need a real audio server whose clock runs in real time, on
// machines without sound cards (CI, VMs). jackd's dummy driver is exactly
// that. Each test process starts its own server under a name no running
// server has (dspjit-test-0 to -7, see chooseServerName in the .cpp), so
// tests can run in parallel without sharing (or disturbing) a user's JACK.
//
// Starting a server points this process at it: JACK_DEFAULT_SERVER is set,
// so libjack clients -- including PortAudio's JACK host API, which connects
// in Pa_Initialize -- find it. Open the PaSession after the server is ready.
//
// JACK2 keeps one shared-memory registry for all servers of a user, and a
// starting jackd cleans it up: clients being created on another server at
// that moment fail with JackServerError. So starting (and stopping) servers
// and opening their clients are serialized across processes with a lock
// file. start() returns holding the lock; call finishSetup() once this
// test's clients are open, and beginShutdown() before closing them.
//
// Thread contract: control thread only (forks, waits, sleeps).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_JACKSERVER_H
#define DSPJIT_TESTS_SUPPORT_JACKSERVER_H

#include "runtime/Result.h"

#include <memory>
#include <string>
#include <sys/types.h>

namespace dspjit::test {

struct JackServerOptions {
  unsigned SampleRate = 48000;
  unsigned Period = 64;  ///< Frames per JACK cycle.
  unsigned Channels = 2; ///< Dummy capture and playback ports each.
  double StartTimeoutSeconds = 15;
  /// `jackd -R` instead of `--no-realtime`: the server's threads, and the
  /// process threads of its clients (libjack makes each client's own
  /// thread SCHED_FIFO when the server is real-time), run at real-time
  /// priority. Needs the right to (root, CAP_SYS_NICE or an rtprio limit):
  /// see realTimeSchedulingPermitted().
  bool RealTime = false;
  /// jackd's -P with RealTime: the server's SCHED_FIFO priority (its
  /// clients' process threads run one below it).
  unsigned RealTimePriority = 10;
};

/// Whether this process may use SCHED_FIFO at `Priority` (tried on a
/// short-lived thread of its own, so nothing else changes). When not, `Why`
/// says why (the error, and what would allow it), for a test to skip with.
bool realTimeSchedulingPermitted(unsigned Priority, std::string &Why);

class JackServer {
public:
  /// Runs `jackd --no-realtime -n NAME -d dummy -r RATE -p PERIOD` (`-R -P
  /// PRIORITY` instead of `--no-realtime` with Options.RealTime) and waits
  /// until a client can connect and sees the asked rate and period.
  /// On failure the message includes the path and tail of jackd's log.
  static Result<std::unique_ptr<JackServer>>
  start(const JackServerOptions &Options = {});

  /// Stops the server: SIGTERM, then SIGKILL if it lingers. The log file is
  /// removed after a clean exit and kept (its path printed) otherwise.
  ~JackServer();
  JackServer(const JackServer &) = delete;
  JackServer &operator=(const JackServer &) = delete;

  /// Lets other processes start or stop their servers again. Call after
  /// opening this server's clients (the PaSession included).
  void finishSetup();
  /// Takes the lock again before this server's clients close; the
  /// destructor (which stops jackd) releases it.
  void beginShutdown();

  const std::string &name() const { return Name; }
  /// jackd's process id (to freeze it with SIGSTOP, as a hung server).
  pid_t pid() const { return Pid; }
  const std::string &logPath() const { return LogPath; }
  /// jackd's output so far.
  std::string log() const;
  const JackServerOptions &options() const { return Options; }

private:
  JackServer(std::string Name, std::string LogPath, pid_t Pid,
             JackServerOptions Options)
      : Name(std::move(Name)), LogPath(std::move(LogPath)), Pid(Pid),
        Options(Options) {}

  std::string Name;
  std::string LogPath;
  pid_t Pid;
  JackServerOptions Options;
  bool KeepLog = false; ///< Set when a failure message names the log.
  int SetupLock = -1;   ///< The held lock file, or -1.
};

} // namespace dspjit::test

#endif
