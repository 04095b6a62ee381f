//===- compiler/Optimizer.cpp - LLVM IR to optimized LLVM IR --------------===//
#include "compiler/Optimizer.h"

#include "compiler/BlockSplitter.h"

#include "llvm/Analysis/CGSCCPassManager.h"
#include "llvm/Analysis/LoopAnalysisManager.h"
#include "llvm/Analysis/TargetTransformInfo.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/StringSaver.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/InstCombine/InstCombine.h"
#include "llvm/Transforms/Scalar/ADCE.h"
#include "llvm/Transforms/Scalar/BDCE.h"
#include "llvm/Transforms/Scalar/CorrelatedValuePropagation.h"
#include "llvm/Transforms/Scalar/DeadStoreElimination.h"
#include "llvm/Transforms/Scalar/DivRemPairs.h"
#include "llvm/Transforms/Scalar/EarlyCSE.h"
#include "llvm/Transforms/Scalar/Float2Int.h"
#include "llvm/Transforms/Scalar/GVN.h"
#include "llvm/Transforms/Scalar/IndVarSimplify.h"
#include "llvm/Transforms/Scalar/InferAlignment.h"
#include "llvm/Transforms/Scalar/InstSimplifyPass.h"
#include "llvm/Transforms/Scalar/JumpThreading.h"
#include "llvm/Transforms/Scalar/LICM.h"
#include "llvm/Transforms/Scalar/LoopDeletion.h"
#include "llvm/Transforms/Scalar/LoopIdiomRecognize.h"
#include "llvm/Transforms/Scalar/LoopInstSimplify.h"
#include "llvm/Transforms/Scalar/LoopLoadElimination.h"
#include "llvm/Transforms/Scalar/LoopPassManager.h"
#include "llvm/Transforms/Scalar/LoopRotation.h"
#include "llvm/Transforms/Scalar/LoopSimplifyCFG.h"
#include "llvm/Transforms/Scalar/LoopUnrollPass.h"
#include "llvm/Transforms/Scalar/MemCpyOptimizer.h"
#include "llvm/Transforms/Scalar/Reassociate.h"
#include "llvm/Transforms/Scalar/SCCP.h"
#include "llvm/Transforms/Scalar/SROA.h"
#include "llvm/Transforms/Scalar/SimpleLoopUnswitch.h"
#include "llvm/Transforms/Scalar/SimplifyCFG.h"
#include "llvm/Transforms/Vectorize/LoopVectorize.h"
#include "llvm/Transforms/Vectorize/SLPVectorizer.h"
#include "llvm/Transforms/Vectorize/VectorCombine.h"

#include <map>
#include <mutex>

using namespace llvm;

