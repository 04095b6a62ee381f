//===- tests/unit/hotswap_test.cpp - Replacing a running kernel -----------===//
//
// The runtime half of hot reload (runtime/HotSwap.h), offline and
// deterministic: versions are compiled from source, swapped in at exact
// frames of a render through the very process() a live callback calls, and
// the output is checked sample by sample. Each property has a control that
// shows the check can fail: a swap without the crossfade clicks, a delay of
// another shape loses its tail.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/HotSwap.h"
#include "runtime/Render.h"

#include "tests/support/Compile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

using namespace dspjit;

namespace {

constexpr double Rate = 48000;

std::shared_ptr<Kernel> compile(const std::string &Source,
                                const std::string &Name = "v.dsp") {
  return test::compileForTest(Source, Rate, Name);
}

std::unique_ptr<HotSwap> start(const std::shared_ptr<Kernel> &K,
                               unsigned long MaxFrames = 64) {
  auto I = Instance::create(K->info(), Rate);
  EXPECT_TRUE(I) << I.error();
  return std::make_unique<HotSwap>(K, std::move(*I), MaxFrames);
}

/// Prepares `K` against the newest version and publishes it at `AtFrame`.
RenderEvent swapAt(HotSwap &S, uint64_t AtFrame, std::shared_ptr<Kernel> K,
                   SwapOptions Options, SwapReport *Report = nullptr) {
  return {AtFrame, [&S, K, Options, Report] {
            auto V = S.prepare(K, K->info(), Options, Report);
            ASSERT_TRUE(V) << V.error();
            ASSERT_TRUE(S.publish(*V));
          }};
}

std::vector<float> renderFrames(HotSwap &S, uint64_t Frames,
                                std::vector<RenderEvent> Events = {},
                                RenderInput Input = {}) {
  RenderOptions O;
  O.Frames = Frames;
  O.Events = std::move(Events);
  auto R = render(S, Input, O);
  EXPECT_TRUE(R) << R.error();
  return R ? R->Output : std::vector<float>{};
}

/// The largest absolute difference between consecutive samples of one
/// channel.
float largestStep(const std::vector<float> &Out, unsigned Channels,
                  unsigned Channel = 0) {
  float Largest = 0;
  for (size_t I = Channels + Channel; I < Out.size(); I += Channels)
    Largest = std::max(Largest, std::abs(Out[I] - Out[I - Channels]));
  return Largest;
}

const char *SineV1 = R"(io 0 -> 1;
param gain = 0.5 in [0, 1];
process { out = gain * sine(440); }
)";
// The same oscillator (its phase is process/sine#1/phasor#1/phase in both)
// at another level.
const char *SineV2 = R"(io 0 -> 1;
param gain = 0.5 in [0, 1];
process { out = 1.2 * gain * sine(440); }
)";

} // namespace

TEST(HotSwap, ASwapInTheMiddleOfASineDoesNotClick) {
  // A 440 Hz sine of amplitude 0.6 moves at most 0.6 * 2 pi 440 / 48000 =
  // 0.035 per sample. Anything much larger is a click.
  const float Bound = 0.045f;
  auto V1 = compile(SineV1), V2 = compile(SineV2);
  auto S = start(V1);
  SwapReport Report;
  auto Out = renderFrames(
      *S, 48000, {swapAt(*S, 24000 + 17, V2, {.FadeFrames = 960}, &Report)});
  EXPECT_LT(largestStep(Out, 1), Bound);
  EXPECT_EQ(Report.Kept,
            std::vector<std::string>{"process/sine#1/phasor#1/phase"})
      << Report.text();
  // After the fade, exactly v2 continuing v1's phase: compare with v2 from
  // the start, whose phase is the same at every frame.
  auto Alone = start(V2);
  auto Reference = renderFrames(*Alone, 48000);
  for (size_t I = 24000 + 17 + 960; I < Out.size(); ++I)
    ASSERT_NEAR(Out[I], Reference[I], 1e-6) << "frame " << I;

  // Control: the same swap without the crossfade jumps by 0.1 * sin(phase)
  // at frame 24017 (phase 0.156 of a cycle): 0.083, a click the bound sees.
  auto S2 = start(V1);
  auto Clicky = renderFrames(*S2, 48000, {swapAt(*S2, 24000 + 17, V2, {})});
  EXPECT_GT(largestStep(Clicky, 1), Bound);
}

