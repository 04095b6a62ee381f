//===- session/Reloader.cpp - Save the script, hear the change ------------===//
//
// See Reloader.h.
//
//===----------------------------------------------------------------------===//
#include "session/Reloader.h"

#include "runtime/MessageCatalog.h"
#include "runtime/Stats.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dspjit::session {

namespace {
double msSince(uint64_t Ns) {
  return double(monotonicNanoseconds() - Ns) / 1e6;
}

/// Waits until the audio thread has run `V` (or the stream is gone);
/// returns its LiveAtNs, or 0.
uint64_t waitLive(const Host &H, const KernelVersion &V) {
  for (int I = 0; I < 4000; ++I) {
    if (uint64_t T = V.LiveAtNs.load(std::memory_order_acquire))
      return T;
    if (H.stopReason() != StopReason::None)
      return 0;
    std::this_thread::sleep_for(std::chrono::microseconds(250));
  }
  return 0;
}
} // namespace

std::string hashOfFiles(const std::vector<std::string> &Files,
                        Compiler::SourceTexts *Texts,
                        const Compiler::SourceTexts &Known) {
  std::string All;
  for (const std::string &F : Files) {
    if (auto It = Known.find(F); It != Known.end()) {
      All += F + '\0' + It->second + '\0';
      if (Texts)
        Texts->emplace(F, It->second);
      continue;
    }
    std::ifstream In(F, std::ios::binary);
    std::ostringstream Text;
    if (In)
      Text << In.rdbuf();
    All += F + '\0' + (In ? Text.str() : std::string("\1missing")) + '\0';
    if (In && Texts)
      Texts->emplace(F, Text.str());
  }
  return std::to_string(std::hash<std::string>{}(All)) + ":" +
         std::to_string(All.size());
}

/// One compile of the reloader, with what the events need.
struct Reloader::Compiled {
  std::shared_ptr<Kernel> K;
  double Ms = 0;
  bool Cached = false;
  std::string Diagnostics, DiagnosticsColored;
  std::vector<std::string> Files; ///< what it read (Compiler::sourceFiles)
  Compiler::SourceTexts Texts;    ///< the scripts' texts it compiled
};

Result<std::unique_ptr<Reloader>>
Reloader::start(Host &H, ControlBus &Bus, ReloaderOptions Options,
                const std::vector<std::string> &Files,
                const Compiler::SourceTexts &Texts, uint64_t CodeHash) {
  std::unique_ptr<Reloader> R(new Reloader(H, Bus, std::move(Options)));
  R->FullHash = CodeHash;
  auto W = FileWatcher::open();
  if (!W)
    return fail(W.error());
  R->Watcher = std::move(*W);
  if (auto Watched = R->Watcher->watch(Files); !Watched)
    return fail(Watched.error());
  R->Files = Files;
  // What was compiled, not what is on the disk now: a save made since the
  // compile, before the watch, sent no event, so it is reloaded at once.
  R->Running = Texts;
  R->LastHash = hashOfFiles(Files, nullptr, Texts);
  if (hashOfFiles(Files) != R->LastHash)
    R->Requested.store(true);
  R->Thread = std::thread([P = R.get()] { P->loop(); });
  return R;
}

Reloader::~Reloader() {
  Quit.store(true);
  if (Thread.joinable())
    Thread.join();
  reapJobs(/*All=*/true);
}

ReloadStats Reloader::stats() const {
  std::lock_guard<std::mutex> Guard(StatsLock);
  return Stats;
}

