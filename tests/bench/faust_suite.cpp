//===- tests/bench/faust_suite.cpp - dspjit against Faust, side by side ---===//
//
// Issue 13. Every program of tests/bench/faust is run three ways, on the
// same half-scale noise in 64-frame blocks, round after round:
//
//   - dspjit: the script (examples/NAME.dsp, or tests/bench/scripts/NAME.dsp
//     for the kinds of effect no example covers) compiled at O3 for this CPU
//     and run as bench_suite.cpp runs it, on interleaved buffers;
//   - Faust AOT: tests/bench/faust/NAME.dsp, the same algorithm written in
//     Faust, turned into C++ by `faust -lang cpp` and compiled into this
//     program by clang++ -O3 -march=native -ffast-math
//     (tests/bench/CMakeLists.txt); non-interleaved buffers, Faust's format;
//   - libfaust: the same Faust program compiled at run time by libfaust's
//     LLVM JIT (-O3, this CPU). libfaust is built on LLVM 14, which cannot
//     share a process with dspjit's LLVM 19, so it runs in a child process
//     (libfaust_runner.cpp) that this one drives over a pipe, one command
//     per round: its rounds interleave with the others all the same.
//
// Every example has a Faust version but one: examples/vcs3_filter.dsp solves
// its delay-free loop by iterating until it converges (`for` with `break`:
// about 10 passes a sample at the default current, up to 100). Faust has no
// loop within a sample; unrolled, it would run all 100 passes every sample,
// ten times the work: another algorithm, as far as speed goes.
//
// Rounds alternate between the sides so that machine noise hits all alike;
// the figure is the median round, in ns per frame. Ratios are dspjit's time
// over the other side's: below 1.0 dspjit is faster. Both sides smooth the
// parameters the script smooths. Every parameter keeps its default, or with
// --moving, moves a little every block on every side (FaustSliders.h).
//
// Modes:
//   (default)   the times table; --rounds N, --only NAME, --markdown,
//               --moving
//   --check     each side renders one second of noise from a fresh instance;
//               prints how far dspjit and libfaust are from Faust AOT, and
//               fails when a program's sides compute different things
//   --only NAME --side dspjit|faust [--frames N] [--moving]
//               one side alone, with callgrind's instrumentation switched
//               on around the processing only (tests/bench/vs-faust)
//   --list      the programs: name, rate, dspjit script, Faust program
//
//===----------------------------------------------------------------------===//
#include "FaustSliders.h"
#include "FlushDenormals.h"

#include "compiler/Compiler.h"
#include "runtime/Instance.h"
#include "runtime/Signals.h"

#include <faust/dsp/dsp.h>
#include <faust/gui/DecoratorUI.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

using namespace dspjit;
using dspjit::bench::movedValue;
using Clock = std::chrono::steady_clock;

// The factories of the Faust programs compiled into this binary
// (tests/bench/faust/architecture.cpp.in), one per line of FaustPrograms.inc.
#define DSPJIT_FAUST_PROGRAM(NAME) dsp *make_##NAME##_dsp();
#include "FaustPrograms.inc"
#undef DSPJIT_FAUST_PROGRAM

namespace {

constexpr unsigned Block = 64;

struct ProgramInfo {
  const char *Name;
  dsp *(*MakeFaust)();
};

const ProgramInfo Programs[] = {
#define DSPJIT_FAUST_PROGRAM(NAME) {#NAME, &make_##NAME##_dsp},
#include "FaustPrograms.inc"
#undef DSPJIT_FAUST_PROGRAM
};

double rateFor(const std::string &Name) {
  // The circuit models' constants are for 44.1 kHz (De Pra and Fontana).
  return Name == "diode_ringmod" || Name == "vcs3_filter" ? 44100 : 48000;
}

/// The dspjit script: a benchmark script of its own, or the example.
std::string scriptPath(const std::string &Name) {
  std::string Own =
      std::string(DSPJIT_SOURCE_DIR) + "/tests/bench/scripts/" + Name + ".dsp";
  if (std::filesystem::exists(Own))
    return Own;
  return std::string(DSPJIT_SOURCE_DIR) + "/examples/" + Name + ".dsp";
}

std::string faustPath(const std::string &Name) {
  return std::string(DSPJIT_SOURCE_DIR) + "/tests/bench/faust/" + Name + ".dsp";
}

double median(std::vector<double> V) {
  std::sort(V.begin(), V.end());
  return V[V.size() / 2];
}

double nanosecondsSince(Clock::time_point T0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - T0).count();
}

