//===- tests/realtime/realtime_test.cpp - RealtimeSanitizer sees the audio path ===//
//
// An RTSan build is only worth something if it would catch a violation, so
// the first tests plant one and expect RTSan to stop the process:
//   - a DSPJIT_REALTIME function that allocates (the pointer escapes into a
//     volatile global, so the optimizer cannot remove the allocation and
//     make the test pass without checking anything), and one that locks a
//     mutex;
//   - JIT-compiled code that calls malloc, run through RealtimeFrame exactly
//     as Stream::open runs a kernel in RTSan builds: RTSan intercepts libc
//     for the whole thread, so the frame's mark covers code it never saw
//     compiled. (dspjit's own kernels cannot name malloc: compiler/Jit.cpp
//     links them only against the math whitelist. This module is built with
//     plain ORC, outside that whitelist, to have a kernel that violates.)
// Then every example, compiled at -O0 and -O3, runs two seconds of audio
// through a RealtimeFrame with parameters moving, and must draw no report;
// so do `convolve` scripts (FFTW's transforms on the audio thread).
//
// Without RTSan the death tests skip; the examples still run.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "plugin/core/EffectCore.h"
#include "runtime/Instance.h"
#include "runtime/Realtime.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/TargetSelect.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

namespace dspjit {
namespace {

#define SKIP_WITHOUT_RTSAN()                                                   \
  if (!RealtimeChecked)                                                        \
  GTEST_SKIP() << "not an RTSan build (configure with -DDSPJIT_RTSAN=ON)"

// Where planted allocations escape to.
void *volatile Escaped = nullptr;

int plantedAllocation(int Bytes) DSPJIT_REALTIME {
  Escaped = std::malloc(std::size_t(Bytes));
  return Escaped != nullptr;
}

std::mutex Lock;
int plantedLock() DSPJIT_REALTIME {
  std::lock_guard<std::mutex> Guard(Lock);
  return 1;
}

int allowedAllocation(int Bytes) DSPJIT_REALTIME {
  RealtimeUnchecked Allowed; // a test of the escape hatch itself
  Escaped = std::malloc(std::size_t(Bytes));
  std::free(Escaped);
  return 1;
}

TEST(RealtimeSanitizer, CatchesAnAllocationInARealtimeFunction) {
  SKIP_WITHOUT_RTSAN();
  EXPECT_DEATH(plantedAllocation(64),
               "RealtimeSanitizer: unsafe-library-call.*malloc");
}

TEST(RealtimeSanitizer, CatchesALockInARealtimeFunction) {
  SKIP_WITHOUT_RTSAN();
  EXPECT_DEATH(plantedLock(), "RealtimeSanitizer: unsafe-library-call");
}

TEST(RealtimeSanitizer, UncheckedScopeIsNotReported) {
  EXPECT_EQ(allowedAllocation(64), 1);
}

/// A module with one function of DspjitProcessFn's signature that mallocs
/// and stores the pointer through its userData, so that it escapes.
std::unique_ptr<llvm::orc::LLJIT> jitMallocKernel(DspjitProcessFn &Fn) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto J = llvm::orc::LLJITBuilder().create();
  if (!J) {
    ADD_FAILURE() << llvm::toString(J.takeError());
    return nullptr;
  }
  auto Gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*J)->getDataLayout().getGlobalPrefix());
  if (!Gen) {
    ADD_FAILURE() << llvm::toString(Gen.takeError());
    return nullptr;
  }
  (*J)->getMainJITDylib().addGenerator(std::move(*Gen));

  auto Ctx = std::make_unique<llvm::LLVMContext>();
  auto M = std::make_unique<llvm::Module>("violating_kernel", *Ctx);
  M->setDataLayout((*J)->getDataLayout());
  llvm::Type *Ptr = llvm::PointerType::getUnqual(*Ctx);
  llvm::Type *I64 = llvm::Type::getInt64Ty(*Ctx);
  llvm::Type *I32 = llvm::Type::getInt32Ty(*Ctx);
  auto *Malloc =
      llvm::Function::Create(llvm::FunctionType::get(Ptr, {I64}, false),
                             llvm::Function::ExternalLinkage, "malloc", *M);
  auto *Process = llvm::Function::Create(
      llvm::FunctionType::get(I32, {Ptr, Ptr, I64, Ptr, I64, Ptr}, false),
      llvm::Function::ExternalLinkage, "process", *M);
  llvm::IRBuilder<> B(llvm::BasicBlock::Create(*Ctx, "entry", Process));
  llvm::Value *Block = B.CreateCall(Malloc, {B.getInt64(64)});
  B.CreateStore(Block, Process->getArg(5), /*isVolatile=*/true);
  B.CreateRet(B.getInt32(0));

  if (auto Err = (*J)->addIRModule(
          llvm::orc::ThreadSafeModule(std::move(M), std::move(Ctx)))) {
    ADD_FAILURE() << llvm::toString(std::move(Err));
    return nullptr;
  }
  auto Sym = (*J)->lookup("process");
  if (!Sym) {
    ADD_FAILURE() << llvm::toString(Sym.takeError());
    return nullptr;
  }
  Fn = Sym->toPtr<DspjitProcessFn>();
  return std::move(*J);
}

