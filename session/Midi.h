//===- session/Midi.h - MIDI controllers move parameters -*- C++ -*-===//
//
// On stage a performer turns knobs on a MIDI controller. A MidiInput is the
// MIDI surface of a session: it opens MIDI input with RtMidi (Debian
// librtmidi-dev) -- JACK MIDI when a JACK server runs, else the ALSA
// sequencer -- either as a port of its own that controllers are connected
// to (a JACK client "dspjit" with the input port "midi_in", connected with
// jack_connect; or an ALSA sequencer port, with aconnect), or connected to
// one source, by index or part of its name.
//
// Messages are mapped onto parameters by name (session/MidiMap.h): from
// MidiOptions, a map file, and `learn NAME` on any surface (event::MidiLearn
// on the bus: the next control moved is mapped to NAME, announced as a
// Notice "cutoff <- cc74 (channel 1)", and saved to the map file).
//
// Timing. RtMidi's callback (on JACK, JACK's real-time process thread) only
// copies each channel message and a monotonic time stamp into a lock-free
// ring (runtime/SpscRing.h): no allocation, lock or logging; when the ring
// is full, the message is dropped and counted. The surface's thread drains
// the ring about every millisecond and applies the last value of each
// parameter through ControlBus::setParam -- one relaxed atomic store that
// the audio thread reads at its next callback, smoothed as any change.
// So MIDI is block-accurate: a change lands at the start of the first block
// after it was drained, not at its frame within a block.
//
// Thread contract: open() and the destructor on the control thread;
// accessors on any thread. `Log` is called from the surface's thread and
// must be thread-safe. Events (MidiLearn, Reloaded) are handled on the
// publisher's thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_MIDI_H
#define DSPJIT_SESSION_MIDI_H

#include "runtime/SpscRing.h"
#include "session/ControlBus.h"
#include "session/MidiMap.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class RtMidiIn;

namespace dspjit::session {

struct MidiOptions {
  /// The source to connect to, by index or part of its name; empty: open a
  /// port of our own.
  std::string Port;
  /// Mapping specs ("cutoff=cc74"), as parseMidiMapping reads them.
  std::vector<std::string> Maps;
  /// Mappings loaded at start and saved on each learn and at the end.
  std::string MapFile;
  /// The JACK or ALSA client's name.
  std::string ClientName = "dspjit";
  /// Messages the ring holds between two drains.
  size_t RingCapacity = 1024;
};

/// A MIDI source or port, as `dspjit devices --midi` lists them.
struct MidiPortList {
  std::string Api; ///< "JACK" or "ALSA"
  std::vector<std::string> Ports;
  std::string Error; ///< why the API could not be listed, if it could not
};

/// The MIDI sources of each API there is: JACK when its server runs, and
/// ALSA. Thread: control thread.
std::vector<MidiPortList> listMidiSources();

/// One message as the callback stores it.
struct MidiRingEvent {
  uint64_t TimeNs = 0; ///< steady_clock when received
  uint8_t Size = 0;
  uint8_t Bytes[3] = {};
};

class MidiInput {
public:
  using LogFn = std::function<void(const std::string &Message, bool IsError)>;

  /// The mappings of the options and the map file, checked for syntax
  /// (names are checked by open(), against the version playing). For a
  /// program to check its flags before anything opens.
  static Result<std::vector<MidiMapping>> check(const MidiOptions &Options);

  /// Checks the mappings against the bus's version, opens the input and
  /// starts the surface's thread. Unknown parameters and ports are errors.
  static Result<std::unique_ptr<MidiInput>>
  open(ControlBus &Bus, MidiOptions Options, LogFn Log);
  /// Saves the map file, stops the thread, closes the input.
  ~MidiInput();
  MidiInput(const MidiInput &) = delete;
  MidiInput &operator=(const MidiInput &) = delete;

  /// "JACK" or "ALSA", and the port's full name ("dspjit:midi_in") or the
  /// source connected to.
  const std::string &api() const { return Api; }
  const std::string &portName() const { return PortName; }
  bool ownPort() const { return Own; }

  /// Messages received by the callback, dropped (the ring was full), and
  /// parameter changes applied. Thread: any.
  uint64_t received() const { return Received.load(); }
  uint64_t dropped() const { return Dropped.load(); }
  uint64_t applied() const { return Applied.load(); }
  /// Time stamp to setParam of the last message applied, in microseconds.
  double lastLatencyUs() const { return LastLatencyUs.load(); }
  std::vector<MidiMapping> mappings() const;

  /// What RtMidi's callback does with one message: into the ring, or
  /// counted as dropped. Thread: the one producer (RtMidi's thread).
  void receive(const unsigned char *Bytes, size_t Size, uint64_t TimeNs);
  /// What the surface's thread does with the ring: decode, map, apply.
  /// Returns the messages taken. Thread: the surface's (or one test's
  /// thread, for a MidiInput made by forTest()).
  size_t drain();

  /// A MidiInput on `Bus` without a device or a thread, for tests and
  /// fuzzers that call receive() and drain() themselves; with `MapFile`,
  /// learns and the destructor save there.
  static std::unique_ptr<MidiInput> forTest(ControlBus &Bus,
                                            std::vector<MidiMapping> Mappings,
                                            size_t RingCapacity = 1024,
                                            std::string MapFile = {});

private:
  MidiInput(ControlBus &Bus, std::vector<MidiMapping> Mappings,
            MidiOptions Options, LogFn Log);
  void attach();
  void run();
  void onEvent(const Event &E);
  void save();
  void checkMissing(const DspjitKernel &K, std::vector<std::string> &Notices);

  ControlBus &Bus;
  MidiOptions O;
  LogFn Log;
  SpscRing<MidiRingEvent> Ring;
  std::unique_ptr<RtMidiIn> In;
  std::string Api, PortName;
  bool Own = false;

  mutable std::mutex MapLock; ///< guards Mapper and Missing
  MidiMapper Mapper;
  std::vector<std::string> Missing; ///< parameters reported missing
  MidiDecoder Decoder;              ///< the surface thread's
  std::vector<MidiMessage> Messages;
  std::vector<MidiParamChange> Changes;

  std::atomic<uint64_t> Received{0}, Dropped{0}, Applied{0};
  std::atomic<double> LastLatencyUs{0};
  std::atomic<bool> Quit{false};
  Subscription Events;
  std::thread Surface;
};

} // namespace dspjit::session

#endif
