//===- tests/unit/midi_file_test.cpp - Unit tests of runtime/MidiFile -----===//
//
// Every file here is written byte by byte by the test (tests/support/Smf.h),
// so that each expected tick, time and frame is known by hand: formats 0
// and 1, tempo changes in the middle of a track and in another track,
// running status, SMPTE time, system exclusive and meta events in between,
// chunks of unknown types; then every malformed file the reader refuses,
// with its message, and the limits (64 MiB, 10 million events, 100,000 notes
// in one second read quickly).
//
//===----------------------------------------------------------------------===//
#include "runtime/MidiFile.h"
#include "tests/support/Smf.h"
#include "tests/support/TempDir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

using namespace dspjit;
namespace fs = std::filesystem;

namespace {

// --- A writer of Standard MIDI Files, by hand ------------------------------

using namespace test::smf;

Result<MidiFileData> parse(const std::string &File,
                           const std::string &Name = "song.mid") {
  return parseMidiFile(reinterpret_cast<const uint8_t *>(File.data()),
                       File.size(), Name);
}

/// The file parsed, or a failed test.
MidiFileData parsed(const std::string &File) {
  Result<MidiFileData> R = parse(File);
  EXPECT_TRUE(R) << R.error();
  return R ? *R : MidiFileData{};
}

/// The message refusing File ("" if it was read).
std::string refusal(const std::string &File) {
  Result<MidiFileData> R = parse(File);
  return R ? "" : R.error();
}

/// Seconds and frames at 48 kHz of every event, in order.
void expectTimes(const MidiFileData &D, const std::vector<double> &Seconds,
                 const std::vector<uint64_t> &Frames) {
  ASSERT_EQ(D.Events.size(), Seconds.size());
  for (size_t I = 0; I < Seconds.size(); ++I) {
    SCOPED_TRACE("event " + std::to_string(I));
    EXPECT_DOUBLE_EQ(D.Events[I].Seconds, Seconds[I]);
    EXPECT_EQ(midiFrame(D.Events[I], 48000), Frames[I]);
  }
}

using test::TempDir;

} // namespace

// --- Files that are read -------------------------------------------------

TEST(MidiFile, FormatZeroAtTheDefaultTempo) {
  // 480 ticks per quarter note at 120 bpm: 960 ticks a second.
  std::string File =
      header(0, 1, 480) +
      track(ev(0, {0x90, 60, 100}) + ev(480, {0x80, 60, 64}) +
            ev(240, {0x91, 64, 90}) + ev(1, {0x81, 64, 0}) + endOfTrack(239));
  MidiFileData D = parsed(File);
  EXPECT_EQ(D.Info.Format, 0u);
  EXPECT_EQ(D.Info.Tracks, 1u);
  EXPECT_EQ(D.Info.Division, 480);
  EXPECT_EQ(D.Info.TicksPerFrame, 0u);
  EXPECT_EQ(D.Info.Notes, 2u);
  EXPECT_EQ(D.Info.TempoChanges, 0u);
  EXPECT_TRUE(D.Warnings.empty());
  // The end of track's delta time is part of the song.
  EXPECT_EQ(D.Info.DurationTicks, 960u);
  EXPECT_EQ(D.Info.DurationSeconds, 1.0);
  ASSERT_EQ(D.TempoMap.size(), 1u);
  EXPECT_EQ(D.TempoMap[0].MicrosPerQuarter, 500000u);

  expectTimes(D, {0, 0.5, 0.75, 721.0 / 960}, {0, 24000, 36000, 36050});
  EXPECT_EQ(D.Events[1].Tick, 480u);
  EXPECT_EQ(D.Events[3].Tick, 721u);
  EXPECT_EQ(D.Events[2].channel(), 1u);
  EXPECT_EQ(D.Events[2].key(), 64u);
  EXPECT_EQ(D.Events[2].velocity(), 90u);
  EXPECT_TRUE(D.Events[0].isNoteOn());
  EXPECT_TRUE(D.Events[1].isNoteOff());
}

