//===- session/Reloader.h - Save the script, hear the change ----*- C++ -*-===//
//
// The reload engine of a live session: a background thread watches the
// script and its imports (session/FileWatcher.h), compiles each save whose
// content changed while the last good version keeps playing, and hands the
// new kernel to the Host (runtime/HotSwap.h: state carried over,
// equal-power crossfade). It joins the compiler and the runtime, which do
// not know each other, so it lives in the session library.
//
// Two tiers. An optimized compile of a large script takes tens of
// milliseconds, so a save is first compiled at -O0 (a few milliseconds) and
// swapped in with the crossfade; then the same source is compiled at the
// session's level and swapped in at once (same source, same state, same
// output: nothing to fade). Both tiers use the disk cache
// (compiler/ObjectCache.h), so returning to an earlier version is nearly
// instant. A program too large to optimize quickly (compiler/CompileCost.h)
// keeps its -O0 code, with a notice.
//
// The newest save wins. Each save is compiled on a thread of its own, at
// once, even while older saves still compile (a heavy save that takes a
// second must not hold back the fix saved after it). A result is swapped
// in only if no newer save has been started since; an older one is dropped
// and counted in the reload line of the version that goes live ("2 older
// saves skipped"), and an optimized tier goes live only if its save is
// still the newest. Swaps are serialized by one lock, off the audio thread.
//
// What happens is published on the bus: event::Reloaded (the latency from
// the save to the first block processed by the new code, the compile time,
// what carried over), event::Optimized, event::ReloadUnchanged (the text
// changed but the machine code did not, e.g. a comment: a crossfade between
// two identical signals would only swell by 3 dB), event::ReloadFailed
// (with the diagnostics; the last good version keeps playing),
// event::ScriptGone / ScriptBack / ScriptUnreadable.
//
// Thread contract: construct and destroy on the control thread; the reload
// thread and the compile threads run in between (the destructor joins
// them: a compile cannot be interrupted, and the checker bounds it to
// about 2 s); stats() and requestReload() from any thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_RELOADER_H
#define DSPJIT_SESSION_RELOADER_H

#include "compiler/Compiler.h"
#include "runtime/Host.h"
#include "session/ControlBus.h"
#include "session/FileWatcher.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dspjit::session {

struct ReloaderOptions {
  std::string Script;
  /// The session's compile options (rate, level, cache directory).
  CompileOptions Compile;
  /// Compile at -O0 first when the session's level is higher.
  bool Tiered = true;
};

class Reloader {
public:
  /// Starts watching `Files`, what the running version was compiled from
  /// (Compiler::sourceFiles), whose scripts' texts were `Texts`
  /// (Compiler::sourceTexts); `CodeHash` is its Kernel::codeHash(). A file
  /// saved since that compile, before the watch began, is reloaded at once.
  static Result<std::unique_ptr<Reloader>>
  start(Host &H, ControlBus &Bus, ReloaderOptions Options,
        const std::vector<std::string> &Files,
        const Compiler::SourceTexts &Texts, uint64_t CodeHash);
  /// Stops and joins the reload thread.
  ~Reloader();
  Reloader(const Reloader &) = delete;
  Reloader &operator=(const Reloader &) = delete;

  ReloadStats stats() const;
  /// Reloads as if the script had been saved now.
  void requestReload() { Requested.store(true); }

private:
  Reloader(Host &H, ControlBus &Bus, ReloaderOptions Options)
      : H(H), Bus(Bus), O(std::move(Options)) {}
  void loop();
  /// Starts the compile of one save, unless its files are unchanged.
  void reload(uint64_t SavedAtNs);
  /// False (with an event) when the script is missing or unreadable.
  bool scriptReadable();
  struct Compiled;
  /// The running version's scripts, for the first -O0 compile (QuickHash).
  Compiler::SourceTexts Running;
  /// Compiles at `OptLevel`; the kernel is null on error.
  Compiled compile(unsigned OptLevel, Compiler::SourceTexts Pinned = {}) const;
  /// A compile thread: the save's first version, then its optimized tier.
  /// Compiles save N (`Script`: the script's text as hashed by reload).
  void compileSave(unsigned N, uint64_t SavedAtNs,
                   const Compiler::SourceTexts &Script);
  /// Swaps in a save's first version unless a newer save exists; true
  /// when it went live and an optimized tier may follow.
  bool applyFirst(unsigned N, uint64_t SavedAtNs, Compiled &C, bool Tiered);
  void applyOptimized(unsigned N, uint64_t SavedAtNs, Compiled &C);
  /// Joins the compile threads that have finished (all with `All`).
  void reapJobs(bool All);
  void failed(unsigned N, const std::string &Why,
              const Compiled *WithDiagnostics = nullptr);

  Host &H;
  ControlBus &Bus;
  const ReloaderOptions O;
  std::unique_ptr<FileWatcher> Watcher;
  // The reload thread's own.
  std::vector<std::string> Files; ///< the script and its imports
  std::string LastHash;           ///< of the sources last compiled, good or not
  bool Gone = false;              ///< the script was missing at the last save
  unsigned Number = 0;
  struct Job {
    std::thread T;
    std::atomic<bool> Done{false};
  };
  std::vector<std::unique_ptr<Job>> Jobs;

  /// The newest save whose compile has started.
  std::atomic<unsigned> Newest{0};
  /// Held while a result is compared with what is live and swapped in.
  std::mutex ApplyLock;
  /// The newest save with an outcome: live, failed or found unchanged.
  unsigned Settled = 0;
  /// Kernel::codeHash() of the playing source at -O0 and at the session's
  /// level: a save that compiles to the same code swaps nothing.
  uint64_t QuickHash = 0, FullHash = 0;
  /// What the last compile read, for the reload thread to watch.
  std::vector<std::string> NewFiles;
  bool FilesChanged = false;

  std::atomic<bool> Quit{false}, Requested{false};
  mutable std::mutex StatsLock;
  ReloadStats Stats;
  std::thread Thread;
};

/// A hash of the contents of these files ("missing" for one that cannot be
/// read), to tell a real edit from a save of the same text. `Texts`, if
/// given, gets the bytes of each file that could be read. A file in `Known`
/// is hashed with the text there, not read.
std::string hashOfFiles(const std::vector<std::string> &Files,
                        Compiler::SourceTexts *Texts = nullptr,
                        const Compiler::SourceTexts &Known = {});

} // namespace dspjit::session

#endif
