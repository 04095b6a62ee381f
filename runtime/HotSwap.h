//===- runtime/HotSwap.h - Replacing a running kernel without a click -*- C++ -*-===//
//
// Hot reload, the runtime half: a new version of a script, compiled while
// the old one keeps playing, replaces it at a block boundary, with
//
//   - its state taken over: every `state` and `delay` that exists in both
//     versions under the same name (call-site path for state inside
//     functions, "process/comb#3/line") and with the same shape takes the
//     old contents, so an echo tail keeps ringing and an oscillator keeps
//     its phase;
//   - the user's controls kept: a parameter the user set keeps its value
//     (clamped to the new range); one never touched takes the new default,
//     so editing `param mix = 0.8` means "now 0.8"; the smoothed value
//     carries over, so nothing jumps;
//   - an equal-power crossfade from old to new, counted in frames (the same
//     at every block size), while both run side by side on the same input;
//     corrected for the correlation of the two, so that two nearly equal
//     versions do not swell by 3 dB in the middle of the fade.
//
// The same code serves `dspjit run` (runtime/Host.cpp calls process() in its
// callback) and `dspjit render --swap` (runtime/Render.cpp), so offline
// tests exercise exactly what plays live.
//
// Shapes. State matches when lanes, element count and element size agree.
// A delay matches when lanes, element size and ring capacity (a power of
// two) agree: the ring then holds the same history of the same signal, so a
// delay made longer or shorter within its capacity keeps its contents and
// reads further back into real history.
//
// The hand-off, lock-free and wait-free for the audio thread:
//
//   control thread                         audio thread (process())
//   prepare(): new Instance, the plan of
//     byte copies from the newest version,
//     parameter values              --->   at a block start, when no fade
//   publish(): one atomic pointer store      runs: exchange the pointer,
//                                            copy the carried state (memcpy,
//                                            bounded by the script's size),
//                                            start the fade
//   collect(): frees versions older   <---   when the fade ends, stores the
//     than the oldest in use                 oldest version number in use
//
// The audio thread never allocates, frees, locks or waits. Versions are
// owned by shared_ptrs on the control side, which drops a version only
// once the audio thread has published that it no longer uses it; threads
// reading meters hold their own shared_ptr, so a version they read is never
// freed under them.
//
// Thread contracts are on each function. "Control thread" is the one
// thread that prepares and publishes; "any thread" excludes the audio
// thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_HOTSWAP_H
#define DSPJIT_RUNTIME_HOTSWAP_H

#include "runtime/Instance.h"
#include "runtime/Realtime.h"
#include "runtime/Result.h"
#include "runtime/SpscRing.h"
#include "runtime/Stats.h"
#include "runtime/Voices.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dspjit {

/// One compiled version of a script with its instance.
struct KernelVersion {
  /// Keeps the kernel's code alive (e.g. the compiler's Kernel).
  std::shared_ptr<const void> Code;
  Instance I;
  /// 1 for the first version, then 2, 3, ... in publishing order.
  uint64_t Number = 0;
  /// Frames of crossfade from the version it replaces; 0 switches at once
  /// (e.g. the same source recompiled with more optimization).
  uint32_t FadeFrames = 0;

  /// Byte range copied from the replaced version's instance at pick-up.
  struct Copy {
    uint32_t From, To, Bytes;
  };
  /// A smoothed parameter value carried over, clamped to the new range.
  struct ParamValue {
    uint32_t From, To;
    float Min, Max;
  };
  uint64_t Replaces = 0; ///< the Number the plan was made against
  std::vector<Copy> Copies;
  std::vector<ParamValue> Values;

  /// monotonicNanoseconds() when the audio thread first ran it; 0 before.
  std::atomic<uint64_t> LiveAtNs{0};

  /// Where an instrument's notes are (Voices 0: not an instrument).
  NoteLayout Notes;

  KernelVersion(std::shared_ptr<const void> Code, Instance I)
      : Code(std::move(Code)), I(std::move(I)),
        Notes(NoteLayout::of(this->I.kernel())) {}
};

/// What a reload kept and what it reset, for the one line printed per
/// reload and for tests.
struct SwapReport {
  std::vector<std::string> Kept;        ///< state and delays carried over
  std::vector<std::string> Reset;       ///< in both, but reshaped: restarted
  std::vector<std::string> Added;       ///< new state, delays and parameters
  std::vector<std::string> Removed;     ///< gone from the new version
  std::vector<std::string> UserParams;  ///< "feedback=0.6": the user's values
  std::vector<std::string> NewDefaults; ///< "mix=0.8": untouched, new default
  /// Bytes of state the audio thread copies at pick-up.
  uint64_t CopiedBytes = 0;

  /// "kept 3 (line, lp/z, ...), reset 1 (line: reshaped), params feedback=0.6"
  std::string text() const;
};

/// How a prepared version replaces the running one.
struct SwapOptions {
  /// Crossfade length in frames; 0 switches at the next block.
  uint32_t FadeFrames = 0;
  /// Carry state over (false: start from the initial state, e.g. `reset
  /// state` after state went non-finite). Parameters carry over either way.
  bool CarryState = true;
};

