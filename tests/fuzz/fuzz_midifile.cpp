//===- tests/fuzz/fuzz_midifile.cpp - Arbitrary bytes as a MIDI file ------===//
//
// A libFuzzer target: the input is a Standard MIDI File given to `dspjit
// render --midi`, byte for byte, read by parseMidiFile (runtime/MidiFile.h).
// The same bytes are also read as the events of the one track of a format 0
// file (a header and a track chunk put around them), and of a format 1
// file's second track at SMPTE time, so that arbitrary bytes -- random ones
// too, which are never a header -- reach the event reader.
//
// Invariants: no crash, no hang; a refusal is one line that names the file;
// a file read has a format of 0 or 1, at least one track and a valid
// division; every event is a channel message (status 0x80..0xEF, data
// bytes below 0x80, a second data byte of 0 for program change and channel
// pressure) of a track the header announces; ticks and seconds never
// decrease, seconds are finite and frames at 48 kHz never decrease; at
// equal ticks tracks never decrease; Info agrees with the events (notes
// counted, the duration at or after the last event); the tempo map starts
// at tick 0 and rises (or is empty, with SMPTE time); warnings name the
// file. Reading the same bytes twice gives the same events.
//
// Built twice, like the others: as a libFuzzer binary (DSPJIT_FUZZ) and
// into dspjit_fuzz_replay.
//
//===----------------------------------------------------------------------===//
#include "FuzzHarness.h"

#include "runtime/MidiFile.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using namespace dspjit;