void Reloader::loop() {
  // The quick tier's code of the running source, to recognize a save that
  // changes nothing that is compiled (a comment, spacing).
  if (O.Tiered && O.Compile.optLevel > 0)
    if (Compiled C = compile(0, Running); C.K) {
      std::lock_guard<std::mutex> Guard(ApplyLock);
      QuickHash = C.K->codeHash();
    }
  while (!Quit.load()) {
    // Short waits while compiles run, to watch what they read soon.
    uint64_t Saved = Watcher->wait(Jobs.empty() ? 50 : 10);
    if (!Saved && Requested.exchange(false)) {
      Saved = monotonicNanoseconds();
      LastHash.clear(); // compile even if nothing changed
    }
    {
      std::lock_guard<std::mutex> Guard(ApplyLock);
      if (FilesChanged) {
        Files = std::move(NewFiles);
        FilesChanged = false;
        // Watch what this version reads: an import may have come or gone.
        (void)Watcher->watch(Files);
      }
    }
    if (Saved)
      reload(Saved);
    reapJobs(/*All=*/false);
    H.collect();
  }
}

void Reloader::reapJobs(bool All) {
  for (auto It = Jobs.begin(); It != Jobs.end();) {
    if (All || (*It)->Done.load()) {
      (*It)->T.join();
      It = Jobs.erase(It);
    } else {
      ++It;
    }
  }
}

Reloader::Compiled Reloader::compile(unsigned OptLevel,
                                     Compiler::SourceTexts Pinned) const {
  CompileOptions CO = O.Compile;
  CO.optLevel = OptLevel;
  Compiler C(CO);
  C.pinSources(std::move(Pinned));
  Compiled Out;
  uint64_t T0 = monotonicNanoseconds();
  Out.K = C.compileFile(O.Script);
  Out.Ms = msSince(T0);
  Out.Cached = C.times().cached;
  if (!C.diagnostics().all().empty()) {
    std::ostringstream Plain, Colored;
    C.diagnostics().print(Plain, false);
    C.diagnostics().print(Colored, true);
    Out.Diagnostics = Plain.str();
    Out.DiagnosticsColored = Colored.str();
  }
  Out.Files = C.sourceFiles();
  Out.Texts = C.sourceTexts();
  return Out;
}

void Reloader::failed(unsigned N, const std::string &Why,
                      const Compiled *WithDiagnostics) {
  {
    std::lock_guard<std::mutex> Guard(StatsLock);
    ++Stats.Failed;
  }
  event::ReloadFailed E{N, Why, {}, {}};
  if (WithDiagnostics) {
    E.Diagnostics = WithDiagnostics->Diagnostics;
    E.DiagnosticsColored = WithDiagnostics->DiagnosticsColored;
  }
  Bus.publish(E);
}

bool Reloader::scriptReadable() {
  std::error_code EC;
  if (!std::filesystem::exists(O.Script, EC)) {
    Bus.publish(event::ScriptGone{O.Script});
    Gone = true;
    return false;
  }
  if (std::ifstream Probe(O.Script); !Probe) {
    Bus.publish(event::ScriptUnreadable{O.Script, std::strerror(errno)});
    return false;
  }
  if (Gone)
    Bus.publish(event::ScriptBack{O.Script});
  Gone = false;
  return true;
}

void Reloader::reload(uint64_t SavedAtNs) {
  if (!scriptReadable())
    return;
  Compiler::SourceTexts Read;
  if (std::string Hash = hashOfFiles(Files, &Read); Hash == LastHash) {
    std::lock_guard<std::mutex> Guard(StatsLock);
    ++Stats.Unchanged;
    return;
  } else {
    LastHash = std::move(Hash);
  }
  // The script is compiled as just hashed: a save during the compile is
  // another save, compiled by its own reload, never part of this one. (An
  // import is read when the compile reaches it: close enough.)
  Compiler::SourceTexts Pinned;
  if (auto It = Read.find(O.Script); It != Read.end())
    Pinned.insert(Read.extract(It));
  const unsigned N = ++Number;
  Newest.store(N);
  auto J = std::make_unique<Job>();
  Job *Raw = J.get();
  J->T = std::thread([this, N, SavedAtNs, Raw, P = std::move(Pinned)] {
    compileSave(N, SavedAtNs, P);
    Raw->Done.store(true);
  });
  Jobs.push_back(std::move(J));
}

