//===- tests/fuzz/FuzzHarness.h - Running untrusted kernels inside guard pages -*- C++ -*-===//
//
// What the fuzz targets share: compiling a script with its diagnostics kept
// quiet, and running a compiled kernel so that any access outside its
// instance or its buffers faults at once.
//
// AddressSanitizer cannot see what JIT-compiled code does: the kernel is
// not instrumented. So the fuzz targets do not hand it heap blocks; every
// block the kernel touches (the instance, the input and the output buffer)
// ends exactly at a PROT_NONE page, with another in front of it, and a
// read or write past either end is a SIGSEGV that libFuzzer reports as a
// crash with the input that caused it. (Blocks are aligned at their start
// to what the kernel asks for, so a few bytes of slack may separate a
// block's end from its guard page; the slack is smaller than one element
// of the kernel's alignment.)
//
// Thread contract: one thread, the fuzzer's.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_FUZZ_FUZZHARNESS_H
#define DSPJIT_TESTS_FUZZ_FUZZHARNESS_H

#include "compiler/Compiler.h"
#include "runtime/dspjit_abi.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dspjit::fuzz {

/// Frames per run and per block: short, so that a fuzzer runs many inputs.
constexpr unsigned RunFrames = 256;
constexpr unsigned RunBlock = 64;
constexpr double RunRate = 48000;

/// Bytes mapped between two inaccessible guard pages; the usable block
/// ends as close to the trailing guard page as `Align` allows.
class GuardedBlock {
public:
  GuardedBlock(std::size_t Bytes, std::size_t Align);
  ~GuardedBlock();
  GuardedBlock(const GuardedBlock &) = delete;
  GuardedBlock &operator=(const GuardedBlock &) = delete;

  void *data() const { return Data; }
  std::size_t size() const { return Bytes; }

private:
  void *Map = nullptr;
  std::size_t MapBytes = 0;
  void *Data = nullptr;
  std::size_t Bytes = 0;
};

/// The output of one run: RunFrames * outputs interleaved samples, and
/// the instance's counters.
struct RunResult {
  std::vector<float> Out;
  uint64_t Frames = 0, Callbacks = 0, Nonfinite = 0;
};

/// Runs `K` for RunFrames frames in RunBlock blocks on `Input` (RunFrames *
/// inputs samples, repeated if shorter), in guarded memory, after setting
/// each parameter's target to the value `ParamValue(i)` gives (raw stores,
/// unclamped, as a racing host might leave them). Aborts when the kernel
/// breaks the ABI: a non-finite output sample, a wrong counter, a non-zero
/// return.
RunResult runGuarded(const DspjitKernel &K, const std::vector<float> &Input,
                     float (*ParamValue)(unsigned Index));

/// Also runs `K` through runtime/Instance (create, setParam with values
/// in and out of range, process, reset, meters) on ordinary heap memory.
void runThroughInstance(const DspjitKernel &K);

/// A deterministic test input: noise, an impulse, silence and full-scale
/// steps, per channel.
std::vector<float> testInput(unsigned Channels);

/// Prints why the harness stops, then aborts (libFuzzer reports it).
[[noreturn]] void fail(const std::string &Why);

} // namespace dspjit::fuzz

#endif