/// The input, the same noise in each side's layout: interleaved for dspjit,
/// one array per channel for Faust. Half scale (the ring modulator diverges
/// at full scale), 4 MiB per channel: more than the caches hold.
struct Input {
  unsigned Channels = 0;
  uint64_t Frames = 0;
  std::vector<float> Interleaved;
  std::vector<std::vector<float>> Planar;

  Input(unsigned Channels, double Rate) : Channels(Channels) {
    Frames = (uint64_t(4) << 20) / sizeof(float);
    if (!Channels)
      return;
    Interleaved = generateSignal(*parseSignal("noise"), Rate, Channels, Frames);
    for (float &X : Interleaved)
      X *= 0.5f;
    Planar.assign(Channels, std::vector<float>(Frames));
    for (uint64_t F = 0; F < Frames; ++F)
      for (unsigned C = 0; C < Channels; ++C)
        Planar[C][F] = Interleaved[F * Channels + C];
  }

  /// The frame the next block starts at, wrapping around.
  uint64_t next(uint64_t &Pos) const {
    if (Pos + Block > Frames)
      Pos = 0;
    uint64_t P = Pos;
    Pos += Block;
    return P;
  }
};

/// Outputs, one array per channel.
using Planar = std::vector<std::vector<float>>;

/// Meter values by name, one per lane: dspjit's meters, Faust's bargraphs
/// (a bargraph "rms 1" is lane 1 of "rms").
using Meters = std::map<std::string, std::vector<float>>;

/// Reads the bargraphs of a Faust instance into Meters.
class BargraphReader : public GenericUI {
public:
  Meters Values;

  void addHorizontalBargraph(const char *Label, FAUSTFLOAT *Zone, FAUSTFLOAT,
                             FAUSTFLOAT) override {
    add(Label, *Zone);
  }
  void addVerticalBargraph(const char *Label, FAUSTFLOAT *Zone, FAUSTFLOAT,
                           FAUSTFLOAT) override {
    add(Label, *Zone);
  }

private:
  void add(std::string Label, float Value) {
    size_t Space = Label.rfind(' ');
    unsigned Lane = 0;
    if (Space != std::string::npos &&
        Label.find_first_not_of("0123456789", Space + 1) == std::string::npos) {
      Lane = unsigned(std::stoul(Label.substr(Space + 1)));
      Label.resize(Space);
    }
    auto &Lanes = Values[Label];
    Lanes.resize(std::max<size_t>(Lanes.size(), Lane + 1));
    Lanes[Lane] = Value;
  }
};

/// One way of running a program.
class Side {
public:
  virtual ~Side() = default;
  /// From now on, run() moves every parameter every block (movedValue).
  virtual void setMoving(bool M) { Moving = M; }
  /// Processes Blocks blocks of the input, continuing where the last call
  /// stopped; returns the nanoseconds the processing took.
  virtual double run(uint64_t Blocks) = 0;
  /// Processes the first Frames frames of the input with a fresh instance;
  /// its meters at the end go to `M` when given. Empty on failure.
  virtual Planar render(uint64_t Frames, Meters *M = nullptr) = 0;

protected:
  bool Moving = false;
  unsigned long BlockCount = 0; ///< blocks run, for movedValue
};

class DspjitSide final : public Side {
public:
  DspjitSide(std::unique_ptr<Kernel> K, Instance I, const Input &In)
      : K(std::move(K)), I(std::move(I)), In(In),
        Out(size_t(Block) * std::max(1u, this->K->info().outputs)) {
    const DspjitKernel &Info = this->K->info();
    for (uint32_t S = 0; S < Info.num_slots; ++S)
      if (Info.slots[S].kind == DSPJIT_SLOT_PARAM)
        Params.push_back(&Info.slots[S]);
  }

  double run(uint64_t Blocks) override {
    const DspjitKernel &Info = K->info();
    auto T0 = Clock::now();
    for (uint64_t B = 0; B < Blocks; ++B) {
      if (Moving) {
        for (const DspjitSlot *P : Params)
          I.setParamTarget(*P, movedValue(P->def, P->min, P->max, BlockCount));
        ++BlockCount;
      }
      uint64_t F = In.next(Pos);
      Info.process(In.Channels ? In.Interleaved.data() + F * In.Channels
                               : nullptr,
                   Out.data(), Block, nullptr, 0, I.data());
    }
    return nanosecondsSince(T0);
  }

