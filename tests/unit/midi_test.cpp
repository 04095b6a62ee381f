//===- tests/unit/midi_test.cpp - MIDI bytes to parameters, without a device -===//
//
// The MIDI surface's logic in-process (session/MidiMap.h, session/Midi.h):
// the decoder on running status, real-time bytes, SysEx and garbage; the
// curves onto parameter ranges (linear, logarithmic for hz, a switch, pitch
// bend, 14-bit CC pairs, channel filters); `--midi-map` specs and map files,
// good and bad; and a MidiInput made forTest() on a real bus of a real
// compiled kernel on a Host without a stream: messages received as RtMidi's
// callback hands them, drained as the surface's thread does, a full ring
// counted, `learn` through the console, and a mapping kept across a reload
// to a version without its parameter. The same surface runs live on JACK in
// tests/session/midi_live_test.cpp and is fuzzed in tests/fuzz/fuzz_midi.cpp.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Host.h"
#include "session/Console.h"
#include "session/ControlBus.h"
#include "session/Midi.h"
#include "session/MidiMap.h"
#include "session/WebProtocol.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

using namespace dspjit;
using namespace dspjit::session;

namespace {

std::vector<MidiMessage> decode(const std::vector<uint8_t> &Bytes,
                                MidiDecoder *D = nullptr) {
  MidiDecoder Own;
  std::vector<MidiMessage> Out;
  (D ? *D : Own).feed(Bytes.data(), Bytes.size(), Out);
  return Out;
}

DspjitSlot param(const char *Name, float Min, float Max, const char *Unit,
                 float Smooth = 0.02f) {
  DspjitSlot S = {};
  S.name = Name;
  S.kind = DSPJIT_SLOT_PARAM;
  S.min = Min;
  S.max = Max;
  S.def = Min;
  S.unit = Unit;
  S.smooth_seconds = Smooth;
  return S;
}

/// A kernel descriptor with only slots: what MidiMapper reads.
struct FakeKernel {
  std::vector<DspjitSlot> Slots;
  DspjitKernel K = {};
  explicit FakeKernel(std::vector<DspjitSlot> S) : Slots(std::move(S)) {
    K.num_slots = uint32_t(Slots.size());
    K.slots = Slots.data();
  }
};

MidiMapping map(const char *Spec) {
  auto M = parseMidiMapping(Spec);
  EXPECT_TRUE(M) << M.error();
  return M ? *M : MidiMapping{};
}

} // namespace

//===-- The decoder -------------------------------------------------------===//

TEST(MidiDecoder, RunningStatusRealTimeAndSysex) {
  // CC 74 = 10, then running status: 20, 30; a clock byte inside a message.
  auto M = decode({0xb0, 74, 10, 74, 20, 74, 0xf8, 30});
  ASSERT_EQ(M.size(), 3u);
  EXPECT_EQ(M[2].Status, 0xb0);
  EXPECT_EQ(M[2].Data1, 74);
  EXPECT_EQ(M[2].Data2, 30);
  // Program change and channel pressure take one data byte.
  M = decode({0xc3, 5, 0xd1, 100, 90});
  ASSERT_EQ(M.size(), 3u);
  EXPECT_EQ(M[1].kind(), 0xd0);
  EXPECT_EQ(M[1].channel(), 2u);
  EXPECT_EQ(M[2].Data1, 90); // running status
  // SysEx contents are skipped and end running status; stray data bytes too.
  MidiDecoder D;
  M = decode({0xb0, 1, 2, 0xf0, 1, 2, 3, 0xf7, 5, 6, 0xe0, 0, 64}, &D);
  ASSERT_EQ(M.size(), 2u);
  EXPECT_EQ(M[1].kind(), 0xe0);
  EXPECT_EQ(D.skipped(), 5u);
  // A message split across two feeds completes.
  D = {};
  std::vector<MidiMessage> Out;
  uint8_t A[] = {0x90, 60}, B[] = {100};
  D.feed(A, 2, Out);
  EXPECT_TRUE(Out.empty());
  D.feed(B, 1, Out);
  ASSERT_EQ(Out.size(), 1u);
  EXPECT_EQ(Out[0].Data2, 100);
}

