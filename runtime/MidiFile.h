//===- runtime/MidiFile.h - Standard MIDI Files read strictly ---*- C++ -*-===//
//
// `dspjit render synth.dsp out.wav --midi song.mid` plays a Standard MIDI
// File into a script, sample-accurately and the same way on every run. This
// reads such a file whole into a list of channel messages, each with its
// time in seconds through the file's tempo map, merged across tracks in a
// fixed order. Debian's libsmf has been unmaintained since 2010 (and brings
// GLib), so this is a small reader of our own, with its own tests
// (tests/unit/midi_file_test.cpp) and fuzzer (tests/fuzz/fuzz_midifile.cpp).
//
// What it reads (the SMF 1.0 specification):
//  - MThd: formats 0 and 1; format 2 (independent patterns, each with its
//    own time line) is refused, as it is not one song. The division is
//    ticks per quarter note, or SMPTE time: frames per second (24, 25, 29 =
//    30 drop-frame, i.e. 30000/1001, and 30) times ticks per frame. A
//    header longer than 6 bytes has its extra bytes skipped.
//  - MTrk chunks, exactly as many as the header announces; chunks of other
//    types are skipped, wherever they are (as the specification asks).
//  - Events: channel messages of all seven kinds, running status included;
//    meta events (FF) and system exclusive ones (F0, and F7 "escapes") are
//    skipped by their length and cancel running status. Of the meta events
//    only the tempo (FF 51) and the end of track (FF 2F) are read.
//
// Time. Ticks are integers; a tick's time is the exact rational
//   (sum over tempo segments of ticks x microseconds per quarter note)
//     / (1e6 x ticks per quarter note)
// with the sum kept in 128-bit integers and divided once, in double: so a
// time does not depend on how many tempo changes precede it (no error
// accumulates), and it is the correctly rounded double while the sum stays
// below 2^53 (2.6 hours at 120 bpm and 960 ticks per quarter note), within
// one unit in the last place beyond. With SMPTE division, time is ticks /
// (frames per second x ticks per frame), computed the same way, and tempo
// events change nothing.
// Tempo changes of every track make one map in a format 1 file (the
// specification puts them in the first track; files in the wild do not
// always), each taking effect at its tick; until the first, the tempo is
// 500000 us per quarter note (120 bpm).
//
// Order. Events of all tracks are merged by tick (hence by time); at equal
// ticks, the lower track first, then the order of the file.
//
// Strictness. A file that is malformed is refused with a message naming it,
// what is wrong and where (the track, counted from 1, and the byte offset
// in the file) -- never read in part. A track that runs past the end of the
// file is refused too: such a file lost its end (an interrupted download or
// copy), and rendering what is left would silently drop the rest of the
// song, which a user asking for a render of the song does not want. So
// are: bytes where a chunk should start that are not a four-character type
// (a wrong length before them), an 'MTrk' beyond the tracks the header
// announces (its notes would be lost), a format 0 file of several tracks,
// and running status after a meta or system exclusive event (some writers
// rely on it; the specification cancels it, and this reader does not
// guess).
// Deviations that lose nothing are accepted with a warning (MidiFileData::
// Warnings): a track without an end-of-track event (its chunk's length ends
// it), bytes after a track's end-of-track event, and bytes after the last
// chunk that are not a chunk.
//
// Limits: a file of at most 64 MiB (MaxMidiFileBytes) and at most 10 million
// channel events (MaxMidiEvents), which bound the memory and time of a read
// and of the render that follows whatever the file says; see their
// declarations.
//
// Thread contract: readMidiFile() does file I/O, and both readers allocate;
// not for the audio thread. A MidiFileData is a plain value, and the
// helpers on MidiEvent and midiFrame() are pure and may run anywhere, the
// audio thread included.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_MIDIFILE_H
#define DSPJIT_RUNTIME_MIDIFILE_H

#include "runtime/Result.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dspjit {

/// The largest file read: 64 MiB. The largest MIDI files of real music are a
/// few MiB (a piano roll of a whole opera); beyond this, a file is not music
/// to render, or is a device or pipe that never ends.
inline constexpr size_t MaxMidiFileBytes = size_t(64) << 20;

/// The most channel events kept: 10 million, 240 MB as MidiEvents. Beyond
/// this a file is refused rather than read: even "black MIDI" showpieces of
/// millions of notes fit, and the limit keeps the memory of a read, and the
/// time of the render that plays every event, within what a render on an
/// ordinary machine can afford. A 64 MiB file could otherwise announce
/// about 30 million (two bytes each, with running status).
inline constexpr size_t MaxMidiEvents = 10'000'000;

