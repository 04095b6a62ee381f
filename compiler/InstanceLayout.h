//===- compiler/InstanceLayout.h - Where each slot lives in an instance ---===//
//
// Why this pass exists: the instance memory is part of the ABI. The host
// allocates InstanceSize bytes (aligned to InstanceAlign), zeroes them, and
// finds parameters and meters at the offsets the kernel descriptor lists
// (runtime/dspjit_abi.h); the generated code reads and writes at the same
// offsets. One function decides them, after width inference (a slot's
// size depends on its width) and before code generation.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_INSTANCELAYOUT_H
#define DSPJIT_COMPILER_INSTANCELAYOUT_H

#include <cstdint>

namespace dspjit {

struct Program;

/// The instance's alignment (a cache line).
constexpr uint64_t InstanceAlign = 64;
/// The most memory one instance may use.
constexpr uint64_t MaxInstanceBytes = uint64_t(256) << 20;

/// Assigns every slot its Offset, ValueOffset and (delays) Capacity, and
/// sets P.InstanceSize. Layout, after the DspjitInstanceHeader:
///   - params: the host's float target, then the smoothed float value;
///   - meters: Width floats;
///   - state: Count x Width elements (float, or double with --double);
///   - delays: a uint32 write position here; their buffers come after the
///     slots, each on its own cache line;
///   - last, the state of each `convolve` call, on its own cache line.
void layoutInstance(Program &P);

} // namespace dspjit

#endif
