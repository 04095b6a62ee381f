//===- session/Console.h - Commands typed while an effect runs --*- C++ -*-===//
//
// On stage the effect keeps running while its parameters are moved. A
// Console is the terminal's surface of a session: it reads commands, one a
// line, from a file descriptor (standard input for `dspjit run`) on a thread
// of its own and applies them through the session's ControlBus, and it
// shows the replies and the session's events (session/Events.h) through one
// output function, so that they never interleave:
//
//   set NAME VALUE   set a parameter (clamped into its range, with a warning)
//   get [NAME]       a parameter's target and current smoothed value
//   params           every parameter with its range
//   meters           every meter's current value
//   stats            the timing summary so far
//   reset            every parameter back to its default
//   learn NAME       the next MIDI control moved is mapped to NAME (asked
//                    on the bus as event::MidiLearn; the MIDI input, when
//                    one is attached as "MIDI", answers with a Notice)
//   help             this list
//   quit             stop the session
//
// Parameters reach the audio thread as one relaxed atomic store each
// (ControlBus::setParam); nothing here waits for the audio thread.
//
// Bad input -- an unknown command or parameter, a value that is not a
// number, unreadable bytes, an over-long line -- gets a message and is
// counted on the bus under the name "standard input"; the session then
// ends with a non-zero exit status.
//
// Thread contract: runCommand() is for any thread but the audio thread.
// A Console is created and destroyed on the control thread; its reader
// thread and the session's threads (events) call Print, one line at a
// time. feed() and endInput() are the reader's; a Console started without
// a descriptor takes them from one other thread at a time (a test, a
// fuzzer, a surface of its own that has the bytes).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_CONSOLE_H
#define DSPJIT_SESSION_CONSOLE_H

#include "session/ControlBus.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace dspjit::session {

struct CommandReply {
  std::string Text; ///< What to show, without a final newline.
  enum Kind { Ok, Warning, Error } Status = Ok;
};

/// What a Console shows: the reply to a command, or an event.
struct ConsoleLine {
  const CommandReply *Reply = nullptr; ///< set for replies
  const Event *Happened = nullptr;     ///< set for events
};

/// Runs one command line through `Bus`. Thread: any but the audio thread.
CommandReply runCommand(ControlBus &Bus, std::string_view Line);

/// The command list, for `help` and messages.
const char *commandHelp();

class Console {
public:
  using PrintFn = std::function<void(const ConsoleLine &)>;
  /// Starts reading `Fd` on a new thread (Fd < 0: no commands, events
  /// only) and shows events from now on. Thread: control thread.
  static std::unique_ptr<Console> start(ControlBus &Bus, int Fd, PrintFn Print);
  /// Stops reading and joins the thread (within ~0.1 s).
  ~Console();
  Console(const Console &) = delete;
  Console &operator=(const Console &) = delete;

  /// Commands that failed so far. Thread: any.
  unsigned errors() const { return Errors.load(); }

  /// The longest line taken; longer ones are refused whole.
  static constexpr size_t MaxLine = 1024;
  /// Handles `Size` bytes of input as the reader does what it reads: split
  /// into lines at '\n' (a final '\r' dropped), wherever the previous
  /// bytes left off; every complete line is run and replied to through
  /// Print before this returns. Thread: the reader's (see above).
  void feed(const char *Bytes, size_t Size);
  /// The end of input: a last line without its '\n' is run. Thread: as
  /// feed().
  void endInput();

private:
  Console(ControlBus &Bus, int Fd, PrintFn Print)
      : Bus(Bus), Fd(Fd), Print(std::move(Print)) {}
  void readLoop();
  void handleLine(std::string_view Line);
  void reply(const CommandReply &R);

  ControlBus &Bus;
  int Fd;
  PrintFn Print;
  std::string Pending;     ///< the line so far
  bool Discarding = false; ///< inside an over-long line
  std::atomic<bool> Quit{false};
  std::atomic<unsigned> Errors{0};
  Subscription Events;
  std::thread Reader;
};

} // namespace dspjit::session

#endif
