//===- runtime/Console.h - Commands typed while an effect runs --*- C++ -*-===//
//
// On stage the effect keeps running while its parameters are moved. A
// Console reads commands, one a line, from a file descriptor (standard input
// for `dspjit run`) on a thread of its own and applies them to a Host:
//
//   set NAME VALUE   set a parameter (clamped into its range, with a warning)
//   get [NAME]       a parameter's target and current smoothed value
//   params           every parameter with its range
//   meters           every meter's current value
//   stats            the timing summary so far
//   reset            every parameter back to its default
//   help             this list
//   quit             stop the session
//
// Parameters reach the audio thread as one relaxed atomic store each
// (Host::setParam); nothing here waits for the audio thread.
//
// Bad input -- an unknown command or parameter, a value that is not a
// number, unreadable bytes, an over-long line -- gets a message and is
// counted (errors()); `dspjit run` then exits non-zero at the end.
//
// Thread contract: runCommand() is for any thread but the audio thread.
// A Console is created and destroyed on the control thread; its reader
// thread calls Print, which must be thread-safe.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_CONSOLE_H
#define DSPJIT_RUNTIME_CONSOLE_H

#include "runtime/Host.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace dspjit {

struct CommandReply {
  std::string Text; ///< What to show, without a final newline.
  enum Kind { Ok, Warning, Error } Status = Ok;
};

/// Runs one command line against `H`. Thread: any but the audio thread.
CommandReply runCommand(Host &H, std::string_view Line);

/// The command list, for `help` and messages.
const char *commandHelp();

class Console {
public:
  using PrintFn = std::function<void(const CommandReply &)>;
  /// Starts reading `Fd` on a new thread. Thread: control thread.
  static std::unique_ptr<Console> start(Host &H, int Fd, PrintFn Print);
  /// Stops reading and joins the thread (within ~0.1 s).
  ~Console();
  Console(const Console &) = delete;
  Console &operator=(const Console &) = delete;

  /// Commands that failed so far. Thread: any.
  unsigned errors() const { return Errors.load(); }

private:
  Console(Host &H, int Fd, PrintFn Print)
      : H(H), Fd(Fd), Print(std::move(Print)) {}
  void readLoop();
  void handleLine(std::string_view Line);

  Host &H;
  int Fd;
  PrintFn Print;
  std::atomic<bool> Quit{false};
  std::atomic<unsigned> Errors{0};
  std::thread Reader;
};

} // namespace dspjit

#endif
