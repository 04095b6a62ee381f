//===- tests/bench/voices_bench.cpp - N voices in lanes or one by one -----===//
//
// An instrument (`voices N;`) runs its N voices side by side, one lane of
// every vector each. What does that buy over running one voice after
// another? tests/bench/scripts/voices.dsp, a subtractive synthesizer (two
// saws, a resonant lowpass opened by an envelope, an ADSR, voicemix), is
// compiled with its `voices` line set to N and to 1, and played two ways,
// with N notes held:
//
//   lanes       one instance of the N-voice kernel: one process() call a
//               block for all voices;
//   one by one  N instances of the one-voice kernel, each holding one of
//               the notes, each processing the block, their outputs summed
//               as a host mixing N mono voices would.
//
// Notes reach the kernels as they do live: MIDI note-ons through the
// runtime's VoiceAllocator, written into the NOTE slots before the first
// block (runtime/HotSwap.cpp's updateVoices), afterProcess after each block.
// 64-frame blocks at 48 kHz. Each round runs both sides for a few blocks,
// in alternating order (lanes first, then one by one first); the figure is
// the median round, per frame of audio, after a warm-up. Rounds are short
// (8 blocks, 10.7 ms of audio) and many: on a loaded machine a long round
// is often preempted (a 64-voice round of 0.1 s was, in most rounds, and
// its median came out 7 times too high), a short one seldom.
//
// Before timing, both sides render the same notes from fresh instances
// and the bench checks that they agree (to a few ulp of libm against
// libmvec, and the order of the sum): both do the same work.
//
// `--callgrind --side lanes|one --voices N --frames F` runs one side alone
// with callgrind's instrumentation switched on around the processing only,
// for tests/bench/voices_callgrind.sh.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Instance.h"
#include "runtime/Voices.h"

#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace dspjit;
using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned Block = 64;
constexpr double Rate = 48000;

/// `--script FILE`: another instrument to measure the same way (its
/// `voices` line is replaced; it has no inputs and one output).
std::string ScriptPath =
    std::string(DSPJIT_SOURCE_DIR) + "/tests/bench/scripts/voices.dsp";

/// The script with its `voices` line set to N.
std::unique_ptr<Kernel> compileVoices(unsigned N) {
  std::ifstream In(ScriptPath);
  std::stringstream SS;
  SS << In.rdbuf();
  std::string Text =
      std::regex_replace(SS.str(), std::regex(R"(\nvoices [0-9]+;)"),
                         "\nvoices " + std::to_string(N) + ";");
  CompileOptions O = CompileOptions::fromEnvironment(); // DSPJIT_CPU, ...
  O.sampleRate = Rate;
  Compiler C(O);
  auto K = C.compileSource(ScriptPath, Text);
  if (!K) {
    C.diagnostics().print(std::cerr);
    return nullptr;
  }
  if (K->info().voices != N) {
    std::fprintf(stderr, "%s: compiled with %u voices, not %u\n",
                 ScriptPath.c_str(), K->info().voices, N);
    return nullptr;
  }
  return K;
}

/// Key of note `I` of a chord of up to 64: a fifth apart, folded back into
/// the 64 keys from F#1 (46 Hz) to A6 (1760 Hz), all different (7 and 64
/// are coprime), so that no note-on retriggers another's voice.
uint8_t keyOf(unsigned I) { return uint8_t(30 + (I * 7) % 64); }

/// One instance, the voice allocator that plays it, and its notes' layout.
struct Player {
  std::optional<Instance> I;
  NoteLayout Notes;
  VoiceAllocator Voices;

