//===- compiler/Optimizer.h - LLVM IR to optimized LLVM IR ----------------===//
//
// Runs LLVM's standard pipeline (new pass manager) tuned for the host CPU, so
// that what `dspjit emit --emit=llvm-opt` shows is exactly what gets JITed.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_OPTIMIZER_H
#define DSPJIT_COMPILER_OPTIMIZER_H

#include <memory>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace dspjit {

/// A TargetMachine for the CPU this process runs on, or null (with a message
/// in `Error`) when LLVM has no target for it.
std::unique_ptr<llvm::TargetMachine> createHostTargetMachine(unsigned OptLevel,
                                                             std::string &Error);

/// Optimizes `M` in place at `OptLevel` (0 to 3) for `TM`'s CPU.
void optimizeModule(llvm::Module &M, llvm::TargetMachine &TM, unsigned OptLevel);

} // namespace dspjit

#endif