void Reloader::compileSave(unsigned N, uint64_t SavedAtNs,
                           const Compiler::SourceTexts &Script) {
  const bool Tiered = O.Tiered && O.Compile.optLevel > 0;
  Compiled C = compile(Tiered ? 0 : O.Compile.optLevel, Script);
  if (!applyFirst(N, SavedAtNs, C, Tiered) || !Tiered)
    return;
  if (!C.K->worthOptimizing()) {
    Bus.publish(event::Notice{
        event::Notice::Info,
        message<Msg::StaysAtO0>(N, C.K->compileCost(), O.Compile.optLevel)});
    return;
  }
  // The optimized version of the same source, unless another save came:
  // the texts the quick tier compiled, not what the files hold now (a save
  // since is a newer version, compiled by its own reload).
  if (Newest.load() != N || Quit.load())
    return;
  Compiled Full = compile(O.Compile.optLevel, std::move(C.Texts));
  applyOptimized(N, SavedAtNs, Full);
}

bool Reloader::applyFirst(unsigned N, uint64_t SavedAtNs, Compiled &C,
                          bool Tiered) {
  std::lock_guard<std::mutex> Guard(ApplyLock);
  if (N != Newest.load() || N <= Settled) {
    // A newer save exists: this one is never heard.
    std::lock_guard<std::mutex> StatsGuard(StatsLock);
    ++Stats.Skipped;
    return false;
  }
  if (Quit.load())
    return false;
  // Every save between the last one settled and this one is dropped, or
  // will be when its compile ends.
  const unsigned Skipped = N - Settled - 1;
  Settled = N;
  NewFiles = C.Files;
  FilesChanged = true;
  if (!C.K) {
    failed(N, message<Msg::DoesNotCompile>(O.Script), &C);
    return false;
  }
  if (C.K->codeHash() == (Tiered ? QuickHash : FullHash)) {
    {
      std::lock_guard<std::mutex> StatsGuard(StatsLock);
      ++Stats.Unchanged;
    }
    Bus.publish(event::ReloadUnchanged{N});
    return false;
  }
  SwapReport Report;
  auto V =
      H.reload(C.K, C.K->info(), {.FadeFrames = H.crossfadeFrames()}, &Report);
  if (!V) {
    failed(N, V.error());
    return false;
  }
  (Tiered ? QuickHash : FullHash) = C.K->codeHash();
  uint64_t LiveAt = waitLive(H, **V);
  if (!LiveAt)
    return false; // the session is ending
  event::Reloaded E;
  E.Number = N;
  E.LatencyMs = double(LiveAt - SavedAtNs) / 1e6;
  E.CompileMs = C.Ms;
  E.Cached = C.Cached;
  E.QuickTier = Tiered;
  E.Skipped = Skipped;
  E.Report = std::move(Report);
  E.Diagnostics = std::move(C.Diagnostics); // warnings
  E.DiagnosticsColored = std::move(C.DiagnosticsColored);
  {
    std::lock_guard<std::mutex> StatsGuard(StatsLock);
    ++Stats.Reloads;
    Stats.LatencyMs.push_back(E.LatencyMs);
  }
  Bus.publish(E);
  return true;
}

void Reloader::applyOptimized(unsigned N, uint64_t SavedAtNs, Compiled &C) {
  std::lock_guard<std::mutex> Guard(ApplyLock);
  // An obsolete optimized tier never replaces a newer version.
  if (!C.K || Quit.load() || N != Newest.load() || N != Settled)
    return;
  auto V = H.reload(C.K, C.K->info(), {.FadeFrames = 0});
  if (!V)
    return failed(N, message<Msg::OptimizedFailed>(V.error()));
  FullHash = C.K->codeHash();
  if (!waitLive(H, **V))
    return;
  Bus.publish(event::Optimized{N, O.Compile.optLevel, msSince(SavedAtNs), C.Ms,
                               C.Cached});
}

} // namespace dspjit::session
