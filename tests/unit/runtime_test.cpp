//===- tests/unit/runtime_test.cpp - Unit tests of runtime/ ---------------===//
//
// The runtime hosts any DspjitKernel descriptor, so it is tested here with
// hand-written C++ kernels that follow the ABI (the FixtureKernel below),
// independently of the compiler. Compiled kernels are exercised by the
// golden and live tests.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "runtime/AudioSource.h"
#include "runtime/Instance.h"
#include "runtime/Messages.h"
#include "runtime/Render.h"
#include "runtime/Signals.h"
#include "tests/support/TempDir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <numbers>
#include <numeric>
#include <unistd.h>

using namespace dspjit;
namespace fs = std::filesystem;

namespace {

//===-- A hand-written kernel (test fixture) ------------------------------===//
//
// `out[c] = 2 * gain * in[c]` (or 0.25 * gain on every channel when there
// is no input), with a parameter `gain` in [0, 4] (default 1, no smoothing),
// a meter `peak` of width 2 (|out| of the last frame, channels 0 and 1) and
// a state `seen` recording what the host passed, so that tests can check the
// host calls process exactly as PortAudio would.

struct FixtureInstance {
  DspjitInstanceHeader Header;
  float GainTarget;
  float GainValue;
  float Peak[2];
  uint32_t SawNullInput;  // callbacks with input == null
  uint32_t SawNullOutput; // callbacks with output == null
  uint32_t LargestBlock;
  uint32_t SmallestBlock;
};

constexpr float GainMin = 0, GainMax = 4, GainDefault = 1;

const DspjitSlot FixtureSlots[] = {
    {"gain", DSPJIT_SLOT_PARAM, 1, 1, 4, offsetof(FixtureInstance, GainTarget),
     offsetof(FixtureInstance, GainValue), 0, 0, GainDefault, GainMin, GainMax,
     0, "", 0},
    {"peak", DSPJIT_SLOT_METER, 2, 1, 4, offsetof(FixtureInstance, Peak), 0, 0,
     0, 0, 0, 0, 0, "", 0},
    {"seen", DSPJIT_SLOT_STATE, 1, 4, 4,
     offsetof(FixtureInstance, SawNullInput), 0, 0, 0, 0, 0, 0, 0, "", 0},
};

int fixtureInit(void *Memory, double Rate) {
  if (Rate != 48000)
    return -1;
  auto *I = static_cast<FixtureInstance *>(Memory);
  *I = FixtureInstance{};
  I->GainTarget = I->GainValue = GainDefault;
  I->SmallestBlock = ~0u;
  return 0;
}

template <unsigned Ins, unsigned Outs>
int fixtureProcess(const void *Input, void *Output, unsigned long Frames,
                   const DspjitTimeInfo *, unsigned long, void *Memory) {
  auto *I = static_cast<FixtureInstance *>(Memory);
  const auto *In = static_cast<const float *>(Input);
  auto *Out = static_cast<float *>(Output);
  I->SawNullInput += In == nullptr;
  I->SawNullOutput += Out == nullptr;
  I->LargestBlock = std::max<uint32_t>(I->LargestBlock, Frames);
  I->SmallestBlock = std::min<uint32_t>(I->SmallestBlock, Frames);
  I->GainValue = std::clamp(I->GainTarget, GainMin, GainMax);
  for (unsigned long F = 0; F < Frames; ++F)
    for (unsigned C = 0; C < Outs; ++C) {
      float X =
          Ins ? 2 * I->GainValue * In[F * Ins + C % Ins] : 0.25f * I->GainValue;
      Out[F * Outs + C] = X;
      if (C < 2)
        I->Peak[C] = std::fabs(X);
    }
  I->Header.frames_processed += Frames;
  I->Header.callbacks += 1;
  return 0;
}

template <unsigned Ins, unsigned Outs>
const DspjitKernel FixtureKernel = {DSPJIT_ABI_VERSION,
                                    Ins,
                                    Outs,
                                    3,
                                    0,
                                    sizeof(FixtureInstance),
                                    alignof(FixtureInstance),
                                    48000,
                                    FixtureSlots,
                                    &fixtureProcess<Ins, Outs>,
                                    &fixtureInit,
                                    0};

const FixtureInstance &fixtureState(const Instance &I) {
  return *static_cast<const FixtureInstance *>(I.data());
}

Instance makeInstance(const DspjitKernel &K, double Rate = 48000) {
  auto I = Instance::create(K, Rate);
  EXPECT_TRUE(I) << I.error();
  return std::move(*I);
}

using test::TempDir;

//===-- Messages ----------------------------------------------------------===//

TEST(Messages, EditDistanceIgnoresCase) {
  EXPECT_EQ(editDistance("feedback", "feedback"), 0u);
  EXPECT_EQ(editDistance("feedbak", "feedback"), 1u);
  EXPECT_EQ(editDistance("MIX", "mix"), 0u);
  EXPECT_EQ(editDistance("", "abc"), 3u);
  EXPECT_EQ(editDistance("gian", "gain"), 1u); // a transposition is one edit
}

TEST(Messages, ClosestNameOnlyForPlausibleTypos) {
  EXPECT_EQ(closestName("feedbak", {"mix", "feedback"}), "feedback");
  EXPECT_EQ(closestName("xyz", {"mix", "feedback"}), "");
  EXPECT_EQ(formatNumber(0.1f), "0.1");
  EXPECT_EQ(formatNumber(48000.0), "48000");
}

//===-- Signals -----------------------------------------------------------===//

TEST(Signals, ParsesEveryForm) {
  auto Impulse = parseSignal("impulse");
  ASSERT_TRUE(Impulse) << Impulse.error();
  EXPECT_EQ(Impulse->Type, SignalSpec::Impulse);
  EXPECT_EQ(parseSignal("silence")->Type, SignalSpec::Silence);
  EXPECT_EQ(parseSignal("noise")->Type, SignalSpec::Noise);

  auto Sine = parseSignal("sine:440");
  ASSERT_TRUE(Sine) << Sine.error();
  EXPECT_EQ(Sine->Type, SignalSpec::Sine);
  EXPECT_EQ(Sine->Frequency, 440);
  EXPECT_EQ(Sine->Amplitude, 0.5f);
  EXPECT_EQ(Sine->str(), "sine:440");

  auto Quiet = parseSignal("sine:1000.5:0.25");
  ASSERT_TRUE(Quiet) << Quiet.error();
  EXPECT_EQ(Quiet->Frequency, 1000.5);
  EXPECT_EQ(Quiet->Amplitude, 0.25f);
  EXPECT_EQ(Quiet->str(), "sine:1000.5:0.25");
}

TEST(Signals, ErrorsListTheValidForms) {
  auto Typo = parseSignal("sin:440");
  ASSERT_FALSE(Typo);
  EXPECT_EQ(Typo.error(),
            "invalid signal 'sin:440' (did you mean 'sine'?); expected one "
            "of: impulse, silence, noise, sine:FREQ[:AMP] (e.g. sine:440)");
  for (const char *Bad : {"", "sine", "sine:", "sine:0", "sine:-5", "sine:abc",
                          "sine:440:x", "noise:3", "pink"}) {
    auto Parsed = parseSignal(Bad);
    ASSERT_FALSE(Parsed) << Bad;
    EXPECT_NE(Parsed.error().find("expected one of: impulse"),
              std::string::npos)
        << Parsed.error();
  }
}

TEST(Signals, ImpulseAndSilence) {
  auto Impulse = generateSignal(*parseSignal("impulse"), 48000, 2, 4);
  EXPECT_EQ(Impulse, (std::vector<float>{1, 1, 0, 0, 0, 0, 0, 0}));
  auto Silence = generateSignal(*parseSignal("silence"), 48000, 1, 3);
  EXPECT_EQ(Silence, (std::vector<float>{0, 0, 0}));
}

TEST(Signals, NoiseIsDeterministicAndInRange) {
  SignalSpec Noise = *parseSignal("noise");
  auto Mono = generateSignal(Noise, 48000, 1, 48000);
  // Pinned: these must never change, or every golden file made from noise
  // would have to be remade.
  const float First[] = {Mono[0], Mono[1], Mono[2]};
  auto Again = generateSignal(Noise, 48000, 1, 48000);
  EXPECT_EQ(Mono, Again);
  for (float X : Mono) {
    ASSERT_GE(X, -1.0f);
    ASSERT_LT(X, 1.0f);
  }
  double Mean = std::accumulate(Mono.begin(), Mono.end(), 0.0) / Mono.size();
  EXPECT_NEAR(Mean, 0, 0.02);
  double Power = 0;
  for (float X : Mono)
    Power += double(X) * X;
  EXPECT_NEAR(Power / Mono.size(), 1.0 / 3, 0.01); // uniform on [-1, 1)

  // Channel 0 does not depend on the channel count; channels differ.
  auto Stereo = generateSignal(Noise, 48000, 2, 3);
  EXPECT_EQ(Stereo[0], First[0]);
  EXPECT_EQ(Stereo[2], First[1]);
  EXPECT_EQ(Stereo[4], First[2]);
  EXPECT_NE(Stereo[0], Stereo[1]);
}

TEST(Signals, NoiseValuesArePinned) {
  auto Noise = generateSignal(*parseSignal("noise"), 48000, 1, 4);
  // Generated once; a change here breaks reproducibility of golden files.
  EXPECT_EQ(Noise, (std::vector<float>{0x1.667ep-7f, -0x1.046f7p-2f,
                                       -0x1.3fd8fp-3f, -0x1.e9f5ep-1f}));
  SignalGenerator Blockwise(*parseSignal("noise"), 48000, 1);
  std::vector<float> Pieces(4);
  Blockwise.generate(Pieces.data(), 1);
  Blockwise.generate(Pieces.data() + 1, 3);
  EXPECT_EQ(Pieces, Noise);
  EXPECT_EQ(Blockwise.position(), 4u);
}

TEST(Signals, SineHasItsFrequencyAndAmplitude) {
  const double Rate = 48000;
  auto Sine = generateSignal(*parseSignal("sine:440"), Rate, 2, 48000);
  for (size_t F = 0; F < 48000; F += 997) {
    float Expected = static_cast<float>(
        0.5 * std::sin(2 * std::numbers::pi * 440 * double(F) / Rate));
    ASSERT_NEAR(Sine[2 * F], Expected, 1e-6) << "frame " << F;
    ASSERT_EQ(Sine[2 * F], Sine[2 * F + 1]);
  }
  float Peak = 0;
  int Rising = 0;
  for (size_t F = 1; F < 48000; ++F) {
    Peak = std::max(Peak, std::fabs(Sine[2 * F]));
    Rising += Sine[2 * (F - 1)] < 0 && Sine[2 * F] >= 0;
  }
  EXPECT_NEAR(Peak, 0.5f, 1e-4);
  // One upward zero crossing per cycle; the one at frame 0 is not counted.
  EXPECT_EQ(Rising, 439);
}

//===-- Durations ---------------------------------------------------------===//

TEST(Durations, ParsesEveryForm) {
  struct Case {
    const char *Text;
    uint64_t Frames; // at 48 kHz
  } Cases[] = {{"2.5", 120000},        {"2.5s", 120000},
               {"500ms", 24000},       {"1:30", 4320000},
               {"0:00.5", 24000},      {"1:02:03.5", 178728000},
               {"96000frames", 96000}, {"0", 0},
               {"0.00001", 0},         {"1ms", 48}};
  for (const Case &C : Cases) {
    auto D = parseDuration(C.Text);
    ASSERT_TRUE(D) << C.Text << ": " << D.error();
    EXPECT_EQ(D->frames(48000), C.Frames) << C.Text;
  }
  EXPECT_EQ(parseDuration("96000frames")->frames(44100), 96000u);
  EXPECT_EQ(parseDuration("1.5")->str(), "1.5s");
  EXPECT_EQ(parseDuration("96000frames")->str(), "96000frames");
}

TEST(Durations, RejectsWhatIsNotADuration) {
  for (const char *Bad :
       {"", "s", "ms", "-1", "abc", "5 s", "inf", "nan", "1:xx", "1.5:30",
        "1:2:3:4", "1e999", "2.5frames", "frames", "10min", "+3"}) {
    auto D = parseDuration(Bad);
    ASSERT_FALSE(D) << "'" << Bad << "' parsed";
    EXPECT_NE(D.error().find("expected seconds (2.5 or 2.5s)"),
              std::string::npos)
        << D.error();
  }
}

TEST(Durations, RefusesDurationsTooLongForAFrameCount) {
  // 1e30 s is 4.8e34 frames, past uint64: refused, not rounded to garbage.
  for (const char *Long : {"1e30", "1e12s", "99999999:00", "1e15ms"}) {
    auto D = parseDuration(Long);
    ASSERT_FALSE(D) << "'" << Long << "' parsed";
    EXPECT_NE(D.error().find("is longer than the limit of 1000000000 s"),
              std::string::npos)
        << D.error();
  }
  EXPECT_EQ(parseDuration("1e9")->frames(768000),
            uint64_t(768000) * 1000000000);
}

//===-- Audio files -------------------------------------------------------===//

std::vector<float> ramp(size_t N) {
  std::vector<float> V(N);
  for (size_t I = 0; I < N; ++I)
    V[I] = static_cast<float>(I % 200) / 100.0f - 1.0f; // [-1, 0.99]
  return V;
}

TEST(AudioFile, FloatWavRoundTripIsExact) {
  TempDir Dir;
  std::vector<float> Samples = ramp(2 * 1000);
  Samples[5] = 1.75f; // float keeps values beyond full scale
  ASSERT_TRUE(
      writeAudioFile(Dir.file("a.wav"), Samples.data(), 1000, 2, 48000));
  auto Read = readAudioFile(Dir.file("a.wav"));
  ASSERT_TRUE(Read) << Read.error();
  EXPECT_EQ(Read->Channels, 2u);
  EXPECT_EQ(Read->SampleRate, 48000);
  EXPECT_EQ(Read->Format, SampleFormat::Float32);
  EXPECT_EQ(Read->frames(), 1000u);
  EXPECT_EQ(Read->Samples, Samples);
}

TEST(AudioFile, PcmRoundTripsKeepTheirFormat) {
  TempDir Dir;
  std::vector<float> Samples = ramp(500);
  for (auto [Format, Step] : {std::pair{SampleFormat::Pcm16, 1.0 / 32768},
                              std::pair{SampleFormat::Pcm24, 1.0 / 8388608}}) {
    std::string Path =
        Dir.file(std::string("p") + sampleFormatName(Format) + ".wav");
    auto Written = writeAudioFile(Path, Samples.data(), 500, 1, 44100, Format);
    ASSERT_TRUE(Written) << Written.error();
    auto Read = readAudioFile(Path);
    ASSERT_TRUE(Read) << Read.error();
    EXPECT_EQ(Read->Format, Format);
    EXPECT_EQ(Read->SampleRate, 44100);
    ASSERT_EQ(Read->Samples.size(), Samples.size());
    for (size_t I = 0; I < Samples.size(); ++I)
      ASSERT_NEAR(Read->Samples[I], Samples[I], Step) << I;
    // Written back from what was read, the format is kept.
    auto Again = writeAudioFile(Path + ".again.wav", *Read);
    ASSERT_TRUE(Again) << Again.error();
    EXPECT_EQ(readAudioFile(Path + ".again.wav")->Format, Format);
  }
}

TEST(AudioFile, PcmClipsInsteadOfWrapping) {
  TempDir Dir;
  std::vector<float> Loud = {1.5f, -1.5f, 0.5f};
  ASSERT_TRUE(writeAudioFile(Dir.file("loud.wav"), Loud.data(), 3, 1, 48000,
                             SampleFormat::Pcm16));
  auto Read = readAudioFile(Dir.file("loud.wav"));
  ASSERT_TRUE(Read) << Read.error();
  EXPECT_GT(Read->Samples[0], 0.99f);
  EXPECT_LT(Read->Samples[1], -0.99f);
  EXPECT_NEAR(Read->Samples[2], 0.5f, 1e-4);
}

TEST(AudioFile, OtherContainersByExtension) {
  TempDir Dir;
  std::vector<float> Samples = ramp(300);
  for (const char *Name : {"x.aiff", "x.AIF", "x.caf", "x.w64", "x.flac"}) {
    auto Written =
        writeAudioFile(Dir.file(Name), Samples.data(), 300, 1, 48000);
    ASSERT_TRUE(Written) << Name << ": " << Written.error();
    auto Read = readAudioFile(Dir.file(Name));
    ASSERT_TRUE(Read) << Name << ": " << Read.error();
    EXPECT_EQ(Read->frames(), 300u) << Name;
  }
  // FLAC cannot hold floats: a float request becomes 24-bit.
  EXPECT_EQ(readAudioFile(Dir.file("x.flac"))->Format, SampleFormat::Pcm24);
}

TEST(AudioFile, MessagesNameTheFileAndTheReason) {
  auto Missing = readAudioFile("/nonexistent/in.wav");
  ASSERT_FALSE(Missing);
  EXPECT_EQ(Missing.error(),
            "cannot open '/nonexistent/in.wav': No such file or directory");

  TempDir Dir;
  std::string Junk = Dir.file("junk.wav");
  FILE *F = fopen(Junk.c_str(), "w");
  fputs("this is not audio", F);
  fclose(F);
  auto NotAudio = readAudioFile(Junk);
  ASSERT_FALSE(NotAudio);
  EXPECT_EQ(NotAudio.error(),
            "cannot open '" + Junk + "': Format not recognised");

  float X = 0;
  auto NoType = writeAudioFile(Dir.file("out.xyz"), &X, 1, 1, 48000);
  ASSERT_FALSE(NoType);
  EXPECT_NE(NoType.error().find("use the extension .wav"), std::string::npos);
  auto NoDir = writeAudioFile("/nonexistent/out.wav", &X, 1, 1, 48000);
  ASSERT_FALSE(NoDir);
  EXPECT_EQ(NoDir.error(),
            "cannot create '/nonexistent/out.wav': No such file or directory");
  auto BadRate = writeAudioFile(Dir.file("r.wav"), &X, 1, 1, 44100.5);
  ASSERT_FALSE(BadRate);
  EXPECT_NE(BadRate.error().find("not a whole number"), std::string::npos);

  EXPECT_EQ(*parseSampleFormat("24"), SampleFormat::Pcm24);
  EXPECT_FALSE(parseSampleFormat("8"));
}

TEST(AudioFile, StreamingWriterFinalizesInItsDestructor) {
  TempDir Dir;
  std::vector<float> Samples = ramp(2 * 1000);
  {
    auto Writer = AudioFileWriter::create(Dir.file("s.wav"), 2, 48000);
    ASSERT_TRUE(Writer) << Writer.error();
    for (size_t Done = 0; Done < 1000; Done += 300) {
      size_t N = std::min<size_t>(300, 1000 - Done);
      ASSERT_TRUE(Writer->write(Samples.data() + 2 * Done, N));
    }
    EXPECT_EQ(Writer->framesWritten(), 1000u);
    // No close(): the destructor must write a valid header.
  }
  auto Read = readAudioFile(Dir.file("s.wav"));
  ASSERT_TRUE(Read) << Read.error();
  EXPECT_EQ(Read->frames(), 1000u);
  EXPECT_EQ(Read->Samples, Samples);
}

//===-- Instance ----------------------------------------------------------===//

TEST(Instance, CreatesAlignedZeroedInitializedMemory) {
  Instance I = makeInstance(FixtureKernel<2, 2>);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(I.data()) % alignof(FixtureInstance),
            0u);
  EXPECT_EQ(*I.param("gain"), GainDefault);
  EXPECT_EQ(I.framesProcessed(), 0u);
  EXPECT_EQ(I.callbacks(), 0u);
  EXPECT_EQ(I.nonfiniteSamples(), 0u);
  // The memory does not move with the object (a stream may hold data()).
  void *Data = I.data();
  Instance Moved = std::move(I);
  EXPECT_EQ(Moved.data(), Data);
}