namespace dspjit {

static CodeGenOptLevel codeGenLevel(unsigned OptLevel) {
  switch (OptLevel) {
  case 0: return CodeGenOptLevel::None;
  case 1: return CodeGenOptLevel::Less;
  case 2: return CodeGenOptLevel::Default;
  default: return CodeGenOptLevel::Aggressive;
  }
}

/// The native target, its assembly printer and parser, registered once.
static void initializeTargets() {
  static const bool Done = [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    InitializeNativeTargetAsmParser();
    return true;
  }();
  (void)Done;
}

std::string targetCpuName(const std::string &Cpu) {
  return Cpu.empty() ? sys::getHostCPUName().str() : Cpu;
}

namespace {
struct CpuFeatures {
  bool Avx2 = false, Fma = false;
};

/// Whether a CPU has a feature ("avx2", "fma"); empty: the host.
bool cpuHas(const std::string &Cpu, const char *Feature) {
  if (Cpu.empty())
    return sys::getHostCPUFeatures().lookup(Feature);
  initializeTargets();
  std::string Error;
  const Target *T =
      TargetRegistry::lookupTarget(sys::getProcessTriple(), Error);
  if (!T)
    return false;
  std::unique_ptr<MCSubtargetInfo> STI(
      T->createMCSubtargetInfo(sys::getProcessTriple(), Cpu, ""));
  return STI && STI->checkFeatures(std::string("+") + Feature);
}

/// The features code generation asks about, looked up once per CPU (each
/// look-up builds LLVM's feature tables).
const CpuFeatures &featuresOf(const std::string &Cpu) {
  static std::mutex Mutex;
  static std::map<std::string, CpuFeatures> Known;
  std::lock_guard<std::mutex> Lock(Mutex);
  auto It = Known.find(Cpu);
  if (It == Known.end())
    It =
        Known.emplace(Cpu, CpuFeatures{cpuHas(Cpu, "avx2"), cpuHas(Cpu, "fma")})
            .first;
  return It->second;
}
} // namespace

bool targetHasAvx2(const std::string &Cpu) { return featuresOf(Cpu).Avx2; }
bool targetHasFma(const std::string &Cpu) { return featuresOf(Cpu).Fma; }

namespace {

/// Two of LLVM's defaults, changed. Each cost compile time and bought no
/// speed in any example (tests/bench: instructions per warm compile under
/// callgrind, and the bench suite's ratios, with and without):
///   - SLP's search for horizontal reductions: 11% of Freeverb's compile
///     and 12% of diode_ringmod's. A script's lanes are vectors already,
///     and a sum of unrolled scalars is not reassociable anyway; the one
///     example it changed (diode_ringmod) ran faster without it (0.89x
///     native instead of 0.96x).
///   - The pre-RA machine scheduler: 14% of Freeverb's machine code time,
///     5 to 8% of the others'. Out-of-order x86 cores reorder anyway: no
///     example ran slower; Freeverb executes 7% fewer instructions without
///     it (fewer spills), diode_ringmod 2% more at the same speed.
/// LLVM keeps these as process-wide options; they are set the way its own
/// tools set them, once, before the first compile.
const char *const DefaultLlvmArgs[] = {"-slp-vectorize-hor=false",
                                       "-enable-misched=false"};

/// Sets DefaultLlvmArgs, then `Args`; returns what LLVM said about the
/// latter, or nothing.
std::string setLlvmOptions(const std::string &Args) {
  static BumpPtrAllocator Alloc;
  static StringSaver Saver(Alloc);
  SmallVector<const char *, 16> User;
  cl::TokenizeGNUCommandLine(Args, Saver, User);
  auto nameOf = [](StringRef Arg) { return Arg.ltrim('-').split('=').first; };
  SmallVector<const char *, 16> Argv = {"dspjit"};
  for (const char *D : DefaultLlvmArgs)
    if (llvm::none_of(User,
                      [&](const char *U) { return nameOf(U) == nameOf(D); }))
      Argv.push_back(D);
  Argv.append(User.begin(), User.end());
  std::string Said;
  raw_string_ostream OS(Said);
  if (cl::ParseCommandLineOptions(int(Argv.size()), Argv.data(), "", &OS))
    return "";
  // "dspjit: Unknown command line argument '-x'.  Try: 'dspjit --help'":
  // keep what is wrong, not the advice, which is LLVM's and not ours.
  StringRef First = StringRef(OS.str()).split('\n').first;
  First.consume_front("dspjit: ");
  First = First.split(".  Try:").first;
  return First.empty() ? "LLVM refused them" : First.str();
}

} // namespace

std::string initializeLlvm(const std::string &LlvmArgs) {
  struct Initialized {
    std::string Args, Error;
  };
  static const Initialized Once = [&] {
    initializeTargets();
    return Initialized{LlvmArgs, setLlvmOptions(LlvmArgs)};
  }();
  if (!Once.Error.empty())
    return Once.Error;
  if (LlvmArgs != Once.Args)
    return "LLVM's options are process-wide, and an earlier compile set them to '" +
           Once.Args + "'";
  return "";
}

Expected<orc::JITTargetMachineBuilder>
targetMachineBuilder(const std::string &Cpu) {
  initializeTargets();
  auto JTMB = orc::JITTargetMachineBuilder::detectHost();
  if (JTMB && !Cpu.empty()) {
    JTMB->setCPU(Cpu);
    JTMB->getFeatures() = SubtargetFeatures(); // the named CPU's own features
  }
  return JTMB;
}

std::unique_ptr<TargetMachine> createHostTargetMachine(unsigned OptLevel,
                                                       std::string &Error,
                                                       const std::string &Cpu) {
  auto JTMB = targetMachineBuilder(Cpu);
  if (!JTMB) {
    Error = toString(JTMB.takeError());
    return nullptr;
  }
  JTMB->setCodeGenOptLevel(codeGenLevel(OptLevel));
  auto TM = JTMB->createTargetMachine();
  if (!TM) {
    Error = toString(TM.takeError());
    return nullptr;
  }
  return std::move(*TM);
}

namespace {

/// The TargetMachine of the compile running on this thread. The cached
/// pipeline's TargetIRAnalysis asks it for the target's costs, so that the
/// pipeline does not hold on to a TargetMachine (emit creates its own).
thread_local TargetMachine *CurrentTM = nullptr;

LICMPass licm(bool AllowSpeculation) {
  PipelineTuningOptions PTO;
  return LICMPass(PTO.LicmMssaOptCap, PTO.LicmMssaNoAccForPromotionCap,
                  AllowSpeculation);
}

/// The function pipeline for O2 and O3. The checker has inlined every call
/// and unrolled every `unroll`, so a kernel is one function with a frame
/// loop (and `dspjit_init`): no inliner, no interprocedural passes. These
/// are the passes of LLVM's O3 pipeline, in its order, that change the
/// machine code of any example (each of the others was removed and the
/// assembly of all examples compared: identical); GVN runs without memory
/// dependence analysis, which cost most of its time and found nothing
/// (state lives in registers during the frame loop).
FunctionPassManager buildDspPipeline() {
  FunctionPassManager FPM;
  // Locals, state and smoothed parameters live in allocas: into SSA.
  FPM.addPass(SimplifyCFGPass(SimplifyCFGOptions()));
  FPM.addPass(SROAPass(SROAOptions::ModifyCFG));
  FPM.addPass(EarlyCSEPass(/*UseMemorySSA=*/true));
  FPM.addPass(InstCombinePass());
  FPM.addPass(ReassociatePass());
  {
    // Block-invariant work leaves the frame loop; loop-invariant
    // conditions are unswitched out of it.
    LoopPassManager LPM;
    LPM.addPass(LoopSimplifyCFGPass());
    LPM.addPass(LoopRotatePass(/*EnableHeaderDuplication=*/true,
                               /*PrepareForLTO=*/false));
    LPM.addPass(licm(/*AllowSpeculation=*/true));
    LPM.addPass(SimpleLoopUnswitchPass(/*NonTrivial=*/true));
    FPM.addPass(
        createFunctionToLoopPassAdaptor(std::move(LPM), /*UseMemorySSA=*/true,
                                        /*UseBlockFrequencyInfo=*/true));
  }
  FPM.addPass(InstCombinePass());
  {
    // `for` loops with constant counts are unrolled completely.
    LoopPassManager LPM;
    LPM.addPass(LoopIdiomRecognizePass());
    LPM.addPass(IndVarSimplifyPass());
    LPM.addPass(LoopFullUnrollPass(/*OptLevel=*/3));
    FPM.addPass(
        createFunctionToLoopPassAdaptor(std::move(LPM), /*UseMemorySSA=*/false,
                                        /*UseBlockFrequencyInfo=*/false));
  }
  FPM.addPass(GVNPass(GVNOptions().setMemDep(false)));
  FPM.addPass(createFunctionToLoopPassAdaptor(licm(/*AllowSpeculation=*/true),
                                              /*UseMemorySSA=*/true,
                                              /*UseBlockFrequencyInfo=*/false));
  FPM.addPass(createFunctionToLoopPassAdaptor(
      LoopRotatePass(/*EnableHeaderDuplication=*/true, /*PrepareForLTO=*/false),
      /*UseMemorySSA=*/false, /*UseBlockFrequencyInfo=*/false));
  FPM.addPass(InstCombinePass());
  FPM.addPass(SimplifyCFGPass(SimplifyCFGOptions()
                                  .forwardSwitchCondToPhi(true)
                                  .convertSwitchRangeToICmp(true)
                                  .convertSwitchToLookupTable(true)
                                  .needCanonicalLoops(false)
                                  .hoistCommonInsts(true)
                                  .sinkCommonInsts(true)));
  // Vectors across unrolled copies and channels.
  FPM.addPass(SLPVectorizerPass());
  FPM.addPass(LoopUnrollPass(LoopUnrollOptions(/*OptLevel=*/3)));
  FPM.addPass(InstCombinePass());
  return FPM;
}

/// What a thread keeps between compiles: analysis managers with every
/// analysis registered, and the pipeline, both built once. Building them
/// cost more than running them on a small kernel. (LLVM's default module
/// pipeline cannot be kept: its inliner moves its inner pipeline out on
/// its first run. Function passes keep no state between functions.)
struct CachedPipeline {
  LoopAnalysisManager LAM;
  FunctionAnalysisManager FAM;
  CGSCCAnalysisManager CGAM;
  ModuleAnalysisManager MAM;
  FunctionPassManager FPM;

