//===- tools/LiveReload.h - Save the script, hear the change ----*- C++ -*-===//
//
// The driver of hot reload in `dspjit run`: a background thread watches the
// script and its imports (runtime/FileWatcher.h), compiles each save whose
// content changed while the last good version keeps playing, and hands the
// new kernel to the Host (runtime/HotSwap.h: state carried over, equal-power
// crossfade). It lives in tools/ because it joins the compiler and the
// runtime, which do not know each other.
//
// Two tiers. An optimized compile of a large script takes tens of
// milliseconds, so a save is first compiled at -O0 (a few milliseconds) and
// swapped in with the crossfade; then the same source is compiled at the
// session's level and swapped in at once (same source, same state, same
// output: nothing to fade). A further save during the second compile
// supersedes it. Both tiers use the disk cache (compiler/ObjectCache.h), so
// returning to an earlier version is nearly instant.
//
// Each reload prints one line: the latency from the save to the first block
// processed by the new code, the compile time, and what carried over. A
// save that does not compile prints its diagnostics and leaves the last
// good version playing. A save whose text changed but whose machine code
// did not (a comment) swaps nothing: a crossfade between two identical
// signals would only swell by 3 dB.
//
// Thread contract: construct and destroy on the control thread; the reload
// thread runs in between; stats() from any thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TOOLS_LIVERELOAD_H
#define DSPJIT_TOOLS_LIVERELOAD_H

#include "compiler/Compiler.h"
#include "runtime/FileWatcher.h"
#include "runtime/Host.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dspjit::tools {

struct LiveReloadOptions {
  std::string Script;
  /// The session's compile options (rate, level, cache directory).
  CompileOptions Compile;
  /// Compile at -O0 first when the session's level is higher.
  bool Tiered = true;
  /// Prints one message (a line, or diagnostics); called on the reload
  /// thread.
  std::function<void(const std::string &)> Print;
  /// Prints a compiler's diagnostics.
  std::function<void(const Compiler &)> PrintDiagnostics;
};

/// Reload figures, for the exit summary and tests.
struct ReloadStats {
  unsigned Reloads = 0;  ///< versions that went live (first tier)
  unsigned Failed = 0;   ///< saves that did not compile or could not swap
  unsigned Unchanged = 0; ///< saves with the same content: nothing done
  std::vector<double> LatencyMs; ///< save to first block, per reload

  /// "reloads: 12 (1 failed), save to sound median 14.2 ms, p99 25.1 ms"
  std::string text() const;
};

class LiveReload {
public:
  /// Starts watching `Files`, what the running version was compiled from
  /// (Compiler::sourceFiles), as they are now; `CodeHash` is its
  /// Kernel::codeHash().
  static Result<std::unique_ptr<LiveReload>>
  start(Host &H, LiveReloadOptions Options, const std::vector<std::string> &Files,
        uint64_t CodeHash);
  /// Stops and joins the reload thread.
  ~LiveReload();

  ReloadStats stats() const;

private:
  LiveReload(Host &H, LiveReloadOptions Options) : H(H), O(std::move(Options)) {}
  void loop();
  /// Handles one save; returns when its versions are live (or failed).
  void reload(uint64_t SavedAtNs);
  /// Compiles at `OptLevel`; null (diagnostics printed) on error.
  std::shared_ptr<Kernel> compile(unsigned OptLevel, double &Ms, bool &Cached,
                                  bool Quiet = false);

  Host &H;
  LiveReloadOptions O;
  std::unique_ptr<FileWatcher> Watcher;
  std::vector<std::string> Files; ///< the script and its imports
  std::string LastHash; ///< of the sources last compiled, good or not
  bool Gone = false;    ///< the script was missing at the last save
  /// Kernel::codeHash() of the playing source at -O0 and at the session's
  /// level: a save that compiles to the same code swaps nothing.
  uint64_t QuickHash = 0, FullHash = 0;
  std::atomic<bool> Quit{false};
  mutable std::mutex StatsLock;
  ReloadStats Stats;
  unsigned Number = 0;
  std::thread Thread;
};

/// A hash of the contents of these files ("missing" for one that cannot be
/// read), to tell a real edit from a save of the same text.
std::string hashOfFiles(const std::vector<std::string> &Files);

} // namespace dspjit::tools

#endif