TEST(Instance, RefusesAnotherRate) {
  auto I = Instance::create(FixtureKernel<2, 2>, 44100);
  ASSERT_FALSE(I);
  EXPECT_EQ(I.error(), "the kernel was compiled for 48000 Hz but is asked to "
                       "run at 44100 Hz; compile it for 44100 Hz");
}

TEST(Instance, RefusesMalformedDescriptors) {
  DspjitKernel K = FixtureKernel<2, 2>;
  K.abi_version = 99;
  EXPECT_EQ(Instance::create(K, 48000).error(),
            "kernel speaks ABI version 99 but this runtime speaks version " +
                std::to_string(DSPJIT_ABI_VERSION));
  K = FixtureKernel<2, 2>;
  K.instance_size = 8;
  EXPECT_FALSE(Instance::create(K, 48000));
  K = FixtureKernel<2, 2>;
  K.instance_align = 24;
  EXPECT_FALSE(Instance::create(K, 48000));

  DspjitSlot Outside[] = {FixtureSlots[0]};
  Outside[0].value_offset = 4096;
  K = FixtureKernel<2, 2>;
  K.slots = Outside;
  K.num_slots = 1;
  auto I = Instance::create(K, 48000);
  ASSERT_FALSE(I);
  EXPECT_EQ(I.error(), "malformed kernel: slot 0 'gain' lies outside the "
                       "instance or is misaligned");
  EXPECT_TRUE(checkKernel(FixtureKernel<2, 2>));
}

