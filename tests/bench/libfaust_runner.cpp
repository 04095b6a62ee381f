//===- tests/bench/libfaust_runner.cpp - libfaust's LLVM JIT, apart -------===//
//
// The libfaust side of the dspjit-vs-Faust suite (faust_suite.cpp). libfaust
// (Debian's libfaust2) compiles Faust programs with its own LLVM, version
// 14; two LLVMs cannot live in one process (their symbols and command-line
// options collide), so this program links libfaust and nothing of dspjit,
// and the suite starts it as a child.
//
//   dspjit_libfaust_runner --serve
//       commands on stdin, one line each; replies on file descriptor 3, one
//       line each, "ok ..." or "error MESSAGE":
//         load RATE PATH      compile PATH (-O3, this CPU), make an instance
//                             at RATE -> "ok INPUTS OUTPUTS COMPILE_NS"
//         input CHANNELS FRAMES, then CHANNELS * FRAMES raw floats, one
//                             channel after the other -> "ok"
//         run BLOCKS          process BLOCKS blocks of 64 frames of the
//                             input, continuing where the last run stopped
//                             -> "ok NANOSECONDS"
//         moving 0|1          from now on, run moves every parameter every
//                             block (FaustSliders.h) -> "ok"
//         render FRAMES       a fresh instance processes the input's first
//                             FRAMES frames, parameters at their defaults
//                             -> "ok", then OUTPUTS * FRAMES raw floats, one
//                             channel after the other
//         quit
//   dspjit_libfaust_runner --compile PATH [--repeat N]
//       compiles PATH N times (21 by default) and prints the first compile
//       and the median of the others, in ms: what `dspjit check --repeat`
//       prints for a script.
//   dspjit_libfaust_runner --target
//       prints the LLVM target libfaust compiles for (hostTarget below).
//
//===----------------------------------------------------------------------===//
#include "FaustSliders.h"
#include "FlushDenormals.h"

#include <faust/dsp/llvm-dsp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned Block = 64;

/// LLVM's optimization level for libfaust, as the issue asks: -O3.
constexpr int OptLevel = 3;

double nanosecondsSince(Clock::time_point T0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - T0).count();
}

/// Deletes a factory (libfaust counts references to the factories it caches:
/// once deleted, compiling the same program again compiles it again).
struct FactoryDeleter {
  void operator()(llvm_dsp_factory *F) const { deleteDSPFactory(F); }
};
using Factory = std::unique_ptr<llvm_dsp_factory, FactoryDeleter>;

/// The target to compile for: this machine's, as libfaust names it
/// ("triple:cpu"). libfaust's LLVM 14 names CPUs newer than itself
/// "generic", which is baseline x86-64 (SSE2); then the x86-64 feature
/// level that this CPU supports is named instead, the nearest LLVM 14 can
/// come to -march=native (on the CI machine, an AMD Zen 5 that LLVM 14 does
/// not know: x86-64-v4, AVX-512). DSPJIT_LIBFAUST_TARGET, when set, is
/// used instead (`x86_64-pc-linux-gnu:znver3`, for comparison).
std::string hostTarget() {
  if (const char *Env = std::getenv("DSPJIT_LIBFAUST_TARGET"); Env && *Env)
    return Env;
  std::string Target = getDSPMachineTarget();
  const std::string Generic = ":generic";
  if (Target.size() < Generic.size() ||
      Target.compare(Target.size() - Generic.size(), Generic.size(), Generic) !=
          0)
    return Target;
  std::string Triple = Target.substr(0, Target.size() - Generic.size());
  __builtin_cpu_init();
  bool V3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
            __builtin_cpu_supports("bmi2");
  bool V4 = V3 && __builtin_cpu_supports("avx512f") &&
            __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512cd") &&
            __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vl");
  if (V4)
    return Triple + ":x86-64-v4";
  if (V3)
    return Triple + ":x86-64-v3";
  return Target;
}

/// Compiles a Faust program for this machine, the way a host embedding
/// libfaust does; the program's own directory is on the import path.
Factory compile(const std::string &Path, std::string &Error) {
  std::string Dir = std::filesystem::path(Path).parent_path().string();
  const char *Args[] = {"-I", Dir.c_str()};
  return Factory(
      createDSPFactoryFromFile(Path, 2, Args, hostTarget(), Error, OptLevel));
}

/// The state of --serve: the program loaded, its input and where it is.
struct Server {
  FILE *Reply;
  Factory F;
  std::unique_ptr<dsp> D;
  dspjit::bench::FaustSliders Sliders;
  bool Moving = false;
  unsigned long BlockCount = 0;
  int Rate = 0;
  unsigned Channels = 0;
  uint64_t Frames = 0, Pos = 0;
  std::vector<std::vector<float>> In, Out;
  std::vector<float *> InPtrs, OutPtrs;

  void error(std::string Message) {
    std::replace(Message.begin(), Message.end(), '\n', ' ');
    std::fprintf(Reply, "error %s\n", Message.c_str());
  }

  void load(int NewRate, const std::string &Path) {
    D.reset();
    F.reset();
    std::string Error;
    auto T0 = Clock::now();
    F = compile(Path, Error);
    if (!F)
      return error(Path + ": " + Error);
    D.reset(F->createDSPInstance());
    double Ns = nanosecondsSince(T0);
    Rate = NewRate;
    D->init(Rate);
    Sliders = {};
    D->buildUserInterface(&Sliders);
    Moving = false;
    BlockCount = 0;
    Out.assign(D->getNumOutputs(), std::vector<float>(Block));
    OutPtrs.clear();
    for (auto &O : Out)
      OutPtrs.push_back(O.data());
    In.clear();
    Frames = Pos = 0;
    std::fprintf(Reply, "ok %d %d %.0f\n", D->getNumInputs(),
                 D->getNumOutputs(), Ns);
  }

