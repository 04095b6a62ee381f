//===- tools/LiveReload.cpp - Save the script, hear the change ------------===//
//
// See LiveReload.h.
//
//===----------------------------------------------------------------------===//
#include "tools/LiveReload.h"

#include "runtime/Messages.h"
#include "runtime/Stats.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dspjit::tools {

namespace {
double msSince(uint64_t Ns) {
  return double(monotonicNanoseconds() - Ns) / 1e6;
}

std::string ms(double Value) {
  char Text[32];
  std::snprintf(Text, sizeof Text, "%.1f ms", Value);
  return Text;
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

std::string hashOfFiles(const std::vector<std::string> &Files) {
  std::string All;
  for (const std::string &F : Files) {
    std::ifstream In(F, std::ios::binary);
    std::ostringstream Text;
    if (In)
      Text << In.rdbuf();
    All += F + '\0' + (In ? Text.str() : std::string("\1missing")) + '\0';
  }
  return std::to_string(std::hash<std::string>{}(All)) + ":" +
         std::to_string(All.size());
}

std::string ReloadStats::text() const {
  std::string Text = "reloads: " + std::to_string(Reloads);
  if (Failed)
    Text += " (" + std::to_string(Failed) + " failed)";
  if (!LatencyMs.empty()) {
    std::vector<double> L = LatencyMs;
    std::sort(L.begin(), L.end());
    auto At = [&](double Q) {
      return L[std::min(L.size() - 1, size_t(std::ceil(Q * double(L.size()))) -
                                          (Q > 0 ? 1 : 0))];
    };
    Text += ", save to sound median " + ms(At(0.5)) + ", p99 " + ms(At(0.99)) +
            ", max " + ms(L.back());
  }
  return Text;
}

Result<std::unique_ptr<LiveReload>>
LiveReload::start(Host &H, LiveReloadOptions Options,
                  const std::vector<std::string> &Files, uint64_t CodeHash) {
  std::unique_ptr<LiveReload> R(new LiveReload(H, std::move(Options)));
  R->FullHash = CodeHash;
  auto W = FileWatcher::open();
  if (!W)
    return fail(W.error());
  R->Watcher = std::move(*W);
  if (auto Watched = R->Watcher->watch(Files); !Watched)
    return fail(Watched.error());
  R->Files = Files;
  R->LastHash = hashOfFiles(Files);
  R->Thread = std::thread([P = R.get()] { P->loop(); });
  return R;
}

LiveReload::~LiveReload() {
  Quit.store(true);
  if (Thread.joinable())
    Thread.join();
}

ReloadStats LiveReload::stats() const {
  std::lock_guard<std::mutex> Guard(StatsLock);
  return Stats;
}

void LiveReload::loop() {
  // The quick tier's code of the running source, to recognize a save that
  // changes nothing that is compiled (a comment, spacing).
  if (O.Tiered && O.Compile.optLevel > 0) {
    double Ms;
    bool Cached;
    if (auto K = compile(0, Ms, Cached, /*Quiet=*/true))
      QuickHash = K->codeHash();
  }
  while (!Quit.load()) {
    if (uint64_t Saved = Watcher->wait(50))
      reload(Saved);
    H.collect();
  }
}

std::shared_ptr<Kernel> LiveReload::compile(unsigned OptLevel, double &Ms,
                                            bool &Cached, bool Quiet) {
  CompileOptions CO = O.Compile;
  CO.optLevel = OptLevel;
  Compiler C(CO);
  uint64_t T0 = monotonicNanoseconds();
  std::shared_ptr<Kernel> K = C.compileFile(O.Script);
  Ms = msSince(T0);
  Cached = C.times().cached;
  // Watch what this version reads: an import may have come or gone.
  Files = C.sourceFiles();
  (void)Watcher->watch(Files);
  if (!Quiet && !C.diagnostics().all().empty())
    O.PrintDiagnostics(C);
  return K;
}

void LiveReload::reload(uint64_t SavedAtNs) {
  namespace fs = std::filesystem;
  std::error_code EC;
  if (!fs::exists(O.Script, EC)) {
    O.Print("dspjit run: " + O.Script + " is gone (deleted or renamed away); "
            "the last good version keeps playing until it is back");
    Gone = true;
    return;
  }
  if (std::ifstream Probe(O.Script); !Probe) {
    O.Print("dspjit run: cannot read " + O.Script + ": " + std::strerror(errno) +
            "; the last good version keeps playing");
    return;
  }
  if (Gone)
    O.Print("dspjit run: " + O.Script + " is back");
  Gone = false;
  std::string Hash = hashOfFiles(Files);
  if (Hash == LastHash) {
    std::lock_guard<std::mutex> Guard(StatsLock);
    ++Stats.Unchanged;
    return;
  }
  LastHash = Hash;
  const unsigned N = ++Number;
  const std::string Tag = "dspjit run: reload " + std::to_string(N) + ": ";
  const unsigned Full = O.Compile.optLevel;
  const bool Tiered = O.Tiered && Full > 0;

  double CompileMs = 0;
  bool Cached = false;
  std::shared_ptr<Kernel> K = compile(Tiered ? 0 : Full, CompileMs, Cached);
  // The files may have changed again meanwhile; what was compiled is what
  // they held when read, close enough: the next save compiles again.
  LastHash = hashOfFiles(Files);
  auto Failed = [&](const std::string &Why) {
    O.Print(Tag + Why + "; the last good version keeps playing");
    std::lock_guard<std::mutex> Guard(StatsLock);
    ++Stats.Failed;
  };
  if (!K)
    return Failed(O.Script + " does not compile (see above)");
  if (K->codeHash() == (Tiered ? QuickHash : FullHash)) {
    O.Print(Tag + "the same machine code as the version playing (a comment "
            "or spacing changed): nothing to swap");
    std::lock_guard<std::mutex> Guard(StatsLock);
    ++Stats.Unchanged;
    return;
  }
  SwapReport Report;
  auto V = H.reload(K, K->info(), {.FadeFrames = H.crossfadeFrames()}, &Report);
  if (!V)
    return Failed(V.error());
  (Tiered ? QuickHash : FullHash) = K->codeHash();
  uint64_t Live = waitLive(H, **V);
  if (!Live)
    return; // the session is ending
  double Latency = double(Live - SavedAtNs) / 1e6;
  {
    std::lock_guard<std::mutex> Guard(StatsLock);
    ++Stats.Reloads;
    Stats.LatencyMs.push_back(Latency);
  }
  O.Print(Tag + "live in " + ms(Latency) + " (compile " + ms(CompileMs) +
          (Cached ? ", from the cache" : "") + (Tiered ? ", -O0 first" : "") +
          "); " + Report.text());
  if (!Tiered)
    return;

  // The optimized version of the same source, unless another save came.
  if (Watcher->pendingSave())
    return;
  std::shared_ptr<Kernel> Opt = compile(Full, CompileMs, Cached);
  if (!Opt || Watcher->pendingSave() || hashOfFiles(Files) != LastHash)
    return;
  auto V2 = H.reload(Opt, Opt->info(), {.FadeFrames = 0});
  if (!V2)
    return Failed("the optimized version: " + V2.error());
  FullHash = Opt->codeHash();
  if (!waitLive(H, **V2))
    return;
  O.Print(Tag + "optimized (-O" + std::to_string(Full) + ") live " +
          ms(msSince(SavedAtNs)) + " after the save (compile " + ms(CompileMs) +
          (Cached ? ", from the cache" : "") + ")");
}

} // namespace dspjit::tools
