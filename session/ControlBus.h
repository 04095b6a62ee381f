//===- session/ControlBus.h - Where every surface meets the session -*- C++ -*-===//
//
// A live session is controlled from several places at once: the console,
// OSC, and next a web panel, MIDI and Python. None of them knows about the
// others; each talks to the bus:
//
//   - controls: set and read parameters, read meters, reset parameters or
//     state, ask the session to stop;
//   - events: subscribe() to what happens (session/Events.h); the session
//     publishes, and a surface may publish a Notice of its own;
//   - errors: a surface counts the commands it refused, under its name, so
//     that the session's exit status and summary know of them.
//
// Adding a surface is adding one file that talks to this class.
//
// A parameter reaches the audio thread as one relaxed atomic store
// (Host::setParam): no lock, no queue between the bus and the audio thread.
// The bus's own lock only keeps a control from racing with the session's
// end: after detach() every control answers that the session has stopped.
//
// Thread contract: every function is for any thread but the audio thread.
// Subscribers are called on the publishing thread (the session's threads,
// or a surface's), one event at a time per subscriber, in the order
// published; a subscriber must not block for long. It may call the bus's
// controls and publish; dropping a Subscription waits for a delivery to it
// in progress on another thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_CONTROLBUS_H
#define DSPJIT_SESSION_CONTROLBUS_H

#include "runtime/Host.h"
#include "session/Events.h"

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dspjit::session {

class ControlBus;

/// Keeps a subscriber subscribed; unsubscribes when destroyed.
class Subscription {
public:
  Subscription() = default;
  Subscription(Subscription &&) noexcept;
  Subscription &operator=(Subscription &&) noexcept;
  ~Subscription();
  void reset();

private:
  friend class ControlBus;
  Subscription(std::weak_ptr<void> Bus, uint64_t Id) : Bus(Bus), Id(Id) {}
  std::weak_ptr<void> Bus;
  uint64_t Id = 0;
};

class ControlBus {
public:
  using Subscriber = std::function<void(const Event &)>;

  explicit ControlBus(Host &H);
  ~ControlBus();
  ControlBus(const ControlBus &) = delete;
  ControlBus &operator=(const ControlBus &) = delete;

  //===-- Controls ---------------------------------------------------------===//

  /// Sets a parameter's target (clamped into its range, with a message).
  ParamUpdate setParam(std::string_view Name, float Value);
  /// A MIDI channel message for an instrument's voices (Host::sendMidi);
  /// false when the session stopped or the queue is full. Thread: one
  /// producer thread at a time (the MIDI surface's).
  bool sendMidi(const ChannelMessage &M);
  /// `learn NAME` from any surface: asks the MIDI input (when one is open)
  /// to map the next control moved to the parameter. Returns the line to
  /// show ("MIDI: move a control to map it to 'cutoff'"), or why not.
  /// Thread: any.
  Result<std::string> midiLearn(std::string_view Param);
  /// The voices' counts (all zero for an effect or a stopped session).
  HotSwap::VoiceCounts voiceCounts() const;
  /// Every parameter back to its default; the user's values forgotten.
  Result<void> resetParams();
  /// State and delays from their initial values, crossfaded.
  Result<void> resetState();
  /// Asks the session to stop (`quit`, OSC /quit).
  void requestStop();

  /// The version playing, for reading its parameters, meters and slots;
  /// null once the session has stopped. Holding it keeps it alive.
  std::shared_ptr<Instance> instance() const;
  /// A meter's lanes.
  Result<std::vector<float>> meter(std::string_view Name) const;
  /// Timing so far.
  Result<TimingSummary> summary() const;
  /// What a health display shows beyond the summary: PortAudio's CPU load,
  /// and callbacks by share of their deadline (Host::shareBuckets).
  double cpuLoad() const;
  std::array<uint64_t, CallbackStats::ShareBuckets> shareBuckets() const;
  /// The session's rate (0 once it has stopped).
  double sampleRate() const;
  /// The output copied for a monitor (a scope, a spectrum), when the
  /// session was opened with HostOptions::MonitorSeconds: up to `MaxFrames`
  /// interleaved frames of `channels` each; see Host::readMonitor. One
  /// surface reads it. Returns the frames moved (0 once stopped); with
  /// MaxFrames 0, only sets Channels.
  size_t readMonitor(float *Out, size_t MaxFrames, unsigned &Channels);

  //===-- Events -----------------------------------------------------------===//

  /// Calls `S` with every event published from now on.
  [[nodiscard]] Subscription subscribe(Subscriber S);
  /// Delivers `E` to every subscriber, on this thread.
  void publish(const Event &E);

  //===-- Surfaces ---------------------------------------------------------===//

  /// Names a surface for messages ("standard input", "OSC"); the order of
  /// attachment is the order in messages.
  void attachSurface(const std::string &Name);
  /// Counts a command that a surface refused.
  void countError(const std::string &Surface);
  /// Refused commands so far, and the names of the surfaces attached.
  unsigned errors() const { return Errors.load(); }
  std::vector<std::string> surfaces() const;

  /// Ends the controls: waits for those in progress, then every later one
  /// fails with "the session has stopped". Events still flow. Thread: the
  /// session's control thread.
  void detach();

private:
  struct Subscribers;
  friend class Subscription;

  mutable std::shared_mutex HostLock; ///< held shared by each control
  Host *H;
  std::shared_ptr<Subscribers> Subs;
  mutable std::mutex SurfaceLock;
  std::vector<std::string> SurfaceNames;
  std::atomic<unsigned> Errors{0};
};

} // namespace dspjit::session

#endif