  void input(unsigned NewChannels, uint64_t NewFrames) {
    Channels = NewChannels;
    Frames = NewFrames;
    Pos = 0;
    In.assign(Channels, std::vector<float>(Frames));
    for (auto &C : In)
      if (std::fread(C.data(), sizeof(float), Frames, stdin) != Frames)
        return error("input: short read");
    InPtrs.resize(Channels);
    std::fprintf(Reply, "ok\n");
  }

  /// Processes one block from frame `Frame` of the input.
  void compute(dsp &Dsp, uint64_t Frame) {
    for (unsigned C = 0; C < Channels; ++C)
      InPtrs[C] = In[C].data() + Frame;
    Dsp.compute(int(Block), InPtrs.data(), OutPtrs.data());
  }

  void run(uint64_t Blocks) {
    if (!D || In.size() != unsigned(D->getNumInputs()))
      return error("run: no program, or no input");
    FlushDenormals Flush;
    auto T0 = Clock::now();
    for (uint64_t B = 0; B < Blocks; ++B) {
      if (Moving)
        Sliders.move(BlockCount++);
      if (Pos + Block > Frames)
        Pos = 0;
      compute(*D, Pos);
      Pos += Block;
    }
    std::fprintf(Reply, "ok %.0f\n", nanosecondsSince(T0));
  }

  void render(uint64_t Count) {
    if (!D || In.size() != unsigned(D->getNumInputs()) || Count > Frames)
      return error("render: no program, no input, or too many frames");
    FlushDenormals Flush;
    std::unique_ptr<dsp> Fresh(F->createDSPInstance());
    Fresh->init(Rate);
    std::vector<std::vector<float>> Result(Out.size(),
                                           std::vector<float>(Count));
    for (uint64_t Frame = 0; Frame + Block <= Count; Frame += Block) {
      compute(*Fresh, Frame);
      for (size_t C = 0; C < Out.size(); ++C)
        std::copy(Out[C].begin(), Out[C].end(), Result[C].begin() + Frame);
    }
    std::fprintf(Reply, "ok\n");
    for (const auto &C : Result)
      std::fwrite(C.data(), sizeof(float), Count, Reply);
  }
};

int serve() {
  Server S;
  S.Reply = fdopen(3, "w");
  if (!S.Reply) {
    std::perror("libfaust runner: file descriptor 3");
    return 1;
  }
  char Line[8192];
  while (std::fgets(Line, sizeof Line, stdin)) {
    char Path[8192];
    int Rate;
    unsigned Channels;
    unsigned long long N;
    if (std::sscanf(Line, "load %d %8191[^\n]", &Rate, Path) == 2)
      S.load(Rate, Path);
    else if (std::sscanf(Line, "input %u %llu", &Channels, &N) == 2)
      S.input(Channels, N);
    else if (std::sscanf(Line, "moving %llu", &N) == 1) {
      S.Moving = N != 0;
      std::fprintf(S.Reply, "ok\n");
    } else if (std::sscanf(Line, "run %llu", &N) == 1)
      S.run(N);
    else if (std::sscanf(Line, "render %llu", &N) == 1)
      S.render(N);
    else if (std::strncmp(Line, "quit", 4) == 0)
      break;
    else
      S.error(std::string("unknown command: ") + Line);
    std::fflush(S.Reply);
  }
  return 0;
}

/// Compile times, as `dspjit check --repeat` measures them for a script:
/// the program compiled to machine code (the factory, and an instance,
/// which libfaust makes without compiling again), freed, compiled again.
int compileTimes(const std::string &Path, unsigned Repeat) {
  std::vector<double> Ms;
  for (unsigned I = 0; I < Repeat; ++I) {
    std::string Error;
    auto T0 = Clock::now();
    Factory F = compile(Path, Error);
    if (!F) {
      std::fprintf(stderr, "%s: %s\n", Path.c_str(), Error.c_str());
      return 1;
    }
    std::unique_ptr<dsp> D(F->createDSPInstance());
    Ms.push_back(nanosecondsSince(T0) / 1e6);
  }
  std::printf("%s: first compile %.2f ms", Path.c_str(), Ms[0]);
  if (Repeat > 1) {
    std::vector<double> Warm(Ms.begin() + 1, Ms.end());
    std::sort(Warm.begin(), Warm.end());
    std::printf(", median of %zu %.2f ms", Warm.size(), Warm[Warm.size() / 2]);
  }
  std::printf("\n");
  return 0;
}

} // namespace

int main(int Argc, char **Argv) {
  std::string Mode = Argc > 1 ? Argv[1] : "";
  if (Mode == "--serve" && Argc == 2)
    return serve();
  if (Mode == "--target" && Argc == 2) {
    std::printf("%s (libfaust's own name for this machine: %s)\n",
                hostTarget().c_str(), getDSPMachineTarget().c_str());
    return 0;
  }
  if (Mode == "--compile" && (Argc == 3 || Argc == 5)) {
    unsigned Repeat = 21;
    if (Argc == 5 && std::strcmp(Argv[3], "--repeat") == 0)
      Repeat = unsigned(std::max(1, std::atoi(Argv[4])));
    return compileTimes(Argv[2], Repeat);
  }
  std::fprintf(stderr, "usage: dspjit_libfaust_runner --serve\n"
                       "       dspjit_libfaust_runner --compile FILE.dsp "
                       "[--repeat N]\n"
                       "       dspjit_libfaust_runner --target\n");
  return 2;
}