TEST(Instance, SetParamReportsUnknownNamesWithSuggestions) {
  Instance I = makeInstance(FixtureKernel<2, 2>);
  ParamUpdate Typo = I.setParam("gian", 2);
  EXPECT_EQ(Typo.Status, ParamUpdate::UnknownName);
  EXPECT_FALSE(Typo.stored());
  EXPECT_EQ(
      Typo.Message,
      "unknown parameter 'gian'; did you mean 'gain'? (parameters: gain)");
  ParamUpdate Far = I.setParam("feedback", 2);
  EXPECT_EQ(Far.Message, "unknown parameter 'feedback' (parameters: gain)");
  ParamUpdate Meter = I.setParam("peak", 2);
  EXPECT_EQ(Meter.Status, ParamUpdate::NotAParam);
  EXPECT_EQ(Meter.Message,
            "'peak' is a meter, not a parameter (parameters: gain)");
  ParamUpdate Nan = I.setParam("gain", NAN);
  EXPECT_EQ(Nan.Status, ParamUpdate::NotFinite);
  EXPECT_EQ(*I.param("gain"), GainDefault);
  EXPECT_EQ(
      I.param("gian").error(),
      "unknown parameter 'gian'; did you mean 'gain'? (parameters: gain)");
}

TEST(Instance, SetParamClampsAndWarns) {
  Instance I = makeInstance(FixtureKernel<2, 2>);
  ParamUpdate Ok = I.setParam("gain", 0.5f);
  EXPECT_EQ(Ok.Status, ParamUpdate::Set);
  EXPECT_TRUE(Ok.Message.empty());
  EXPECT_EQ(*I.param("gain"), 0.5f);
  // Only the target moves; the kernel picks it up in its next callback.
  EXPECT_EQ(*I.smoothedParam("gain"), GainDefault);

  ParamUpdate High = I.setParam("gain", 10);
  EXPECT_EQ(High.Status, ParamUpdate::Clamped);
  EXPECT_TRUE(High.stored());
  EXPECT_EQ(High.Value, GainMax);
  EXPECT_EQ(High.Message, "'gain' = 10 is outside [0, 4]; using 4");
  EXPECT_EQ(*I.param("gain"), GainMax);
}

