//===- tools/bench.cpp - `dspjit bench FILE` ------------------------------===//
//
// What a script costs: compile time by phase, and processing time per frame
// in the steady state and in the cases that averages hide -- a decaying tail
// (denormals, if they were not flushed), parameters moved every block, and
// the first blocks of a fresh instance (cold caches). Times are measured per
// block with a monotonic clock; the input cycles through more memory than the
// caches hold, so the steady state is not a cache-warm best case.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "runtime/Instance.h"
#include "runtime/Signals.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace dspjit::tools {

namespace {

using Clock = std::chrono::steady_clock;

struct BenchOpts {
  std::string File;
  unsigned Block = 64;
  double Rate = 48000;
  std::vector<std::string> Sets;
  unsigned Compiles = 11;
  double Seconds = 20; // audio seconds in the steady-state run
  bool Json = false;
  CompileFlags Flags;
};

/// Per-block times of one scenario, in seconds.
struct Series {
  std::string Name, What;
  std::vector<double> Blocks;
  uint64_t Frames = 0;

  double quantile(double Q) const {
    std::vector<double> S = Blocks;
    std::sort(S.begin(), S.end());
    return S.empty() ? 0
                     : S[std::min(S.size() - 1, size_t(Q * double(S.size())))];
  }
  double total() const {
    double T = 0;
    for (double B : Blocks)
      T += B;
    return T;
  }
};

class Bench {
public:
  Bench(const BenchOpts &O, const DspjitKernel &K) : O(O), K(K) {}

