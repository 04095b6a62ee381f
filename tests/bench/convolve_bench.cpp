//===- tests/bench/convolve_bench.cpp - convolve's cost per callback ------===//
//
// A 2-second stereo impulse response (96 000 taps a lane) at 48 kHz,
// 64-frame callbacks: the time of every callback, as a share of its
// deadline (64 / 48000 s = 1333 us), at the median, the 99th percentile
// and the worst, in the thread's CPU time (the work itself) and in wall
// time (which adds the machine's other load), for
//   - the compiled script `out = convolve(in, ir);` (the scheme in use,
//     through the kernel's process());
//   - the runtime's convolver with other partitionings (uniform 64-frame
//     partitions, and non-uniform ones of other ratios and largest sizes);
//   - a direct-form loop (96 000 multiply-adds per frame and lane).
// Built with the project, never run as a test:
//   build/tests/bench/dspjit_convolve_bench [--seconds S]
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Convolver.h"
#include "runtime/Instance.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <random>
#include <string>
#include <vector>

using namespace dspjit;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double Rate = 48000;
constexpr unsigned Block = 64, Taps = 96000, Lanes = 2;
constexpr double DeadlineUs = 1e6 * Block / Rate;

/// The stereo response, interleaved: noise under a 2-second decay.
std::vector<double> response() {
  std::mt19937 Gen(7);
  std::normal_distribution<double> Noise;
  std::vector<double> Ir(size_t(Taps) * Lanes);
  for (unsigned T = 0; T < Taps; ++T)
    for (unsigned L = 0; L < Lanes; ++L)
      Ir[T * Lanes + L] = Noise(Gen) * std::exp(-6.9 * T / Taps);
  return Ir;
}

std::vector<float> noise(size_t Samples) {
  std::mt19937 Gen(11);
  std::uniform_real_distribution<float> U(-0.5f, 0.5f);
  std::vector<float> X(Samples);
  for (float &V : X)
    V = U(Gen);
  return X;
}

struct Figures {
  double Mean, P50, P99, Max; ///< the thread's CPU time, us
  double WorstPhase;          ///< see timeCallbacks
  double WallP99, WallMax;    ///< wall-clock time, us
};

/// Every partitioning here repeats its schedule every 256 callbacks (16384
/// frames, a multiple of every period it has).
constexpr unsigned Phases = 256;

double threadCpuUs() {
  timespec T;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &T);
  return 1e6 * double(T.tv_sec) + 1e-3 * double(T.tv_nsec);
}

/// Times `Callbacks` calls of Run(callback index) after a warm-up of 128
/// callbacks. CPU time is the work (what the
/// scheme decides); wall time adds whatever else the machine ran.
template <typename F> Figures timeCallbacks(unsigned Callbacks, F Run) {
  for (unsigned I = 0; I < 128; ++I)
    Run(I);
  std::vector<double> Cpu(Callbacks), Wall(Callbacks);
  for (unsigned I = 0; I < Callbacks; ++I) {
    auto T0 = Clock::now();
    double C0 = threadCpuUs();
    Run(I + 128);
    Cpu[I] = threadCpuUs() - C0;
    Wall[I] =
        std::chrono::duration<double, std::micro>(Clock::now() - T0).count();
  }
  double Mean = 0;
  for (double U : Cpu)
    Mean += U / Callbacks;
  // The heaviest callback of the schedule, free of the machine's noise: for
  // each of the 256 phases of the schedule, the median over its periods;
  // then the largest of those medians.
  double WorstPhase = 0;
  for (unsigned P = 0; P < Phases; ++P) {
    std::vector<double> Same;
    for (unsigned I = P; I < Callbacks; I += Phases)
      Same.push_back(Cpu[I]);
    if (Same.empty())
      continue;
    std::nth_element(Same.begin(), Same.begin() + Same.size() / 2, Same.end());
    WorstPhase = std::max(WorstPhase, Same[Same.size() / 2]);
  }
  std::sort(Cpu.begin(), Cpu.end());
  std::sort(Wall.begin(), Wall.end());
  auto At = [&](const std::vector<double> &V, double Q) {
    return V[size_t(Q * (Callbacks - 1))];
  };
  return {Mean,       At(Cpu, 0.5),   At(Cpu, 0.99), Cpu.back(),
          WorstPhase, At(Wall, 0.99), Wall.back()};
}

void print(const std::string &Name, const Figures &F) {
  auto Share = [](double Us) { return 100 * Us / DeadlineUs; };
  std::printf("%-40s %7.1f %6.1f%% %6.1f%% %7.1f%% %6.1f%% | %6.1f%% %7.1f%%\n",
              Name.c_str(), F.Mean, Share(F.P50), Share(F.P99), Share(F.Max),
              Share(F.WorstPhase), Share(F.WallP99), Share(F.WallMax));
  std::fflush(stdout);
}