/// The kind of a channel message, from its status byte.
enum class MidiKind : uint8_t {
  NoteOff,         ///< 8n key velocity, and 9n key 0
  NoteOn,          ///< 9n key velocity, velocity > 0
  PolyPressure,    ///< An key pressure
  ControlChange,   ///< Bn controller value
  ProgramChange,   ///< Cn program
  ChannelPressure, ///< Dn pressure
  PitchBend,       ///< En lsb msb
};

/// "note off", "note on", "poly pressure", "control change", "program
/// change", "channel pressure" or "pitch bend".
const char *midiKindName(MidiKind Kind);

/// One channel message of the file.
struct MidiEvent {
  /// From the start of the file, through the tempo map (see the top).
  double Seconds = 0;
  /// Absolute tick in its track.
  uint64_t Tick = 0;
  /// 0x80..0xEF: channel messages only, running status resolved.
  uint8_t Status = 0;
  /// The data bytes, each below 0x80; Data2 is 0 for program change and
  /// channel pressure, which have one.
  uint8_t Data1 = 0, Data2 = 0;
  /// The track it comes from, an index from 0 in the file's order (messages
  /// count tracks from 1, as people do).
  uint16_t Track = 0;

  /// 0..15 (people number MIDI channels 1..16).
  unsigned channel() const { return Status & 0x0Fu; }
  /// A note-on of velocity 0 is a note off, as the MIDI specification says.
  MidiKind kind() const {
    unsigned High = Status >> 4;
    if (High == 0x9 && Data2 == 0)
      return MidiKind::NoteOff;
    return MidiKind(High - 0x8);
  }
  bool isNoteOn() const { return kind() == MidiKind::NoteOn; }
  bool isNoteOff() const { return kind() == MidiKind::NoteOff; }
  /// The key of a note or poly pressure, the controller of a control
  /// change, the program of a program change.
  unsigned key() const { return Data1; }
  /// The velocity of a note on or off, the value of a control change.
  unsigned velocity() const { return Data2; }
  /// A pitch bend's value, -8192..8191 (0 is the centre).
  int bend() const { return int(unsigned(Data2) << 7 | Data1) - 8192; }
};

/// A tempo of the file's tempo map, from its tick on.
struct MidiTempo {
  uint64_t Tick = 0;
  double Seconds = 0;
  uint32_t MicrosPerQuarter = 500000;
};

/// What the header says and what the file holds.
struct MidiFileInfo {
  unsigned Format = 0; ///< 0 or 1
  unsigned Tracks = 0; ///< MTrk chunks, as the header announces
  /// Ticks per quarter note (> 0), or with SMPTE time the negated frames per
  /// second as written: -24, -25, -29 (30 drop-frame: 30000/1001 frames a
  /// second) or -30.
  int Division = 0;
  unsigned TicksPerFrame = 0; ///< SMPTE time only, else 0
  /// Where the song ends: the latest end-of-track event of any track (its
  /// delta time is how a file says how long the song lasts), or the end of
  /// its last event for a track without one.
  uint64_t DurationTicks = 0;
  double DurationSeconds = 0;
  size_t Notes = 0;        ///< note-ons of velocity > 0
  size_t TempoChanges = 0; ///< tempo events read (ignored with SMPTE time)
};

/// A whole file: its channel messages, all tracks merged.
struct MidiFileData {
  MidiFileInfo Info;
  /// Sorted by Tick, hence by Seconds; at equal ticks by Track, then in the
  /// order of the file.
  std::vector<MidiEvent> Events;
  /// The tempo map: its first entry is at tick 0 (the default tempo if the
  /// file sets none there), one entry per tick at which the tempo changes,
  /// the last change at a tick winning. Empty with SMPTE time.
  std::vector<MidiTempo> TempoMap;
  /// What was accepted although the specification does not allow it (see
  /// the top), one message each, for the caller to print.
  std::vector<std::string> Warnings;
};

/// Reads and parses the file at Path (at most MaxMidiFileBytes; a device
/// or a pipe is read up to the limit and no further).
Result<MidiFileData> readMidiFile(const std::string &Path);

/// Parses a file already in memory; Name is what messages call it. For
/// tests and fuzzers, and readers of other sources.
Result<MidiFileData> parseMidiFile(const uint8_t *Bytes, size_t Size,
                                   const std::string &Name);

/// The frame of an event at Rate frames a second: llround(Seconds * Rate),
/// i.e. the nearest frame, halves away from zero (an event exactly between
/// two frames goes to the later one). The product is one double rounding of
/// an exact time, so an event on a whole number of milliseconds at 48 kHz
/// lands on its exact frame.
uint64_t midiFrame(const MidiEvent &E, double Rate);

} // namespace dspjit

#endif