TEST(MidiDecoder, GarbageNeverMakesAnythingButChannelMessages) {
  uint32_t X = 12345;
  MidiDecoder D;
  std::vector<MidiMessage> Out;
  for (int I = 0; I < 100000; ++I) {
    X = X * 1664525u + 1013904223u;
    uint8_t Byte = uint8_t(X >> 24);
    D.feed(&Byte, 1, Out);
  }
  ASSERT_FALSE(Out.empty());
  for (const MidiMessage &M : Out) {
    EXPECT_GE(M.Status, 0x80);
    EXPECT_LE(M.Status, 0xef);
    EXPECT_LT(M.Data1, 0x80);
    EXPECT_LT(M.Data2, 0x80);
  }
}

//===-- Specs and files ---------------------------------------------------===//

TEST(MidiMap, ParsesSpecs) {
  EXPECT_EQ(map("cutoff=cc74").Source, (MidiSource{MidiSource::CC, 74, 0}));
  EXPECT_EQ(map("q=CC1/ch2").Source, (MidiSource{MidiSource::CC, 1, 2}));
  EXPECT_EQ(map("pitch=bend").Source.Type, MidiSource::Bend);
  EXPECT_EQ(map("drive=aftertouch/ch16").Source,
            (MidiSource{MidiSource::Aftertouch, 0, 16}));
  EXPECT_EQ(midiMappingSpec(map("q=cc1/ch2")), "q=cc1/ch2");
  EXPECT_EQ(describeMidiSource(map("q=cc74/ch1").Source), "cc74 (channel 1)");
  EXPECT_EQ(describeMidiSource(map("q=bend").Source),
            "pitch bend (any channel)");
  for (const char *Bad :
       {"cutoff", "=cc74", "cutoff=", "cutoff=cc128", "cutoff=cc-1",
        "cutoff=cc74/ch0", "cutoff=cc74/ch17", "cutoff=cc74/2", "cutoff=note60",
        "cut off=cc1", "cutoff=cc1234"}) {
    auto M = parseMidiMapping(Bad);
    ASSERT_FALSE(M) << Bad;
    EXPECT_NE(M.error().find("NAME=ccN"), std::string::npos) << M.error();
    EXPECT_NE(M.error().find(std::string("'") + Bad + "'"), std::string::npos)
        << M.error();
  }
}

TEST(MidiMap, ReadsAndWritesFiles) {
  auto Maps = parseMidiMapFile(
      "# mine\n\ncutoff=cc74   # the big knob\n  q=cc71/ch1\r\ncutoff=cc74\n",
      "map.txt");
  ASSERT_TRUE(Maps) << Maps.error();
  ASSERT_EQ(Maps->size(), 2u); // the duplicate is kept once
  EXPECT_EQ((*Maps)[1], map("q=cc71/ch1"));

  auto Bad = parseMidiMapFile("cutoff=cc74\nq=cc200\n", "map.txt");
  ASSERT_FALSE(Bad);
  EXPECT_EQ(Bad.error().rfind("'map.txt' line 2: ", 0), 0u) << Bad.error();

  std::string Path = (std::filesystem::temp_directory_path() /
                      ("dspjit-midi-" + std::to_string(getpid()) + ".txt"))
                         .string();
  std::filesystem::remove(Path);
  auto Missing = loadMidiMapFile(Path);
  ASSERT_TRUE(Missing) << Missing.error(); // created when saved
  EXPECT_TRUE(Missing->empty());
  ASSERT_TRUE(saveMidiMapFile(Path, *Maps));
  auto Back = loadMidiMapFile(Path);
  ASSERT_TRUE(Back) << Back.error();
  EXPECT_EQ(*Back, *Maps);
  std::filesystem::remove(Path);
  auto Unwritable = saveMidiMapFile("/nonexistent-dir/map.txt", *Maps);
  ASSERT_FALSE(Unwritable);
  EXPECT_NE(Unwritable.error().find("cannot save"), std::string::npos);
}

//===-- Curves ------------------------------------------------------------===//