  Planar render(uint64_t Frames, Meters *M = nullptr) override {
    auto Fresh = Instance::create(K->info(), I.sampleRate());
    if (!Fresh)
      return {};
    unsigned Outs = K->info().outputs;
    Planar P(Outs, std::vector<float>(Frames));
    for (uint64_t F = 0; F + Block <= Frames; F += Block) {
      Fresh->process(In.Channels ? In.Interleaved.data() + F * In.Channels
                                 : nullptr,
                     Out.data(), Block);
      for (unsigned J = 0; J < Block; ++J)
        for (unsigned C = 0; C < Outs; ++C)
          P[C][F + J] = Out[J * Outs + C];
    }
    if (M)
      for (const std::string &Name : slotNames(K->info(), DSPJIT_SLOT_METER))
        (*M)[Name] = *Fresh->meter(Name);
    return P;
  }

private:
  std::unique_ptr<Kernel> K;
  Instance I;
  const Input &In;
  std::vector<float> Out;
  std::vector<const DspjitSlot *> Params;
  uint64_t Pos = 0;
};

class FaustAotSide final : public Side {
public:
  FaustAotSide(dsp *(*Make)(), double Rate, const Input &In)
      : Make(Make), Rate(Rate), In(In), D(Make()) {
    D->init(int(Rate));
    D->buildUserInterface(&Sliders);
    Outs.assign(D->getNumOutputs(), std::vector<float>(Block));
    for (auto &O : Outs)
      OutPtrs.push_back(O.data());
    InPtrs.resize(In.Channels);
  }

  unsigned inputs() const { return unsigned(D->getNumInputs()); }
  unsigned outputs() const { return unsigned(D->getNumOutputs()); }

  double run(uint64_t Blocks) override {
    FlushDenormals Flush;
    auto T0 = Clock::now();
    for (uint64_t B = 0; B < Blocks; ++B) {
      if (Moving)
        Sliders.move(BlockCount++);
      compute(*D, In.next(Pos));
    }
    return nanosecondsSince(T0);
  }

  Planar render(uint64_t Frames, Meters *M = nullptr) override {
    FlushDenormals Flush;
    std::unique_ptr<dsp> Fresh(Make());
    Fresh->init(int(Rate));
    Planar P(Outs.size(), std::vector<float>(Frames));
    for (uint64_t F = 0; F + Block <= Frames; F += Block) {
      compute(*Fresh, F);
      for (size_t C = 0; C < Outs.size(); ++C)
        std::copy(Outs[C].begin(), Outs[C].end(), P[C].begin() + F);
    }
    if (M) {
      BargraphReader Reader;
      Fresh->buildUserInterface(&Reader);
      *M = std::move(Reader.Values);
    }
    return P;
  }

private:
  void compute(dsp &Dsp, uint64_t Frame) {
    for (unsigned C = 0; C < In.Channels; ++C)
      InPtrs[C] = const_cast<float *>(In.Planar[C].data() + Frame);
    Dsp.compute(int(Block), InPtrs.data(), OutPtrs.data());
  }

  dsp *(*Make)();
  double Rate;
  const Input &In;
  std::unique_ptr<dsp> D;
  bench::FaustSliders Sliders;
  Planar Outs;
  std::vector<float *> InPtrs, OutPtrs;
  uint64_t Pos = 0;
};

/// The libfaust child process (libfaust_runner.cpp --serve): commands on its
/// stdin, replies on its file descriptor 3, one line each, raw floats after
/// some (the protocol is written there).
class LibfaustRunner {
public:
  /// Starts the runner; null (and a message on stderr) when it cannot.
  static std::unique_ptr<LibfaustRunner> start(const std::string &Path) {
    // Every end is close-on-exec; the child gets its two as 0 and 3.
    int ToChild[2], FromChild[2];
    if (pipe2(ToChild, O_CLOEXEC) || pipe2(FromChild, O_CLOEXEC)) {
      std::perror("pipe");
      return nullptr;
    }
    posix_spawn_file_actions_t Actions;
    posix_spawn_file_actions_init(&Actions);
    posix_spawn_file_actions_adddup2(&Actions, ToChild[0], 0);
    posix_spawn_file_actions_adddup2(&Actions, FromChild[1], 3);
    const char *Args[] = {Path.c_str(), "--serve", nullptr};
    pid_t Pid;
    int Err = posix_spawn(&Pid, Path.c_str(), &Actions, nullptr,
                          const_cast<char **>(Args), environ);
    posix_spawn_file_actions_destroy(&Actions);
    close(ToChild[0]);
    close(FromChild[1]);
    if (Err) {
      std::fprintf(stderr, "%s: %s\n", Path.c_str(), std::strerror(Err));
      close(ToChild[1]);
      close(FromChild[0]);
      return nullptr;
    }
    std::unique_ptr<LibfaustRunner> R(new LibfaustRunner);
    R->Pid = Pid;
    R->To = fdopen(ToChild[1], "w");
    R->From = fdopen(FromChild[0], "r");
    return R;
  }

