//===- compiler/Jit.cpp - Optimized IR to native code with LLVM ORC -------===//
#include "compiler/Jit.h"
#include "compiler/Optimizer.h"
#include "runtime/dspjit_abi.h"

#include "llvm/ExecutionEngine/Orc/CompileUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ThreadSafeModule.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Target/TargetMachine.h"

#include <cmath>
#include <cstring>
#include <mutex>

using namespace llvm;
using namespace llvm::orc;

// glibc's vector math (libmvec). Only their addresses are taken here, so
// they are declared without their vector types.
extern "C" {
void _ZGVbN4v_sinf();
void _ZGVbN2v_sin();
void _ZGVbN4v_cosf();
void _ZGVbN2v_cos();
void _ZGVbN4v_tanf();
void _ZGVbN2v_tan();
void _ZGVbN4v_asinf();
void _ZGVbN2v_asin();
void _ZGVbN4v_acosf();
void _ZGVbN2v_acos();
void _ZGVbN4v_atanf();
void _ZGVbN2v_atan();
void _ZGVbN4v_sinhf();
void _ZGVbN2v_sinh();
void _ZGVbN4v_coshf();
void _ZGVbN2v_cosh();
void _ZGVbN4v_tanhf();
void _ZGVbN2v_tanh();
void _ZGVbN4v_expf();
void _ZGVbN2v_exp();
void _ZGVbN4v_exp2f();
void _ZGVbN2v_exp2();
void _ZGVbN4v_logf();
void _ZGVbN2v_log();
void _ZGVbN4v_log2f();
void _ZGVbN2v_log2();
void _ZGVbN4v_log10f();
void _ZGVbN2v_log10();
void _ZGVbN4vv_atan2f();
void _ZGVbN2vv_atan2();
void _ZGVbN4vv_powf();
void _ZGVbN2vv_pow();
void _ZGVdN8v_sinf();
void _ZGVdN4v_sin();
void _ZGVdN8v_cosf();
void _ZGVdN4v_cos();
void _ZGVdN8v_tanf();
void _ZGVdN4v_tan();
void _ZGVdN8v_asinf();
void _ZGVdN4v_asin();
void _ZGVdN8v_acosf();
void _ZGVdN4v_acos();
void _ZGVdN8v_atanf();
void _ZGVdN4v_atan();
void _ZGVdN8v_sinhf();
void _ZGVdN4v_sinh();
void _ZGVdN8v_coshf();
void _ZGVdN4v_cosh();
void _ZGVdN8v_tanhf();
void _ZGVdN4v_tanh();
void _ZGVdN8v_expf();
void _ZGVdN4v_exp();
void _ZGVdN8v_exp2f();
void _ZGVdN4v_exp2();
void _ZGVdN8v_logf();
void _ZGVdN4v_log();
void _ZGVdN8v_log2f();
void _ZGVdN4v_log2();
void _ZGVdN8v_log10f();
void _ZGVdN4v_log10();
void _ZGVdN8vv_atan2f();
void _ZGVdN4vv_atan2();
void _ZGVdN8vv_powf();
void _ZGVdN4vv_pow();
}

