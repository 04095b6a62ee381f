//===- tests/unit/instrument_test.cpp - Instruments, voices and MIDI offline ===//
//
// `voices N;` scripts played from MIDI without a sound card, through the
// path `dspjit render --midi` takes (a Standard MIDI File written by the
// test, session::scheduleMidiFile, a HotSwap, runtime/Render), with
// scripts whose output says exactly what each voice saw:
//
//   voicemix(note.gate * note.key)   the sum of the held keys, per frame;
//   voicemix(note.trigger)           1 at each note's first frame only;
//   a sine at note.freq              the pitch, by its zero crossings.
//
// so every expectation is computed here by hand, to the frame: the onset and
// release of every note at block sizes 1, 37 and 64, the voice limit and
// the stealing order, CC mapping curves, and a note held across a reload.
// The allocator's policy is tested on its own first (runtime/Voices.h).
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/HotSwap.h"
#include "runtime/MidiFile.h"
#include "runtime/Render.h"
#include "runtime/Voices.h"
#include "session/MidiRender.h"
#include "tests/support/Compile.h"
#include "tests/support/Smf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace dspjit;
using namespace dspjit::test::smf;

namespace {

constexpr double Rate = 48000;

std::shared_ptr<Kernel> compile(const std::string &Source) {
  return test::compileForTest(Source, Rate, "inst.dsp");
}

MidiFileData song(const std::string &Track, uint16_t Division = 480) {
  std::string File = header(0, 1, Division) + track(Track + endOfTrack());
  auto D = parseMidiFile(reinterpret_cast<const uint8_t *>(File.data()),
                         File.size(), "song.mid");
  EXPECT_TRUE(D) << (D ? "" : D.error());
  return D ? *D : MidiFileData{};
}

/// Renders `Frames` frames of `K` (mono out) playing `Song` at `Block`
/// frames a callback; `Extra` events (a reload) run too.
struct Played {
  std::vector<float> Out;
  HotSwap::VoiceCounts Voices;
  session::MidiRenderCounts Counts;
};
Played play(const std::shared_ptr<Kernel> &K, const MidiFileData &Song,
            uint64_t Frames, unsigned Block = 64,
            std::vector<RenderEvent> Extra = {},
            std::vector<session::MidiMapping> Maps = {},
            HotSwap **SwapOut = nullptr) {
  auto I = Instance::create(K->info(), Rate);
  EXPECT_TRUE(I);
  auto Swap = std::make_unique<HotSwap>(K, std::move(*I), Block);
  if (SwapOut)
    *SwapOut = Swap.get();
  session::MidiMapper Mapper(std::move(Maps));
  Played P;
  RenderOptions O;
  O.BlockSize = Block;
  O.Frames = Frames;
  O.Events = std::move(Extra);
  session::scheduleMidiFile(Song, Rate, *Swap, Mapper, P.Counts, O.Events);
  auto R = render(*Swap, RenderInput(), O);
  EXPECT_TRUE(R) << (R ? "" : R.error());
  if (R)
    P.Out = R->Output;
  P.Voices = Swap->voiceCounts();
  return P;
}

/// The frame of a tick at 120 bpm and 480 ticks a quarter: 50 frames a
/// tick at 48 kHz.
constexpr uint64_t frameOf(uint64_t Tick) { return Tick * 50; }

const char *KeySum = R"(
io 0 -> 1;
voices 4;
process { out = voicemix(note.gate * note.key); }
)";

} // namespace

//===-- The allocator on its own ------------------------------------------===//

namespace {
/// An instance memory with only the notes, laid out by hand.
struct FakeNotes {
  static constexpr unsigned N = 4;
  float Fields[NoteLayout::Fields][N] = {};
  float Peak[N] = {};
  NoteLayout layout() const {
    NoteLayout L;
    L.Voices = N;
    auto Base = reinterpret_cast<const unsigned char *>(this);
    for (unsigned F = 0; F < NoteLayout::Fields; ++F)
      L.Offsets[F] = reinterpret_cast<const unsigned char *>(Fields[F]) - Base;
    L.PeakOffset = reinterpret_cast<const unsigned char *>(Peak) - Base;
    return L;
  }
};

ChannelMessage msg(int Status, int D1, int D2) {
  return ChannelMessage{{uint8_t(Status), uint8_t(D1), uint8_t(D2)}, 3};
}
} // namespace