TEST(HotSwap, TheCrossfadeIsEqualPowerAndCountedInFrames) {
  // Old: constant 1; new: constant 0. During the fade the output is
  // cos(pi/2 t); at every block size the same samples.
  auto One = compile("io 0 -> 1; process { out = 1; }");
  auto Zero = compile("io 0 -> 1; process { out = 0; }");
  std::vector<float> First;
  for (unsigned Block : {1u, 7u, 64u, 1000u}) {
    auto S = start(One, Block);
    RenderOptions O;
    O.Frames = 4000;
    O.BlockSize = Block;
    O.Events = {swapAt(*S, 1000, Zero, {.FadeFrames = 480})};
    auto R = render(*S, {}, O);
    ASSERT_TRUE(R) << R.error();
    const auto &Out = R->Output;
    EXPECT_EQ(Out[999], 1.0f);
    for (int F = 0; F < 480; ++F)
      ASSERT_NEAR(Out[1000 + F], std::cos(M_PI / 2 * (F + 0.5) / 480), 1e-6)
          << "block " << Block << ", fade frame " << F;
    EXPECT_EQ(Out[1480], 0.0f);
    if (First.empty())
      First = Out;
    else
      EXPECT_EQ(Out, First) << "block " << Block;
  }
}

TEST(HotSwap, TwoNearlyEqualVersionsCrossfadeWithoutSwelling) {
  // Old and new differ by 1%: plain equal-power gains (sin + cos, 1.41 in
  // the middle) would swell by 3 dB; the correlation-corrected fade keeps
  // the level of either.
  auto V1 = compile("io 0 -> 1; process { out = 0.5 * sine(440); }");
  auto V2 = compile("io 0 -> 1; process { out = 0.505 * sine(440); }");
  auto S = start(V1);
  auto Out =
      renderFrames(*S, 9600, {swapAt(*S, 4800, V2, {.FadeFrames = 2400})});
  float Peak = 0;
  for (size_t I = 4800; I < 4800 + 2400; ++I)
    Peak = std::max(Peak, std::abs(Out[I]));
  EXPECT_LT(Peak, 0.51f);
  EXPECT_GT(Peak, 0.49f);
}

namespace {
const char *Echo = R"(io 1 -> 1;
param time = 0.1 in [0.01, 1] s;
param feedback = 0.5 in [0, 0.95];
delay line[1 s];
process {
    let wet = line.read(time * sr);
    line.write(in + feedback * wet);
    out = in + wet;
}
)";
} // namespace

TEST(HotSwap, AnEchoTailContinuesAcrossASwapWhenItsDelayIsUnchanged) {
  // An impulse at frame 0 echoes every 4800 frames: 1, 0.5, 0.25, ... v2
  // changes only the dry path; after a swap at 0.25 s the echoes at 0.3 s, 0.4
  // s
  // ... must still come, at v1's levels.
  auto V1 = compile(Echo);
  std::string V2Text = Echo;
  V2Text.replace(V2Text.find("out = in + wet"), 14, "out = 0.5 * in + wet");
  auto V2 = compile(V2Text);
  auto S = start(V1);
  SwapReport Report;
  auto Out = renderFrames(*S, 48000,
                          {swapAt(*S, 12000, V2, {.FadeFrames = 960}, &Report)},
                          SignalSpec{SignalSpec::Impulse});
  EXPECT_EQ(Report.Kept, std::vector<std::string>{"line"}) << Report.text();
  EXPECT_NEAR(Out[14400], 0.25f, 1e-6); // third echo, after the swap
  EXPECT_NEAR(Out[19200], 0.125f, 1e-6);

  // Control: a delay of another capacity restarts, and the tail is gone.
  std::string V3Text = Echo;
  V3Text.replace(V3Text.find("line[1 s]"), 9, "line[4 s]");
  auto V3 = compile(V3Text);
  auto S3 = start(V1);
  SwapReport Reset;
  auto Cut = renderFrames(*S3, 48000,
                          {swapAt(*S3, 12000, V3, {.FadeFrames = 960}, &Reset)},
                          SignalSpec{SignalSpec::Impulse});
  EXPECT_EQ(Reset.Reset, std::vector<std::string>{"line"}) << Reset.text();
  EXPECT_EQ(Cut[14400], 0.0f);
  EXPECT_EQ(Cut[19200], 0.0f);
}