TEST(MidiFile, EveryKindOfChannelMessageIsKept) {
  std::string File =
      header(0, 1, 96) +
      track(ev(0, {0x80, 1, 2}) + ev(0, {0x93, 3, 4}) + ev(0, {0xA4, 5, 6}) +
            ev(0, {0xB5, 7, 8}) + ev(0, {0xC6, 9}) + ev(0, {0xD7, 10}) +
            ev(0, {0xE8, 0x00, 0x40}) + ev(0, {0xEF, 0x7F, 0x7F}) +
            ev(0, {0xE0, 0x00, 0x00}) + ev(0, {0x9F, 60, 0}) + endOfTrack());
  MidiFileData D = parsed(File);
  ASSERT_EQ(D.Events.size(), 10u);
  const std::vector<MidiKind> Kinds = {
      MidiKind::NoteOff,       MidiKind::NoteOn,
      MidiKind::PolyPressure,  MidiKind::ControlChange,
      MidiKind::ProgramChange, MidiKind::ChannelPressure,
      MidiKind::PitchBend,     MidiKind::PitchBend,
      MidiKind::PitchBend,     MidiKind::NoteOff};
  for (size_t I = 0; I < Kinds.size(); ++I)
    EXPECT_EQ(D.Events[I].kind(), Kinds[I]) << I;
  EXPECT_EQ(D.Events[3].channel(), 5u);
  EXPECT_EQ(D.Events[3].key(), 7u);
  EXPECT_EQ(D.Events[3].velocity(), 8u);
  // One data byte: the second is 0, and the next event is read right after.
  EXPECT_EQ(D.Events[4].Data1, 9);
  EXPECT_EQ(D.Events[4].Data2, 0);
  EXPECT_EQ(D.Events[5].Data1, 10);
  EXPECT_EQ(D.Events[6].bend(), 0);
  EXPECT_EQ(D.Events[7].bend(), 8191);
  EXPECT_EQ(D.Events[8].bend(), -8192);
  // A note-on of velocity 0 is a note off, on its channel.
  EXPECT_EQ(D.Events[9].Status, 0x9F);
  EXPECT_EQ(D.Events[9].channel(), 15u);
  EXPECT_TRUE(D.Events[9].isNoteOff());
  EXPECT_EQ(D.Info.Notes, 1u);
  EXPECT_STREQ(midiKindName(MidiKind::ChannelPressure), "channel pressure");
}

TEST(MidiFile, RunningStatusRepeatsTheLastChannelStatus) {
  std::string File =
      header(0, 1, 480) +
      track(ev(0, {0x90, 60, 100}) + ev(0, {62, 100}) + ev(480, {60, 0}) +
            ev(0, {62, 0}) + ev(0, {0xC2, 5}) + ev(240, {6}) + endOfTrack());
  MidiFileData D = parsed(File);
  ASSERT_EQ(D.Events.size(), 6u);
  EXPECT_EQ(D.Events[1].Status, 0x90);
  EXPECT_EQ(D.Events[1].key(), 62u);
  EXPECT_TRUE(D.Events[1].isNoteOn());
  EXPECT_TRUE(D.Events[2].isNoteOff());
  EXPECT_TRUE(D.Events[3].isNoteOff());
  EXPECT_EQ(D.Info.Notes, 2u);
  // Running status with one data byte.
  EXPECT_EQ(D.Events[5].Status, 0xC2);
  EXPECT_EQ(D.Events[5].Data1, 6);
  expectTimes(D, {0, 0, 0.5, 0.5, 0.5, 0.75},
              {0, 0, 24000, 24000, 24000, 36000});
}

TEST(MidiFile, SysExAndMetaEventsInBetweenAreSkipped) {
  std::string File =
      header(0, 1, 480) +
      track(ev(0, {0xFF, 0x03, 4, 'l', 'e', 'a', 'd'}) +     // track name
            ev(0, {0xF0, 5, 0x7E, 0x7F, 0x09, 0x01, 0xF7}) + // GM on
            ev(0, {0x90, 60, 100}) +                         //
            ev(240, {0xFF, 0x58, 4, 4, 2, 24, 8}) +          // time sig
            ev(0, {0x90, 64, 100}) +                         // new status
            ev(0, {0xF7, 2, 0xF3, 0x01}) +                   // an escape
            ev(0, {0xF0, 0x81, 0x48}) +                      // 200 bytes
            std::string(200, '\x55') +                       //
            ev(240, {0x80, 60, 0}) + endOfTrack());
  MidiFileData D = parsed(File);
  ASSERT_EQ(D.Events.size(), 3u);
  EXPECT_EQ(D.Events[1].key(), 64u);
  EXPECT_EQ(D.Events[2].Tick, 480u);
  expectTimes(D, {0, 0.25, 0.5}, {0, 12000, 24000});
  EXPECT_TRUE(D.Warnings.empty());
}

TEST(MidiFile, ATempoChangeTakesEffectAtItsTick) {
  // 120 bpm, then from tick 960 (1 s) a quarter note of 0.25 s (240 bpm).
  std::string File =
      header(0, 1, 480) +
      track(ev(0, {0x90, 60, 100}) + ev(480, {0x80, 60, 0}) +
            tempo(480, 250000) + ev(0, {0x90, 62, 100}) +
            ev(480, {0x80, 62, 0}) + ev(480, {0x90, 64, 1}) + endOfTrack(480));
  MidiFileData D = parsed(File);
  // The event at the tempo's own tick is at the old tempo's time.
  expectTimes(D, {0, 0.5, 1.0, 1.25, 1.5}, {0, 24000, 48000, 60000, 72000});
  EXPECT_EQ(D.Info.TempoChanges, 1u);
  ASSERT_EQ(D.TempoMap.size(), 2u);
  EXPECT_EQ(D.TempoMap[0].Tick, 0u);
  EXPECT_EQ(D.TempoMap[0].MicrosPerQuarter, 500000u);
  EXPECT_EQ(D.TempoMap[1].Tick, 960u);
  EXPECT_EQ(D.TempoMap[1].Seconds, 1.0);
  EXPECT_EQ(D.TempoMap[1].MicrosPerQuarter, 250000u);
  EXPECT_EQ(D.Info.DurationTicks, 2400u);
  EXPECT_EQ(D.Info.DurationSeconds, 1.75);
}