  CachedPipeline() {
    // Registered first, so PassBuilder's own registration (which would
    // capture a TargetMachine) is skipped.
    FAM.registerPass([] {
      return TargetIRAnalysis([](const Function &F) {
        return CurrentTM->getTargetTransformInfo(F);
      });
    });
    PassBuilder PB;
    PB.registerModuleAnalyses(MAM);
    PB.registerCGSCCAnalyses(CGAM);
    PB.registerFunctionAnalyses(FAM);
    PB.registerLoopAnalyses(LAM);
    PB.crossRegisterProxies(LAM, FAM, CGAM, MAM);
    FPM = buildDspPipeline();
  }

  void run(Module &M) {
    for (Function &F : M)
      if (!F.isDeclaration() && !F.hasOptNone())
        FPM.run(F, FAM);
    // The module dies after code generation: forget everything about it.
    LAM.clear();
    FAM.clear();
    CGAM.clear();
    MAM.clear();
  }
};

/// LLVM's default pipeline, built afresh (O1, and the "llvm" pipeline of
/// CompileOptions, for comparing against ours).
void runDefaultPipeline(Module &M, TargetMachine &TM, unsigned OptLevel) {
  LoopAnalysisManager LAM;
  FunctionAnalysisManager FAM;
  CGSCCAnalysisManager CGAM;
  ModuleAnalysisManager MAM;
  PipelineTuningOptions PTO;
  PTO.LoopVectorization = OptLevel >= 2;
  PTO.SLPVectorization = OptLevel >= 2;
  PassBuilder PB(&TM, PTO);
  PB.registerModuleAnalyses(MAM);
  PB.registerCGSCCAnalyses(CGAM);
  PB.registerFunctionAnalyses(FAM);
  PB.registerLoopAnalyses(LAM);
  PB.crossRegisterProxies(LAM, FAM, CGAM, MAM);

  OptimizationLevel Level = OptLevel == 0   ? OptimizationLevel::O0
                            : OptLevel == 1 ? OptimizationLevel::O1
                            : OptLevel == 2 ? OptimizationLevel::O2
                                            : OptimizationLevel::O3;
  ModulePassManager MPM = OptLevel == 0
                              ? PB.buildO0DefaultPipeline(Level)
                              : PB.buildPerModuleDefaultPipeline(Level);
  MPM.run(M, MAM);
}

} // namespace

void optimizeModule(Module &M, TargetMachine &TM, unsigned OptLevel,
                    bool LlvmPipeline) {
  M.setDataLayout(TM.createDataLayout());
  M.setTargetTriple(TM.getTargetTriple().str());
  for (Function &F : M) {
    if (F.isDeclaration())
      continue;
    F.addFnAttr("target-cpu", TM.getTargetCPU());
    F.addFnAttr("target-features", TM.getTargetFeatureString());
  }
  if (OptLevel < 2 || LlvmPipeline) {
    runDefaultPipeline(M, TM, OptLevel);
  } else {
    thread_local std::unique_ptr<CachedPipeline> Cached;
    if (!Cached)
      Cached = std::make_unique<CachedPipeline>();
    CurrentTM = &TM;
    Cached->run(M);
    CurrentTM = nullptr;
  }
  // Last, at every level: instruction selection's time grows faster than
  // a block (BlockSplitter.h).
  for (Function &F : M)
    if (!F.isDeclaration())
      splitLongBlocks(F);
}

} // namespace dspjit
