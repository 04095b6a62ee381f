//===- runtime/Voices.h - Which note each voice of an instrument plays -*- C++ -*-===//
//
// An instrument (`voices N;`) runs its N voices side by side, one lane of
// every vector each; the kernel reads what each voice plays from six NOTE
// slots (runtime/dspjit_abi.h). This file is the host's half: a voice
// allocator that turns MIDI channel messages into those slots.
//
// Policy, in order, for a note-on:
//   1. the voice that already plays the same key on the same channel (held
//      or releasing) is retriggered: a repeated key never takes two voices;
//   2. else the free voice with the lowest number;
//   3. else the voice released longest ago;
//   4. else the voice held longest (it is stolen, and counted).
// A note-off releases the voice (gate 0), or, while the sustain pedal
// (CC 64 >= 64) is down on its channel, marks it sustained until the pedal
// goes up. A released voice becomes free again once the kernel's
// `voice.peak` (what `voicemix()` saw) has stayed below QuietLevel for
// QuietSeconds: a tail is never cut while it can be heard. A script
// without voicemix() gives no peak, so its released voices are never free,
// only reused oldest-first (rule 3).
//
// Pitch bend (per channel, +-2 semitones) is in note.freq; channel
// pressure and polyphonic aftertouch are note.pressure. CC 120 (all sound
// off) and CC 123 (all notes off) release every voice of the channel.
//
// Thread contract: everything but layout() runs on the audio thread (or on
// one thread offline): no allocation, no lock, bounded work.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_VOICES_H
#define DSPJIT_RUNTIME_VOICES_H

#include "runtime/Realtime.h"
#include "runtime/dspjit_abi.h"

#include <array>
#include <cstddef>
#include <cstdint>

namespace dspjit {

/// Where an instance keeps its notes: the offsets of the six NOTE slots in
/// the order of the ABI header, and of voice.peak (-1: none).
struct NoteLayout {
  enum Field { Freq, Key, Velocity, Gate, Trigger, Pressure, Fields };
  uint32_t Voices = 0; ///< 0: not an instrument
  std::array<int64_t, Fields> Offsets{-1, -1, -1, -1, -1, -1};
  int64_t PeakOffset = -1;

  /// Reads a kernel's slot table. Thread: any (not the audio thread).
  static NoteLayout of(const DspjitKernel &K);
};

/// One MIDI channel message (note, controller, bend, pressure) in a ring.
struct ChannelMessage {
  uint8_t Bytes[3] = {0, 0, 0};
  uint8_t Size = 0;
};

class VoiceAllocator {
public:
  static constexpr unsigned MaxVoices = 64;
  /// A released voice is free once its peak stayed below this level...
  static constexpr float QuietLevel = 1e-4f; // -80 dBFS
  /// ...for this long.
  static constexpr double QuietSeconds = 0.02;

  /// The number of voices to allocate among (the running kernel's); voices
  /// beyond it fall silent and free.
  void setVoices(unsigned N) DSPJIT_REALTIME;
  unsigned voices() const { return Count; }

  /// Takes one message; others than channel voice messages are ignored.
  void handle(const ChannelMessage &E) DSPJIT_REALTIME;
  /// Writes what changed since the last write (everything after
  /// invalidate()) into an instance laid out as `L`, whose kernel runs
  /// `L.Voices` voices (voices beyond them are not written).
  void write(const NoteLayout &L, void *Instance) const DSPJIT_REALTIME;
  /// Forgets the pending triggers: call once the block's instances are
  /// written.
  void written() DSPJIT_REALTIME;
  /// Reads voice.peak after process() ran `Frames` frames at `Rate`, and
  /// frees the released voices that have gone quiet.
  void afterProcess(const NoteLayout &L, const void *Instance, uint64_t Frames,
                    double Rate) DSPJIT_REALTIME;
  /// Releases every voice at once (gate 0), e.g. when a stream stops.
  void releaseAll() DSPJIT_REALTIME;

  /// Voices sounding (held, sustained or releasing and not yet quiet).
  unsigned busy() const;
  unsigned held() const;
  uint64_t notesOn() const { return NotesOn; }
  uint64_t stolen() const { return Stolen; }
  /// The key voice `V` plays (or last played), -1 when it never played.
  int keyOf(unsigned V) const {
    return V < MaxVoices && Voice[V].Order ? Voice[V].Key : -1;
  }
  bool gateOf(unsigned V) const { return V < MaxVoices && Voice[V].Gate; }

private:
  struct VoiceState {
    uint8_t Key = 0, Channel = 0;
    float Velocity = 0, Pressure = 0;
    bool Gate = false;      ///< held or sustained
    bool Sustained = false; ///< released while the pedal was down
    bool Busy = false;      ///< not free
    bool Trigger = false;   ///< note.trigger to send
    uint64_t Order = 0;     ///< when it started (0: never)
    uint64_t Released = 0;  ///< when it was released (0: held)
    uint64_t QuietFrames = 0;
  };

  void noteOn(uint8_t Channel, uint8_t Key, uint8_t Velocity);
  void noteOff(uint8_t Channel, uint8_t Key);
  void release(VoiceState &V);
  void controller(uint8_t Channel, uint8_t Number, uint8_t Value);
  float frequency(const VoiceState &V) const;

  std::array<VoiceState, MaxVoices> Voice{};
  std::array<float, 16> Bend{};     ///< semitones, per channel
  std::array<float, 16> Pressure{}; ///< channel pressure, 0 to 1
  std::array<bool, 16> Pedal{};
  unsigned Count = 0;
  uint64_t Clock = 0; ///< orders note-ons and releases
  uint64_t NotesOn = 0, Stolen = 0;
};

} // namespace dspjit

#endif