TEST(MidiFile, FormatOneMergesTracksAndOneTempoMapRulesThemAll) {
  // Track 1 is a conductor track with only a name; track 3 changes the
  // tempo at tick 960 to a second per quarter note, which moves track 2's
  // notes too. Ties at a tick: the lower track first, then file order.
  std::string File =
      header(1, 3, 480) + track(ev(0, {0xFF, 0x03, 1, 'c'}) + endOfTrack()) +
      track(ev(0, {0x90, 60, 100}) + ev(960, {0x80, 60, 0}) +
            ev(0, {0x90, 62, 100}) + ev(480, {0x80, 62, 0}) + endOfTrack()) +
      track(ev(0, {0xB0, 7, 100}) + tempo(960, 1000000) +
            ev(0, {0xB0, 10, 64}) + ev(480, {0xB0, 7, 90}) + endOfTrack(480));
  MidiFileData D = parsed(File);
  EXPECT_EQ(D.Info.Format, 1u);
  EXPECT_EQ(D.Info.Tracks, 3u);
  ASSERT_EQ(D.Events.size(), 7u);
  const std::vector<std::pair<uint16_t, uint8_t>> Order = {
      {1, 0x90}, {2, 0xB0}, {1, 0x80}, {1, 0x90},
      {2, 0xB0}, {1, 0x80}, {2, 0xB0}};
  for (size_t I = 0; I < Order.size(); ++I) {
    EXPECT_EQ(D.Events[I].Track, Order[I].first) << I;
    EXPECT_EQ(D.Events[I].Status, Order[I].second) << I;
  }
  EXPECT_EQ(D.Events[1].key(), 7u);
  EXPECT_EQ(D.Events[4].key(), 10u);
  // Ticks 0, 960 (1 s), 1440 (1 s + 1 quarter note of 1 s).
  expectTimes(D, {0, 0, 1, 1, 1, 2, 2},
              {0, 0, 48000, 48000, 48000, 96000, 96000});
  EXPECT_EQ(D.Info.DurationTicks, 1920u);
  EXPECT_EQ(D.Info.DurationSeconds, 3.0);
}

TEST(MidiFile, TempoEventsAtOneTickTheLastInTrackOrderWins) {
  std::string File = header(1, 2, 100) +
                     track(tempo(0, 400000) + tempo(0, 300000) +
                           ev(100, {0x90, 60, 1}) + endOfTrack()) +
                     track(tempo(0, 200000) + endOfTrack());
  MidiFileData D = parsed(File);
  ASSERT_EQ(D.TempoMap.size(), 1u);
  EXPECT_EQ(D.TempoMap[0].MicrosPerQuarter, 200000u);
  EXPECT_EQ(D.Info.TempoChanges, 3u);
  expectTimes(D, {0.2}, {9600});
}

TEST(MidiFile, TimesAreExactWhateverTheNumberOfTempoChanges) {
  // 1000 changes between two tempi that do not divide evenly; the time of
  // the end is one division of an exact sum, not 1000 additions.
  std::string Events;
  for (int I = 0; I < 1000; ++I)
    Events += tempo(I ? 7 : 0, I % 2 ? 333333 : 666667) + ev(0, {0xA0, 1, 1});
  MidiFileData D = parsed(header(0, 1, 3) + track(Events + endOfTrack(7)));
  // 500 segments of each tempo, 7 ticks each, 3 ticks per quarter note.
  double Exact = (500.0 * 7 * 666667 + 500.0 * 7 * 333333) / (1e6 * 3);
  EXPECT_EQ(D.Info.DurationSeconds, Exact);
  EXPECT_EQ(D.Events.back().Seconds,
            (Exact * 1e6 * 3 - 7 * 333333) / (1e6 * 3));
}

