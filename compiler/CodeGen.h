//===- compiler/CodeGen.h - Checked program to LLVM IR --------------------===//
//
// Emits one LLVM module per script. It defines:
//   - dspjit_process: PortAudio's PaStreamCallback, with noalias buffers;
//     it flushes denormals (FTZ/DAZ) for its duration, keeps every scalar
//     state in registers across the frame loop and writes it back once,
//     computes what depends only on settled parameters once per block, and
//     replaces non-finite output samples with silence;
//   - dspjit_init: resets an instance;
//   - dspjit_kernel: the DspjitKernel descriptor (runtime/dspjit_abi.h).
// The only functions the module may call are the math whitelist (Jit.h).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_CODEGEN_H
#define DSPJIT_COMPILER_CODEGEN_H

#include "compiler/Program.h"

#include <memory>

namespace llvm {
class LLVMContext;
class Module;
class StructType;
} // namespace llvm

namespace dspjit {

/// The IR of a checked program for `Cpu` (an LLVM CPU name; empty: the
/// host's), to be optimized at `OptLevel` (above 0, the frame loop comes
/// in two versions: see emitProcess). The caller verifies it
/// (CompileOptions::verifyIR).
std::unique_ptr<llvm::Module> generateIR(const Program &P,
                                         llvm::LLVMContext &Ctx,
                                         const std::string &Cpu = "",
                                         unsigned OptLevel = 0);

/// The IR types of DspjitSlot and DspjitKernel, for the ABI test.
llvm::StructType *slotStructType(llvm::LLVMContext &Ctx);
llvm::StructType *kernelStructType(llvm::LLVMContext &Ctx);

} // namespace dspjit

#endif
