//===- tests/bench/bench_suite.cpp - JIT-compiled scripts against native --===//
//
// For every example: the script compiled by dspjit (O3, host CPU) and the
// C++ model of the same algorithm from tests/golden/Reference.cpp, compiled
// ahead of time with -O3 -march=native, process the same noise, in 64-frame
// blocks, in one process. Rounds alternate between the two so that machine
// noise hits both alike; the figure is the median round. The ratio is JIT
// time over native time: below 1.0 the script is faster.
//
// The native models are written for clarity, as the golden tests need: a
// virtual call per frame and parameter smoothing in a generic base class.
// That is what the C++ a careful programmer writes first, not a hand-tuned
// SIMD kernel; the README says so next to the table.
//
// `--only NAME --side jit|native --frames N` runs one side alone with
// callgrind's instrumentation switched on around the processing only, for
// tests/bench/callgrind.sh.
//
//===----------------------------------------------------------------------===//
#include "Reference.h"

#include "compiler/Compiler.h"
#include "compiler/Optimizer.h"
#include "runtime/Instance.h"
#include "runtime/Signals.h"

#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

using namespace dspjit;
using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned Block = 64;

double rateFor(const std::string &Name) {
  // The circuit models' constants are for 44.1 kHz (De Pra and Fontana).
  return Name == "diode_ringmod" || Name == "vcs3_filter" ? 44100 : 48000;
}

/// Noise at half scale (the ring modulator diverges at full scale, as its
/// header says), 4 MiB per channel: more than the caches hold.
std::vector<float> noise(unsigned Channels, double Rate) {
  uint64_t Frames = (uint64_t(4) << 20) / sizeof(float);
  auto N = generateSignal(*parseSignal("noise"), Rate, std::max(1u, Channels),
                          Frames);
  for (float &X : N)
    X *= 0.5f;
  return N;
}

struct Pair {
  std::string Name;
  double Rate;
  std::unique_ptr<Kernel> K;
  std::optional<Instance> I;
  std::unique_ptr<golden::Processor> Native;
  std::vector<float> In, Out;
  uint64_t InFrames = 0, Pos = 0;

  const float *nextInput() {
    if (Pos + Block > InFrames)
      Pos = 0;
    const float *P = In.data() + Pos * std::max(1u, K->info().inputs);
    Pos += Block;
    return P;
  }
  void runJit(uint64_t Blocks) {
    const DspjitKernel &Info = K->info();
    for (uint64_t B = 0; B < Blocks; ++B)
      Info.process(Info.inputs ? nextInput() : nullptr, Out.data(), Block,
                   nullptr, 0, I->data());
  }
  void runNative(uint64_t Blocks) {
    for (uint64_t B = 0; B < Blocks; ++B)
      Native->process(K->info().inputs ? nextInput() : nullptr, Out.data(),
                      Block);
  }
};

std::optional<Pair> makePair(const std::string &Name) {
  Pair P;
  P.Name = Name;
  P.Rate = rateFor(Name);
  CompileOptions O = CompileOptions::fromEnvironment(); // DSPJIT_CPU, ...
  O.sampleRate = P.Rate;
  Compiler C(O);
  P.K = C.compileFile(std::string(DSPJIT_SOURCE_DIR) + "/examples/" + Name +
                      ".dsp");
  if (!P.K) {
    std::fprintf(stderr, "%s: does not compile\n", Name.c_str());
    return std::nullopt;
  }
  auto I = Instance::create(P.K->info(), P.Rate);
  if (!I) {
    std::fprintf(stderr, "%s: %s\n", Name.c_str(), I.error().c_str());
    return std::nullopt;
  }
  P.I.emplace(std::move(*I));
  P.Native = golden::makeExample(Name, P.Rate);
  P.In = noise(P.K->info().inputs, P.Rate);
  P.InFrames = P.In.size() / std::max(1u, P.K->info().inputs);
  P.Out.resize(size_t(Block) * std::max(1u, P.K->info().outputs));
  return P;
}

double median(std::vector<double> V) {
  std::sort(V.begin(), V.end());
  return V[V.size() / 2];
}

int callgrindOne(const std::string &Name, const std::string &Side,
                 uint64_t Frames) {
  auto P = makePair(Name);
  if (!P)
    return 1;
  uint64_t Blocks = Frames / Block;
  // Warm up outside the measurement, then count only the processing.
  Side == "jit" ? P->runJit(16) : P->runNative(16);
  CALLGRIND_START_INSTRUMENTATION;
  Side == "jit" ? P->runJit(Blocks) : P->runNative(Blocks);
  CALLGRIND_STOP_INSTRUMENTATION;
  std::printf("%s %s %llu frames\n", Name.c_str(), Side.c_str(),
              (unsigned long long)(Blocks * Block));
  return 0;
}

} // namespace

int main(int Argc, char **Argv) {
  // The native models compute tanh as the JIT does on this CPU.
  dspjit::golden::Fused =
      dspjit::targetHasFma(dspjit::CompileOptions::fromEnvironment().cpu);
  std::string Only, Side;
  uint64_t Frames = 48000;
  unsigned Rounds = 15;
  double RoundSeconds = 0.05; // audio seconds per side per round
  for (int A = 1; A < Argc; ++A) {
    std::string Arg = Argv[A];
    auto Next = [&]() -> std::string { return A + 1 < Argc ? Argv[++A] : ""; };
    if (Arg == "--only")
      Only = Next();
    else if (Arg == "--side")
      Side = Next();
    else if (Arg == "--frames")
      Frames = std::stoull(Next());
    else if (Arg == "--rounds")
      Rounds = unsigned(std::stoul(Next()));
    else {
      std::fprintf(
          stderr,
          "usage: dspjit_bench_suite [--rounds N] [--only NAME --side jit|native "
          "[--frames N]]\n");
      return 2;
    }
  }
  if (!Side.empty())
    return callgrindOne(Only, Side, Frames);

  std::printf("%-14s %12s %12s %8s\n", "example", "JIT ns/frame",
              "C++ ns/frame", "ratio");
  for (const std::string &Name : golden::exampleNames()) {
    if (!Only.empty() && Name != Only)
      continue;
    auto P = makePair(Name);
    if (!P)
      return 1;
    uint64_t Blocks =
        std::max<uint64_t>(1, uint64_t(RoundSeconds * P->Rate / Block));
    P->runJit(Blocks); // warm both up
    P->runNative(Blocks);
    std::vector<double> Jit, Native;
    for (unsigned R = 0; R < Rounds; ++R) {
      auto T0 = Clock::now();
      P->runJit(Blocks);
      auto T1 = Clock::now();
      P->runNative(Blocks);
      auto T2 = Clock::now();
      double F = double(Blocks * Block);
      Jit.push_back(std::chrono::duration<double, std::nano>(T1 - T0).count() /
                    F);
      Native.push_back(
          std::chrono::duration<double, std::nano>(T2 - T1).count() / F);
    }
    double J = median(Jit), N = median(Native);
    std::printf("%-14s %12.1f %12.1f %8.2f\n", Name.c_str(), J, N, J / N);
    std::fflush(stdout);
  }
  return 0;
}