/// The script, its response from an expression of the same shape (noise
/// from a hash of the index) so that no file is needed.
std::unique_ptr<Kernel> compileScript() {
  const std::string Text =
      "io 2 -> 2;\n"
      "table ir[96000] = [sin(i * i * 0.000123), sin(i * i * 0.000321 + 1)]"
      " * exp(-6.9 * i / 96000);\n"
      "process { out = convolve(in, ir); }\n";
  CompileOptions O = CompileOptions::fromEnvironment();
  O.sampleRate = Rate;
  Compiler C(O);
  auto K = C.compileSource("convolve_bench.dsp", Text);
  if (!K)
    C.diagnostics().print(std::cerr);
  return K;
}

} // namespace

int main(int Argc, char **Argv) {
  double Seconds = 10;
  for (int I = 1; I + 1 < Argc; ++I)
    if (std::strcmp(Argv[I], "--seconds") == 0)
      Seconds = std::atof(Argv[I + 1]);
  const unsigned Callbacks = unsigned(Seconds * Rate / Block);
  const std::vector<float> In = noise(size_t(Callbacks + 256) * Block * Lanes);
  std::vector<float> Out(size_t(Block) * Lanes);

  std::printf("2 s stereo response (%u taps a lane), %u-frame callbacks at "
              "%g Hz, deadline %.1f us, %u callbacks\n",
              Taps, Block, Rate, DeadlineUs, Callbacks);
  std::printf("%-40s %-39s | %s\n", "",
              "CPU: mean us, p50, p99, max, worst phase", "wall: p99, max");

  if (auto K = compileScript()) {
    auto I = Instance::create(K->info(), Rate);
    if (!I) {
      std::fprintf(stderr, "%s\n", I.error().c_str());
      return 1;
    }
    print("script convolve(in, ir) (64/8/4096)",
          timeCallbacks(Callbacks, [&](unsigned C) {
            I->process(In.data() + size_t(C) * Block * Lanes, Out.data(),
                       Block);
          }));
  }

  const std::vector<double> Ir = response();
  struct Variant {
    const char *Name;
    ConvolutionScheme Scheme;
  } Variants[] = {
      {"non-uniform 64, x8, up to 4096 (default)", {64, 8, 4096}},
      {"non-uniform 64, x4, up to 4096", {64, 4, 4096}},
      {"non-uniform 64, x8, up to 8192", {64, 8, 8192}},
      {"non-uniform 64, x4, up to 16384", {64, 4, 16384}},
      {"non-uniform 32, x8, up to 4096", {32, 8, 4096}},
      {"uniform 64 (1500 partitions)", {64, 1, 64}},
      {"uniform 256 after 64 (two levels)", {64, 4, 256}},
  };
  for (const Variant &V : Variants) {
    Convolver Conv(prepareConvolution(Ir.data(), Taps, Lanes, Lanes,
                                      ConvolutionForm::PerLane, V.Scheme));
    print(V.Name, timeCallbacks(Callbacks, [&](unsigned C) {
            const float *X = In.data() + size_t(C) * Block * Lanes;
            for (unsigned F = 0; F < Block; ++F)
              Conv.frame(X + F * Lanes, Out.data() + F * Lanes);
          }));
  }

  // Direct form: a ring of the last Taps frames, doubled so that every
  // window is contiguous; reversed taps; a plain loop the compiler
  // vectorizes as it can.
  {
    std::vector<float> Rev(size_t(Taps) * Lanes);
    for (unsigned T = 0; T < Taps; ++T)
      for (unsigned L = 0; L < Lanes; ++L)
        Rev[L * Taps + (Taps - 1 - T)] = float(Ir[T * Lanes + L]);
    std::vector<float> Ring(size_t(2) * Taps * Lanes);
    uint64_t Pos = 0;
    const unsigned Direct = std::max(8u, Callbacks / 50);
    print("direct form (" + std::to_string(Direct) + " callbacks)",
          timeCallbacks(Direct, [&](unsigned C) {
            const float *X = In.data() + size_t(C) * Block * Lanes;
            for (unsigned F = 0; F < Block; ++F, ++Pos) {
              for (unsigned L = 0; L < Lanes; ++L) {
                float *R = Ring.data() + size_t(L) * 2 * Taps;
                size_t At = Pos % Taps;
                R[At] = R[At + Taps] = X[F * Lanes + L];
                const float *W = R + At + 1; // the last Taps frames
                const float *H = Rev.data() + size_t(L) * Taps;
                float S = 0;
                for (unsigned T = 0; T < Taps; ++T)
                  S += H[T] * W[T];
                Out[F * Lanes + L] = S;
              }
            }
          }));
  }
  return 0;
}