  ~LibfaustRunner() {
    std::fputs("quit\n", To);
    std::fclose(To);
    std::fclose(From);
    waitpid(Pid, nullptr, 0);
  }

  /// Sends one command line (and Data after it) and returns the reply's
  /// words after "ok"; false, with the reply on stderr, otherwise.
  bool command(const std::string &Line, std::vector<std::string> &Words,
               const std::vector<float> &Data = {}) {
    std::fprintf(To, "%s\n", Line.c_str());
    if (!Data.empty())
      std::fwrite(Data.data(), sizeof(float), Data.size(), To);
    std::fflush(To);
    char Buffer[4096];
    if (!std::fgets(Buffer, sizeof Buffer, From)) {
      std::fprintf(stderr, "libfaust runner: no reply to '%s'\n", Line.c_str());
      return false;
    }
    std::string Reply(Buffer);
    if (!Reply.empty() && Reply.back() == '\n')
      Reply.pop_back();
    Words.clear();
    size_t P = 0;
    while (P < Reply.size()) {
      size_t E = Reply.find(' ', P);
      if (E == std::string::npos)
        E = Reply.size();
      Words.push_back(Reply.substr(P, E - P));
      P = E + 1;
    }
    if (Words.empty() || Words[0] != "ok") {
      std::fprintf(stderr, "libfaust runner: %s\n", Reply.c_str());
      return false;
    }
    Words.erase(Words.begin());
    return true;
  }

  /// Reads Count floats that follow a reply.
  bool readFloats(float *Out, size_t Count) {
    return std::fread(Out, sizeof(float), Count, From) == Count;
  }

private:
  LibfaustRunner() = default;
  pid_t Pid = 0;
  FILE *To = nullptr, *From = nullptr;
};

/// The current program of the libfaust runner.
class LibfaustSide final : public Side {
public:
  /// Compiles the Faust program in the runner and hands it the input.
  static std::unique_ptr<LibfaustSide> load(LibfaustRunner &R,
                                            const std::string &Name,
                                            double Rate, const Input &In,
                                            unsigned Outputs) {
    std::vector<std::string> W;
    if (!R.command("load " + std::to_string(int(Rate)) + " " + faustPath(Name),
                   W) ||
        W.size() < 2)
      return nullptr;
    if (std::stoul(W[0]) != In.Channels || std::stoul(W[1]) != Outputs) {
      std::fprintf(stderr, "%s: libfaust's program has io %s -> %s\n",
                   Name.c_str(), W[0].c_str(), W[1].c_str());
      return nullptr;
    }
    std::vector<float> Data;
    for (const auto &C : In.Planar)
      Data.insert(Data.end(), C.begin(), C.end());
    if (!R.command("input " + std::to_string(In.Channels) + " " +
                       std::to_string(In.Frames),
                   W, Data))
      return nullptr;
    return std::unique_ptr<LibfaustSide>(new LibfaustSide(R, Outputs));
  }

  void setMoving(bool M) override {
    std::vector<std::string> W;
    R.command(M ? "moving 1" : "moving 0", W);
  }

  double run(uint64_t Blocks) override {
    std::vector<std::string> W;
    if (!R.command("run " + std::to_string(Blocks), W) || W.empty())
      return NAN;
    return std::stod(W[0]);
  }

  Planar render(uint64_t Frames, Meters * = nullptr) override {
    std::vector<std::string> W;
    if (!R.command("render " + std::to_string(Frames), W))
      return {};
    Planar P(Outputs, std::vector<float>(Frames));
    for (auto &C : P)
      if (!R.readFloats(C.data(), Frames))
        return {};
    return P;
  }

private:
  LibfaustSide(LibfaustRunner &R, unsigned Outputs) : R(R), Outputs(Outputs) {}
  LibfaustRunner &R;
  unsigned Outputs;
};

