//===- session/Events.h - What happens in a live session, as values -*- C++ -*-===//
//
// Every surface of a session -- the command line, the console, OSC, and next
// a web panel, MIDI, Python -- needs to know what happened: the session
// started, a save went live (and what it kept), a save failed (with its
// diagnostics), xruns, non-finite output, a stalled stream, the end. They
// are published on the session's ControlBus (session/ControlBus.h) as typed
// events, and each surface renders them as it likes; the command line's
// lines are describe(Event). Tests wait for events, not for sentences.
//
// Thread contract: events are plain values, copied to each subscriber.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_EVENTS_H
#define DSPJIT_SESSION_EVENTS_H

#include "runtime/HotSwap.h"
#include "runtime/Stats.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dspjit::session {

/// Reload figures, for the summary and tests.
struct ReloadStats {
  unsigned Reloads = 0;   ///< versions that went live (first tier)
  unsigned Failed = 0;    ///< saves that did not compile or could not swap
  unsigned Unchanged = 0; ///< saves with the same content or code
  unsigned Skipped = 0;   ///< versions superseded by a newer save
  std::vector<double> LatencyMs; ///< save to first block, per reload

  /// "reloads: 12 (1 failed), save to sound median 14.2 ms, p99 25.1 ms"
  std::string text() const;
};

namespace event {

/// The stream runs.
struct Started {
  std::string Script;
  std::string Description; ///< the devices, rate and buffers (Host)
  std::optional<double> DurationSeconds; ///< when the session has a length
};

/// A save went live: the first tier (at -O0 when tiered), crossfaded.
struct Reloaded {
  unsigned Number = 0;  ///< counts saves that compiled, from 1
  double LatencyMs = 0; ///< from the save to the first block it ran
  double CompileMs = 0;
  bool Cached = false;     ///< the machine code came from the disk cache
  bool QuickTier = false;  ///< compiled at -O0; the optimized one follows
  unsigned Skipped = 0;    ///< older saves dropped in favour of this one
  SwapReport Report;       ///< what carried over
  std::string Diagnostics; ///< the compiler's warnings, if any
  std::string DiagnosticsColored;
};

/// The optimized version of a save replaced its quick tier.
struct Optimized {
  unsigned Number = 0;
  unsigned OptLevel = 3;
  double SinceSaveMs = 0;
  double CompileMs = 0;
  bool Cached = false;
};

/// A save compiled to the machine code already playing: nothing swapped.
struct ReloadUnchanged {
  unsigned Number = 0;
};

/// A save did not go live; the last good version keeps playing.
struct ReloadFailed {
  unsigned Number = 0;
  std::string Reason;      ///< one line
  std::string Diagnostics; ///< the compiler's, with carets (may be empty)
  std::string DiagnosticsColored; ///< the same with terminal colors
};

/// The script was deleted or renamed away; or it came back.
struct ScriptGone {
  std::string Script;
};
struct ScriptBack {
  std::string Script;
};
/// The script exists but cannot be read.
struct ScriptUnreadable {
  std::string Script;
  std::string Reason;
};

/// Xruns since the last event of this kind.
struct Xrun {
  uint64_t New = 0, Total = 0;
  XrunKind Kind = XrunKind::OutputUnderflow; ///< of the first new one
};

/// Non-finite output samples were silenced (state went non-finite?).
struct NonFinite {
  uint64_t New = 0, Total = 0;
};

/// Frames stopped coming (a frozen audio server).
struct Stalled {
  uint64_t Frames = 0, Expected = 0;
  double WallSeconds = 0;
};

/// A message from a surface or the session that is none of the above.
struct Notice {
  enum Level { Info, Warning, Error } Severity = Info;
  std::string Text;
};

/// A surface asks the MIDI input (session/Midi.h) to map the next control
/// moved to `Param` (`learn NAME` on the console).
struct MidiLearn {
  std::string Param;
};

/// Why a session ended.
enum class ExitReason {
  EndOfDuration,
  Requested,
  Interrupted,
  PlayEnded,
  FatalXrun,
  StreamEnded,
  RecordFailed,
  Stalled,
  ShutdownTimeout
};

/// Shutdown began; `Why` says why ("end of 'in.wav'").
struct Stopping {
  ExitReason Reason = ExitReason::Requested;
  std::string Why;
};

/// The session is over: its figures, its errors (in the order to show
/// them) and the exit status a program should return.
struct Stopped {
  ExitReason Reason = ExitReason::Requested;
  std::string Why;
  std::vector<std::string> Errors;
  int ExitStatus = 0;
  TimingSummary Summary;
  ReloadStats Reloads;
  /// The session ended in failure (a fatal xrun, the server gone, a
  /// failed recording, a stall): Why is one of the Errors.
  bool Failed = false;
  bool Direct = false;         ///< the kernel ran unwrapped: no timing
  std::string Recording;       ///< the recording's path, if one was kept
  HotSwap::VoiceCounts Voices; ///< an instrument's notes (else zeros)
};

} // namespace event

using Event =
    std::variant<event::Started, event::Reloaded, event::Optimized,
                 event::ReloadUnchanged, event::ReloadFailed, event::ScriptGone,
                 event::ScriptBack, event::ScriptUnreadable, event::Xrun,
                 event::NonFinite, event::Stalled, event::Notice,
                 event::MidiLearn, event::Stopping, event::Stopped>;

/// The event as one line for a person ("reload 3: live in 12.1 ms (compile
/// 4.2 ms, -O0 first); kept 2 (line, lp/z)"); a ReloadFailed's diagnostics
/// are not included. Thread: any.
std::string describe(const Event &E);

/// A short stable name for the kind ("reloaded", "stopped"), e.g. for OSC
/// addresses. Thread: any.
const char *eventName(const Event &E);

/// An error worth the user's attention (a failed reload, a stall, ...).
bool isError(const Event &E);

} // namespace dspjit::session

#endif