TEST(MidiMap, CurvesOntoRanges) {
  DspjitSlot Hz = param("cutoff", 20, 20000, "hz");
  EXPECT_FLOAT_EQ(midiCurve(Hz, 0), 20);
  EXPECT_FLOAT_EQ(midiCurve(Hz, 1), 20000);
  EXPECT_NEAR(midiCurve(Hz, 0.5), std::sqrt(20.0 * 20000.0), 0.01);
  // Less than a decade: linear.
  DspjitSlot Narrow = param("f", 100, 800, "hz");
  EXPECT_NEAR(midiCurve(Narrow, 0.5), 450, 1e-3);
  DspjitSlot Db = param("gain", -60, 12, "db");
  EXPECT_NEAR(midiCurve(Db, 64 / 127.0), -60 + 72 * 64 / 127.0, 1e-4);
  // A [0, 1] parameter without smoothing is a switch at 64.
  DspjitSlot Switch = param("bypass", 0, 1, "", 0);
  EXPECT_EQ(midiCurve(Switch, 63 / 127.0), 0.0f);
  EXPECT_EQ(midiCurve(Switch, 64 / 127.0), 1.0f);
  // With smoothing it is a continuous control.
  DspjitSlot Mix = param("mix", 0, 1, "");
  EXPECT_NEAR(midiCurve(Mix, 0.25), 0.25, 1e-6);
}

TEST(MidiMap, ChannelsBendAftertouchAnd14BitPairs) {
  FakeKernel K({param("cutoff", 0, 16383, ""), param("pitch", -1, 1, ""),
                param("drive", 0, 127, ""), param("q", 0, 127, "")});
  MidiMapper M({map("cutoff=cc1"), map("pitch=bend"),
                map("drive=aftertouch/ch1"), map("q=cc71/ch2")});
  std::vector<MidiParamChange> Out;
  auto Run = [&](std::vector<uint8_t> Bytes) {
    Out.clear();
    for (const MidiMessage &Msg : decode(Bytes))
      M.handle(Msg, K.K, Out);
    return Out;
  };
  // 7-bit until the controller sends an LSB.
  auto C = Run({0xb0, 1, 64});
  ASSERT_EQ(C.size(), 1u);
  EXPECT_NEAR(C[0].Value, 64 / 127.0 * 16383, 0.01);
  // LSB (CC 33) after MSB: 14 bits.
  C = Run({0xb0, 33, 5});
  ASSERT_EQ(C.size(), 1u);
  EXPECT_FLOAT_EQ(C[0].Value, 64 * 128 + 5);
  // From now on an MSB alone is MSB * 128.
  C = Run({0xb0, 1, 10});
  EXPECT_FLOAT_EQ(C.at(0).Value, 10 * 128);
  // Bend: 14 bits, LSB first; the centre 8192 is the middle of the range.
  C = Run({0xe5, 0, 64});
  EXPECT_NEAR(C.at(0).Value, 8192 / 16383.0 * 2 - 1, 1e-5);
  C = Run({0xe0, 127, 127});
  EXPECT_FLOAT_EQ(C.at(0).Value, 1);
  // Aftertouch on channel 1 only.
  EXPECT_EQ(Run({0xd0, 100}).size(), 1u);
  EXPECT_TRUE(Run({0xd1, 100}).empty());
  // cc71 on channel 2 only.
  EXPECT_TRUE(Run({0xb0, 71, 1}).empty());
  EXPECT_EQ(Run({0xb1, 71, 1}).size(), 1u);
  // Notes and poly pressure move nothing.
  EXPECT_TRUE(Run({0x90, 60, 100, 0xa0, 60, 50}).empty());
}

TEST(MidiMap, LearnMapsTheNextControlAndReplacesTheOldMapping) {
  FakeKernel K({param("cutoff", 0, 127, "")});
  MidiMapper M({map("cutoff=cc1")});
  std::vector<MidiParamChange> Out;
  M.learn("cutoff");
  // A note is not a control.
  EXPECT_FALSE(M.handle({0x90, 60, 1}, K.K, Out));
  auto New = M.handle({0xb2, 74, 99}, K.K, Out);
  ASSERT_TRUE(New);
  EXPECT_EQ(*New, map("cutoff=cc74/ch3"));
  EXPECT_TRUE(Out.empty()); // learning does not move it
  ASSERT_EQ(M.mappings().size(), 1u);
  EXPECT_FALSE(M.learning());
  M.handle({0xb2, 74, 99}, K.K, Out);
  ASSERT_EQ(Out.size(), 1u);
  EXPECT_FLOAT_EQ(Out[0].Value, 99);
}

//===-- The surface on a real bus -----------------------------------------===//

namespace {

const char *const Script = R"dsp(io 2 -> 2;
param cutoff = 1000 in [20, 20000] hz;
param bypass = 0 in [0, 1] nosmooth;
process {
    out = in * (1 - bypass) + 0 * cutoff;
}
)dsp";