TEST(Instance, SetParamImmediateAlsoSetsTheSmoothedValue) {
  Instance I = makeInstance(FixtureKernel<2, 2>);
  EXPECT_TRUE(I.setParamImmediate("gain", 3).stored());
  EXPECT_EQ(*I.param("gain"), 3);
  EXPECT_EQ(*I.smoothedParam("gain"), 3);
}

TEST(Instance, ProcessMetersCountersAndReset) {
  Instance I = makeInstance(FixtureKernel<2, 2>);
  I.setParam("gain", 0.5f);
  std::vector<float> In = {0.25f, -0.5f, 0.75f, -1.0f};
  std::vector<float> Out(4);
  EXPECT_EQ(I.process(In.data(), Out.data(), 2), 0);
  EXPECT_EQ(Out, (std::vector<float>{0.25f, -0.5f, 0.75f, -1.0f}));
  auto Peak = I.meter("peak");
  ASSERT_TRUE(Peak) << Peak.error();
  EXPECT_EQ(*Peak, (std::vector<float>{0.75f, 1.0f}));
  EXPECT_EQ(I.meter("gain").error(),
            "'gain' is a param, not a meter (meters: peak)");
  EXPECT_EQ(I.meter("level").error(), "unknown meter 'level' (meters: peak)");
  EXPECT_EQ(I.framesProcessed(), 2u);
  EXPECT_EQ(I.callbacks(), 1u);

  I.reset();
  EXPECT_EQ(I.framesProcessed(), 0u);
  EXPECT_EQ(I.callbacks(), 0u);
  EXPECT_EQ(*I.param("gain"), GainDefault);
  EXPECT_EQ(*I.meter("peak"), (std::vector<float>{0, 0}));
}

