//===- session/Session.h - A script running live, reloaded on save -*- C++ -*-===//
//
// A Session is what `dspjit run` is, as a library: every way of running a
// script live (the command line, and next a web panel, MIDI, Python, a
// plugin) is a Session with surfaces attached to its bus. It
//
//   - compiles the script for the device's rate and opens a Host on it
//     (runtime/Host.h: the stream, the files, the timing);
//   - starts it, and watches the script and its imports: each save is
//     compiled while the last good version plays, and swapped in with its
//     state carried over, in two tiers (session/Reloader.h);
//   - watches the stream: xruns, non-finite output, a stream that stalls;
//   - stops it with one protocol whatever the reason (its length, a
//     request, the end of the played file, a fatal xrun, the server gone, a
//     failed recording, an interrupt): the stream stopped, the recording
//     drained and finalized, and a watchdog that closes the recording and
//     ends the process when the audio server no longer answers;
//   - publishes what happens as events on its ControlBus, ending with
//     event::Stopped, which holds the summary and the exit status.
//
// Embedding, with hot reload (compile errors go to the printer; every
// message speaks of options, spelled as the program installs them with
// setOptionSpelling, runtime/MessageCatalog.h):
//
//   session::SessionOptions O;
//   O.Script = "echo.dsp";
//   O.Host.PlayPath = "drums.wav";            // or the live input
//   O.Length = *parseDuration("30s");
//   auto S = session::Session::open(O, printDiagnostics);
//   if (!S) { report(S.error()); return 1; }
//   auto Sub = (*S)->bus().subscribe([](const session::Event &E) {
//     std::cerr << session::describe(E) << "\n";  // "reload 1: live in ..."
//   });
//   (*S)->start();                      // saves of echo.dsp now reload
//   (*S)->bus().setParam("feedback", 0.6f);        // any thread
//   session::event::Stopped End = (*S)->run();     // until it ends
//   return End.ExitStatus;
//
// Thread contract: open(), start(), run(), waitUntilDone(), stop() and the
// destructor are for one control thread. bus() is for any thread but the
// audio thread. interrupt() is async-signal-safe.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_SESSION_H
#define DSPJIT_SESSION_SESSION_H

#include "compiler/Compiler.h"
#include "runtime/Host.h"
#include "runtime/PortAudio.h"
#include "runtime/Signals.h"
#include "session/ControlBus.h"
#include "session/Events.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dspjit::session {

class Reloader;

struct SessionOptions {
  /// The script to run.
  std::string Script;
  /// How to compile it; its sampleRate is replaced by Rate or the device's.
  CompileOptions Compile;
  /// The rate to run at; 0: the device's default rate.
  double Rate = 0;
  /// Devices, files and buffers.
  HostOptions Host;
  /// Stop after this long (of audio processed); none: until stopped.
  std::optional<Duration> Length;
  /// The crossfade of reloads, converted to frames at the session's rate
  /// (overrides Host.CrossfadeSeconds).
  std::optional<Duration> Crossfade;
  /// Reload the script when it or an import is saved.
  bool Watch = true;
  /// Reload at -O0 first, then at Compile.optLevel.
  bool Tiered = true;
  /// How long stopping may take before the watchdog gives up on the audio
  /// server, closes the recording and calls OnShutdownStuck.
  std::chrono::milliseconds ShutdownTimeout{5000};
  /// A session with a Length has stalled (frames stopped coming, e.g. a
  /// frozen audio server) when twice its length plus this much wall-clock
  /// time has passed.
  std::chrono::milliseconds StallGrace{5000};
  /// Called by the watchdog (after it published event::Stopped) when
  /// stopping blocks, or on a second interrupt during shutdown, with the
  /// exit status (1, or 130). Default: std::_Exit(Status), because a
  /// thread blocked inside the audio server cannot be freed otherwise.
  std::function<void(int Status)> OnShutdownStuck;
};

/// Prints a compile's diagnostics (errors and warnings, with carets).
using DiagnosticsPrinter = std::function<void(const DiagnosticEngine &)>;