class MidiSurface : public ::testing::Test {
protected:
  void SetUp() override {
    CompileOptions O;
    O.optLevel = 0;
    Compiler C(O);
    std::shared_ptr<Kernel> K = C.compileSource("midi.dsp", Script);
    ASSERT_TRUE(K) << "the test's script does not compile";
    auto H = Host::openOffline(K->info(), {}, K);
    ASSERT_TRUE(H) << H.error();
    Offline = std::move(*H);
    Bus = std::make_unique<ControlBus>(*Offline);
    Sub = Bus->subscribe([this](const Event &E) {
      std::lock_guard<std::mutex> Guard(Lock);
      Events.push_back(describe(E));
    });
  }
  void TearDown() override {
    Sub.reset();
    if (Bus)
      Bus->detach();
  }
  void send(MidiInput &M, std::vector<uint8_t> Bytes) {
    M.receive(Bytes.data(), Bytes.size(), 0);
  }
  float target(const char *Name) { return *Bus->instance()->param(Name); }

  std::unique_ptr<Host> Offline;
  std::unique_ptr<ControlBus> Bus;
  Subscription Sub;
  std::mutex Lock;
  std::vector<std::string> Events;
};

} // namespace

TEST_F(MidiSurface, MessagesReachParametersAndAFullRingIsCounted) {
  auto M =
      MidiInput::forTest(*Bus, {map("cutoff=cc74"), map("bypass=cc64")}, 16);
  send(*M, {0xb0, 74, 127});
  send(*M, {0xb0, 64, 127});
  EXPECT_EQ(M->drain(), 2u);
  EXPECT_FLOAT_EQ(target("cutoff"), 20000);
  EXPECT_EQ(target("bypass"), 1);
  // A burst larger than the ring: the excess is dropped and counted; the
  // last value in the ring wins.
  for (int I = 0; I < 10000; ++I)
    send(*M, {0xb0, 74, uint8_t(I % 100)});
  EXPECT_EQ(M->received(), 10002u);
  EXPECT_EQ(M->dropped(), 10000u - 16u);
  while (M->drain()) {
  }
  EXPECT_NEAR(
      target("cutoff"),
      midiCurve(*findSlot(Bus->instance()->kernel(), "cutoff"), 15 / 127.0),
      1e-2);
  // Messages longer than three bytes (SysEx that slipped through) and empty
  // ones are not channel messages: ignored, not counted.
  send(*M, {0xf0, 1, 2, 3, 0xf7});
  send(*M, {});
  EXPECT_EQ(M->received(), 10002u);
}

TEST_F(MidiSurface, LearnThroughTheConsole) {
  std::vector<CommandReply> Replies;
  auto C = Console::start(*Bus, -1, [&](const ConsoleLine &L) {
    if (L.Reply)
      Replies.push_back(*L.Reply);
  });
  // Without a MIDI input, learn says so.
  C->feed("learn cutoff\n", 13);
  ASSERT_EQ(Replies.size(), 1u);
  EXPECT_EQ(Replies[0].Status, CommandReply::Error);
  EXPECT_NE(Replies[0].Text.find("no MIDI input is open"), std::string::npos);

  auto M = MidiInput::forTest(*Bus, {});
  const std::string Lines = "learn nosuch\nlearn\nlearn cutoff\n";
  C->feed(Lines.data(), Lines.size());
  ASSERT_EQ(Replies.size(), 4u);
  EXPECT_NE(Replies[1].Text.find("unknown parameter 'nosuch'"),
            std::string::npos)
      << Replies[1].Text;
  EXPECT_EQ(Replies[2].Text, "usage: learn NAME");
  EXPECT_EQ(Replies[3].Status, CommandReply::Ok) << Replies[3].Text;
  send(*M, {0xb1, 74, 0});
  M->drain();
  ASSERT_EQ(M->mappings().size(), 1u);
  EXPECT_EQ(M->mappings()[0], map("cutoff=cc74/ch2"));
  {
    std::lock_guard<std::mutex> Guard(Lock);
    EXPECT_NE(std::find(Events.begin(), Events.end(),
                        "MIDI: cutoff <- cc74 (channel 2)"),
              Events.end());
  }
  send(*M, {0xb1, 74, 0});
  M->drain();
  EXPECT_FLOAT_EQ(target("cutoff"), 20);
}