namespace dspjit {

namespace {
struct MathSymbol {
  const char *Name;
  void *Address;
};

template <typename T> void *addr(T *F) { return reinterpret_cast<void *>(F); }

/// Everything generated code may call: libm, the memory intrinsics LLVM
/// may emit for `init`, and the runtime's convolution.
const std::vector<MathSymbol> &mathSymbols() {
  static const std::vector<MathSymbol> Table = {
      {"sinf", addr<float(float)>(::sinf)},
      {"cosf", addr<float(float)>(::cosf)},
      {"tanf", addr<float(float)>(::tanf)},
      {"asinf", addr<float(float)>(::asinf)},
      {"acosf", addr<float(float)>(::acosf)},
      {"atanf", addr<float(float)>(::atanf)},
      {"atan2f", addr<float(float, float)>(::atan2f)},
      {"sinhf", addr<float(float)>(::sinhf)},
      {"coshf", addr<float(float)>(::coshf)},
      {"tanhf", addr<float(float)>(::tanhf)},
      {"expf", addr<float(float)>(::expf)},
      {"exp2f", addr<float(float)>(::exp2f)},
      {"exp10f", addr<float(float)>(::exp10f)},
      {"logf", addr<float(float)>(::logf)},
      {"log2f", addr<float(float)>(::log2f)},
      {"log10f", addr<float(float)>(::log10f)},
      {"powf", addr<float(float, float)>(::powf)},
      {"sqrtf", addr<float(float)>(::sqrtf)},
      {"fmodf", addr<float(float, float)>(::fmodf)},
      {"floorf", addr<float(float)>(::floorf)},
      {"ceilf", addr<float(float)>(::ceilf)},
      {"roundf", addr<float(float)>(::roundf)},
      {"truncf", addr<float(float)>(::truncf)},
      {"fabsf", addr<float(float)>(::fabsf)},
      {"fminf", addr<float(float, float)>(::fminf)},
      {"fmaxf", addr<float(float, float)>(::fmaxf)},
      {"ldexpf", addr<float(float, int)>(::ldexpf)},
      {"sincosf", addr<void(float, float *, float *)>(::sincosf)},
      {"sin", addr<double(double)>(::sin)},
      {"cos", addr<double(double)>(::cos)},
      {"tan", addr<double(double)>(::tan)},
      {"asin", addr<double(double)>(::asin)},
      {"acos", addr<double(double)>(::acos)},
      {"atan", addr<double(double)>(::atan)},
      {"atan2", addr<double(double, double)>(::atan2)},
      {"sinh", addr<double(double)>(::sinh)},
      {"cosh", addr<double(double)>(::cosh)},
      {"tanh", addr<double(double)>(::tanh)},
      {"exp", addr<double(double)>(::exp)},
      {"exp2", addr<double(double)>(::exp2)},
      {"exp10", addr<double(double)>(::exp10)},
      {"log", addr<double(double)>(::log)},
      {"log2", addr<double(double)>(::log2)},
      {"log10", addr<double(double)>(::log10)},
      {"pow", addr<double(double, double)>(::pow)},
      {"sqrt", addr<double(double)>(::sqrt)},
      {"fmod", addr<double(double, double)>(::fmod)},
      {"floor", addr<double(double)>(::floor)},
      {"ceil", addr<double(double)>(::ceil)},
      {"round", addr<double(double)>(::round)},
      {"trunc", addr<double(double)>(::trunc)},
      {"fabs", addr<double(double)>(::fabs)},
      {"fmin", addr<double(double, double)>(::fmin)},
      {"fmax", addr<double(double, double)>(::fmax)},
      {"ldexp", addr<double(double, int)>(::ldexp)},
      {"sincos", addr<void(double, double *, double *)>(::sincos)},
      {"memset", addr<void *(void *, int, size_t)>(::memset)},
      // libmvec: SSE4 ('b', 128-bit) and AVX2 ('d', 256-bit) variants.
      {"_ZGVbN4v_sinf", addr<void()>(_ZGVbN4v_sinf)},
      {"_ZGVbN2v_sin", addr<void()>(_ZGVbN2v_sin)},
      {"_ZGVbN4v_cosf", addr<void()>(_ZGVbN4v_cosf)},
      {"_ZGVbN2v_cos", addr<void()>(_ZGVbN2v_cos)},
      {"_ZGVbN4v_tanf", addr<void()>(_ZGVbN4v_tanf)},
      {"_ZGVbN2v_tan", addr<void()>(_ZGVbN2v_tan)},
      {"_ZGVbN4v_asinf", addr<void()>(_ZGVbN4v_asinf)},
      {"_ZGVbN2v_asin", addr<void()>(_ZGVbN2v_asin)},
      {"_ZGVbN4v_acosf", addr<void()>(_ZGVbN4v_acosf)},
      {"_ZGVbN2v_acos", addr<void()>(_ZGVbN2v_acos)},
      {"_ZGVbN4v_atanf", addr<void()>(_ZGVbN4v_atanf)},
      {"_ZGVbN2v_atan", addr<void()>(_ZGVbN2v_atan)},
      {"_ZGVbN4v_sinhf", addr<void()>(_ZGVbN4v_sinhf)},
      {"_ZGVbN2v_sinh", addr<void()>(_ZGVbN2v_sinh)},
      {"_ZGVbN4v_coshf", addr<void()>(_ZGVbN4v_coshf)},
      {"_ZGVbN2v_cosh", addr<void()>(_ZGVbN2v_cosh)},
      {"_ZGVbN4v_tanhf", addr<void()>(_ZGVbN4v_tanhf)},
      {"_ZGVbN2v_tanh", addr<void()>(_ZGVbN2v_tanh)},
      {"_ZGVbN4v_expf", addr<void()>(_ZGVbN4v_expf)},
      {"_ZGVbN2v_exp", addr<void()>(_ZGVbN2v_exp)},
      {"_ZGVbN4v_exp2f", addr<void()>(_ZGVbN4v_exp2f)},
      {"_ZGVbN2v_exp2", addr<void()>(_ZGVbN2v_exp2)},
      {"_ZGVbN4v_logf", addr<void()>(_ZGVbN4v_logf)},
      {"_ZGVbN2v_log", addr<void()>(_ZGVbN2v_log)},
      {"_ZGVbN4v_log2f", addr<void()>(_ZGVbN4v_log2f)},
      {"_ZGVbN2v_log2", addr<void()>(_ZGVbN2v_log2)},
      {"_ZGVbN4v_log10f", addr<void()>(_ZGVbN4v_log10f)},
      {"_ZGVbN2v_log10", addr<void()>(_ZGVbN2v_log10)},
      {"_ZGVbN4vv_atan2f", addr<void()>(_ZGVbN4vv_atan2f)},
      {"_ZGVbN2vv_atan2", addr<void()>(_ZGVbN2vv_atan2)},
      {"_ZGVbN4vv_powf", addr<void()>(_ZGVbN4vv_powf)},
      {"_ZGVbN2vv_pow", addr<void()>(_ZGVbN2vv_pow)},
      {"_ZGVdN8v_sinf", addr<void()>(_ZGVdN8v_sinf)},
      {"_ZGVdN4v_sin", addr<void()>(_ZGVdN4v_sin)},
      {"_ZGVdN8v_cosf", addr<void()>(_ZGVdN8v_cosf)},
      {"_ZGVdN4v_cos", addr<void()>(_ZGVdN4v_cos)},
      {"_ZGVdN8v_tanf", addr<void()>(_ZGVdN8v_tanf)},
      {"_ZGVdN4v_tan", addr<void()>(_ZGVdN4v_tan)},
      {"_ZGVdN8v_asinf", addr<void()>(_ZGVdN8v_asinf)},
      {"_ZGVdN4v_asin", addr<void()>(_ZGVdN4v_asin)},
      {"_ZGVdN8v_acosf", addr<void()>(_ZGVdN8v_acosf)},
      {"_ZGVdN4v_acos", addr<void()>(_ZGVdN4v_acos)},
      {"_ZGVdN8v_atanf", addr<void()>(_ZGVdN8v_atanf)},
      {"_ZGVdN4v_atan", addr<void()>(_ZGVdN4v_atan)},
      {"_ZGVdN8v_sinhf", addr<void()>(_ZGVdN8v_sinhf)},
      {"_ZGVdN4v_sinh", addr<void()>(_ZGVdN4v_sinh)},
      {"_ZGVdN8v_coshf", addr<void()>(_ZGVdN8v_coshf)},
      {"_ZGVdN4v_cosh", addr<void()>(_ZGVdN4v_cosh)},
      {"_ZGVdN8v_tanhf", addr<void()>(_ZGVdN8v_tanhf)},
      {"_ZGVdN4v_tanh", addr<void()>(_ZGVdN4v_tanh)},
      {"_ZGVdN8v_expf", addr<void()>(_ZGVdN8v_expf)},
      {"_ZGVdN4v_exp", addr<void()>(_ZGVdN4v_exp)},
      {"_ZGVdN8v_exp2f", addr<void()>(_ZGVdN8v_exp2f)},
      {"_ZGVdN4v_exp2", addr<void()>(_ZGVdN4v_exp2)},
      {"_ZGVdN8v_logf", addr<void()>(_ZGVdN8v_logf)},
      {"_ZGVdN4v_log", addr<void()>(_ZGVdN4v_log)},
      {"_ZGVdN8v_log2f", addr<void()>(_ZGVdN8v_log2f)},
      {"_ZGVdN4v_log2", addr<void()>(_ZGVdN4v_log2)},
      {"_ZGVdN8v_log10f", addr<void()>(_ZGVdN8v_log10f)},
      {"_ZGVdN4v_log10", addr<void()>(_ZGVdN4v_log10)},
      {"_ZGVdN8vv_atan2f", addr<void()>(_ZGVdN8vv_atan2f)},
      {"_ZGVdN4vv_atan2", addr<void()>(_ZGVdN4vv_atan2)},
      {"_ZGVdN8vv_powf", addr<void()>(_ZGVdN8vv_powf)},
      {"_ZGVdN4vv_pow", addr<void()>(_ZGVdN4vv_pow)},
      {"memcpy", addr<void *(void *, const void *, size_t)>(::memcpy)},
      {"memmove", addr<void *(void *, const void *, size_t)>(::memmove)},
      // `convolve` (runtime/Convolver.h).
      {"dspjit_convolve_init", addr(dspjit_convolve_init)},
      {"dspjit_convolve_frame", addr(dspjit_convolve_frame)},
  };
  return Table;
}
} // namespace

const std::vector<std::string> &JitEngine::mathWhitelist() {
  static const std::vector<std::string> Names = [] {
    std::vector<std::string> N;
    for (const MathSymbol &S : mathSymbols())
      N.push_back(S.Name);
    return N;
  }();
  return Names;
}

std::shared_ptr<JitEngine> JitEngine::get(std::string &Error) {
  static std::mutex Mutex;
  static std::shared_ptr<JitEngine> Engine;
  std::lock_guard<std::mutex> Lock(Mutex);
  if (Engine)
    return Engine;
  std::string TMError;
  if (!createHostTargetMachine(3, TMError)) { // also initializes the target
    Error = TMError;
    return nullptr;
  }
  auto JTMB = targetMachineBuilder();
  if (!JTMB) {
    Error = toString(JTMB.takeError());
    return nullptr;
  }
  JTMB->setCodeGenOptLevel(CodeGenOptLevel::Aggressive);
  auto J = LLJITBuilder()
               .setJITTargetMachineBuilder(std::move(*JTMB))
               .setLinkProcessSymbolsByDefault(false)
               .setPlatformSetUp(setUpInactivePlatform)
               // Hot reload compiles on background threads while other
               // threads compile too: give each compile its own TargetMachine.
               .setSupportConcurrentCompilation(true)
               .create();
  if (!J) {
    Error = toString(J.takeError());
    return nullptr;
  }
  // The engine lives until the process ends and is never destroyed: an
  // LLJIT torn down among static destructors races LLVM's own (seen as
  // "JIT session error: Resource tracker ... became defunct" at exit).
  // Kernels share it and free their own code; the OS reclaims the rest.
  JitEngine *Leaked = new JitEngine();
  std::shared_ptr<JitEngine> E(Leaked, [](JitEngine *) {});
  E->J = std::move(*J);
  ExecutionSession &ES = E->J->getExecutionSession();
  E->MathLib = &ES.createBareJITDylib("dspjit.math");
  SymbolMap Symbols;
  for (const MathSymbol &S : mathSymbols())
    Symbols[E->J->mangleAndIntern(S.Name)] = {ExecutorAddr::fromPtr(S.Address),
                                              JITSymbolFlags::Exported};
  if (auto Err = E->MathLib->define(absoluteSymbols(std::move(Symbols)))) {
    Error = toString(std::move(Err));
    return nullptr;
  }
  Engine = E;
  return Engine;
}

JitEngine::~JitEngine() = default;

const DspjitKernel *JitEngine::add(std::unique_ptr<Module> M, TargetMachine &TM,
                                   JITDylib *&Dylib, std::string &Error,
                                   std::string *Object) {
  M->setDataLayout(J->getDataLayout());
  auto Compiled = SimpleCompiler(TM)(*M);
  if (!Compiled) {
    Error = toString(Compiled.takeError());
    return nullptr;
  }
  if (Object)
    *Object = (*Compiled)->getBuffer().str();
  return addObject(std::move(*Compiled), Dylib, Error);
}

const DspjitKernel *JitEngine::addObject(std::unique_ptr<MemoryBuffer> Object,
                                         JITDylib *&Dylib, std::string &Error) {
  ExecutionSession &ES = J->getExecutionSession();
  JITDylib *JD = nullptr;
  ES.runSessionLocked([&] {
    JD = &ES.createBareJITDylib("kernel." + std::to_string(NextId++));
  });
  JD->setLinkOrder({{MathLib, JITDylibLookupFlags::MatchExportedSymbolsOnly}},
                   false);
  if (auto Err = J->addObjectFile(*JD, std::move(Object))) {
    Error = toString(std::move(Err));
    remove(JD);
    return nullptr;
  }
  // Looking the descriptor up links the object now, not on the audio
  // thread's first call.
  auto Addr = J->lookup(*JD, DSPJIT_KERNEL_SYMBOL);
  if (!Addr) {
    Error = toString(Addr.takeError());
    remove(JD);
    return nullptr;
  }
  Dylib = JD;
  return Addr->toPtr<const DspjitKernel *>();
}

void JitEngine::remove(JITDylib *Dylib) {
  if (!Dylib)
    return;
  if (auto Err = J->getExecutionSession().removeJITDylib(*Dylib))
    consumeError(std::move(Err));
}

} // namespace dspjit