TEST(VoiceAllocator, FreeVoicesFirstThenTheOldestReleasedThenTheOldestHeld) {
  VoiceAllocator A;
  A.setVoices(4);
  for (int Key : {60, 62, 64, 65})
    A.handle(msg(0x90, Key, 100));
  for (unsigned V = 0; V < 4; ++V)
    EXPECT_EQ(A.keyOf(V), std::vector<int>({60, 62, 64, 65})[V]);
  // All held: the oldest held (60, voice 0) is stolen.
  A.handle(msg(0x90, 67, 100));
  EXPECT_EQ(A.keyOf(0), 67);
  EXPECT_EQ(A.stolen(), 1u);
  // Released voices go before held ones, the longest released first.
  A.handle(msg(0x80, 64, 0));
  A.handle(msg(0x80, 62, 0));
  A.handle(msg(0x90, 69, 100));
  EXPECT_EQ(A.keyOf(2), 69) << "64 was released before 62";
  A.handle(msg(0x90, 71, 100));
  EXPECT_EQ(A.keyOf(1), 71);
  EXPECT_EQ(A.stolen(), 1u) << "taking a released voice is not stealing";
  // A key already sounding is retriggered on its own voice.
  A.handle(msg(0x90, 71, 50));
  EXPECT_EQ(A.keyOf(1), 71);
  EXPECT_EQ(A.busy(), 4u);
  EXPECT_EQ(A.notesOn(), 8u);
}

TEST(VoiceAllocator, AQuietReleasedVoiceIsFreeAgainAndALoudOneIsNot) {
  FakeNotes Mem;
  NoteLayout L = Mem.layout();
  VoiceAllocator A;
  A.setVoices(4);
  A.handle(msg(0x90, 60, 100));
  A.handle(msg(0x90, 62, 100));
  A.handle(msg(0x80, 60, 0));
  A.handle(msg(0x80, 62, 0));
  // Voice 0 has gone quiet; voice 1 still rings.
  Mem.Peak[0] = 1e-5f;
  Mem.Peak[1] = 0.1f;
  uint64_t Quiet = uint64_t(VoiceAllocator::QuietSeconds * Rate);
  A.afterProcess(L, &Mem, Quiet - 1, Rate);
  EXPECT_EQ(A.busy(), 2u) << "not quiet for long enough yet";
  A.afterProcess(L, &Mem, 1, Rate);
  EXPECT_EQ(A.busy(), 1u);
  // The free voice 0 comes before the ringing (released) voice 1... and
  // before the never used voices 2 and 3, lowest number first.
  A.handle(msg(0x90, 64, 100));
  EXPECT_EQ(A.keyOf(0), 64);
}

TEST(VoiceAllocator, NotesBendPressureAndThePedalReachTheSlots) {
  FakeNotes Mem;
  NoteLayout L = Mem.layout();
  VoiceAllocator A;
  A.setVoices(4);
  A.handle(msg(0x91, 69, 127));            // A4 on channel 2
  A.handle(msg(0xE1, 0x7F, 0x7F));         // bend up fully: +2 semitones
  A.handle(ChannelMessage{{0xD1, 64}, 2}); // channel pressure
  A.write(L, &Mem);
  A.written();
  EXPECT_NEAR(Mem.Fields[NoteLayout::Freq][0],
              440 * std::exp2(8191 / 8192.0 * 2 / 12), 1e-3);
  EXPECT_EQ(Mem.Fields[NoteLayout::Key][0], 69);
  EXPECT_EQ(Mem.Fields[NoteLayout::Velocity][0], 1.0f);
  EXPECT_EQ(Mem.Fields[NoteLayout::Gate][0], 1.0f);
  EXPECT_EQ(Mem.Fields[NoteLayout::Trigger][0], 1.0f);
  EXPECT_NEAR(Mem.Fields[NoteLayout::Pressure][0], 64 / 127.0, 1e-6);
  // The pedal holds a released note until it goes up.
  A.handle(msg(0xB1, 64, 127));
  A.handle(msg(0x81, 69, 0));
  A.write(L, &Mem);
  EXPECT_EQ(Mem.Fields[NoteLayout::Gate][0], 1.0f);
  A.handle(msg(0xB1, 64, 0));
  A.write(L, &Mem);
  EXPECT_EQ(Mem.Fields[NoteLayout::Gate][0], 0.0f);
  // Another channel's note-off does nothing to it; all-notes-off does.
  A.handle(msg(0x90, 72, 100));
  A.handle(msg(0x81, 72, 0));
  EXPECT_EQ(A.held(), 1u);
  A.handle(msg(0xB0, 123, 0));
  EXPECT_EQ(A.held(), 0u);
}