namespace {

const std::string Name = "fuzz.mid";

void check(bool Ok, const std::string &What, const std::string &Case) {
  if (!Ok)
    fuzz::fail("MIDI file (" + Case + "): " + What);
}

void checkFile(const uint8_t *Data, size_t Size, const std::string &Case) {
  Result<MidiFileData> R = parseMidiFile(Data, Size, Name);
  if (!R) {
    const std::string &M = R.error();
    check(M.find(Name) != std::string::npos,
          "a refusal that does not name "
          "the file: " +
              M,
          Case);
    check(M.find('\n') == std::string::npos && M.size() < 400,
          "a refusal longer than a line: " + M, Case);
    return;
  }
  const MidiFileData &D = *R;
  const MidiFileInfo &I = D.Info;
  check(I.Format <= 1 && I.Tracks >= 1 && I.Tracks <= 65535,
        "format " + std::to_string(I.Format) + ", " + std::to_string(I.Tracks) +
            " tracks",
        Case);
  if (I.Division > 0) {
    check(I.TicksPerFrame == 0 && !D.TempoMap.empty(),
          "ticks per quarter note without a tempo map", Case);
  } else {
    check(I.Division == -24 || I.Division == -25 || I.Division == -29 ||
              I.Division == -30,
          "division " + std::to_string(I.Division), Case);
    check(I.TicksPerFrame >= 1 && D.TempoMap.empty(),
          "SMPTE time with a tempo map or no ticks per frame", Case);
  }
  check(D.Events.size() <= MaxMidiEvents, "more events than the limit", Case);

  size_t Notes = 0;
  const MidiEvent *Last = nullptr;
  for (const MidiEvent &E : D.Events) {
    unsigned High = E.Status >> 4;
    check(E.Status >= 0x80 && E.Status <= 0xEF,
          "status " + std::to_string(E.Status), Case);
    check(E.Data1 < 0x80 && E.Data2 < 0x80, "a data byte of 0x80 or more",
          Case);
    check((High != 0xC && High != 0xD) || E.Data2 == 0,
          "a second data byte in a one-byte message", Case);
    check(E.Track < I.Tracks, "an event of a track that is not announced",
          Case);
    check(std::isfinite(E.Seconds) && E.Seconds >= 0,
          "a time that is not finite", Case);
    check(E.bend() >= -8192 && E.bend() <= 8191, "a bend out of range", Case);
    if (Last) {
      check(E.Tick >= Last->Tick && E.Seconds >= Last->Seconds,
            "events out of order", Case);
      check(E.Tick != Last->Tick || E.Track >= Last->Track,
            "events of one tick out of track order", Case);
      check(midiFrame(E, 48000) >= midiFrame(*Last, 48000),
            "frames out of order", Case);
    }
    Notes += E.isNoteOn();
    Last = &E;
  }
  check(Notes == I.Notes, "notes miscounted", Case);
  check(std::isfinite(I.DurationSeconds), "a duration that is not finite",
        Case);
  if (Last)
    check(I.DurationTicks >= Last->Tick && I.DurationSeconds >= Last->Seconds,
          "a duration before the last event", Case);
  for (size_t T = 0; T < D.TempoMap.size(); ++T) {
    const MidiTempo &M = D.TempoMap[T];
    check(M.MicrosPerQuarter > 0 && std::isfinite(M.Seconds),
          "a tempo of 0 or at a time that is not finite", Case);
    check(T ? M.Tick > D.TempoMap[T - 1].Tick &&
                  M.Seconds >= D.TempoMap[T - 1].Seconds
            : M.Tick == 0 && M.Seconds == 0,
          "a tempo map that does not rise from tick 0", Case);
  }
  for (const std::string &W : D.Warnings)
    check(W.rfind("'" + Name + "'", 0) == 0, "a warning: " + W, Case);

  // The same bytes, the same events.
  Result<MidiFileData> Again = parseMidiFile(Data, Size, Name);
  check(Again && Again->Events.size() == D.Events.size(),
        "a second read that differs", Case);
  for (size_t E = 0; E < D.Events.size(); ++E)
    check(std::bit_cast<uint64_t>(Again->Events[E].Seconds) ==
                  std::bit_cast<uint64_t>(D.Events[E].Seconds) &&
              Again->Events[E].Tick == D.Events[E].Tick &&
              Again->Events[E].Status == D.Events[E].Status,
          "a second read that differs", Case);
}

void put32(std::vector<uint8_t> &Out, size_t V) {
  for (int Shift = 24; Shift >= 0; Shift -= 8)
    Out.push_back(uint8_t(V >> Shift));
}

/// A file whose track `Which` (of Tracks) holds Data as its events; the
/// others are empty.
std::vector<uint8_t> wrapped(const uint8_t *Data, size_t Size, unsigned Format,
                             unsigned Tracks, unsigned Which, uint8_t DivHigh,
                             uint8_t DivLow) {
  std::vector<uint8_t> Out = {'M',     'T',
                              'h',     'd',
                              0,       0,
                              0,       6,
                              0,       uint8_t(Format),
                              0,       uint8_t(Tracks),
                              DivHigh, DivLow};
  for (unsigned T = 0; T < Tracks; ++T) {
    Out.insert(Out.end(), {'M', 'T', 'r', 'k'});
    if (T != Which) {
      put32(Out, 4);
      Out.insert(Out.end(), {0x00, 0xFF, 0x2F, 0x00});
      continue;
    }
    put32(Out, Size);
    Out.insert(Out.end(), Data, Data + Size);
  }
  return Out;
}

} // namespace

extern "C" int dspjitFuzzMidiFile(const uint8_t *Data, size_t Size) {
  checkFile(Data, Size, "the bytes as a file");
  std::vector<uint8_t> Format0 = wrapped(Data, Size, 0, 1, 0, 0x01, 0xE0);
  checkFile(Format0.data(), Format0.size(), "the bytes as format 0's track");
  std::vector<uint8_t> Smpte =
      wrapped(Data, Size, 1, 3, 1, uint8_t(-25), 40); // 25 fps x 40 ticks
  checkFile(Smpte.data(), Smpte.size(), "the bytes as a format 1 track");
  return 0;
}

#ifdef DSPJIT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  return dspjitFuzzMidiFile(Data, Size);
}
#endif