  static std::optional<Player> make(const Kernel &K) {
    auto I = Instance::create(K.info(), Rate);
    if (!I) {
      std::fprintf(stderr, "%s: %s\n", ScriptPath.c_str(), I.error().c_str());
      return std::nullopt;
    }
    Player P;
    P.I.emplace(std::move(*I));
    P.Notes = NoteLayout::of(K.info());
    if (!P.Notes.Voices) {
      std::fprintf(stderr, "%s: not an instrument\n", ScriptPath.c_str());
      return std::nullopt;
    }
    P.Voices.setVoices(P.Notes.Voices);
    return P;
  }
  /// Note-on for `Key`, written into the instance (HotSwap::updateVoices).
  void noteOn(uint8_t Key) {
    ChannelMessage E;
    E.Bytes[0] = 0x90;
    E.Bytes[1] = Key;
    E.Bytes[2] = 100;
    E.Size = 3;
    Voices.handle(E);
    Voices.write(Notes, I->data());
    Voices.written();
  }
  void process(float *Out) {
    const DspjitKernel &K = I->kernel();
    K.process(nullptr, Out, Block, nullptr, 0, I->data());
    Voices.afterProcess(Notes, I->data(), Block, Rate);
  }
};

/// Both ways of playing N voices.
struct Side {
  unsigned N = 0;
  std::unique_ptr<Kernel> Lanes; // voices N
  const Kernel *One = nullptr;   // voices 1, shared
  std::optional<Player> All;     // of Lanes, N notes
  std::vector<Player> Each;      // of One, a note each
  std::vector<float> Out, Scratch;

  static std::optional<Side> make(unsigned N, const Kernel &One) {
    Side S;
    S.N = N;
    S.One = &One;
    S.Lanes = compileVoices(N);
    if (!S.Lanes)
      return std::nullopt;
    if (!S.reset())
      return std::nullopt;
    return S;
  }
  /// Fresh instances, N notes on.
  bool reset() {
    All = Player::make(*Lanes);
    if (!All)
      return false;
    Each.clear();
    for (unsigned V = 0; V < N; ++V) {
      auto P = Player::make(*One);
      if (!P)
        return false;
      Each.push_back(std::move(*P));
    }
    for (unsigned V = 0; V < N; ++V) {
      All->noteOn(keyOf(V));
      Each[V].noteOn(keyOf(V));
    }
    Out.assign(Block, 0.0f);
    Scratch.assign(Block, 0.0f);
    return true;
  }
  void runLanes(uint64_t Blocks) {
    for (uint64_t B = 0; B < Blocks; ++B)
      All->process(Out.data());
  }
  void runOneByOne(uint64_t Blocks) {
    for (uint64_t B = 0; B < Blocks; ++B) {
      Each[0].process(Out.data());
      for (unsigned V = 1; V < N; ++V) {
        Each[V].process(Scratch.data());
        for (unsigned F = 0; F < Block; ++F)
          Out[F] += Scratch[F];
      }
    }
  }
};

/// Renders one second both ways from fresh instances; the largest
/// difference relative to the largest magnitude.
double disagreement(Side &S) {
  if (!S.reset())
    return INFINITY;
  double Diff = 0, Peak = 0;
  std::vector<float> A(Block);
  for (unsigned B = 0; B < unsigned(Rate) / Block; ++B) {
    S.runLanes(1);
    A = S.Out;
    S.runOneByOne(1);
    for (unsigned F = 0; F < Block; ++F) {
      Diff = std::max(Diff, double(std::fabs(A[F] - S.Out[F])));
      Peak = std::max(Peak, double(std::fabs(A[F])));
    }
  }
  S.reset(); // the timing starts from fresh notes too
  return Peak > 0 ? Diff / Peak : INFINITY;
}

double median(std::vector<double> V) {
  std::sort(V.begin(), V.end());
  return V[V.size() / 2];
}

double nsPerFrame(Clock::time_point T0, Clock::time_point T1, uint64_t F) {
  return std::chrono::duration<double, std::nano>(T1 - T0).count() / double(F);
}

int usage() {
  std::fprintf(stderr,
               "usage: dspjit_voices_bench [--script FILE] [--voices N[,N...]] "
               "[--rounds R] [--blocks B]\n"
               "       dspjit_voices_bench [--script FILE] --callgrind --side "
               "lanes|one --voices N [--frames F]\n");
  return 2;
}