TEST(VoiceAllocator, MalformedAndForeignMessagesChangeNothing) {
  VoiceAllocator A;
  A.setVoices(2);
  A.handle(ChannelMessage{{0x90, 60}, 2});   // a note-on cut short
  A.handle(ChannelMessage{{0xF0, 1, 2}, 3}); // system messages
  A.handle(ChannelMessage{{0x45, 1, 2}, 3}); // no status
  A.handle(ChannelMessage{{0xC0, 5}, 2});    // program change
  EXPECT_EQ(A.busy(), 0u);
  EXPECT_EQ(A.notesOn(), 0u);
  VoiceAllocator None; // no voices: notes are ignored
  None.handle(msg(0x90, 60, 100));
  EXPECT_EQ(None.notesOn(), 0u);
}

//===-- Compiled instruments, sample-accurate -----------------------------===//

TEST(Instrument, NotesStartAndStopAtTheirFrameAtEveryBlockSize) {
  auto K = compile(KeySum);
  ASSERT_TRUE(K);
  // Notes at ticks that fall inside blocks (50 frames a tick).
  MidiFileData S = song(ev(3, {0x90, 60, 100}) + ev(10, {0x90, 64, 90}) +
                        ev(7, {0x80, 60, 0}) + ev(1, {0x90, 67, 80}) +
                        ev(5, {0x80, 64, 0}) + ev(4, {0x80, 67, 0}));
  // Held: 60 over [3, 20), 64 over [13, 26), 67 over [21, 30) in ticks.
  auto Expected = [](uint64_t F) {
    float Sum = 0;
    if (F >= frameOf(3) && F < frameOf(20))
      Sum += 60;
    if (F >= frameOf(13) && F < frameOf(26))
      Sum += 64;
    if (F >= frameOf(21) && F < frameOf(30))
      Sum += 67;
    return Sum;
  };
  for (unsigned Block : {1u, 37u, 64u}) {
    SCOPED_TRACE("block " + std::to_string(Block));
    Played P = play(K, S, frameOf(32), Block);
    ASSERT_EQ(P.Out.size(), frameOf(32));
    for (uint64_t F = 0; F < P.Out.size(); ++F)
      ASSERT_EQ(P.Out[F], Expected(F)) << "frame " << F;
    EXPECT_EQ(P.Voices.NotesOn, 3u);
    EXPECT_EQ(P.Counts.Messages, 6u);
  }
}

TEST(Instrument, TriggerIsOneInTheNotesFirstFrameOnly) {
  auto K = compile(R"(
io 0 -> 1;
voices 4;
process { out = voicemix(note.trigger); }
)");
  ASSERT_TRUE(K);
  MidiFileData S = song(ev(1, {0x90, 60, 100}) + ev(0, {0x90, 62, 100}) +
                        ev(2, {0x90, 64, 100}) + ev(1, {0x80, 64, 0}) +
                        ev(1, {0x90, 64, 100}));
  for (unsigned Block : {1u, 37u, 64u}) {
    SCOPED_TRACE("block " + std::to_string(Block));
    Played P = play(K, S, frameOf(8), Block);
    for (uint64_t F = 0; F < P.Out.size(); ++F) {
      float Want = F == frameOf(1) ? 2 : F == frameOf(3) || F == frameOf(5);
      ASSERT_EQ(P.Out[F], Want) << "frame " << F;
    }
  }
}

TEST(Instrument, TheVoiceLimitAndTheStealingOrderAreAudible) {
  auto K = compile(R"(
io 0 -> 1;
voices 2;
process { out = voicemix(note.gate * note.key); }
)");
  ASSERT_TRUE(K);
  // 60 and 62 held; 64 steals 60 (the oldest held); 62 released; 65 takes
  // 62's voice (released) and not 64's (held).
  MidiFileData S = song(ev(0, {0x90, 60, 100}) + ev(2, {0x90, 62, 100}) +
                        ev(2, {0x90, 64, 100}) + ev(2, {0x80, 62, 0}) +
                        ev(2, {0x90, 65, 100}) + ev(2, {0x80, 60, 0}));
  Played P = play(K, S, frameOf(12), 37);
  auto At = [&](uint64_t Tick) { return P.Out[frameOf(Tick) + 10]; };
  EXPECT_EQ(At(1), 60);
  EXPECT_EQ(At(3), 60 + 62);
  EXPECT_EQ(At(5), 62 + 64) << "64 took the voice of 60, the oldest";
  EXPECT_EQ(At(7), 64);
  EXPECT_EQ(At(9), 64 + 65);
  EXPECT_EQ(At(11), 64 + 65) << "the note-off of a stolen note does nothing";
  EXPECT_EQ(P.Voices.Stolen, 1u);
}