TEST(Instance, SlotLookup) {
  const DspjitKernel &K = FixtureKernel<2, 2>;
  ASSERT_NE(findSlot(K, "gain"), nullptr);
  EXPECT_EQ(findSlot(K, "gain")->kind, uint32_t(DSPJIT_SLOT_PARAM));
  EXPECT_EQ(findSlot(K, "nope"), nullptr);
  EXPECT_EQ(slotNames(K, DSPJIT_SLOT_METER),
            (std::vector<std::string>{"peak"}));
  EXPECT_EQ(clampParam(*findSlot(K, "gain"), -3), GainMin);
  EXPECT_EQ(clampParam(*findSlot(K, "gain"), NAN), GainDefault);
}

//===-- Render ------------------------------------------------------------===//

TEST(Render, RunsBlockByBlockLikeAStream) {
  Instance I = makeInstance(FixtureKernel<2, 2>);
  std::vector<float> In = ramp(2 * 1000);
  RenderOptions Options;
  Options.BlockSize = 64;
  auto R = render(I, BufferInput{In.data(), 1000, 2, 48000, "in.wav"}, Options);
  ASSERT_TRUE(R) << R.error();
  EXPECT_EQ(R->Frames, 1000u);
  EXPECT_EQ(R->Channels, 2u);
  EXPECT_EQ(R->Callbacks, 16u); // 15 blocks of 64 and one of 40
  ASSERT_EQ(R->Output.size(), In.size());
  for (size_t S = 0; S < In.size(); ++S)
    ASSERT_EQ(R->Output[S], 2 * In[S]) << S;
  EXPECT_EQ(fixtureState(I).LargestBlock, 64u);
  EXPECT_EQ(fixtureState(I).SmallestBlock, 40u);
  EXPECT_EQ(fixtureState(I).SawNullInput, 0u);
  EXPECT_EQ(I.framesProcessed(), 1000u);
  EXPECT_EQ(R->AudioSeconds, 1000.0 / 48000);
  EXPECT_GT(R->ProcessSeconds, 0);
  EXPECT_GT(R->realTimeFactor(), 0);
}