/// PortAudio opened as a session needs it: a JACK server is never started
/// behind the user's back (JACK_NO_START_SERVER, unless already set), and
/// libjack's "cannot connect to server" chatter when none runs is hidden.
/// Thread: control thread, before other threads write to stderr.
Result<PaSession> openAudio();

class Session {
public:
  /// Compiles the script for the device's rate (or Options.Rate) and
  /// opens the Host (not started; set initial values with
  /// host().setParamImmediate). Diagnostics go to `Print`; the failure's
  /// message is empty when they say it all.
  static Result<std::unique_ptr<Session>>
  open(SessionOptions Options, const DiagnosticsPrinter &Print = {});

  /// stop(), if not done yet.
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// Starts the stream and the reloader; publishes event::Started. A
  /// reloader that cannot watch is a warning (Notice), not a failure.
  Result<void> start();

  /// Returns when the session should stop (see done()), calling `Tick`
  /// (e.g. a status line) every 10 ms meanwhile. Does not stop it.
  void waitUntilDone(const std::function<void()> &Tick = {});
  /// The session should stop: its length is played, a stop was requested,
  /// the played file ended, or the stream failed. From start() on, a
  /// thread of the session watches the stream every 10 ms for this, and
  /// publishes Xrun, NonFinite and Stalled. Thread: any.
  bool done() const;

  /// Stops with the protocol above, publishes Stopping and Stopped, and
  /// returns the latter. Idempotent (later calls return the same).
  event::Stopped stop();

  /// waitUntilDone(Tick), then stop().
  event::Stopped run(const std::function<void()> &Tick = {});

  /// The first call asks the session to stop (Ctrl-C); a second one
  /// during stop() closes the recording at once and calls
  /// OnShutdownStuck(130). Thread: any; async-signal-safe.
  void interrupt() { Interrupts.fetch_add(1, std::memory_order_relaxed); }

  /// Where surfaces attach. Thread: any but the audio thread.
  ControlBus &bus() { return *Bus; }
  /// The Host, for what the bus does not offer (e.g. a status line's CPU
  /// load). Thread: within Host's contracts.
  Host &host() { return *H; }
  const Host &host() const { return *H; }
  /// The compile options in use (with the rate), and the rate.
  const CompileOptions &compileOptions() const { return O.Compile; }
  double sampleRate() const { return O.Compile.sampleRate; }
  /// The length in frames, if the session has one.
  std::optional<uint64_t> lengthFrames() const { return LengthFrames; }
  /// Reload figures so far. Thread: any.
  ReloadStats reloads() const;
  /// Compiles and swaps in the script now, as if it had been saved.
  /// Thread: any; the reload runs on the reloader's thread.
  void reloadNow();

private:
  Session() = default;
  std::optional<event::ExitReason> whyStop();
  event::Stopped finish(event::ExitReason Reason, std::string Why,
                        Result<void> Stopped);
  void watchStream();
  double stallLimitSeconds() const;
  void monitor();
  void watchdog(const std::atomic<bool> &Done, int BaseInterrupts,
                const std::string &Why);
  void stuck(int Status);

  SessionOptions O;
  std::optional<PaSession> Audio;
  std::shared_ptr<Kernel> First;
  std::vector<std::string> Sources;
  /// The texts of its scripts, as compiled (what the reloader starts from).
  Compiler::SourceTexts Texts;
  std::unique_ptr<Host> H;
  std::unique_ptr<ControlBus> Bus;
  std::unique_ptr<Reloader> Reload;
  std::optional<uint64_t> LengthFrames;
  std::chrono::steady_clock::time_point StartedAt;
  std::optional<uint64_t> StalledAt; ///< frames done when the guard fired
  uint64_t SeenXruns = 0, SeenNonfinite = 0;
  std::atomic<int> Interrupts{0};
  std::optional<event::Stopped> Outcome;
  /// The monitor thread, and the reason it found to stop.
  std::thread Monitor;
  std::atomic<bool> MonitorQuit{false};
  mutable std::mutex DoneLock;
  std::condition_variable DoneSignal;
  std::optional<event::ExitReason> Reason;
  bool Started = false;
};

} // namespace dspjit::session

#endif