TEST(MidiFile, SmpteDivisionCountsTicksOfFrames) {
  // 25 frames a second x 40 ticks a frame: a tick is a millisecond, and the
  // tempo changes nothing.
  std::string File =
      header(0, 1, smpte(25, 40)) +
      track(ev(1, {0x90, 60, 100}) + tempo(0, 100000) + ev(999, {0x80, 60, 0}) +
            ev(500, {0xE0, 0, 0x40}) + endOfTrack(500));
  MidiFileData D = parsed(File);
  EXPECT_EQ(D.Info.Division, -25);
  EXPECT_EQ(D.Info.TicksPerFrame, 40u);
  EXPECT_TRUE(D.TempoMap.empty());
  EXPECT_EQ(D.Info.TempoChanges, 1u);
  expectTimes(D, {0.001, 1.0, 1.5}, {48, 48000, 72000});
  EXPECT_EQ(D.Info.DurationSeconds, 2.0);

  // 29 is 30 drop-frame: 30000/1001 frames a second.
  MidiFileData Drop = parsed(header(0, 1, smpte(29, 2)) +
                             track(ev(60, {0x90, 60, 1}) + endOfTrack()));
  EXPECT_EQ(Drop.Info.Division, -29);
  expectTimes(Drop, {1.001}, {48048});
  MidiFileData Film = parsed(header(0, 1, smpte(24, 4)) +
                             track(ev(48, {0x90, 60, 1}) + endOfTrack()));
  expectTimes(Film, {0.5}, {24000});
}

TEST(MidiFile, ChunksOfUnknownTypesAndALongerHeaderAreSkipped) {
  std::string Header = "MThd" + be32(10) + be16(1) + be16(2) + be16(480) +
                       std::string("\x01\x02\x03\x04", 4);
  std::string File = Header + chunk("XFIH", std::string(13, '\x90')) +
                     track(ev(0, {0x90, 60, 100}) + endOfTrack()) +
                     chunk("XFKM", "") +
                     track(ev(480, {0x91, 61, 100}) + endOfTrack()) +
                     chunk("XXXX", "after the tracks");
  MidiFileData D = parsed(File);
  ASSERT_EQ(D.Events.size(), 2u);
  EXPECT_EQ(D.Events[1].Track, 1u);
  expectTimes(D, {0, 0.5}, {0, 24000});
  EXPECT_TRUE(D.Warnings.empty());
}

TEST(MidiFile, VariableLengthQuantitiesUpToFourBytes) {
  EXPECT_EQ(vlq(0x0FFFFFFF), bytes({0xFF, 0xFF, 0xFF, 0x7F}));
  EXPECT_EQ(vlq(0x4000), bytes({0x81, 0x80, 0x00}));
  std::string File = header(0, 1, 480) +
                     track(ev(0x7F, {0x90, 1, 1}) + ev(0x80, {0x90, 2, 1}) +
                           ev(0x3FFF, {0x90, 3, 1}) + ev(0x4000, {0x90, 4, 1}) +
                           ev(0x0FFFFFFF, {0x90, 5, 1}) + endOfTrack());
  MidiFileData D = parsed(File);
  ASSERT_EQ(D.Events.size(), 5u);
  EXPECT_EQ(D.Events[1].Tick, 0xFFu);
  EXPECT_EQ(D.Events[3].Tick, 0x7F + 0x80 + 0x3FFF + 0x4000u);
  uint64_t Last = 0x7F + 0x80 + 0x3FFF + 0x4000 + 0x0FFFFFFFull;
  EXPECT_EQ(D.Events[4].Tick, Last);
  // 960 ticks a second: 279653 s, a little over three days.
  EXPECT_DOUBLE_EQ(D.Events[4].Seconds, double(Last) / 960);
  EXPECT_EQ(midiFrame(D.Events[4], 48000), Last * 50);
}

TEST(MidiFile, ATrackWithoutEndOfTrackEndsWithItsChunk) {
  std::string File = header(1, 2, 480) +
                     track(ev(0, {0x90, 60, 100}) + ev(480, {0x80, 60, 0})) +
                     track(ev(960, {0x90, 62, 100}) + endOfTrack());
  MidiFileData D = parsed(File);
  ASSERT_EQ(D.Events.size(), 3u);
  expectTimes(D, {0, 0.5, 1.0}, {0, 24000, 48000});
  ASSERT_EQ(D.Warnings.size(), 1u);
  EXPECT_EQ(D.Warnings[0], "'song.mid': track 1 has no end-of-track event; it "
                           "ends with its chunk, at byte 31");
  EXPECT_EQ(D.Info.DurationTicks, 960u);
}

TEST(MidiFile, BytesAfterTheEndAreIgnoredWithAWarning) {
  std::string File =
      header(0, 1, 480) +
      track(ev(0, {0x90, 60, 100}) + endOfTrack(10) + ev(0, {0x80, 60, 0})) +
      std::string(3, '\0'); // padding some writers leave
  MidiFileData D = parsed(File);
  ASSERT_EQ(D.Events.size(), 1u);
  EXPECT_EQ(D.Info.DurationTicks, 10u);
  ASSERT_EQ(D.Warnings.size(), 2u);
  EXPECT_EQ(D.Warnings[0], "'song.mid': track 1 holds 4 bytes after its "
                           "end-of-track event (from byte 30), ignored");
  EXPECT_EQ(D.Warnings[1],
            "'song.mid': 3 bytes after the last chunk (from byte 34), ignored");
  D = parsed(header(0, 1, 480) + track(endOfTrack()) + std::string(3, '\0'));
  ASSERT_EQ(D.Warnings.size(), 1u);
  EXPECT_EQ(D.Warnings[0],
            "'song.mid': 3 bytes after the last chunk (from byte 26), ignored");
}