/// One program, ready to run on each side that could be set up.
struct Program {
  std::string Name;
  double Rate = 48000;
  std::unique_ptr<Input> In;
  std::unique_ptr<DspjitSide> Dspjit;
  std::unique_ptr<FaustAotSide> Aot;
  std::unique_ptr<LibfaustSide> Libfaust; // null without the runner
};

/// Compiles the script and creates the Faust instance; with a runner, loads
/// the program there too. Null, with a message, when a side fails.
std::unique_ptr<Program> makeProgram(const ProgramInfo &Info,
                                     LibfaustRunner *Runner) {
  auto P = std::make_unique<Program>();
  P->Name = Info.Name;
  P->Rate = rateFor(P->Name);
  CompileOptions O = CompileOptions::fromEnvironment(); // DSPJIT_CPU, ...
  O.sampleRate = P->Rate;
  Compiler C(O);
  auto K = C.compileFile(scriptPath(P->Name));
  if (!K) {
    std::fprintf(stderr, "%s: %s does not compile\n", P->Name.c_str(),
                 scriptPath(P->Name).c_str());
    return nullptr;
  }
  auto I = Instance::create(K->info(), P->Rate);
  if (!I) {
    std::fprintf(stderr, "%s: %s\n", P->Name.c_str(), I.error().c_str());
    return nullptr;
  }
  unsigned Ins = K->info().inputs, Outs = K->info().outputs;
  P->In = std::make_unique<Input>(Ins, P->Rate);
  P->Dspjit = std::make_unique<DspjitSide>(std::move(K), std::move(*I), *P->In);
  P->Aot = std::make_unique<FaustAotSide>(Info.MakeFaust, P->Rate, *P->In);
  if (P->Aot->inputs() != Ins || P->Aot->outputs() != Outs) {
    std::fprintf(stderr,
                 "%s: the script has io %u -> %u, the Faust program "
                 "%u -> %u\n",
                 P->Name.c_str(), Ins, Outs, P->Aot->inputs(),
                 P->Aot->outputs());
    return nullptr;
  }
  if (Runner)
    P->Libfaust = LibfaustSide::load(*Runner, P->Name, P->Rate, *P->In, Outs);
  return P;
}

std::unique_ptr<LibfaustRunner> startRunner() {
#ifdef DSPJIT_LIBFAUST_RUNNER
  return LibfaustRunner::start(DSPJIT_LIBFAUST_RUNNER);
#else
  std::fprintf(stderr, "built without libfaust: no libfaust column\n");
  return nullptr;
#endif
}

bool selected(const std::string &Only, const char *Name) {
  return Only.empty() || Only == Name;
}

/// A row of a table: fixed columns, or markdown.
struct Table {
  bool Markdown;
  std::vector<int> Widths;

  void row(const std::vector<std::string> &Cells) const {
    for (size_t I = 0; I < Cells.size(); ++I) {
      if (Markdown)
        std::printf("| %s ", Cells[I].c_str());
      else if (I == 0)
        std::printf("%-*s", Widths[I], Cells[I].c_str());
      else
        std::printf(" %*s", Widths[I], Cells[I].c_str());
    }
    std::printf(Markdown ? "|\n" : "\n");
    std::fflush(stdout);
  }
  void header(const std::vector<std::string> &Cells) const {
    row(Cells);
    if (!Markdown)
      return;
    std::printf("|---");
    for (size_t I = 1; I < Cells.size(); ++I)
      std::printf("|---:");
    std::printf("|\n");
  }
};

std::string fixed(double V, int Digits) {
  if (std::isnan(V))
    return "-";
  if (std::isinf(V))
    return "inf";
  char B[32];
  std::snprintf(B, sizeof B, "%.*f", Digits, V);
  return B;
}

