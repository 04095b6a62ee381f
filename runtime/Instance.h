//===- runtime/Instance.h - One running copy of a compiled kernel -*- C++ -*-===//
//
// A kernel (runtime/dspjit_abi.h) is code plus a description; an Instance is
// the memory it runs on: one zeroed, aligned block holding the header
// counters, parameters, meters, state and delay lines. Everything the host
// does with a running effect -- set a parameter, read a meter, count
// callbacks -- is a load or store at an offset the slot table gives, and
// this class is the one place that does that arithmetic.
//
// The Instance owns its memory and borrows the descriptor: the kernel (and
// the code it points at) must outlive every Instance made from it.
//
// Thread contracts are written on each function. In short: `process` is the
// audio thread's; parameter targets, meters and counters may be touched from
// any thread at any time; everything that allocates or re-initializes is for
// the control thread while no stream runs the instance.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_INSTANCE_H
#define DSPJIT_RUNTIME_INSTANCE_H

#include "runtime/Result.h"
#include "runtime/dspjit_abi.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dspjit {

/// Checks that a descriptor is one this runtime can host: ABI version,
/// non-null functions, a sane size and alignment, and every slot inside the
/// instance. A failure here is a compiler bug, reported as a message.
/// Thread: any thread except the audio thread (allocates on failure).
Result<void> checkKernel(const DspjitKernel &Kernel);

/// The slot named `Name`, or null. Linear in the number of slots; does not
/// allocate. Thread: any, including the audio thread.
const DspjitSlot *findSlot(const DspjitKernel &Kernel, std::string_view Name);

/// The slot named `Name` of kind `Kind`, or why not ("unknown parameter
/// 'feedbak'; did you mean 'feedback'? ..."). Thread: any thread except the
/// audio thread (allocates on failure).
Result<const DspjitSlot *> requireSlot(const DspjitKernel &Kernel,
                                       std::string_view Name,
                                       DspjitSlotKind Kind);

/// Names of the slots of one kind, in table order.
/// Thread: any thread except the audio thread (allocates).
std::vector<std::string> slotNames(const DspjitKernel &Kernel,
                                   DspjitSlotKind Kind);

/// "param", "meter", "state" or "delay".
const char *slotKindName(uint32_t Kind);

/// `Value` clamped into the parameter's [min, max]. NaN gives the default.
/// Thread: any, including the audio thread.
float clampParam(const DspjitSlot &Param, float Value);

/// What a setParam call did.
struct ParamUpdate {
  enum Outcome {
    Set,         ///< stored as given
    Clamped,     ///< stored after clamping into range; Message says so
    UnknownName, ///< nothing stored; Message lists names, maybe "did you mean"
    NotAParam,   ///< the name is a meter, state or delay; nothing stored
    NotFinite,   ///< NaN or infinity; nothing stored
  };
  Outcome Status = Set;
  /// The value stored (after clamping); meaningless when nothing was stored.
  float Value = 0;
  /// Empty for Set; a warning for Clamped; an error otherwise.
  std::string Message;

  /// True when a value was stored (Set or Clamped).
  bool stored() const { return Status == Set || Status == Clamped; }
};

class Instance {
public:
  /// Allocates and initializes an instance of `Kernel` for `SampleRate`.
  /// Fails when the descriptor is malformed or the kernel was compiled for
  /// another rate (kernels are specialized to their rate).
  /// Thread: control thread (allocates).
  static Result<Instance> create(const DspjitKernel &Kernel, double SampleRate);

  Instance(Instance &&) noexcept = default;
  Instance &operator=(Instance &&) noexcept = default;
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;
  /// Frees the memory. No stream may still be running the instance.
  ~Instance() = default;

  const DspjitKernel &kernel() const { return *Kernel; }
  double sampleRate() const { return SampleRate; }

  /// The userData to hand to `kernel().process` (and to Pa_OpenStream).
  /// Stable for the instance's lifetime, across moves.
  /// Thread: any.
  void *data() const { return Memory.get(); }

  /// Runs the kernel on one block, exactly as a PortAudio callback would.
  /// `In` holds Frames * inputs interleaved samples (null when the kernel has
  /// no inputs), `Out` Frames * outputs (null when it has no outputs).
  /// `Time` may be null: zero times are passed instead. Returns what
  /// process returned (0, paContinue).
  /// Thread: the audio thread, or any one thread while no stream runs it.
  int process(const float *In, float *Out, unsigned long Frames,
              const DspjitTimeInfo *Time = nullptr);

  /// Runs init again: parameters back to their defaults, state and delay
  /// lines cleared, counters zeroed.
  /// Thread: control thread, never concurrently with process().
  void reset();

  /// Sets a parameter's target; the kernel smooths towards it from its next
  /// callback on. The value is clamped into range (reported as Clamped).
  /// The store itself is one relaxed atomic float store.
  /// Thread: any thread except the audio thread (builds messages). From the
  /// audio thread use findSlot() once and setParamTarget().
  ParamUpdate setParam(std::string_view Name, float Value);

  /// Like setParam, but also sets the smoothed value, so that processing
  /// starts at `Value` without a ramp from the default (e.g. `render --set`).
  /// Thread: control thread, never concurrently with process().
  ParamUpdate setParamImmediate(std::string_view Name, float Value);

  /// Stores a clamped target for a slot found with findSlot (a PARAM slot).
  /// Thread: any, including the audio thread.
  void setParamTarget(const DspjitSlot &Param, float Value);

  /// The target last set (or the default), and the smoothed value the kernel
  /// uses right now. Fail on an unknown name or a non-parameter.
  /// Thread: any thread except the audio thread (allocates on failure).
  Result<float> param(std::string_view Name) const;
  Result<float> smoothedParam(std::string_view Name) const;

  /// The meter's lanes, each loaded atomically (lanes may come from
  /// different callbacks). Fails on an unknown name or a non-meter.
  /// Thread: any thread except the audio thread (allocates).
  Result<std::vector<float>> meter(std::string_view Name) const;

  /// Header counters (relaxed atomic loads). Thread: any.
  uint64_t framesProcessed() const;
  uint64_t callbacks() const;
  uint64_t nonfiniteSamples() const;

private:
  struct AlignedFree {
    std::size_t Align;
    void operator()(std::byte *P) const;
  };

  Instance(const DspjitKernel &Kernel, double SampleRate,
           std::unique_ptr<std::byte[], AlignedFree> Memory)
      : Kernel(&Kernel), SampleRate(SampleRate), Memory(std::move(Memory)) {}

  /// Finds the parameter and clamps the value; on failure Slot is null and
  /// the update says why.
  ParamUpdate prepareParam(std::string_view Name, float Value,
                           const DspjitSlot *&Slot) const;
  Result<const DspjitSlot *> requireSlot(std::string_view Name,
                                         DspjitSlotKind Kind) const;
  float *floatAt(uint32_t Offset) const;
  uint64_t headerCounter(std::size_t FieldOffset) const;

  const DspjitKernel *Kernel;
  double SampleRate;
  std::unique_ptr<std::byte[], AlignedFree> Memory;
};

} // namespace dspjit

#endif