TEST(HotSwap, UserValuesCarryOverAndUntouchedParametersTakeNewDefaults) {
  auto V1 = compile(R"(io 0 -> 1;
param a = 0.5 in [0, 1];
param b = 0.5 in [0, 1];
param c = 0.5 in [0, 1];
process { out = a + b + c; }
)");
  auto V2 = compile(R"(io 0 -> 1;
param a = 0.5 in [0, 0.5];
param b = 0.8 in [0, 1];
param c = 0.5 in [0, 1];
param d = 0.25 in [0, 1];
process { out = a + b + c + d; }
)");
  auto S = start(V1);
  ASSERT_TRUE(S->setParam("a", 0.9f).stored()); // the user's: clamped later
  ASSERT_TRUE(S->setParam("c", 0.1f).stored()); // the user's
  SwapReport Report;
  auto V = S->prepare(V2, V2->info(), {.FadeFrames = 0}, &Report);
  ASSERT_TRUE(V) << V.error();
  EXPECT_EQ(*V->get()->I.param("a"), 0.5f);
  EXPECT_EQ(*V->get()->I.param("b"), 0.8f); // never touched: new default
  EXPECT_EQ(*V->get()->I.param("c"), 0.1f);
  EXPECT_EQ(*V->get()->I.param("d"), 0.25f);
  EXPECT_EQ(Report.UserParams, (std::vector<std::string>{"a=0.5", "c=0.1"}));
  EXPECT_EQ(Report.NewDefaults, std::vector<std::string>{"b=0.8"});
  EXPECT_EQ(Report.Added, std::vector<std::string>{"d"});
  // A value set between prepare() and publish() still reaches the new one.
  ASSERT_TRUE(S->setParam("c", 0.2f).stored());
  ASSERT_TRUE(S->publish(*V));
  EXPECT_EQ(*V->get()->I.param("c"), 0.2f);
}

TEST(HotSwap, AChangeOfIoIsRefusedAndTheOldVersionKeepsRunning) {
  auto Mono = compile("io 0 -> 1; process { out = 0.25; }");
  auto Stereo = compile("io 0 -> 2; process { out = 0.5; }");
  auto S = start(Mono);
  auto V = S->prepare(Stereo, Stereo->info(), {});
  ASSERT_FALSE(V);
  EXPECT_NE(V.error().find("io 0 -> 2"), std::string::npos) << V.error();
  EXPECT_NE(V.error().find("keeps playing"), std::string::npos) << V.error();
  auto Out = renderFrames(*S, 100);
  EXPECT_EQ(Out[99], 0.25f);
}

TEST(HotSwap, RetiredVersionsAreFreedOnlyAfterTheAudioThreadLetsGo) {
  auto V1 = compile("io 0 -> 1; process { out = 1; }");
  auto V2 = compile("io 0 -> 1; process { out = 2; }");
  auto S = start(V1);
  std::weak_ptr<KernelVersion> First = S->newest();
  auto V = S->prepare(V2, V2->info(), {.FadeFrames = 100});
  ASSERT_TRUE(V);
  ASSERT_TRUE(S->publish(*V));
  EXPECT_FALSE(S->publish(*V)) << "a second publish while one is pending";
  float Out[64];
  S->collect();
  EXPECT_FALSE(First.expired()) << "freed before the audio thread picked up";
  S->process(nullptr, Out, 64, nullptr, 0); // picks up, fade runs
  S->collect();
  EXPECT_FALSE(First.expired()) << "freed while still fading out";
  S->process(nullptr, Out, 64, nullptr, 0); // fade ends
  EXPECT_EQ(Out[63], 2.0f);
  S->collect();
  EXPECT_TRUE(First.expired());
  EXPECT_EQ(S->active()->Number, 2u);
}