int timesTable(const std::string &Only, unsigned Rounds, bool Markdown,
               bool Moving) {
  auto Runner = startRunner();
  Table T{Markdown, {14, 10, 12, 12, 11, 16}};
  T.header({"program", "dspjit ns", "Faust AOT ns", "libfaust ns", "dspjit/AOT",
            "dspjit/libfaust"});
  double RoundSeconds = 0.05; // audio seconds per side per round
  for (const ProgramInfo &Info : Programs) {
    if (!selected(Only, Info.Name))
      continue;
    auto P = makeProgram(Info, Runner.get());
    if (!P)
      return 1;
    std::vector<Side *> Sides = {P->Dspjit.get(), P->Aot.get()};
    if (P->Libfaust)
      Sides.push_back(P->Libfaust.get());
    uint64_t Blocks =
        std::max<uint64_t>(1, uint64_t(RoundSeconds * P->Rate / Block));
    for (Side *S : Sides) { // warm every side up
      S->setMoving(Moving);
      S->run(Blocks);
    }
    std::vector<std::vector<double>> Ns(Sides.size());
    for (unsigned R = 0; R < Rounds; ++R)
      for (size_t S = 0; S < Sides.size(); ++S)
        Ns[S].push_back(Sides[S]->run(Blocks) / double(Blocks * Block));
    double D = median(Ns[0]), A = median(Ns[1]);
    double L = P->Libfaust ? median(Ns[2]) : NAN;
    T.row({P->Name, fixed(D, 1), fixed(A, 1), fixed(L, 1), fixed(D / A, 2),
           fixed(D / L, 2)});
  }
  return 0;
}

/// How far a side's output is from the reference's: the largest difference
/// and the reference's energy over the difference's, in dB.
struct Distance {
  double MaxAbs = 0, Snr = INFINITY;
};

Distance distance(const Planar &Ref, const Planar &Other) {
  Distance D;
  if (Other.size() != Ref.size())
    return {INFINITY, -INFINITY};
  double Signal = 0, Noise = 0;
  for (size_t C = 0; C < Ref.size(); ++C)
    for (size_t F = 0; F < Ref[C].size(); ++F) {
      double Diff = double(Other[C][F]) - Ref[C][F];
      D.MaxAbs = std::max(D.MaxAbs, std::abs(Diff));
      Signal += double(Ref[C][F]) * Ref[C][F];
      Noise += Diff * Diff;
    }
  if (Noise > 0)
    D.Snr = 10 * std::log10(Signal / Noise);
  return D;
}

double peak(const Planar &P) {
  double M = 0;
  for (const auto &C : P)
    for (float X : C)
      M = std::max(M, double(std::abs(X)));
  return M;
}

/// The largest difference between dspjit's meters and Faust's bargraphs,
/// relative to the value (absolute below 1); NaN without meters, infinite
/// when their names or lanes differ.
double meterDistance(const Meters &Faust, const Meters &Dspjit) {
  if (Faust.empty() && Dspjit.empty())
    return NAN;
  double D = 0;
  for (const auto &[Name, Lanes] : Dspjit) {
    auto It = Faust.find(Name);
    if (It == Faust.end() || It->second.size() != Lanes.size())
      return INFINITY;
    for (size_t L = 0; L < Lanes.size(); ++L)
      D = std::max(D, std::abs(double(Lanes[L]) - It->second[L]) /
                          std::max(1.0, std::abs(double(It->second[L]))));
  }
  return Faust.size() == Dspjit.size() ? D : INFINITY;
}

/// Below this SNR against Faust AOT, a side computes something else; so
/// does a meter further than this (relative) from Faust's bargraph.
constexpr double MinSnr = 60;
constexpr double MaxMeterDistance = 1e-3;

int check(const std::string &Only, bool Markdown) {
  auto Runner = startRunner();
  Table T{Markdown, {14, 9, 15, 11, 17, 13, 15, 8}};
  T.header({"program", "AOT peak", "dspjit max diff", "dspjit SNR",
            "libfaust max diff", "libfaust SNR", "meters rel diff", "verdict"});
  bool Ok = true;
  for (const ProgramInfo &Info : Programs) {
    if (!selected(Only, Info.Name))
      continue;
    auto P = makeProgram(Info, Runner.get());
    if (!P)
      return 1;
    uint64_t Frames = uint64_t(P->Rate) / Block * Block; // about a second
    Meters RefMeters, DspjitMeters;
    Planar Ref = P->Aot->render(Frames, &RefMeters);
    Distance D = distance(Ref, P->Dspjit->render(Frames, &DspjitMeters));
    double M = meterDistance(RefMeters, DspjitMeters);
    Distance L{NAN, NAN};
    if (P->Libfaust)
      L = distance(Ref, P->Libfaust->render(Frames));
    bool Same = D.Snr >= MinSnr && !(L.Snr < MinSnr) && !(M > MaxMeterDistance);
    Ok = Ok && Same;
    auto Sci = [](double V) {
      if (std::isnan(V))
        return std::string("-");
      char B[32];
      std::snprintf(B, sizeof B, "%.2e", V);
      return std::string(B);
    };
    T.row({P->Name, fixed(peak(Ref), 3), Sci(D.MaxAbs), fixed(D.Snr, 1),
           Sci(L.MaxAbs), fixed(L.Snr, 1), Sci(M), Same ? "same" : "DIFFERS"});
  }
  if (!Ok)
    std::printf("a program's sides differ: SNR against Faust AOT below %.0f "
                "dB, or meters further than %g\n",
                MinSnr, MaxMeterDistance);
  return Ok ? 0 : 1;
}