TEST(RealtimeSanitizer, CatchesAnAllocationInJitCompiledCode) {
  SKIP_WITHOUT_RTSAN();
  DspjitProcessFn Fn = nullptr;
  auto J = jitMallocKernel(Fn);
  ASSERT_TRUE(J && Fn);
  void *Slot = nullptr;
  RealtimeFrame Frame{Fn, &Slot};
  // Outside a real-time frame the same code runs and is not reported.
  EXPECT_EQ(Fn(nullptr, nullptr, 0, nullptr, 0, &Slot), 0);
  EXPECT_NE(Slot, nullptr);
  std::free(Slot);
  EXPECT_DEATH(RealtimeFrame::callback(nullptr, nullptr, 0, nullptr, 0, &Frame),
               "RealtimeSanitizer: unsafe-library-call.*malloc");
}

/// Runs `Seconds` of noise through K in 64-frame blocks via a RealtimeFrame,
/// moving every parameter between its minimum and maximum each block.
void runInRealtimeFrame(const Kernel &K, double Rate, double Seconds) {
  auto I = Instance::create(K.info(), Rate);
  ASSERT_TRUE(bool(I)) << I.error();
  const DspjitKernel &D = K.info();
  constexpr unsigned Block = 64;
  std::vector<float> In(std::size_t(Block) * D.inputs),
      Out(std::size_t(Block) * D.outputs);
  uint32_t Seed = 1;
  RealtimeFrame Frame{D.process, I->data()};
  DspjitTimeInfo Time = {};
  unsigned Blocks = unsigned(Seconds * Rate / Block);
  for (unsigned N = 0; N < Blocks; ++N) {
    for (float &S : In) {
      Seed = Seed * 1664525u + 1013904223u;
      S = float(int32_t(Seed)) / 2147483648.0f * 0.5f;
    }
    for (uint32_t S = 0; S < D.num_slots; ++S)
      if (D.slots[S].kind == DSPJIT_SLOT_PARAM)
        I->setParamTarget(D.slots[S], N % 2 ? D.slots[S].max : D.slots[S].min);
    ASSERT_EQ(RealtimeFrame::callback(D.inputs ? In.data() : nullptr,
                                      D.outputs ? Out.data() : nullptr, Block,
                                      &Time, 0, &Frame),
              0);
    for (float S : Out)
      ASSERT_TRUE(std::isfinite(S));
  }
  EXPECT_EQ(I->callbacks(), Blocks);
}

// `convolve` with a 2-second stereo response (and a true-stereo one): the
// runtime's convolver, FFTW's transforms included, over 3 s (more than a
// period of its largest partitions, 4096 frames), at -O0 and -O3.
TEST(RealtimeSanitizer, ConvolutionRunsClean) {
  for (const char *Table :
       {"table ir[96000] = [sin(i * i * 0.000123), sin(i * i * 0.000321)]"
        " * exp(-i / 14000)",
        "table ir[9000] = [sin(i * 0.1), sin(i * 0.2), sin(i * 0.3), "
        "sin(i * 0.4)] * exp(-i / 1300)"})
    for (unsigned Level : {0u, 3u}) {
      SCOPED_TRACE(std::string(Table) + ", optLevel " + std::to_string(Level));
      CompileOptions O;
      O.optLevel = Level;
      Compiler C(O);
      auto K = C.compileSource("convolve.dsp",
                               std::string("io 2 -> 2;\n") + Table +
                                   " * 0.01;\n"
                                   "process { out = convolve(in, ir); }\n");
      ASSERT_TRUE(K);
      runInRealtimeFrame(*K, 48000, 3.0);
    }
}

