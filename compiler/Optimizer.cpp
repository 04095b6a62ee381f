//===- compiler/Optimizer.cpp - LLVM IR to optimized LLVM IR --------------===//
#include "compiler/Optimizer.h"

#include "llvm/Analysis/CGSCCPassManager.h"
#include "llvm/Analysis/LoopAnalysisManager.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

#include <cstdlib>
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

static const char *cpuOverride() {
  const char *Cpu = std::getenv("DSPJIT_CPU");
  return Cpu && *Cpu ? Cpu : nullptr;
}

std::string targetCpuName() {
  const char *Cpu = cpuOverride();
  return Cpu ? Cpu : sys::getHostCPUName().str();
}

bool targetHasAvx2() {
  if (!cpuOverride())
    return sys::getHostCPUFeatures().lookup("avx2");
  InitializeNativeTarget();
  std::string Error;
  const Target *T = TargetRegistry::lookupTarget(sys::getProcessTriple(), Error);
  if (!T)
    return false;
  std::unique_ptr<MCSubtargetInfo> STI(
      T->createMCSubtargetInfo(sys::getProcessTriple(), cpuOverride(), ""));
  return STI && STI->checkFeatures("+avx2");
}

Expected<orc::JITTargetMachineBuilder> targetMachineBuilder() {
  static std::once_flag Once;
  std::call_once(Once, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    InitializeNativeTargetAsmParser();
  });
  auto JTMB = orc::JITTargetMachineBuilder::detectHost();
  if (JTMB && cpuOverride()) {
    JTMB->setCPU(cpuOverride());
    JTMB->getFeatures() = SubtargetFeatures(); // the named CPU's own features
  }
  return JTMB;
}

std::unique_ptr<TargetMachine> createHostTargetMachine(unsigned OptLevel,
                                                       std::string &Error) {
  auto JTMB = targetMachineBuilder();
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

void optimizeModule(Module &M, TargetMachine &TM, unsigned OptLevel) {
  M.setDataLayout(TM.createDataLayout());
  M.setTargetTriple(TM.getTargetTriple().str());
  for (Function &F : M) {
    if (F.isDeclaration())
      continue;
    F.addFnAttr("target-cpu", TM.getTargetCPU());
    F.addFnAttr("target-features", TM.getTargetFeatureString());
  }

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
  ModulePassManager MPM = OptLevel == 0 ? PB.buildO0DefaultPipeline(Level)
                                        : PB.buildPerModuleDefaultPipeline(Level);
  MPM.run(M, MAM);
}

} // namespace dspjit