TEST(Instrument, EveryNoteSoundsAtItsPitch) {
  auto K = compile(R"(
io 0 -> 1;
voices 8;
process { out = voicemix(note.gate * sin(tau * phasor(note.freq))); }
)");
  ASSERT_TRUE(K);
  // One note at a time, half a second each (480 ticks), a tempo change in
  // the middle: the frames follow the tempo map.
  const std::vector<int> Keys = {45, 57, 60, 69, 76, 84, 96};
  std::string T;
  for (size_t I = 0; I < Keys.size(); ++I) {
    if (I == 3)
      T += tempo(0, 250000); // 240 bpm from here: 0.25 s a note
    T += ev(I ? 120 : 0, {0x90, Keys[I], 100}) + ev(480, {0x80, Keys[I], 0});
  }
  MidiFileData S = song(T);
  Played P = play(K, S, session::midiRenderFrames(S, Rate, 0.1), 64);
  for (size_t I = 0; I < Keys.size(); ++I) {
    const MidiEvent &On = S.Events[2 * I], &Off = S.Events[2 * I + 1];
    uint64_t Begin = midiFrame(On, Rate), End = midiFrame(Off, Rate);
    // Upward zero crossings, interpolated, over the note.
    std::vector<double> Ups;
    for (uint64_t F = Begin + 1; F < End; ++F)
      if (P.Out[F - 1] < 0 && P.Out[F] >= 0)
        Ups.push_back(double(F - 1) + P.Out[F - 1] / (P.Out[F - 1] - P.Out[F]));
    ASSERT_GE(Ups.size(), 10u) << "key " << Keys[I];
    double Hz = Rate * double(Ups.size() - 1) / (Ups.back() - Ups.front());
    double Want = 440 * std::exp2((Keys[I] - 69) / 12.0);
    EXPECT_NEAR(1200 * std::log2(Hz / Want), 0, 1) << "key " << Keys[I];
    EXPECT_NE(P.Out[Begin + 1], 0) << "sounds from its frame";
    EXPECT_EQ(P.Out[End + 1], 0) << "silent after its note-off";
  }
}

namespace {
std::string SineSynth(double Gain) {
  return "io 0 -> 1;\nvoices 4;\nprocess { out = voicemix(" +
         std::to_string(Gain) +
         " * note.gate * sin(tau * phasor(note.freq))); }\n";
}
} // namespace

TEST(Instrument, AHeldNoteKeepsPlayingAcrossAReload) {
  auto V1 = compile(SineSynth(0.5)), V2 = compile(SineSynth(0.25));
  ASSERT_TRUE(V1 && V2);
  MidiFileData S = song(ev(0, {0x90, 69, 100}) + ev(960, {0x80, 69, 0}));
  const uint64_t SwapAt = 24000 + 17; // inside a block, in the held note
  HotSwap *Swap = nullptr;
  std::vector<RenderEvent> Extra = {{SwapAt, [&Swap, V2] {
                                       auto V = Swap->prepare(
                                           V2, V2->info(), {.FadeFrames = 0});
                                       ASSERT_TRUE(V) << V.error();
                                       ASSERT_TRUE(Swap->publish(*V));
                                     }}};
  Played P = play(V1, S, 60000, 64, std::move(Extra), {}, &Swap);
  // The phase carried over (the phasor's state, per voice): the second
  // version continues the same sine at half the level, without a gap.
  double Phase = 0;
  for (uint64_t F = 0; F < 48000; ++F) {
    float Want = float((F < SwapAt ? 0.5 : 0.25) * std::sin(2 * M_PI * Phase));
    ASSERT_NEAR(P.Out[F], Want, 2e-3) << "frame " << F;
    Phase = std::fmod(Phase + 440.0 / Rate, 1.0);
  }
  EXPECT_EQ(P.Out[48001], 0) << "and it stops at its note-off";
}

//===-- Controllers to parameters -----------------------------------------===//