class Examples : public testing::TestWithParam<std::string> {};

TEST_P(Examples, RunCleanInARealtimeFrame) {
  const std::string Path =
      std::string(DSPJIT_SOURCE_DIR) + "/examples/" + GetParam() + ".dsp";
  // The circuit models are tuned for 44.1 kHz, as in the paper.
  const double Rate =
      GetParam() == "diode_ringmod" || GetParam() == "vcs3_filter" ? 44100
                                                                   : 48000;
  for (unsigned Level : {0u, 3u}) {
    SCOPED_TRACE("optLevel " + std::to_string(Level));
    CompileOptions O;
    O.sampleRate = Rate;
    O.optLevel = Level;
    Compiler C(O);
    auto K = C.compileFile(Path);
    ASSERT_TRUE(K) << "cannot compile " << Path;
    runInRealtimeFrame(*K, Rate, 2.0);
  }
}

/// An exported plugin's run(): plugin/core/EffectCore.h's process() is a
/// real-time function (DSPJIT_REALTIME), with controls that move every
/// block, at a block size that is not the kernel's chunk.
TEST_P(Examples, RunCleanInAPluginsProcess) {
  const std::string Dir = std::string(DSPJIT_SOURCE_DIR) + "/examples";
  const std::string Name = GetParam() + ".dsp";
  Compiler C;
  auto K = C.compileFile(Dir + "/" + Name);
  ASSERT_TRUE(K);
  plugin::Payload P;
  P.Uri = "urn:dspjit:plugin:" + GetParam();
  P.Name = GetParam();
  P.Main = Name;
  for (const auto &[Path, Text] : C.sourceTexts())
    P.Sources[std::filesystem::path(Path).filename().string()] = Text;
  P.Ports = plugin::PortLayout::of(K->info(), K->info().latency_frames > 0)
                .signature();
  auto E = plugin::EffectCore::create(P, Dir, 48000);
  ASSERT_TRUE(bool(E)) << E.error();
  const plugin::PortLayout &L = (*E)->layout();
  constexpr unsigned Frames = 1500; // more than one chunk of the core
  std::vector<std::vector<float>> In(L.AudioIns, std::vector<float>(Frames)),
      Out(L.AudioOuts, std::vector<float>(Frames));
  std::vector<const float *> InP;
  std::vector<float *> OutP;
  for (auto &V : In)
    InP.push_back(V.data());
  for (auto &V : Out)
    OutP.push_back(V.data());
  std::vector<float> Values(L.Params), Meters(L.MeterLanes);
  std::vector<const float *> ValueP;
  std::vector<float *> MeterP;
  for (float &V : Values)
    ValueP.push_back(&V);
  for (float &M : Meters)
    MeterP.push_back(&M);
  (*E)->activate();
  uint32_t Seed = 1;
  for (unsigned N = 0; N < 64; ++N) {
    for (auto &V : In)
      for (float &S : V) {
        Seed = Seed * 1664525u + 1013904223u;
        S = float(int32_t(Seed)) / 2147483648.0f * 0.5f;
      }
    unsigned Param = 0;
    for (const plugin::PortSpec &Port : L.Ports)
      if (Port.K == plugin::PortSpec::ControlIn)
        Values[Param++] = N % 2 ? Port.Max : Port.Min;
    (*E)->process(InP.data(), OutP.data(), ValueP.data(), MeterP.data(),
                  Frames);
    for (auto &V : Out)
      for (float S : V)
        ASSERT_TRUE(std::isfinite(S));
  }
}

std::vector<std::string> exampleNames() {
  std::vector<std::string> Names;
  for (const auto &E : std::filesystem::directory_iterator(
           std::string(DSPJIT_SOURCE_DIR) + "/examples"))
    if (E.path().extension() == ".dsp")
      Names.push_back(E.path().stem().string());
  std::sort(Names.begin(), Names.end());
  return Names;
}

INSTANTIATE_TEST_SUITE_P(All, Examples, testing::ValuesIn(exampleNames()),
                         [](const auto &Info) { return Info.param; });

} // namespace
} // namespace dspjit