class HotSwap {
public:
  /// Starts with `First` running (version 1). `MaxFrames` bounds the frames
  /// of one process() call; `Inputs` and `Outputs` are fixed for the
  /// stream's life. Thread: control thread (allocates).
  HotSwap(std::shared_ptr<const void> Code, Instance First,
          unsigned long MaxFrames);
  ~HotSwap();
  HotSwap(const HotSwap &) = delete;
  HotSwap &operator=(const HotSwap &) = delete;

  /// Creates an instance of `Kernel` and plans its take-over from the newest
  /// version: state copies, parameter values (set on the new instance
  /// here, while nothing runs it). Fails, changing nothing, when the
  /// kernel's io or rate differ from the running one's; the message says
  /// what to do. Thread: control thread (allocates).
  Result<std::shared_ptr<KernelVersion>>
  prepare(std::shared_ptr<const void> Code, const DspjitKernel &Kernel,
          const SwapOptions &Options, SwapReport *Report = nullptr);

  /// Hands a prepared version to the audio thread, which picks it up at
  /// the start of its next process() call after any running fade. Returns
  /// false, changing nothing, while the previous one is still pending or
  /// when `V` was not prepared against the newest version (prepare again).
  /// Thread: control thread (never waits).
  bool publish(std::shared_ptr<KernelVersion> V);

  /// True while a published version waits for the audio thread.
  /// Thread: any.
  bool pending() const { return Pending.load(std::memory_order_acquire); }

  /// Frees the versions the audio thread no longer runs. Thread: control
  /// thread (frees).
  void collect();

  /// The newest version published (maybe not yet running). Thread: any.
  std::shared_ptr<KernelVersion> newest() const;
  /// The newest version the audio thread has run (or the first, before it
  /// ran at all): what meters and parameters show. Thread: any.
  std::shared_ptr<KernelVersion> active() const;

  /// Sets a parameter's target on every version that runs or may run, and
  /// remembers it as the user's value for later versions. Thread: any.
  ParamUpdate setParam(std::string_view Name, float Value);
  /// Like setParam, but before audio runs: also the smoothed value, so
  /// processing starts at `Value` (`--set`). Thread: control thread,
  /// before the first process().
  ParamUpdate setParamImmediate(std::string_view Name, float Value);
  /// Every parameter back to its default; the user's values are forgotten.
  /// Thread: any.
  void resetParams();

  /// Queues a MIDI channel message for the instrument's voices; the audio
  /// thread takes it at the start of its next process() call (so an event
  /// queued before a block starts exactly there: offline renders split
  /// blocks at events, and are sample-accurate). False when the queue is
  /// full (the message is dropped and counted). Thread: one producer
  /// thread at a time (never waits).
  bool sendMidi(const ChannelMessage &E);
  /// Messages dropped because the queue was full. Thread: any.
  uint64_t midiDropped() const {
    return MidiDropped.load(std::memory_order_relaxed);
  }
  /// What the voices did, as of the last process() call. Thread: any.
  struct VoiceCounts {
    uint32_t Voices = 0, Busy = 0, Held = 0;
    uint64_t NotesOn = 0, Stolen = 0;
  };
  VoiceCounts voiceCounts() const;

  /// Output samples replaced by silence, over every version so far.
  /// Thread: any.
  uint64_t nonfiniteSamples() const;

  /// Runs the current version (and the fading one) on one block, exactly
  /// like a stream callback: interleaved float32, null for a kernel without
  /// inputs or outputs; Frames <= MaxFrames. Returns paContinue (0).
  /// Thread: the audio thread only (or one thread offline).
  int process(const float *In, float *Out, unsigned long Frames,
              const DspjitTimeInfo *Time, unsigned long Flags) DSPJIT_REALTIME;

  unsigned inputs() const { return Inputs; }
  unsigned outputs() const { return Outputs; }
  double sampleRate() const { return Rate; }

private:
  void pickUp(KernelVersion &V) DSPJIT_REALTIME;
  /// Applies the queued MIDI to the voices and writes them into the
  /// instances that run this block.
  void updateVoices(bool Swapped) DSPJIT_REALTIME;

  unsigned Inputs, Outputs;
  double Rate;
  unsigned long MaxFrames;

  // Control side, guarded by Lock (never taken by the audio thread).
  mutable std::mutex Lock;
  std::vector<std::shared_ptr<KernelVersion>> Owned; ///< ascending Number
  std::map<std::string, float, std::less<>> UserValues;
  uint64_t RetiredNonfinite = 0;

  // Shared with the audio thread.
  std::atomic<KernelVersion *> Pending{nullptr};
  std::atomic<uint64_t> InUseFrom{1}; ///< oldest Number the audio thread uses
  std::atomic<uint64_t> ActiveNumber{1};

  // The audio thread's own.
  KernelVersion *Current = nullptr;
  KernelVersion *Fading = nullptr;
  uint32_t FadePos = 0;
  double FadeCross = 0, FadeNewPower = 0,
         FadeOldPower = 0;    ///< since the fade began
  std::vector<float> FadeOut; ///< the fading version's output block

  // MIDI for an instrument's voices: the queue, and the allocator (the
  // audio thread's own) with counts published after each block.
  SpscRing<ChannelMessage> MidiIn{1024};
  std::atomic<uint64_t> MidiDropped{0};
  VoiceAllocator Voices;
  std::atomic<uint32_t> VoicesBusy{0}, VoicesHeld{0};
  std::atomic<uint64_t> NotesOn{0}, NotesStolen{0};
};

} // namespace dspjit

#endif