TEST(Render, PadsAShortInputWithSilence) {
  Instance I = makeInstance(FixtureKernel<1, 1>);
  std::vector<float> In = {0.5f, 0.5f, 0.5f};
  RenderOptions Options;
  Options.Frames = 100;
  auto R = render(I, BufferInput{In.data(), 3, 1, 0, "in.wav"}, Options);
  ASSERT_TRUE(R) << R.error();
  ASSERT_EQ(R->Output.size(), 100u);
  EXPECT_EQ(R->Output[2], 1.0f);
  EXPECT_EQ(std::count(R->Output.begin(), R->Output.end(), 0.0f), 97);
}

TEST(Render, AStreamRendersAsTheBufferDoesForAsLongAsItLasts) {
  // A stream without a length: exactly its frames, the last block short;
  // with a longer one: silence after it, as a buffer's.
  std::vector<float> In = ramp(2 * 1000);
  for (std::optional<uint64_t> Frames :
       {std::optional<uint64_t>(), std::optional<uint64_t>(1500)}) {
    RenderOptions Options;
    Options.Frames = Frames;
    Instance A = makeInstance(FixtureKernel<2, 2>);
    auto FromBuffer =
        render(A, BufferInput{In.data(), 1000, 2, 48000, "in.wav"}, Options);
    ASSERT_TRUE(FromBuffer) << FromBuffer.error();
    Instance B = makeInstance(FixtureKernel<2, 2>);
    MemorySource Source(In.data(), 1000, 2, 48000);
    auto FromStream = render(B, StreamInput{&Source, "in.wav"}, Options);
    ASSERT_TRUE(FromStream) << FromStream.error();
    EXPECT_EQ(FromStream->Frames, Frames.value_or(1000));
    EXPECT_EQ(FromStream->Output, FromBuffer->Output);
    EXPECT_EQ(fixtureState(B).SmallestBlock, Frames ? 28u : 40u);
  }
}

