//===- tests/support/JackProbe.h - Plays and records JACK ports for tests -*- C++ -*-===//
//
// A live test must see what a PortAudio stream really did, without putting
// anything between PortAudio and the kernel: the callback has to be
// kernel.process itself. So the test observes from outside, as any other
// JACK client would: one probe plays a known signal into the stream's input
// ports, another records the stream's output ports. Both stamp every frame
// with JACK's absolute frame time, so the recording can be lined up with
// what was played.
//
// The played signal is a pure function of (frame time, channel): noise in
// [-0.5, 0.5), exact in float, different on every channel, so that a
// recording can be checked sample by sample, channel swaps included.
//
// Thread contract: open/connect/stop and the accessors are for the control
// thread. Recordings may be read only after stop(). The JACK process
// callback (JACK's thread) neither allocates nor locks.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_JACKPROBE_H
#define DSPJIT_TESTS_SUPPORT_JACKPROBE_H

#include "runtime/Result.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

typedef struct _jack_client jack_client_t;
typedef struct _jack_port jack_port_t;

namespace dspjit::test {

class JackProbe {
public:
  struct Options {
    std::string ClientName = "probe";
    unsigned PlayPorts = 0;   ///< Output ports "play_1".. playing playedSample.
    unsigned RecordPorts = 0; ///< Input ports "record_1".. recorded.
    uint64_t RecordCapacity = 0; ///< Frames kept; later frames are dropped.
  };

  /// Opens a client on the default server (JACK_DEFAULT_SERVER; never
  /// starts one), registers the ports and activates it.
  static Result<std::unique_ptr<JackProbe>> open(const Options &Opts);
  ~JackProbe();
  JackProbe(const JackProbe &) = delete;
  JackProbe &operator=(const JackProbe &) = delete;

  /// The sample played on channel `Channel` at absolute frame time `Time`.
  static float playedSample(uint32_t Time, unsigned Channel);

  /// Full names ("probe:play_1") of this client's ports.
  std::string playPort(unsigned Index) const;
  std::string recordPort(unsigned Index) const;

  /// Names of all ports matching a regular expression and JackPortFlags
  /// (e.g. "^PortAudio:", JackPortIsInput), sorted.
  std::vector<std::string> findPorts(const std::string &Pattern,
                                     unsigned long Flags) const;
  Result<void> connect(const std::string &Source,
                       const std::string &Destination);

  /// JACK's current frame time (an estimate between cycles).
  uint32_t frameTime() const;
  /// Cycles this probe has run.
  uint64_t cycles() const { return Cycles.load(std::memory_order_relaxed); }

  /// Deactivates the client: no more playing or recording.
  void stop();

  /// After stop(): what was recorded, one vector per record port, and the
  /// frame time of each recorded frame.
  uint64_t recordedFrames() const;
  const std::vector<float> &recorded(unsigned Channel) const {
    return Recording[Channel];
  }
  const std::vector<uint32_t> &recordedTimes() const { return Times; }

private:
  JackProbe() = default;
  static int processCallback(uint32_t Frames, void *Self);
  int process(uint32_t Frames);

  jack_client_t *Client = nullptr;
  bool Active = false;
  std::vector<jack_port_t *> Play, Record;
  std::vector<std::vector<float>> Recording; // preallocated to capacity
  std::vector<uint32_t> Times;               // preallocated to capacity
  std::atomic<uint64_t> Recorded{0};
  std::atomic<uint64_t> Cycles{0};
};

} // namespace dspjit::test

#endif