TEST_F(MidiSurface, LearnFromAWebPage) {
  // Without a MIDI input the page is told so, and its script message does
  // not offer learn.
  web::Handled H =
      web::handleMessage(*Bus, R"({"type":"learn","name":"cutoff"})");
  EXPECT_FALSE(H.Ok);
  EXPECT_NE(H.Reply.find("no MIDI input is open"), std::string::npos);
  EXPECT_NE(web::scriptMessage(*Bus->instance(), "m.dsp", false)
                .find(R"("midi":false)"),
            std::string::npos);

  auto M = MidiInput::forTest(*Bus, {});
  H = web::handleMessage(*Bus, R"({"type":"learn","name":"cutof"})");
  EXPECT_FALSE(H.Ok);
  EXPECT_NE(H.Reply.find("did you mean 'cutoff'"), std::string::npos);
  H = web::handleMessage(*Bus, R"({"type":"learn"})");
  EXPECT_NE(H.Reply.find("takes a"), std::string::npos) << H.Reply;
  H = web::handleMessage(*Bus, R"({"type":"learn","name":"cutoff"})");
  EXPECT_TRUE(H.Ok) << H.Reply;
  send(*M, {0xb0, 71, 0});
  M->drain();
  ASSERT_EQ(M->mappings().size(), 1u);
  EXPECT_EQ(M->mappings()[0], map("cutoff=cc71/ch1"));
}

TEST_F(MidiSurface, AMappingWithoutItsParameterIsReportedOnceAndKept) {
  auto M = MidiInput::forTest(*Bus, {map("cutoff=cc74"), map("gone=cc1")});
  send(*M, {0xb0, 1, 5});
  send(*M, {0xb0, 1, 6});
  M->drain();
  M->drain();
  send(*M, {0xb0, 1, 7});
  M->drain();
  std::lock_guard<std::mutex> Guard(Lock);
  ASSERT_EQ(std::count_if(Events.begin(), Events.end(),
                          [](const std::string &E) {
                            return E.find("no parameter 'gone'") !=
                                   std::string::npos;
                          }),
            1)
      << ::testing::PrintToString(Events);
  EXPECT_EQ(M->mappings().size(), 2u);
}

TEST_F(MidiSurface, OpenRefusesUnknownParametersAndBadSpecs) {
  MidiOptions O;
  O.Maps = {"cutof=cc74"};
  auto M = MidiInput::open(*Bus, O, {});
  ASSERT_FALSE(M);
  EXPECT_NE(M.error().find("cannot map MIDI to 'cutof=cc74': unknown "
                           "parameter 'cutof'; did you mean 'cutoff'?"),
            std::string::npos)
      << M.error();
  O.Maps = {"cutoff=cc999"};
  auto Bad = MidiInput::check(O);
  ASSERT_FALSE(Bad);
  EXPECT_NE(Bad.error().find("'cutoff=cc999'"), std::string::npos);
}

TEST_F(MidiSurface, ALearnIsSavedToTheMapFileAndLoadedBack) {
  std::string Path = (std::filesystem::temp_directory_path() /
                      ("dspjit-midi-learn-" + std::to_string(getpid())))
                         .string();
  std::filesystem::remove(Path);
  {
    auto M = MidiInput::forTest(*Bus, {map("bypass=cc64")}, 1024, Path);
    Bus->publish(event::MidiLearn{"cutoff"});
    send(*M, {0xe0, 0, 64}); // pitch bend, channel 1
    M->drain();
    // Saved at once, atomically (no temporary file left behind).
    auto Saved = loadMidiMapFile(Path);
    ASSERT_TRUE(Saved) << Saved.error();
    EXPECT_EQ(*Saved, (std::vector<MidiMapping>{map("bypass=cc64"),
                                                map("cutoff=bend/ch1")}));
  }
  MidiOptions O;
  O.MapFile = Path;
  O.Maps = {"bypass=cc65"}; // the command line replaces the file's
  auto Loaded = MidiInput::check(O);
  ASSERT_TRUE(Loaded) << Loaded.error();
  EXPECT_EQ(*Loaded, (std::vector<MidiMapping>{map("cutoff=bend/ch1"),
                                               map("bypass=cc65")}));
  size_t Files = 0;
  for (const auto &E : std::filesystem::directory_iterator(
           std::filesystem::temp_directory_path()))
    Files += E.path().string().rfind(Path, 0) == 0;
  EXPECT_EQ(Files, 1u);
  std::filesystem::remove(Path);
}