TEST(Render, AStreamIsCheckedAsABufferIs) {
  Instance I = makeInstance(FixtureKernel<2, 2>);
  std::vector<float> Mono(100);
  RenderOptions Options;
  Options.KernelName = "echo.dsp";
  MemorySource One(Mono.data(), 100, 1, 48000);
  auto R = render(I, StreamInput{&One, "in.wav"}, Options);
  ASSERT_FALSE(R);
  EXPECT_EQ(R.error(),
            "in.wav has 1 channel but echo.dsp expects 2 (io 2 -> 2)");
  MemorySource Empty(Mono.data(), 0, 2, 48000);
  auto None = render(I, StreamInput{&Empty, "in.wav"}, Options);
  ASSERT_FALSE(None);
  EXPECT_EQ(None.error(), "in.wav holds no audio (0 frames)");
  MemorySource Other(Mono.data(), 50, 2, 44100);
  EXPECT_FALSE(render(I, StreamInput{&Other, "in.wav"}, Options));
}

TEST(Render, StopsBeforeTheNextBlockWhenAsked) {
  // As Ctrl-C does: the flag is set while the render runs (here by its
  // progress report, 4800 frames in); the render ends before the next
  // block, and the sink has all that was rendered.
  Instance I = makeInstance(FixtureKernel<0, 2>);
  std::atomic<bool> Stop{false};
  RenderOptions Options;
  Options.Frames = 48000;
  Options.Stop = &Stop;
  uint64_t StoppedAt = 0;
  Options.Progress = [&](uint64_t Done, uint64_t) {
    if (Done >= 4800 && !Stop) {
      Stop = true;
      StoppedAt = Done;
    }
  };
  uint64_t Sunk = 0;
  Options.Sink = [&](const float *, uint64_t Frames) -> Result<void> {
    Sunk += Frames;
    return {};
  };
  auto R = render(I, std::monostate{}, Options);
  ASSERT_TRUE(R) << R.error();
  EXPECT_TRUE(R->Stopped);
  EXPECT_GE(StoppedAt, 4800u);
  EXPECT_EQ(R->Frames, StoppedAt);
  EXPECT_EQ(Sunk, StoppedAt);
  EXPECT_EQ(I.framesProcessed(), StoppedAt);
}

