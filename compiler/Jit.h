//===- compiler/Jit.h - Optimized IR to native code with LLVM ORC ---------===//
//
// One LLJIT per process. Each kernel lives in its own JITDylib, so it can be
// freed on its own (hot reload swaps kernels). A kernel's JITDylib links
// against exactly one other: a bare JITDylib that defines the math whitelist
// and nothing else, so generated code cannot reach any other function of the
// process, whatever the IR asks for.
//
// Thread contract: all functions may be called from any non-audio thread,
// concurrently; none may be called from the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_JIT_H
#define DSPJIT_COMPILER_JIT_H

#include "runtime/dspjit_abi.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class MemoryBuffer;
class Module;
class TargetMachine;
namespace orc {
class LLJIT;
class JITDylib;
} // namespace orc
} // namespace llvm

namespace dspjit {

class JitEngine {
public:
  /// The process-wide engine, created on first use. Null with a message in
  /// `Error` if LLVM cannot target this CPU.
  static std::shared_ptr<JitEngine> get(std::string &Error);
  ~JitEngine();

  /// Compiles `M` to an object with `TM` (the caller's, one per thread and
  /// optimization level), links it into a new JITDylib and returns its
  /// descriptor. The object is also returned in `Object` when asked (for
  /// the disk cache). On failure returns null with a message in `Error`.
  const DspjitKernel *add(std::unique_ptr<llvm::Module> M,
                          llvm::TargetMachine &TM, llvm::orc::JITDylib *&Dylib,
                          std::string &Error, std::string *Object = nullptr);
  /// Links an object compiled before (by add) into a new JITDylib.
  const DspjitKernel *addObject(std::unique_ptr<llvm::MemoryBuffer> Object,
                                llvm::orc::JITDylib *&Dylib,
                                std::string &Error);
  /// Frees a kernel's code. No thread may still be running it.
  void remove(llvm::orc::JITDylib *Dylib);

  /// The functions generated code may call.
  static const std::vector<std::string> &mathWhitelist();

private:
  JitEngine() = default;
  std::unique_ptr<llvm::orc::LLJIT> J;
  llvm::orc::JITDylib *MathLib = nullptr;
  unsigned NextId = 0;
};

} // namespace dspjit

#endif