int callgrindOne(unsigned N, const std::string &Which, uint64_t Frames) {
  auto One = compileVoices(1);
  if (!One)
    return 1;
  auto S = Side::make(N, *One);
  if (!S)
    return 1;
  bool Lanes = Which == "lanes";
  uint64_t Blocks = Frames / Block;
  // Past the attacks and decays (one second), then count only processing.
  Lanes ? S->runLanes(uint64_t(Rate) / Block)
        : S->runOneByOne(uint64_t(Rate) / Block);
  CALLGRIND_START_INSTRUMENTATION;
  Lanes ? S->runLanes(Blocks) : S->runOneByOne(Blocks);
  CALLGRIND_STOP_INSTRUMENTATION;
  std::printf("%u voices, %s, %llu frames\n", N, Which.c_str(),
              (unsigned long long)(Blocks * Block));
  return 0;
}

} // namespace

int main(int Argc, char **Argv) {
  std::vector<unsigned> Counts = {1, 4, 8, 16, 32, 64};
  unsigned Rounds = 301;
  unsigned RoundBlocks = 8; // blocks per side per round
  bool Callgrind = false;
  std::string Which;
  uint64_t Frames = 48000;
  for (int A = 1; A < Argc; ++A) {
    std::string Arg = Argv[A];
    auto Next = [&]() -> std::string { return A + 1 < Argc ? Argv[++A] : ""; };
    try {
      if (Arg == "--voices") {
        Counts.clear();
        std::stringstream List(Next());
        for (std::string N; std::getline(List, N, ',');)
          Counts.push_back(unsigned(std::stoul(N)));
      } else if (Arg == "--rounds")
        Rounds = std::max(1u, unsigned(std::stoul(Next())));
      else if (Arg == "--blocks")
        RoundBlocks = std::max(1u, unsigned(std::stoul(Next())));
      else if (Arg == "--script")
        ScriptPath = Next();
      else if (Arg == "--callgrind")
        Callgrind = true;
      else if (Arg == "--side")
        Which = Next();
      else if (Arg == "--frames")
        Frames = std::stoull(Next());
      else
        return usage();
    } catch (const std::exception &) {
      return usage();
    }
  }
  for (unsigned N : Counts)
    if (N < 1 || N > VoiceAllocator::MaxVoices)
      return usage();
  if (Callgrind) {
    if (Counts.size() != 1 || (Which != "lanes" && Which != "one"))
      return usage();
    return callgrindOne(Counts[0], Which, Frames);
  }

  auto One = compileVoices(1);
  if (!One)
    return 1;
  const double Deadline = 1e9 / Rate; // ns of audio in a frame
  std::printf("%s, %u-frame blocks at %.0f Hz, all voices held; median of "
              "%u rounds of %u blocks a side\n\n",
              ScriptPath.c_str(), Block, Rate, Rounds, RoundBlocks);
  std::printf("| voices | lanes ns/frame | one by one ns/frame | one by one "
              "/ lanes | lanes ns/voice | one by one ns/voice | lanes %% of "
              "real time | outputs differ by |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::fflush(stdout);
  for (unsigned N : Counts) {
    auto S = Side::make(N, *One);
    if (!S)
      return 1;
    double Differ = disagreement(*S);
    uint64_t Blocks = RoundBlocks;
    uint64_t F = Blocks * Block;
    // Warm-up: past the attacks and decays, caches and predictors warm.
    S->runLanes(uint64_t(Rate) / Block);
    S->runOneByOne(uint64_t(Rate) / Block);
    std::vector<double> Lanes, OneByOne;
    for (unsigned R = 0; R < Rounds; ++R) {
      auto T0 = Clock::now();
      if (R % 2)
        S->runOneByOne(Blocks);
      else
        S->runLanes(Blocks);
      auto T1 = Clock::now();
      if (R % 2)
        S->runLanes(Blocks);
      else
        S->runOneByOne(Blocks);
      auto T2 = Clock::now();
      (R % 2 ? OneByOne : Lanes).push_back(nsPerFrame(T0, T1, F));
      (R % 2 ? Lanes : OneByOne).push_back(nsPerFrame(T1, T2, F));
    }
    double L = median(Lanes), O = median(OneByOne);
    std::printf("| %u | %.1f | %.1f | **%.2f** | %.1f | %.1f | %.2f%% | "
                "%.1e |\n",
                N, L, O, O / L, L / N, O / N, 100 * L / Deadline, Differ);
    std::fflush(stdout);
  }
  return 0;
}