int callgrindOne(const std::string &Name, const std::string &SideName,
                 uint64_t Frames, bool Moving) {
  const ProgramInfo *Info = nullptr;
  for (const ProgramInfo &I : Programs)
    if (Name == I.Name)
      Info = &I;
  if (!Info || (SideName != "dspjit" && SideName != "faust")) {
    std::fprintf(stderr, "no program '%s' or side '%s'\n", Name.c_str(),
                 SideName.c_str());
    return 2;
  }
  // The Faust side alone does not compile the script: under valgrind, an
  // LLVM compile takes seconds.
  std::unique_ptr<Program> P;
  std::unique_ptr<Input> In;
  std::unique_ptr<FaustAotSide> Aot;
  if (SideName == "dspjit") {
    P = makeProgram(*Info, nullptr);
    if (!P)
      return 1;
  } else {
    double Rate = rateFor(Name);
    In = std::make_unique<Input>(
        unsigned(std::unique_ptr<dsp>(Info->MakeFaust())->getNumInputs()),
        Rate);
    Aot = std::make_unique<FaustAotSide>(Info->MakeFaust, Rate, *In);
  }
  Side &S = P ? static_cast<Side &>(*P->Dspjit) : *Aot;
  S.setMoving(Moving);
  uint64_t Blocks = Frames / Block;
  // Warm up outside the measurement, then count only the processing.
  S.run(16);
  CALLGRIND_START_INSTRUMENTATION;
  S.run(Blocks);
  CALLGRIND_STOP_INSTRUMENTATION;
  unsigned long long Counted = Blocks * Block;
  std::printf("%s %s %llu frames\n", Name.c_str(), SideName.c_str(), Counted);
  return 0;
}

} // namespace

int main(int Argc, char **Argv) {
  std::string Only, SideName;
  uint64_t Frames = 48000;
  unsigned Rounds = 15;
  bool Markdown = false, Check = false, List = false, Moving = false;
  for (int A = 1; A < Argc; ++A) {
    std::string Arg = Argv[A];
    auto Next = [&]() -> std::string { return A + 1 < Argc ? Argv[++A] : ""; };
    if (Arg == "--only")
      Only = Next();
    else if (Arg == "--side")
      SideName = Next();
    else if (Arg == "--frames")
      Frames = std::stoull(Next());
    else if (Arg == "--rounds")
      Rounds = std::max(1u, unsigned(std::stoul(Next())));
    else if (Arg == "--markdown")
      Markdown = true;
    else if (Arg == "--check")
      Check = true;
    else if (Arg == "--moving")
      Moving = true;
    else if (Arg == "--list")
      List = true;
    else {
      std::fprintf(stderr,
                   "usage: dspjit_vs_faust [--rounds N] [--only NAME] "
                   "[--markdown] [--moving]\n"
                   "       dspjit_vs_faust --check [--only NAME] [--markdown]\n"
                   "       dspjit_vs_faust --only NAME --side dspjit|faust "
                   "[--frames N] [--moving]\n"
                   "       dspjit_vs_faust --list\n");
      return 2;
    }
  }
  if (List) {
    for (const ProgramInfo &I : Programs)
      std::printf("%s %g %s %s\n", I.Name, rateFor(I.Name),
                  scriptPath(I.Name).c_str(), faustPath(I.Name).c_str());
    return 0;
  }
  if (!SideName.empty())
    return callgrindOne(Only, SideName, Frames, Moving);
  if (Check)
    return check(Only, Markdown);
  return timesTable(Only, Rounds, Markdown, Moving);
}
