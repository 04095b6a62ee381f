//===- plugin/core/LiveCore.h - A script live-coded inside a plugin host -*- C++ -*-===//
//
// The format-independent half of the live plugin: a script named by a path,
// compiled for the host's rate, run on the host's buffers, and hot-reloaded
// on every save with exactly what `dspjit run` does (the session library's
// Reloader on an offline Host, runtime/HotSwap.h underneath: the quick tier
// first, state carried over, an equal-power crossfade, the last good
// version kept when a save does not compile). Only the host side differs:
// here the plugin host's run() calls the Host's callback.
//
// The plugin has fixed ports, whatever the script: two audio inputs and two
// outputs (a mono script reads the first input and its output goes to
// both), Knobs generic controls in [0, 1], mapped by order onto the
// script's parameters over their ranges (knob 1 onto the first `param`),
// and Meters outputs showing the first meter lanes.
//
// Real time. process() only stores the knobs' values in atomics, runs the
// Host's callback (lock-free, allocation-free: runtime/Host.h) and copies
// meter values from atomics. A control thread of the script's own applies
// the knobs to the parameters (Host::setParam, which may build messages)
// and reads the meters, every 5 ms: a knob reaches the kernel within that
// time, then through the parameter's smoothing.
//
// Events of the reload engine (reloaded, failed with the compiler's
// diagnostics, script gone) go to the log function given at load, from the
// reload threads.
//
// Thread contracts: load() and the destructor on a non-audio thread (they
// compile, start and join threads); process() on the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_PLUGIN_CORE_LIVECORE_H
#define DSPJIT_PLUGIN_CORE_LIVECORE_H

#include "runtime/Realtime.h"
#include "runtime/Result.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace dspjit {
class Host;
class Kernel;
namespace session {
class ControlBus;
class Reloader;
class Subscription;
} // namespace session
} // namespace dspjit

namespace dspjit::plugin {

class LiveScript {
public:
  static constexpr unsigned Channels = 2, Knobs = 16, Meters = 4;
  /// Receives what happens: (is it an error, one or more lines of text).
  using LogFn = std::function<void(bool Error, const std::string &Text)>;

  /// Compiles `Path` for `Rate` and starts watching it. Fails with the
  /// compiler's diagnostics, or when the script has more than two inputs
  /// or outputs.
  static Result<std::unique_ptr<LiveScript>> load(const std::string &Path,
                                                  double Rate, LogFn Log);
  /// Stops the reloads and the control thread.
  ~LiveScript();
  LiveScript(const LiveScript &) = delete;
  LiveScript &operator=(const LiveScript &) = delete;

  const std::string &path() const { return Path; }

  /// Runs `Frames` frames: In and Out have Channels entries (null: silence
  /// in, skipped out), Knob and Meter Knobs and Meters (null: skipped).
  void process(const float *const *In, float *const *Out,
               const float *const *Knob, float *const *Meter,
               uint32_t Frames) DSPJIT_REALTIME;

private:
  LiveScript() = default;
  void controlLoop();

  std::string Path;
  LogFn Log;
  std::shared_ptr<Kernel> K;
  std::unique_ptr<Host> H;
  std::unique_ptr<session::ControlBus> Bus;
  std::unique_ptr<session::Subscription> Sub;
  std::unique_ptr<session::Reloader> R;
  unsigned ScriptIn = 0, ScriptOut = 0;
  static constexpr uint32_t MaxChunk = 1024;
  std::vector<float> InScratch, OutScratch;
  std::array<std::atomic<float>, Knobs> KnobIn;
  std::array<std::atomic<float>, Meters> MeterOut;
  std::atomic<bool> Quit{false};
  std::thread Control;
};

} // namespace dspjit::plugin

#endif
