//===- session/MidiMap.h - MIDI bytes to parameter values -*- C++ -*-===//
//
// What the MIDI surface (session/Midi.h) does with the bytes it receives,
// apart from any device, so that tests and the fuzzer can feed it bytes:
//
//   - MidiDecoder turns a byte stream into channel messages: running status,
//     real-time bytes in the middle of a message, SysEx and system common
//     messages skipped, stray data bytes dropped;
//   - MidiMapping is one `--midi-map` spec, by parameter name ("cutoff=cc74",
//     "q=cc1/ch2", "pitch=bend", "drive=aftertouch"); map files hold one a
//     line, with # comments;
//   - MidiMapper applies mappings to messages against the version playing:
//     curves onto each parameter's range (logarithmic for "hz" ranges wider
//     than a decade, a switch at 64 for a [0, 1] parameter without
//     smoothing, linear otherwise), 14-bit CC pairs (CC n < 32 with CC n+32
//     as its LSB, once the controller sends one), and `learn`: the next
//     control moved is mapped to the parameter being learned.
//
// Mappings name parameters, so they outlive a hot reload; a mapping whose
// parameter the playing version lacks is kept and does nothing.
//
// Thread contract: plain values and functions; a MidiDecoder or MidiMapper
// belongs to one thread at a time (the MIDI surface's). Not for the audio
// thread (they allocate).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_MIDIMAP_H
#define DSPJIT_SESSION_MIDIMAP_H

#include "runtime/Result.h"
#include "runtime/Voices.h"
#include "runtime/dspjit_abi.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dspjit::session {

/// One channel voice message: Status is 0x80..0xEF (channel in its low
/// nibble); Data2 is 0 for the one-byte messages (program, pressure).
struct MidiMessage {
  uint8_t Status = 0, Data1 = 0, Data2 = 0;
  unsigned channel() const { return unsigned(Status & 0x0f) + 1; }
  uint8_t kind() const { return Status & 0xf0; }
};

/// The message as the voices' queue takes it (runtime/Voices.h).
ChannelMessage toChannelMessage(const MidiMessage &M);

/// Bytes to channel messages, as a MIDI 1.0 receiver reads them.
class MidiDecoder {
public:
  /// Feeds bytes; every completed channel message is appended to `Out`.
  void feed(const uint8_t *Bytes, size_t Size, std::vector<MidiMessage> &Out);
  /// Bytes dropped so far: data bytes without a status, SysEx contents.
  uint64_t skipped() const { return Skipped; }

private:
  uint8_t Running = 0; ///< the running status, 0: none
  uint8_t Data[2] = {};
  unsigned Have = 0;
  bool InSysex = false;
  uint64_t Skipped = 0;
};

/// What a mapping listens to.
struct MidiSource {
  enum Kind { CC, Bend, Aftertouch } Type = CC;
  uint8_t Number = 0;  ///< the controller, for CC
  uint8_t Channel = 0; ///< 1..16; 0: any channel
  bool operator==(const MidiSource &) const = default;
};

struct MidiMapping {
  std::string Param;
  MidiSource Source;
  bool operator==(const MidiMapping &) const = default;
};

/// "cutoff=cc74", "q=cc1/ch2", "pitch=bend", "drive=aftertouch/ch1".
Result<MidiMapping> parseMidiMapping(std::string_view Spec);
/// The spec back, as parseMidiMapping reads it.
std::string midiMappingSpec(const MidiMapping &M);
/// "cc74 (channel 1)", "pitch bend (any channel)".
std::string describeMidiSource(const MidiSource &S);

/// A map file's text: one spec a line; blank lines and # comments ignored.
/// Errors name the file (`Path`) and the line.
Result<std::vector<MidiMapping>> parseMidiMapFile(std::string_view Text,
                                                  const std::string &Path);
/// Reads a map file; a missing file has no mappings (it is created when
/// saved).
Result<std::vector<MidiMapping>> loadMidiMapFile(const std::string &Path);
/// Writes the mappings atomically: a temporary file renamed over `Path`.
Result<void> saveMidiMapFile(const std::string &Path,
                             const std::vector<MidiMapping> &Mappings);

/// A parameter's mapping as the script declares it (DspjitSlot::midi);
/// none for 0.
std::optional<MidiSource> declaredSource(uint32_t Midi);

/// A control's position in [0, 1] as the parameter's value, by its curve.
float midiCurve(const DspjitSlot &Param, double Position);

/// A parameter's new target.
struct MidiParamChange {
  std::string Param;
  float Value = 0;
};

class MidiMapper {
public:
  explicit MidiMapper(std::vector<MidiMapping> Mappings = {})
      : Mappings(std::move(Mappings)) {}

  const std::vector<MidiMapping> &mappings() const { return Mappings; }
  /// Adds a mapping (the same one twice is kept once).
  void add(const MidiMapping &M);

  /// The next CC, bend or aftertouch received is mapped to `Param`.
  void learn(std::string Param) { Learning = std::move(Param); }
  const std::optional<std::string> &learning() const { return Learning; }

  /// What `M` does to the parameters of `K`, appended to `Out`. When it
  /// completed a learn, returns the new mapping (which replaces the
  /// parameter's earlier ones) -- and does not move the parameter.
  std::optional<MidiMapping> handle(const MidiMessage &M, const DspjitKernel &K,
                                    std::vector<MidiParamChange> &Out);

private:
  /// The last MSB of each CC 0-31 per channel, and whether an LSB came.
  std::array<uint8_t, 16 * 32> Msb{};
  std::array<bool, 16 * 32> HasLsb{};
  std::vector<MidiMapping> Mappings;
  std::optional<std::string> Learning;
};

} // namespace dspjit::session

#endif
