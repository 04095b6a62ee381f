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

/// The CPU kernels are compiled for: the host's, or the one named by the
/// environment variable DSPJIT_CPU (e.g. `x86-64-v3` for AVX2 only, so that
/// valgrind, which cannot run AVX-512, can count the instructions).
std::string targetCpuName();
/// Whether the target CPU has AVX2.
bool targetHasAvx2();
/// Whether the target CPU has fused multiply-add (x86: FMA3).
bool targetHasFma();

/// Initializes LLVM's native target and sets its process-wide options,
/// once: dspjit's defaults (Optimizer.cpp), then those of the environment
/// variable DSPJIT_LLVM_ARGS (LLVM's own syntax, for experiments, e.g.
/// `-enable-misched`). Returns what is wrong with the latter, or "".
const std::string &initializeLlvm();

/// Builds a JITTargetMachineBuilder for targetCpuName().
llvm::Expected<llvm::orc::JITTargetMachineBuilder> targetMachineBuilder();

/// $DSPJIT_LLVM_ARGS, which changes machine code: part of the object
/// cache's key.
std::string llvmOptionsKey();

/// A TargetMachine for targetCpuName(), or null (with a message in `Error`)
/// when LLVM has no target for it.
std::unique_ptr<llvm::TargetMachine> createHostTargetMachine(unsigned OptLevel,
                                                             std::string &Error);

/// Optimizes `M` in place at `OptLevel` (0 to 3) for `TM`'s CPU.
void optimizeModule(llvm::Module &M, llvm::TargetMachine &TM, unsigned OptLevel);

} // namespace dspjit

#endif