  /// Runs `Blocks` blocks over `In` (cycled), timing each.
  Series run(Instance &I, const std::string &Name, const std::string &What,
             const std::vector<float> &In, uint64_t Blocks,
             const std::function<void(uint64_t)> &BeforeBlock = {}) {
    Series S{Name, What, {}, 0};
    S.Blocks.reserve(Blocks);
    std::vector<float> Out(size_t(O.Block) * std::max(1u, K.outputs));
    uint64_t InFrames = K.inputs ? In.size() / K.inputs : 0;
    uint64_t Pos = 0;
    for (uint64_t B = 0; B < Blocks; ++B) {
      if (BeforeBlock)
        BeforeBlock(B);
      if (K.inputs && Pos + O.Block > InFrames)
        Pos = 0;
      const float *InPtr = K.inputs ? In.data() + Pos * K.inputs : nullptr;
      auto T0 = Clock::now();
      K.process(InPtr, K.outputs ? Out.data() : nullptr, O.Block, nullptr, 0,
                I.data());
      auto T1 = Clock::now();
      S.Blocks.push_back(std::chrono::duration<double>(T1 - T0).count());
      Pos += O.Block;
      S.Frames += O.Block;
    }
    return S;
  }

private:
  const BenchOpts &O;
  const DspjitKernel &K;
};

int fail(const std::string &Message) {
  std::cerr << "dspjit bench: error: " << Message << "\n";
  return 1;
}

/// Compile times: the first compile's apart (it pays LLVM's one-time
/// set-up), and the per-phase median of the compiles after it.
struct CompileTimes {
  PhaseTimes First, Median;
  size_t Repeats = 0; // compiles after the first, in the median
};

/// Compiles the script --compiles times, timing each compile. Returns the
/// last kernel, or null when the script does not compile (the diagnostics
/// printed).
std::unique_ptr<Kernel> compileTimed(const BenchOpts &O, CompileTimes &Times) {
  CompileOptions CO = O.Flags.options();
  CO.sampleRate = O.Rate;
  Compiler C(CO);
  std::unique_ptr<Kernel> K = C.compileFile(O.File);
  printDiagnostics(C);
  if (!K)
    return nullptr;
  Times.First = C.times();
  std::vector<PhaseTimes> Warm;
  for (unsigned I = 1; I < O.Compiles; ++I) {
    K.reset();
    K = C.compileFile(O.File);
    Warm.push_back(C.times());
  }
  Times.Median = medianTimes(Warm);
  Times.Repeats = Warm.size();
  return K;
}

/// A fresh instance with the --set values applied, or nullopt (the error
/// printed).
std::optional<Instance> newInstance(const BenchOpts &O,
                                    const DspjitKernel &Info) {
  auto I = Instance::create(Info, O.Rate);
  if (!I) {
    fail(I.error());
    return std::nullopt;
  }
  if (!applySets(*I, O.Sets, "bench"))
    return std::nullopt;
  return std::move(*I);
}

/// Noise spanning 64 MiB of input, more than any cache, to be cycled
/// through; empty for a script without inputs.
std::vector<float> noiseInput(const BenchOpts &O, const DspjitKernel &Info) {
  unsigned Channels = std::max(1u, Info.inputs);
  uint64_t NoiseFrames = (uint64_t(64) << 20) / (sizeof(float) * Channels);
  return Info.inputs ? generateSignal(*parseSignal("noise"), O.Rate,
                                      Info.inputs, NoiseFrames)
                     : std::vector<float>{};
}

/// A decaying tail on `T`: one impulse block (for a script with inputs),
/// then 10 s of silence timed, where unflushed denormals would show.
Series silentTail(Bench &B, Instance &T, const BenchOpts &O,
                  const DspjitKernel &Info) {
  unsigned Channels = std::max(1u, Info.inputs);
  std::vector<float> Impulse(size_t(O.Block) * Channels, 0.0f);
  std::vector<float> Silence(Impulse);
  for (unsigned Ch = 0; Ch < Info.inputs; ++Ch)
    Impulse[Ch] = 1;
  if (Info.inputs)
    B.run(T, "impulse", "", Impulse, 1);
  uint64_t TailBlocks = uint64_t(10 * O.Rate / O.Block); // 10 s of tail
  return B.run(T, "silent-tail", "10 s of silence after an impulse", Silence,
               TailBlocks);
}

/// The script's parameter slots.
std::vector<const DspjitSlot *> paramSlots(const DspjitKernel &Info) {
  std::vector<const DspjitSlot *> Params;
  for (uint32_t S = 0; S < Info.num_slots; ++S)
    if (Info.slots[S].kind == DSPJIT_SLOT_PARAM)
      Params.push_back(&Info.slots[S]);
  return Params;
}

/// Times every scenario, in the order they are reported: first-blocks,
/// steady, silent-tail and, for a script with parameters, param-changes.
/// Returns nullopt when an instance cannot be made (the error printed).
std::optional<std::vector<Series>> runScenarios(const BenchOpts &O,
                                                const DspjitKernel &Info) {
  std::vector<float> Noise = noiseInput(O, Info);
  Bench B(O, Info);
  uint64_t SteadyBlocks = uint64_t(O.Seconds * O.Rate / O.Block);
  std::vector<Series> All;

  // 1. The first blocks of a fresh instance: cold caches, first touches.
  {
    auto I = newInstance(O, Info);
    if (!I)
      return std::nullopt;
    All.push_back(B.run(*I, "first-blocks",
                        "the first 16 blocks of a new instance", Noise, 16));
  }
  auto I = newInstance(O, Info);
  if (!I)
    return std::nullopt;
  // 2. The steady state, after a warm-up second.
  B.run(*I, "warm-up", "", Noise, uint64_t(O.Rate / O.Block));
  All.push_back(
      B.run(*I, "steady", "noise input, steady state", Noise, SteadyBlocks));
  // 3. A decaying tail: an impulse, then silence (denormals, if unflushed).
  {
    auto T = newInstance(O, Info);
    if (!T)
      return std::nullopt;
    All.push_back(silentTail(B, *T, O, Info));
  }
  // 4. Every parameter moved every block, between its minimum and maximum.
  std::vector<const DspjitSlot *> Params = paramSlots(Info);
  if (!Params.empty()) {
    All.push_back(B.run(*I, "param-changes",
                        "every parameter moved every block", Noise,
                        SteadyBlocks / 4, [&](uint64_t Block) {
                          for (const DspjitSlot *P : Params)
                            I->setParamTarget(*P, Block % 2 ? P->max : P->min);
                        }));
  }
  return All;
}

/// A block's deadline in seconds: the time one block of audio lasts.
double blockDeadline(const BenchOpts &O) { return O.Block / O.Rate; }

/// Samples per frame, to turn per-frame times into per-sample ones.
unsigned samplesPerFrame(const DspjitKernel &Info) {
  return std::max(1u, Info.outputs ? Info.outputs : Info.inputs);
}

/// One compile's phase times as a JSON object, in milliseconds.
std::string phasesJson(const PhaseTimes &T) {
  std::ostringstream P;
  P << "{\"parse_ms\": " << T.parse * 1e3 << ", \"check_ms\": " << T.check * 1e3
    << ", \"ir_ms\": " << T.ir * 1e3
    << ", \"optimize_ms\": " << T.optimize * 1e3
    << ", \"machine_code_ms\": " << T.machineCode * 1e3
    << ", \"total_ms\": " << T.total() * 1e3 << "}";
  return P.str();
}

/// Prints the results as one JSON object (--json).
void printJson(const BenchOpts &O, const DspjitKernel &Info,
               const CompileTimes &Times, const std::vector<Series> &All) {
  double Deadline = blockDeadline(O);
  unsigned Samples = samplesPerFrame(Info);
  std::ostringstream J;
  J << "{\n  \"script\": \"" << O.File << "\",\n  \"rate\": " << O.Rate
    << ",\n  \"block\": " << O.Block << ",\n  \"channels_in\": " << Info.inputs
    << ",\n  \"channels_out\": " << Info.outputs
    << ",\n  \"compile\": {\"first\": " << phasesJson(Times.First)
    << ", \"median\": " << phasesJson(Times.Median)
    << ", \"compiles\": " << O.Compiles << "},\n  \"process\": {";
  for (size_t S = 0; S < All.size(); ++S) {
    const Series &X = All[S];
    double NsPerFrame = X.total() / double(X.Frames) * 1e9;
    J << (S ? ",\n" : "\n") << "    \"" << X.Name
      << "\": {\"blocks\": " << X.Blocks.size()
      << ", \"ns_per_frame\": " << NsPerFrame
      << ", \"ns_per_sample\": " << NsPerFrame / Samples
      << ", \"real_time_factor\": " << (X.Frames / O.Rate) / X.total()
      << ", \"block_median_us\": " << X.quantile(0.5) * 1e6
      << ", \"block_p99_us\": " << X.quantile(0.99) * 1e6
      << ", \"block_max_us\": " << X.quantile(1.0) * 1e6
      << ", \"deadline_share_median\": " << X.quantile(0.5) / Deadline
      << ", \"deadline_share_p99\": " << X.quantile(0.99) / Deadline << "}";
  }
  J << "\n  }\n}\n";
  std::cout << J.str();
}

/// Prints one row of compile times, in milliseconds.
void printPhases(const char *Label, const PhaseTimes &T) {
  std::printf(
      "  %-16s parse %6.2f  check %6.2f  IR %6.2f  optimize %6.2f  machine code "
      "%6.2f  total %6.2f ms\n",
      Label, T.parse * 1e3, T.check * 1e3, T.ir * 1e3, T.optimize * 1e3,
      T.machineCode * 1e3, T.total() * 1e3);
}

/// Prints the results as tables: compile time, then processing cost.
void printTable(const BenchOpts &O, const DspjitKernel &Info,
                const CompileTimes &Times, const std::vector<Series> &All) {
  double Deadline = blockDeadline(O);
  unsigned Samples = samplesPerFrame(Info);
  std::printf("%s: io %u -> %u, %g Hz, %u-frame blocks (deadline %.1f us)\n",
              O.File.c_str(), Info.inputs, Info.outputs, O.Rate, O.Block,
              Deadline * 1e6);
  std::printf("compile time\n");
  printPhases("first compile", Times.First);
  if (Times.Repeats) {
    char Label[32];
    std::snprintf(Label, sizeof Label, "median of %zu", Times.Repeats);
    printPhases(Label, Times.Median);
  }
  std::printf(
      "processing          ns/frame  ns/sample  x real time  block median   block p99  "
      "of deadline (median/p99)\n");
  for (const Series &X : All) {
    double NsPerFrame = X.total() / double(X.Frames) * 1e9;
    std::printf(
        "  %-16s %9.1f  %9.1f  %11.0f  %9.2f us  %8.2f us  %5.2f%% / %5.2f%%\n",
        X.Name.c_str(), NsPerFrame, NsPerFrame / Samples,
        (X.Frames / O.Rate) / X.total(), X.quantile(0.5) * 1e6,
        X.quantile(0.99) * 1e6, 100 * X.quantile(0.5) / Deadline,
        100 * X.quantile(0.99) / Deadline);
  }
  std::printf(
      "  (%s)\n",
      "steady: noise over 64 MiB of input; silent-tail: an impulse then "
      "10 s of silence; param-changes: every parameter set to its min or "
      "max each block; first-blocks: a new instance");
}

/// `dspjit bench`: times the script's compiles, then its processing in
/// each scenario, and prints the results as tables or JSON.
int run(const BenchOpts &O) {
  CompileTimes Times;
  std::unique_ptr<Kernel> K = compileTimed(O, Times);
  if (!K)
    return 1;
  const DspjitKernel &Info = K->info();
  auto All = runScenarios(O, Info);
  if (!All)
    return 1;
  if (O.Json)
    printJson(O, Info, Times, *All);
  else
    printTable(O, Info, Times, *All);
  return 0;
}
} // namespace

Command addBench(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "bench", "Measure a script's compile time and processing cost");
  auto O = std::make_shared<BenchOpts>();
  Cmd->add_option("FILE", O->File, "The .dsp script")->required();
  Cmd->add_option("--block", O->Block, "Frames per callback")
      ->check(CLI::Range(1, 65536));
  Cmd->add_option("--rate", O->Rate, "Sample rate")
      ->check(CLI::Range(1000.0, 768000.0));
  Cmd->add_option("--set", O->Sets, "Set a parameter: name=value");
  Cmd->add_option("--compiles", O->Compiles,
                  "Compiles to time (the first is reported apart)")
      ->check(CLI::Range(1, 1000));
  Cmd->add_option("--seconds", O->Seconds,
                  "Audio seconds in the steady-state run")
      ->check(CLI::Range(0.1, 3600.0));
  Cmd->add_flag("--json", O->Json, "Print the results as JSON");
  O->Flags.add(*Cmd, /*WithRate=*/false);
  return [O] { return run(*O); };
}

} // namespace dspjit::tools