TEST(Instrument, DeclaredAndGivenMappingsMoveParametersAtTheirFrame) {
  auto K = compile(R"(
io 0 -> 2;
param cutoff = 1000 in [20, 20000] hz nosmooth midi cc 74;
param q = 0.5 in [0, 1] nosmooth midi cc 1 ch 2;
param drive = 1 in [1, 10] nosmooth;
process { out = [cutoff, q + drive]; }
)");
  ASSERT_TRUE(K);
  const DspjitSlot *Cutoff = K->findParam("cutoff");
  const DspjitSlot *Q = K->findParam("q");
  ASSERT_TRUE(Cutoff && Q);
  EXPECT_EQ(DSPJIT_MIDI_KIND(Cutoff->midi), unsigned(DSPJIT_MIDI_CC));
  EXPECT_EQ(DSPJIT_MIDI_NUMBER(Cutoff->midi), 74u);
  EXPECT_EQ(DSPJIT_MIDI_CHANNEL(Q->midi), 2u);
  MidiFileData S = song(ev(2, {0xB0, 74, 0}) + ev(2, {0xB0, 74, 64}) +
                        ev(2, {0xB0, 74, 127}) + ev(2, {0xB0, 1, 127}) +
                        ev(2, {0xB1, 1, 127}) + ev(2, {0xB0, 7, 127}));
  auto Map = session::parseMidiMapping("drive=cc7");
  ASSERT_TRUE(Map);
  // Stereo out: play() reads mono, so render here by hand.
  auto I = Instance::create(K->info(), Rate);
  ASSERT_TRUE(I);
  HotSwap Swap(K, std::move(*I), 37);
  session::MidiMapper Mapper({*Map});
  session::MidiRenderCounts Counts;
  RenderOptions O;
  O.BlockSize = 37;
  O.Frames = frameOf(14);
  session::scheduleMidiFile(S, Rate, Swap, Mapper, Counts, O.Events);
  auto R = render(Swap, RenderInput(), O);
  ASSERT_TRUE(R);
  auto Cut = [&](uint64_t F) { return R->Output[2 * F]; };
  auto QD = [&](uint64_t F) { return R->Output[2 * F + 1]; };
  EXPECT_EQ(Cut(frameOf(2) - 1), 1000);
  EXPECT_EQ(Cut(frameOf(2)), 20) << "cc 74 at 0: the bottom, at its frame";
  // Logarithmic over a 1000:1 range in hz.
  EXPECT_NEAR(Cut(frameOf(4)), 20 * std::pow(1000.0, 64 / 127.0), 0.05);
  EXPECT_EQ(Cut(frameOf(6)), 20000);
  EXPECT_EQ(QD(frameOf(8)), 0.5f + 1) << "cc 1 on channel 1: not q's";
  EXPECT_EQ(QD(frameOf(10)), 1.0f + 1) << "cc 1 on channel 2 is q's";
  EXPECT_EQ(QD(frameOf(12)), 1.0f + 10) << "--midi-map drive=cc7";
  EXPECT_EQ(Counts.ParamChanges, 5u);
}

TEST(Instrument, AnInstrumentWithoutNotesIsSilentAndAnEffectIgnoresNotes) {
  auto K = compile(R"(
io 0 -> 1;
voices 8;
process { out = voicemix(note.gate * sin(tau * phasor(note.freq)) + 0 * note.pressure); }
)");
  ASSERT_TRUE(K);
  Played P = play(K, MidiFileData{}, 4800);
  for (float X : P.Out)
    ASSERT_EQ(X, 0);
  auto Fx = compile("io 0 -> 1;\nprocess { out = 0.5; }\n");
  ASSERT_TRUE(Fx);
  Played Q = play(Fx, song(ev(0, {0x90, 60, 100})), 480);
  EXPECT_EQ(Q.Out[100], 0.5f);
  EXPECT_EQ(Q.Voices.NotesOn, 0u);
}

TEST(Instrument, AHundredThousandNotesInOneSecondRenderQuicklyAndCompletely) {
  auto K = compile(KeySum);
  ASSERT_TRUE(K);
  // 100 000 notes, each on and off at once, one a tick of 1/96000 s: two
  // notes a frame for a second.
  std::string T = tempo(0, 250000); // 240 bpm: 96000 ticks a second
  for (int I = 0; I < 100000; ++I)
    T +=
        ev(I ? 1 : 0, {0x90, 36 + I % 60, 100}) + ev(0, {0x80, 36 + I % 60, 0});
  MidiFileData S = song(T, 24000);
  ASSERT_EQ(S.Info.Notes, 100000u);
  Played P = play(K, S, session::midiRenderFrames(S, Rate, 0.01));
  EXPECT_EQ(P.Voices.NotesOn, 100000u);
  EXPECT_EQ(P.Counts.Messages, 200000u);
  // Every note ended where it began: nothing is left held.
  EXPECT_EQ(P.Out.back(), 0);
}
