//===- compiler/Optimizer.h - LLVM IR to optimized LLVM IR ----------------===//
//
// Runs dspjit's function pipeline (LLVM's O3 passes that matter for kernels,
// Optimizer.cpp) tuned for the host CPU, so that what `dspjit emit
// --emit=llvm-opt` shows is exactly what gets JITed.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_OPTIMIZER_H
#define DSPJIT_COMPILER_OPTIMIZER_H

#include <memory>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
template <typename T> class Expected;
namespace orc {
class JITTargetMachineBuilder;
}
} // namespace llvm

namespace dspjit {

/// The CPU kernels are compiled for: `Cpu` (an LLVM name such as
/// `x86-64-v3`, e.g. for AVX2 only, so that valgrind, which cannot run
/// AVX-512, can count the instructions), or the host's when empty
/// (CompileOptions::cpu).
std::string targetCpuName(const std::string &Cpu = "");
/// Whether that CPU has AVX2.
bool targetHasAvx2(const std::string &Cpu = "");
/// Whether that CPU has fused multiply-add (x86: FMA3).
bool targetHasFma(const std::string &Cpu = "");

/// Initializes LLVM's native target and sets its process-wide options,
/// once: dspjit's defaults (Optimizer.cpp), then `LlvmArgs` (LLVM's own
/// syntax, for experiments, e.g. `-enable-misched`; CompileOptions::llvmArgs).
/// Returns what is wrong with them, or "". LLVM keeps these options for
/// the whole process: a later call with other options is refused.
std::string initializeLlvm(const std::string &LlvmArgs);

/// Builds a JITTargetMachineBuilder for targetCpuName(Cpu).
llvm::Expected<llvm::orc::JITTargetMachineBuilder>
targetMachineBuilder(const std::string &Cpu = "");

/// A TargetMachine for targetCpuName(Cpu), or null (with a message in
/// `Error`) when LLVM has no target for it.
std::unique_ptr<llvm::TargetMachine>
createHostTargetMachine(unsigned OptLevel, std::string &Error,
                        const std::string &Cpu = "");

/// Optimizes `M` in place at `OptLevel` (0 to 3) for `TM`'s CPU, with
/// dspjit's pipeline, or LLVM's default one when `LlvmPipeline` (for
/// comparing them; CompileOptions::pipeline).
void optimizeModule(llvm::Module &M, llvm::TargetMachine &TM, unsigned OptLevel,
                    bool LlvmPipeline = false);

} // namespace dspjit

#endif
