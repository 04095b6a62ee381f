//===- plugin/core/EffectCore.h - An exported script inside a plugin host -*- C++ -*-===//
//
// The format-independent half of an exported plugin: compiles the script the
// library carries (plugin/core/Payload.h) for the host's sample rate
// (kernels are specialized to their rate) through the on-disk object cache
// (compiler/ObjectCache.h), so that the second instantiation of a script
// links cached machine code instead of optimizing it again; holds the
// instance; and runs it on the host's planar buffers with the parameters
// the host's controls give. A format adapter (plugin/lv2/Lv2Plugin.cpp)
// only maps its ports and calls onto this class; a CLAP or VST3 adapter
// would do the same with its own calls.
//
// Parameters. Each process() stores every control's value as the
// parameter's target; the kernel smooths towards it as it does live. The
// first process() after activate() sets the smoothed value too, so a
// plugin starts at its controls' values without a glide from the script's
// defaults (as `dspjit render --set` does).
//
// Thread contracts: create(), activate() and deactivate() on the host's
// instantiation thread (they allocate or re-initialize); process() on its
// audio thread: no allocation, lock, wait or I/O.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_PLUGIN_CORE_EFFECTCORE_H
#define DSPJIT_PLUGIN_CORE_EFFECTCORE_H

#include "compiler/Compiler.h"
#include "plugin/core/Payload.h"
#include "plugin/core/PortLayout.h"
#include "runtime/HotSwap.h"
#include "runtime/Instance.h"
#include "runtime/Realtime.h"
#include "runtime/Result.h"

#include <memory>
#include <string>
#include <vector>

namespace dspjit::plugin {

/// A MIDI channel message at a frame of the block given to process().
struct MidiEvent {
  uint32_t Frame = 0;
  ChannelMessage Message;
};

class EffectCore {
public:
  /// Compiles `P`'s script for `Rate`, its sources placed in `BundleDir`
  /// (where relative imports and table files resolve), and checks that its
  /// ports are those exported. The message of a failure carries the
  /// compiler's diagnostics.
  static Result<std::unique_ptr<EffectCore>>
  create(const Payload &P, const std::string &BundleDir, double Rate);

  const PortLayout &layout() const { return Layout; }
  /// How long create() took to compile, and whether from the cache.
  double compileSeconds() const { return CompileSeconds; }
  bool cached() const { return Cached; }
  /// The kernel's latency in frames at this rate.
  double latencyFrames() const { return K->info().latency_frames; }

  /// Resets the instance (state, delays) for a new stream.
  void activate();

  /// Runs `Frames` frames. `In[c]` and `Out[c]` are the audio channels
  /// (a null input reads as silence, a null output is skipped); `Params[i]`
  /// points at the value of the i-th parameter (in PortLayout order; null:
  /// unchanged) and `Meters[j]` receives the j-th meter lane (null:
  /// skipped). An instrument's `Events` (in frame order) reach its voices
  /// at their frames.
  void process(const float *const *In, float *const *Out,
               const float *const *Params, float *const *Meters,
               uint32_t Frames, const MidiEvent *Events = nullptr,
               uint32_t NumEvents = 0) DSPJIT_REALTIME;

  /// Output samples the kernel replaced by silence since activate().
  uint64_t nonfiniteSamples() const { return I->nonfiniteSamples(); }

private:
  EffectCore() = default;
  /// Runs `N` frames from frame `Done` of the host's buffers.
  void runChunk(const float *const *In, float *const *Out, uint32_t Done,
                uint32_t N) DSPJIT_REALTIME;
  std::shared_ptr<Kernel> K;
  /// An effect's instance; an instrument's is inside Swap, whose voice
  /// allocator plays the MIDI (I then points into it).
  std::unique_ptr<Instance> Own;
  std::unique_ptr<HotSwap> Swap;
  Instance *I = nullptr;
  PortLayout Layout;
  std::vector<const DspjitSlot *> ParamSlots;
  std::vector<std::pair<const float *, uint32_t>> MeterLanes;
  /// Interleaved scratch for at most MaxChunk frames per kernel call.
  static constexpr uint32_t MaxChunk = 1024;
  std::vector<float> InScratch, OutScratch;
  bool FirstRun = true;
  double CompileSeconds = 0;
  bool Cached = false;
};

/// The compile options a plugin uses at `Rate`: the disk cache on, warnings
/// off (nobody reads them inside a host).
CompileOptions pluginCompileOptions(double Rate);

} // namespace dspjit::plugin

#endif