TEST(Render, RefusesInputsThatDoNotFit) {
  Instance I = makeInstance(FixtureKernel<2, 2>);
  std::vector<float> Mono(100);
  RenderOptions Options;
  Options.KernelName = "echo.dsp";
  auto R =
      render(I, BufferInput{Mono.data(), 100, 1, 48000, "in.wav"}, Options);
  ASSERT_FALSE(R);
  EXPECT_EQ(R.error(),
            "in.wav has 1 channel but echo.dsp expects 2 (io 2 -> 2)");

  auto Rate =
      render(I, BufferInput{Mono.data(), 50, 2, 44100, "in.wav"}, Options);
  ASSERT_FALSE(Rate);
  EXPECT_EQ(Rate.error(), "in.wav is at 44100 Hz but echo.dsp was compiled for "
                          "48000 Hz; compile it for 44100 Hz");

  auto Nothing = render(I, std::monostate{}, Options);
  ASSERT_FALSE(Nothing);
  EXPECT_EQ(Nothing.error(),
            "echo.dsp expects 2 channels of input (io 2 -> 2); "
            "give it a file or a signal");

  auto NoLength = render(I, *parseSignal("noise"), Options);
  ASSERT_FALSE(NoLength);
  EXPECT_EQ(NoLength.error(),
            "how long to render echo.dsp is not given; give a duration");

  Instance Generator = makeInstance(FixtureKernel<0, 1>);
  Options.KernelName = "tone.dsp";
  auto Given =
      render(Generator, BufferInput{Mono.data(), 50, 2, 0, "in.wav"}, Options);
  ASSERT_FALSE(Given);
  EXPECT_EQ(Given.error(), "in.wav has 2 channels but tone.dsp takes no input "
                           "(io 0 -> 1)");

  Options.BlockSize = 0;
  Options.Frames = 10;
  EXPECT_FALSE(render(Generator, std::monostate{}, Options));
}

TEST(Render, GeneratorsGetANullInputAndAnalyzersANullOutput) {
  RenderOptions Options;
  Options.Frames = 256;

  Instance Generator = makeInstance(FixtureKernel<0, 1>);
  auto Tone = render(Generator, std::monostate{}, Options);
  ASSERT_TRUE(Tone) << Tone.error();
  EXPECT_EQ(fixtureState(Generator).SawNullInput, 4u);
  EXPECT_EQ(fixtureState(Generator).SawNullOutput, 0u);
  EXPECT_EQ(Tone->Output, std::vector<float>(256, 0.25f));

  Instance Analyzer = makeInstance(FixtureKernel<1, 0>);
  auto Analysis = render(Analyzer, *parseSignal("impulse"), Options);
  ASSERT_TRUE(Analysis) << Analysis.error();
  EXPECT_EQ(fixtureState(Analyzer).SawNullInput, 0u);
  EXPECT_EQ(fixtureState(Analyzer).SawNullOutput, 4u);
  EXPECT_TRUE(Analysis->Output.empty());
  EXPECT_EQ(Analysis->Frames, 256u);
}

TEST(Render, SignalInputMatchesTheGenerator) {
  Instance I = makeInstance(FixtureKernel<2, 2>);
  RenderOptions Options;
  Options.Frames = 500;
  Options.BlockSize = 128;
  auto R = render(I, *parseSignal("noise"), Options);
  ASSERT_TRUE(R) << R.error();
  auto Noise = generateSignal(*parseSignal("noise"), 48000, 2, 500);
  for (size_t S = 0; S < Noise.size(); ++S)
    ASSERT_EQ(R->Output[S], 2 * Noise[S]) << S;
}

TEST(Render, ProgressAndSink) {
  Instance I = makeInstance(FixtureKernel<0, 2>);
  RenderOptions Options;
  Options.Frames = 10000;
  std::vector<std::pair<uint64_t, uint64_t>> Reports;
  Options.Progress = [&](uint64_t Done, uint64_t Total) {
    Reports.emplace_back(Done, Total);
  };
  std::vector<float> Sunk;
  Options.Sink = [&](const float *Out, uint64_t Frames) -> Result<void> {
    Sunk.insert(Sunk.end(), Out, Out + 2 * Frames);
    return {};
  };
  auto R = render(I, std::monostate{}, Options);
  ASSERT_TRUE(R) << R.error();
  EXPECT_TRUE(R->Output.empty());
  EXPECT_EQ(Sunk, std::vector<float>(20000, 0.25f));
  ASSERT_FALSE(Reports.empty());
  EXPECT_LE(Reports.size(), 101u);
  EXPECT_EQ(Reports.back(), std::make_pair(uint64_t(10000), uint64_t(10000)));
  EXPECT_TRUE(std::is_sorted(Reports.begin(), Reports.end()));

  Instance Again = makeInstance(FixtureKernel<0, 2>);
  Options.Sink = [](const float *, uint64_t) -> Result<void> {
    return fail("disk full");
  };
  auto Failed = render(Again, std::monostate{}, Options);
  ASSERT_FALSE(Failed);
  EXPECT_EQ(Failed.error(), "disk full");
}

} // namespace