TEST(MidiFile, ReadingIsDeterministic) {
  std::string File = header(1, 2, 7) +
                     track(tempo(3, 123457) + ev(5, {0x90, 1, 2}) +
                           ev(11, {0xE3, 5, 6}) + endOfTrack()) +
                     track(ev(8, {0x90, 1, 2}) + ev(0, {0xC0, 3}) +
                           ev(8, {0xD0, 3}) + endOfTrack());
  MidiFileData A = parsed(File), B = parsed(File);
  ASSERT_EQ(A.Events.size(), B.Events.size());
  for (size_t I = 0; I < A.Events.size(); ++I) {
    EXPECT_EQ(A.Events[I].Seconds, B.Events[I].Seconds);
    EXPECT_EQ(A.Events[I].Tick, B.Events[I].Tick);
    EXPECT_EQ(A.Events[I].Status, B.Events[I].Status);
    EXPECT_EQ(A.Events[I].Track, B.Events[I].Track);
  }
  // Ticks 8 (track 2, twice: file order), 8 (track 1), 16, 19.
  ASSERT_EQ(A.Events.size(), 5u);
  EXPECT_EQ(A.Events[0].Track, 0u);
  EXPECT_EQ(A.Events[1].Status, 0x90);
  EXPECT_EQ(A.Events[2].Status, 0xC0);
}

TEST(MidiFile, AHundredThousandNotesInOneSecondAreReadQuickly) {
  // 960 ticks a second; note i on at tick i * 960 / 100000, off one tick
  // later, all on one track with running status.
  std::string Events = ev(0, {0xFF, 0x51, 3, 0x07, 0xA1, 0x20}) + // 500000
                       bytes({0x00, 0x90});
  Events.reserve(100000 * 8);
  uint64_t Tick = 0;
  std::vector<uint64_t> Ons;
  for (uint64_t I = 0; I < 100000; ++I) {
    uint64_t On = I * 960 / 100000;
    Ons.push_back(On);
    if (I)
      Events += vlq(uint32_t(On - Tick));
    Events += bytes({int(I % 128), 100});
    Events += vlq(0) + bytes({int(I % 128), 0});
    Tick = On;
  }
  std::string File = header(0, 1, 480) + track(Events + endOfTrack(1));

  // The best of five reads is the reader's own time; the first also pays
  // the kernel for the pages of the events, which on a busy machine can
  // take ten times as long.
  Result<MidiFileData> R = fail("not read");
  double FirstMs = 0, BestMs = 0;
  for (int Run = 0; Run < 5; ++Run) {
    auto Start = std::chrono::steady_clock::now();
    R = parse(File);
    double Ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - Start)
                    .count();
    FirstMs = Run ? FirstMs : Ms;
    BestMs = Run ? std::min(BestMs, Ms) : Ms;
  }
  ASSERT_TRUE(R) << R.error();
  std::printf("[ timing   ] 100000 notes (%zu bytes) read in %.2f ms (the "
              "first read of five: %.2f ms)\n",
              File.size(), BestMs, FirstMs);
  EXPECT_EQ(R->Info.Notes, 100000u);
  ASSERT_EQ(R->Events.size(), 200000u);
  for (size_t I = 0; I < 100000; ++I) {
    const MidiEvent &On = R->Events[2 * I];
    ASSERT_EQ(On.Tick, Ons[I]);
    ASSERT_TRUE(On.isNoteOn());
    ASSERT_EQ(On.Seconds, double(Ons[I]) / 960);
    ASSERT_TRUE(R->Events[2 * I + 1].isNoteOff());
  }
  EXPECT_LE(R->Info.DurationSeconds, 1.0);
  // Generous for sanitizer builds and a busy machine: an optimized build
  // takes one or two milliseconds.
  EXPECT_LT(BestMs, 1000);
}

TEST(MidiFile, FramesRoundToTheNearest) {
  MidiEvent E;
  E.Seconds = 1.5 / 48000; // exactly between frames 1 and 2
  EXPECT_EQ(midiFrame(E, 48000), 2u);
  E.Seconds = 1.49 / 48000;
  EXPECT_EQ(midiFrame(E, 48000), 1u);
  E.Seconds = 0.001 * 7; // not exact in binary
  EXPECT_EQ(midiFrame(E, 48000), 336u);
  EXPECT_EQ(midiFrame(E, 44100), 309u);
  E.Seconds = 1e300;
  EXPECT_EQ(midiFrame(E, 48000), UINT64_MAX);
  EXPECT_EQ(midiFrame(E, -1), 0u);
}

