//===- tests/support/ChildProcess.h - The dspjit binary as a child -*- C++ -*-===//
//
// Tests of what a user sees run the real `dspjit` binary in a child process
// and look at its exit status, its standard output and error, and the files
// it leaves. While it runs, a test can type on its standard input, send it
// signals or do anything else (send OSC packets), at fixed times or once its
// standard error shows a given text. A child can also start with a limit on
// the size of the files it writes (RLIMIT_FSIZE, with SIGXFSZ ignored), so
// that a disk filling up is the real EFBIG of write(2) through the real
// code.
//
// Nothing here needs JACK; the live tests add a private jackd around it.
//
// Thread contract: control thread only (forks, waits, polls).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_CHILDPROCESS_H
#define DSPJIT_TESTS_SUPPORT_CHILDPROCESS_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dspjit::test {

/// How a child ended and what it printed.
struct ChildResult {
  int Status = -1; ///< exit status, or 128 + signal
  std::string Out, Err;
  double Seconds = 0;
  bool TimedOut = false;
  /// Its peak resident size (getrusage's ru_maxrss, through wait4).
  long MaxResidentKiB = 0;

  /// True when it ended by a signal (a crash, or the timeout's SIGKILL).
  bool crashed() const { return Status >= 128; }
  /// "exit 1\nstdout:\n...\nstderr:\n...", for failure messages.
  std::string describe() const;
};

/// Something to do to a running child. Without `WaitFor`, it is due
/// `AfterSeconds` after the child started. With it, it is due
/// `AfterSeconds` after `WaitFor` is found on the child's standard error,
/// looked for once the previous action is done: when the text is already
/// there, that is `AfterSeconds` after the previous action. Actions run in
/// order.
struct ChildAction {
  double AfterSeconds = 0;
  std::string StdinText = {}; ///< written to its standard input
  int Signal = 0;             ///< or sent to it
  std::function<void()> Run = {};
  std::string WaitFor = {};
};

struct ChildOptions {
  std::vector<ChildAction> Actions = {};
  double TimeoutSeconds = 30; ///< then SIGKILL; TimedOut is set
  /// Close its standard input once the last action is done (at once when
  /// there are none), so that the console reads the end of input.
  bool CloseStdin = true;
  /// When non-zero, the largest file the child may write (RLIMIT_FSIZE),
  /// with SIGXFSZ ignored: a write past it fails with EFBIG.
  uint64_t FileSizeLimit = 0;
  /// Give the child a pseudo-terminal as its standard error, so that it
  /// behaves as on a user's terminal (dspjit run's status line).
  bool StderrIsATerminal = false;
  /// Called with the child's process id once it is forked, e.g. for an
  /// action's Run that signals it at a moment of its own choosing.
  std::function<void(int Pid)> OnStart = {};
};

/// Runs `Program` with `Args`, performs the actions in order and waits.
ChildResult runChild(const std::string &Program,
                     const std::vector<std::string> &Args,
                     const ChildOptions &Options = {});

} // namespace dspjit::test

#endif