// --- Files that are refused ------------------------------------------------

TEST(MidiFile, NotAMidiFileIsNamedAsSuch) {
  EXPECT_EQ(refusal(""), "'song.mid' is empty (0 bytes), not a MIDI file");
  EXPECT_EQ(refusal(std::string("RIFF\x24\0\0\0WAVEfmt ", 16)),
            "'song.mid' is not a Standard MIDI File: it starts with 52 49 46 "
            "46 ('RIFF'), not with 'MThd'");
  EXPECT_EQ(refusal("\x7F"
                    "EL"),
            "'song.mid' is not a Standard MIDI File: it starts with only 3 "
            "bytes (7F 45 4C), not with 'MThd'");
  EXPECT_EQ(refusal(std::string("RIFF\0\0\0\0RMIDdata", 16)),
            "'song.mid' is a RIFF MIDI file (RMID), not a Standard MIDI File: "
            "extract the Standard MIDI File its 'data' chunk holds");
}

TEST(MidiFile, TruncatedHeadersAreRefused) {
  EXPECT_EQ(refusal(header(0, 1, 480).substr(0, 10)),
            "'song.mid' is cut short: its header chunk needs 14 bytes but the "
            "file holds 10");
  EXPECT_EQ(refusal("MThd" + be32(100) + be16(0) + be16(1) + be16(480)),
            "'song.mid' is cut short: its header chunk needs 108 bytes but "
            "the file holds 14");
  EXPECT_EQ(refusal("MThd" + be32(4) + be16(0) + be16(1) + be16(480)),
            "'song.mid' has a header chunk of 4 bytes; it needs at least 6 "
            "(format, tracks, division)");
}

TEST(MidiFile, HeadersThatCannotBePlayedAreRefused) {
  std::string Track = track(endOfTrack());
  EXPECT_EQ(refusal(header(2, 1, 480) + Track),
            "'song.mid' is a format 2 MIDI file: its 1 tracks are independent "
            "patterns, each with its own time line, not one song to render; "
            "convert it to format 1");
  EXPECT_EQ(refusal(header(3, 1, 480) + Track),
            "'song.mid' has MIDI file format 3; only formats 0, 1 and 2 exist");
  EXPECT_EQ(refusal(header(0, 2, 480) + Track + Track),
            "'song.mid' is a format 0 MIDI file, which holds one track, but "
            "its header announces 2");
  EXPECT_EQ(refusal(header(1, 0, 480)),
            "'song.mid' announces no tracks: there is nothing to play");
  EXPECT_EQ(refusal(header(0, 1, 0) + Track),
            "'song.mid' has a division of 0 ticks per quarter note");
  EXPECT_EQ(refusal(header(0, 1, smpte(23, 40)) + Track),
            "'song.mid' has an SMPTE division of 23 frames per second and 40 "
            "ticks per frame; expected 24, 25, 29 (30 drop-frame) or 30 frames "
            "per second and at least 1 tick per frame");
  EXPECT_NE(refusal(header(0, 1, smpte(25, 0)) + Track)
                .find("SMPTE division of 25 frames per second and 0 ticks"),
            std::string::npos);
}

TEST(MidiFile, MissingAndCutTracksAreRefused) {
  std::string Notes =
      ev(0, {0x90, 60, 100}) + ev(480, {0x80, 60, 0}) + endOfTrack();
  // The second track is missing altogether, then cut in its header.
  EXPECT_EQ(refusal(header(1, 2, 480) + track(Notes)),
            "'song.mid' is cut short: its header announces 2 tracks but the "
            "file ends after 1, at byte 35");
  EXPECT_EQ(refusal(header(1, 2, 480) + track(Notes) + "MTr"),
            "'song.mid' is cut short: its header announces 2 tracks but the "
            "file ends after 1, at byte 38");
  // A track whose length runs past the end of the file is refused, not
  // read in part: the end of the song is lost.
  std::string Cut = header(1, 2, 480) + track(Notes) + track(Notes);
  Cut.resize(Cut.size() - 5);
  EXPECT_EQ(refusal(Cut),
            "'song.mid' is cut short: track 2 (byte 35) announces 13 bytes but "
            "only 8 follow; the file lost its end (an interrupted download or "
            "copy?)");
  EXPECT_EQ(refusal(header(0, 1, 480) + "XFIH" + be32(1000) + "abc"),
            "'song.mid' is cut short: chunk 'XFIH' (byte 14) announces 1000 "
            "bytes but only 3 follow");
}

TEST(MidiFile, GarbageWhereAChunkBelongsIsRefused) {
  // A track length one byte short of what its writer wrote: the byte left
  // over is read as the start of the next chunk.
  std::string Events = ev(0, {0x90, 60, 100}) + endOfTrack();
  std::string File =
      header(1, 2, 480) + track(Events) + bytes({0x00}) + track(endOfTrack());
  EXPECT_EQ(refusal(File),
            "'song.mid', byte 30: expected a chunk (an 'MTrk' or another "
            "four-letter type and a length) but found 00 4D 54 72; is the "
            "length of the chunk before it wrong?");
}

TEST(MidiFile, MoreTracksThanAnnouncedAreRefused) {
  std::string Track = track(ev(0, {0x90, 60, 100}) + endOfTrack());
  EXPECT_EQ(refusal(header(1, 1, 480) + Track + chunk("XFKM", "") + Track),
            "'song.mid' holds more tracks than its header announces (1): "
            "another 'MTrk' chunk starts at byte 38");
}

TEST(MidiFile, AVariableLengthQuantityOfFiveBytesIsRefused) {
  std::string File =
      header(0, 1, 480) +
      track(ev(0, {0x90, 60, 100}) +
            bytes({0x81, 0x80, 0x80, 0x80, 0x00, 0x80, 60, 0}) + endOfTrack());
  EXPECT_EQ(refusal(File), "'song.mid', track 1, byte 26: a variable-length "
                           "number of more than 4 bytes (the most a MIDI file "
                           "may use)");
  // In a meta event's length, too.
  EXPECT_NE(refusal(header(0, 1, 480) +
                    track(bytes({0, 0xFF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}) +
                          endOfTrack()))
                .find("track 1, byte 25: a variable-length number of more "
                      "than 4 bytes"),
            std::string::npos);
}

TEST(MidiFile, ADataByteWithoutRunningStatusIsRefused) {
  // At the start of a track.
  EXPECT_EQ(refusal(header(0, 1, 480) + track(ev(0, {60, 100}) + endOfTrack())),
            "'song.mid', track 1, byte 23: data byte 0x3C where a status byte "
            "is needed, and there is no running status to repeat (none at the "
            "start of a track)");
}

TEST(MidiFile, RunningStatusResumedAfterMetaOrSysExIsReadWithAWarning) {
  // The standard says meta and system exclusive events cancel running
  // status; files that resume it anyway play as they were meant.
  for (const std::string &Between : {std::string(ev(0, {0xFF, 0x01, 1, 'x'})),
                                     std::string(ev(0, {0xF0, 1, 0xF7}))}) {
    std::string Bytes =
        header(0, 1, 480) +
        track(ev(0, {0x90, 60, 100}) + Between + ev(0, {62, 100}) +
              ev(0, {64, 100}) + endOfTrack());
    auto M = parseMidiFile(reinterpret_cast<const uint8_t *>(Bytes.data()),
                           Bytes.size(), "song.mid");
    ASSERT_TRUE(M) << M.error();
    ASSERT_EQ(M->Events.size(), 3u);
    EXPECT_EQ(M->Events[1].Status, 0x90);
    EXPECT_EQ(M->Events[1].Data1, 62);
    EXPECT_EQ(M->Events[2].Data1, 64);
    ASSERT_EQ(M->Warnings.size(), 1u); // once per track
    EXPECT_NE(M->Warnings[0].find("running status 0x90 resumed after a meta "
                                  "or system exclusive event"),
              std::string::npos)
        << M->Warnings[0];
  }
}

TEST(MidiFile, AStatusByteInsideAChannelMessageIsRefused) {
  // A note on that lost its velocity: a status byte where it belongs.
  EXPECT_EQ(refusal(header(0, 1, 480) +
                    track(ev(0, {0x90, 60, 0x90, 62, 100}) + endOfTrack())),
            "'song.mid', track 1, byte 25: byte 0x90 in a note on message, "
            "whose data bytes are below 0x80 (is a data byte missing?)");
  EXPECT_EQ(
      refusal(header(0, 1, 480) + track(ev(0, {0xB0, 0x87, 1}) + endOfTrack())),
      "'song.mid', track 1, byte 24: byte 0x87 in a control change "
      "message, whose data bytes are below 0x80 (is a data byte "
      "missing?)");
  EXPECT_NE(
      refusal(header(0, 1, 480) + track(ev(0, {0xE0, 0, 0xF7}) + endOfTrack()))
          .find("track 1, byte 25: byte 0xF7 in a pitch bend message"),
      std::string::npos);
}

TEST(MidiFile, SystemMessagesAreRefused) {
  EXPECT_EQ(refusal(header(0, 1, 480) + track(ev(0, {0xF8}) + endOfTrack())),
            "'song.mid', track 1, byte 23: status byte 0xF8 is a system "
            "message that a MIDI file cannot hold (only channel messages, F0 "
            "and F7 system exclusive, and FF meta events)");
  EXPECT_NE(
      refusal(header(0, 1, 480) +
              track(ev(0, {0x90, 1, 1}) + ev(3, {0xF2, 0, 0}) + endOfTrack()))
          .find("byte 27: status byte 0xF2"),
      std::string::npos);
}

TEST(MidiFile, BadTemposAreRefused) {
  EXPECT_EQ(refusal(header(0, 1, 480) +
                    track(ev(0, {0xFF, 0x51, 2, 0x07, 0xA1}) + endOfTrack())),
            "'song.mid', track 1, byte 22: a tempo event of 2 bytes; it holds "
            "3 (microseconds per quarter note)");
  EXPECT_EQ(refusal(header(0, 1, 480) + track(tempo(0, 0) + endOfTrack())),
            "'song.mid', track 1, byte 22: a tempo of 0 microseconds per "
            "quarter note");
}

TEST(MidiFile, EventsCutByTheEndOfTheirTrackAreRefused) {
  // A channel message, a delta time, a meta type and a length cut short.
  for (const std::string &Events :
       {ev(0, {0x90, 60}), bytes({0x81}), bytes({0x00}), ev(0, {0xFF}),
        ev(0, {0xFF, 0x01, 0x81}), ev(0, {0xF0})})
    EXPECT_EQ(refusal(header(0, 1, 480) + track(Events)),
              "'song.mid', track 1, byte 22: the track ends in the middle of "
              "an event");
  EXPECT_EQ(refusal(header(0, 1, 480) +
                    track(ev(0, {0xFF, 0x01, 10, 'a', 'b'}) + endOfTrack())),
            "'song.mid', track 1, byte 22: a meta event of 10 bytes runs past "
            "the end of its track (6 bytes remain)");
  EXPECT_EQ(refusal(header(0, 1, 480) +
                    track(ev(0, {0xF0, 0x82, 0x00, 0x7E}) + endOfTrack())),
            "'song.mid', track 1, byte 22: a system exclusive event of 256 "
            "bytes runs past the end of its track (5 bytes remain)");
}

TEST(MidiFile, FilesOverSixtyFourMebibytesAreRefused) {
  std::vector<uint8_t> Big(MaxMidiFileBytes + 1, 0);
  Result<MidiFileData> R = parseMidiFile(Big.data(), Big.size(), "big.mid");
  ASSERT_FALSE(R);
  EXPECT_EQ(R.error(), "'big.mid' holds 67108865 bytes, more than the limit "
                       "for a MIDI file (67108864 bytes, 64 MiB)");
}

TEST(MidiFile, MoreThanTenMillionEventsAreRefused) {
  // Program changes with running status: two bytes an event.
  size_t Count = MaxMidiEvents + 1;
  std::string Events = ev(0, {0xC0, 0});
  Events.resize(Count * 2, '\0'); // delta times of 0, programs of 0
  std::string File = header(0, 1, 480) + track(Events + endOfTrack());
  EXPECT_EQ(refusal(File), "'song.mid', track 1, byte 20000023: more than "
                           "10000000 channel events, the limit for a MIDI "
                           "file (it bounds the memory and time of a render)");
}

TEST(MidiFile, ReadingFromDisk) {
  TempDir Dir;
  std::string Path = Dir.file("song.mid");
  std::string File =
      header(0, 1, 480) + track(ev(480, {0x90, 60, 100}) + endOfTrack());
  std::ofstream(Path, std::ios::binary) << File;
  Result<MidiFileData> R = readMidiFile(Path);
  ASSERT_TRUE(R) << R.error();
  expectTimes(*R, {0.5}, {24000});

  R = readMidiFile(Dir.file("missing.mid"));
  ASSERT_FALSE(R);
  EXPECT_EQ(R.error(),
            "cannot read '" + Dir.file("missing.mid") + "': no such file");
  R = readMidiFile(Dir.file(""));
  ASSERT_FALSE(R);
  EXPECT_NE(R.error().find("it is a directory, not a file"), std::string::npos);

  // Refused by its size, before it is read (a sparse file).
  std::string Big = Dir.file("big.mid");
  std::ofstream(Big, std::ios::binary) << File;
  fs::resize_file(Big, MaxMidiFileBytes + 1);
  R = readMidiFile(Big);
  ASSERT_FALSE(R);
  EXPECT_EQ(R.error(), "'" + Big +
                           "' holds 67108865 bytes, more than the "
                           "limit for a MIDI file (67108864 bytes, 64 MiB)");
  // A device that never ends is read up to the limit only.
  R = readMidiFile("/dev/zero");
  ASSERT_FALSE(R);
  EXPECT_EQ(R.error(), "'/dev/zero' holds more than 67108864 bytes, the limit "
                       "for a MIDI file (64 MiB): is it a device or a pipe?");
}
