//===- tests/golden/golden_test.cpp - Scripts against independent models -===//
//
// Every example and every standard-library function is compiled twice
// (optLevel 0 and 3), run on an impulse, a 440 Hz sine and noise (24000
// frames, 0.5 s at 48 kHz, in 64-frame blocks), and compared with the C++
// model of the same algorithm in Reference.cpp. The two circuit models of De
// Pra and Fontana run at 44.1 kHz, the rate their constants are for. The
// examples also run a scenario that moves their parameters mid-render, which
// exercises clamping, smoothing and `nosmooth`. Instruments, and effects
// whose parameters declare MIDI sources, also play MIDI scenarios the way
// `render --midi` plays a song (a HotSwap, session::scheduleMidiFile, blocks
// split at every message), against models that drive the runtime's own
// voice allocator and MidiMapper. The envelopes (`adsr` and
// the rest) are also checked for what no tolerance can see: that they land
// exactly on 0 and on their sustain.
//
// Tolerances, as the largest absolute difference over the render divided by
// the largest absolute value of the expected signal (floored at 1e-3):
//   - kernel vs reference: 1e-4. Both compute in 32-bit floats with the same
//     algorithm, but not always in the same order: the compiler folds
//     constant subexpressions in double before rounding them, the reference
//     computes some coefficients in float, the kernel flushes denormals and
//     the reference does not, and another libm may differ in the last bit.
//     Each such difference is about 1e-7 relative, and recursive filters
//     carry it through their decay. Measured on x86-64 with glibc the
//     largest is 2e-6 (`smooth`, whose coefficient the compiler folds in
//     double), most renders are bit-identical, and 1e-4 leaves a wide margin
//     for other machines while still catching any wrong coefficient, delay
//     off by a frame or misplaced smoothing step: those show up at 1e-3 or
//     far more (a smoothing constant off by 0.1% gives 1.6e-4 to 0.4).
//   - optLevel 0 vs 3: 1e-6. The optimizer may not change floating-point
//     semantics (no fast-math); measured, the two builds are bit-identical,
//     and the margin is only for libm calls that one build folds at compile
//     time and the other makes at run time.
//
//===----------------------------------------------------------------------===//
#include "Reference.h"

#include "compiler/Compiler.h"
#include "compiler/Optimizer.h"
#include "runtime/HotSwap.h"
#include "runtime/Instance.h"
#include "runtime/Render.h"
#include "runtime/Signals.h"
#include "session/MidiMap.h"
#include "session/MidiRender.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace dspjit::golden {
namespace {

// The models' tanh fuses as the JIT's does on this CPU (Reference.h).
const bool FusedAsTheJit = (Fused = targetHasFma(), true);

constexpr double SampleRate = 48000;
constexpr float Sr = 48000;
constexpr unsigned BlockSize = 64;
constexpr uint64_t Frames = 24000; // 0.5 s, 375 blocks
constexpr double ReferenceTolerance = 1e-4;
constexpr double OptLevelTolerance = 1e-6;

/// A host action just before a block: set a parameter's target.
struct ParamChange {
  unsigned Block;
  std::string Name;
  float Value;
};

/// A MIDI channel message at an exact frame, as a song's event.
struct MidiAt {
  uint64_t Frame;
  uint8_t Status, Data1, Data2 = 0;
};

struct Scenario {
  std::string Name;
  SignalSpec Signal;
  std::vector<ParamChange> Changes;
  /// An input that differs between channels, made at the render's rate
  /// (interleaved, Frames frames); replaces Signal when set.
  std::function<std::vector<float>(double Rate)> Input = nullptr;
  /// MIDI played as `render --midi` plays a song: the kernel runs in a
  /// HotSwap, and each message splits the block at its frame.
  std::vector<MidiAt> Midi = {};
  /// Notes the voice allocator must steal over the render, when set.
  std::optional<uint64_t> Stolen = std::nullopt;
};

SignalSpec signal(std::string_view Text) {
  auto S = parseSignal(Text);
  EXPECT_TRUE(bool(S)) << S.error();
  return S ? *S : SignalSpec{};
}

/// The default-parameter scenarios every script runs.
std::vector<Scenario> basicScenarios(unsigned Inputs) {
  if (Inputs == 0)
    return {{"generator", signal("silence"), {}}};
  return {{"impulse", signal("impulse"), {}},
          {"sine", signal("sine:440"), {}},
          {"noise", signal("noise"), {}}};
}

/// What one render produced: the output, and every meter's lanes after each
/// block, one block after another.
struct Capture {
  unsigned Channels = 0;
  std::vector<float> Output;
  std::map<std::string, std::vector<float>> Meters;
};

std::vector<float> inputFor(const Scenario &S, unsigned Channels, double Rate) {
  if (Channels == 0)
    return {};
  if (S.Input)
    return S.Input(Rate);
  return generateSignal(S.Signal, Rate, Channels, Frames);
}

/// Runs a kernel block by block as a stream would, applying the scenario's
/// parameter changes and reading the meters after every block.
Capture renderKernelMidi(const Kernel &K, Instance I, const Scenario &S,
                         const std::vector<std::string> &MeterNames,
                         double Rate);

Capture renderKernel(const Kernel &K, const Scenario &S,
                     const std::vector<std::string> &MeterNames, double Rate) {
  Capture C;
  auto I = Instance::create(K.info(), Rate);
  EXPECT_TRUE(bool(I)) << I.error();
  if (!I)
    return C;
  if (!S.Midi.empty())
    return renderKernelMidi(K, std::move(*I), S, MeterNames, Rate);
  unsigned Ins = K.info().inputs, Outs = K.info().outputs;
  std::vector<float> In = inputFor(S, Ins, Rate);
  C.Channels = Outs;
  C.Output.assign(Frames * Outs, 0.0f);
  for (uint64_t Start = 0, Block = 0; Start < Frames;
       Start += BlockSize, ++Block) {
    for (const ParamChange &P : S.Changes) {
      if (P.Block != Block)
        continue;
      ParamUpdate U = I->setParam(P.Name, P.Value);
      EXPECT_TRUE(U.stored()) << U.Message;
    }
    unsigned long N = std::min<uint64_t>(BlockSize, Frames - Start);
    I->process(Ins ? In.data() + Start * Ins : nullptr,
               Outs ? C.Output.data() + Start * Outs : nullptr, N);
    for (const std::string &Name : MeterNames) {
      auto Lanes = I->meter(Name);
      EXPECT_TRUE(bool(Lanes)) << Lanes.error();
      if (Lanes)
        C.Meters[Name].insert(C.Meters[Name].end(), Lanes->begin(),
                              Lanes->end());
    }
  }
  return C;
}

/// The path of `dspjit render --midi`: a HotSwap, the scenario's messages
/// as a MIDI file's events through session::scheduleMidiFile (notes to the
/// voices, controllers through a MidiMapper to the mapped parameters), and
/// render(), which splits blocks at events. The meters are read by events
/// at every BlockSize frames, which also keeps blocks aligned there, as in
/// the other scenarios.
Capture renderKernelMidi(const Kernel &K, Instance I, const Scenario &S,
                         const std::vector<std::string> &MeterNames,
                         double Rate) {
  Capture C;
  unsigned Ins = K.info().inputs, Outs = K.info().outputs;
  // The kernel outlives the HotSwap: it owns nothing of it.
  HotSwap Swap(std::shared_ptr<const void>(&K, [](const void *) {}),
               std::move(I), BlockSize);
  MidiFileData Song;
  for (const MidiAt &M : S.Midi) {
    MidiEvent E;
    E.Seconds = double(M.Frame) / Rate;
    E.Status = M.Status, E.Data1 = M.Data1, E.Data2 = M.Data2;
    EXPECT_EQ(midiFrame(E, Rate), M.Frame);
    Song.Events.push_back(E);
  }
  session::MidiMapper Mapper;
  session::MidiRenderCounts Counts;
  RenderOptions RO;
  RO.BlockSize = BlockSize;
  RO.Frames = Frames;
  session::scheduleMidiFile(Song, Rate, Swap, Mapper, Counts, RO.Events);
  for (const ParamChange &P : S.Changes)
    RO.Events.push_back({uint64_t(P.Block) * BlockSize, [&Swap, P] {
                           ParamUpdate U = Swap.setParam(P.Name, P.Value);
                           EXPECT_TRUE(U.stored()) << U.Message;
                         }});
  auto ReadMeters = [&] {
    for (const std::string &Name : MeterNames) {
      auto Lanes = Swap.active()->I.meter(Name);
      EXPECT_TRUE(bool(Lanes)) << Lanes.error();
      if (Lanes)
        C.Meters[Name].insert(C.Meters[Name].end(), Lanes->begin(),
                              Lanes->end());
    }
  };
  for (uint64_t At = BlockSize; At < Frames; At += BlockSize)
    RO.Events.push_back({At, ReadMeters});
  std::vector<float> In = inputFor(S, Ins, Rate);
  RenderInput Input;
  if (Ins)
    Input = BufferInput{In.data(), Frames, Ins, Rate, S.Name};
  auto R = render(Swap, Input, RO);
  EXPECT_TRUE(bool(R)) << R.error();
  if (!R)
    return C;
  ReadMeters(); // after the last block
  EXPECT_EQ(Swap.midiDropped(), 0u);
  if (S.Stolen) {
    EXPECT_EQ(Swap.voiceCounts().Stolen, *S.Stolen);
  }
  EXPECT_EQ(Counts.Unknown, 0u);
  C.Channels = Outs;
  C.Output = std::move(R->Output);
  return C;
}

/// A kernel descriptor holding only a model's parameters, for a MidiMapper
/// to move them by the mappings the model declares.
struct ModelParams {
  std::vector<ParamSpec> Specs;
  std::vector<DspjitSlot> Slots;
  DspjitKernel Kernel{};

  explicit ModelParams(const Processor &P) : Specs(P.paramSpecs()) {
    for (const ParamSpec &Spec : Specs) {
      DspjitSlot Slot{};
      Slot.name = Spec.Name.c_str();
      Slot.kind = DSPJIT_SLOT_PARAM;
      Slot.width = 1;
      Slot.def = Spec.Def, Slot.min = Spec.Min, Slot.max = Spec.Max;
      Slot.smooth_seconds = float(Spec.SmoothSeconds);
      Slot.unit = Spec.Unit.c_str();
      Slot.midi = Spec.Midi;
      Slots.push_back(Slot);
    }
    Kernel.num_slots = uint32_t(Slots.size());
    Kernel.slots = Slots.data();
  }
};

/// The reference's side of renderKernelMidi: the same blocks (split at
/// every message and at every BlockSize frames), the notes to the model's
/// voices, the controllers through a MidiMapper to its parameters.
Capture renderReferenceMidi(Processor &P, const Scenario &S) {
  Capture C;
  std::vector<float> In = inputFor(S, P.inputs(), P.sampleRate());
  C.Channels = P.outputs();
  C.Output.assign(Frames * P.outputs(), 0.0f);
  auto *Voices = dynamic_cast<Instrument *>(&P);
  ModelParams Params(P);
  session::MidiMapper Mapper;
  size_t Next = 0;
  for (uint64_t Done = 0; Done < Frames;) {
    for (; Next < S.Midi.size() && S.Midi[Next].Frame <= Done; ++Next) {
      const MidiAt &M = S.Midi[Next];
      if (Voices)
        Voices->sendMidi(
            session::toChannelMessage({M.Status, M.Data1, M.Data2}));
      std::vector<session::MidiParamChange> Changes;
      Mapper.handle({M.Status, M.Data1, M.Data2}, Params.Kernel, Changes);
      for (const session::MidiParamChange &Change : Changes)
        EXPECT_TRUE(P.setParam(Change.Param, Change.Value)) << Change.Param;
    }
    if (Done % BlockSize == 0)
      for (const ParamChange &Change : S.Changes)
        if (uint64_t(Change.Block) * BlockSize == Done) {
          EXPECT_TRUE(P.setParam(Change.Name, Change.Value)) << Change.Name;
        }
    uint64_t Until =
        std::min<uint64_t>((Done / BlockSize + 1) * BlockSize, Frames);
    if (Next < S.Midi.size())
      Until = std::min(Until, S.Midi[Next].Frame);
    unsigned N = unsigned(Until - Done);
    P.process(P.inputs() ? In.data() + Done * P.inputs() : nullptr,
              C.Output.data() + Done * P.outputs(), N);
    Done = Until;
    if (Done % BlockSize == 0 || Done == Frames)
      for (const std::string &Name : P.meterNames()) {
        const std::vector<float> &Lanes = *P.meter(Name);
        C.Meters[Name].insert(C.Meters[Name].end(), Lanes.begin(), Lanes.end());
      }
  }
  return C;
}

Capture renderReference(Processor &P, const Scenario &S) {
  if (!S.Midi.empty())
    return renderReferenceMidi(P, S);
  Capture C;
  std::vector<float> In = inputFor(S, P.inputs(), P.sampleRate());
  C.Channels = P.outputs();
  C.Output.assign(Frames * P.outputs(), 0.0f);
  for (uint64_t Start = 0, Block = 0; Start < Frames;
       Start += BlockSize, ++Block) {
    for (const ParamChange &Change : S.Changes) {
      if (Change.Block == Block) {
        EXPECT_TRUE(P.setParam(Change.Name, Change.Value)) << Change.Name;
      }
    }
    unsigned N = unsigned(std::min<uint64_t>(BlockSize, Frames - Start));
    P.process(P.inputs() ? In.data() + Start * P.inputs() : nullptr,
              C.Output.data() + Start * P.outputs(), N);
    for (const std::string &Name : P.meterNames()) {
      const std::vector<float> &Lanes = *P.meter(Name);
      C.Meters[Name].insert(C.Meters[Name].end(), Lanes.begin(), Lanes.end());
    }
  }
  return C;
}

/// Checks max |Got - Want| <= Tolerance * max(peak |Want|, 1e-3) and says
/// where the worst difference is when it is not.
void expectClose(const std::vector<float> &Got, const std::vector<float> &Want,
                 unsigned Lanes, double Tolerance, const std::string &What) {
  ASSERT_EQ(Got.size(), Want.size()) << What;
  double Peak = 0;
  for (float W : Want)
    Peak = std::max(Peak, std::fabs(double(W)));
  double Allowed = Tolerance * std::max(Peak, 1e-3);
  double Worst = 0;
  size_t WorstAt = 0;
  for (size_t I = 0; I < Got.size(); ++I) {
    double D = std::fabs(double(Got[I]) - double(Want[I]));
    if (!(D <= Worst)) { // also catches NaN
      Worst = std::isnan(D) ? INFINITY : D;
      WorstAt = I;
    }
  }
  EXPECT_LE(Worst, Allowed)
      << What << ": largest difference " << Worst << " ("
      << Worst / std::max(Peak, 1e-3) << " of the peak " << Peak
      << ") at frame " << WorstAt / std::max(Lanes, 1u) << ", lane "
      << WorstAt % std::max(Lanes, 1u) << ": got "
      << (Got.empty() ? 0.0f : Got[WorstAt]) << ", expected "
      << (Want.empty() ? 0.0f : Want[WorstAt]);
}

void expectCapturesClose(const Capture &Got, const Capture &Want,
                         double Tolerance, const std::string &What) {
  expectClose(Got.Output, Want.Output, Want.Channels, Tolerance,
              What + " output");
  for (const auto &[Name, Lanes] : Want.Meters) {
    auto It = Got.Meters.find(Name);
    if (It == Got.Meters.end()) {
      ADD_FAILURE() << What << ": no meter '" << Name << "'";
      continue;
    }
    expectClose(It->second, Lanes,
                unsigned(Lanes.size() / (Frames / BlockSize)), Tolerance,
                What + " meter '" + Name + "'");
  }
}

struct CompiledPair {
  std::unique_ptr<Kernel> O0, O3;
};

std::unique_ptr<Kernel> compileAt(const std::string &Name,
                                  const std::string *Source, unsigned OptLevel,
                                  double Rate) {
  CompileOptions Options;
  Options.sampleRate = Rate;
  Options.optLevel = OptLevel;
  Compiler C(Options);
  std::unique_ptr<Kernel> K =
      Source ? C.compileSource(Name, *Source) : C.compileFile(Name);
  if (!K) {
    std::ostringstream OS;
    C.diagnostics().print(OS);
    ADD_FAILURE() << "cannot compile " << Name << " at -O" << OptLevel << ":\n"
                  << OS.str();
  }
  return K;
}

/// Compiles a script from a file (Source null) or from text.
CompiledPair compileBoth(const std::string &Name,
                         const std::string *Source = nullptr,
                         double Rate = SampleRate) {
  return {compileAt(Name, Source, 0, Rate), compileAt(Name, Source, 3, Rate)};
}

std::vector<std::string> meterSlots(const Kernel &K) {
  std::vector<std::string> Names;
  const DspjitKernel &Info = K.info();
  for (uint32_t I = 0; I < Info.num_slots; ++I)
    if (Info.slots[I].kind == DSPJIT_SLOT_METER)
      Names.push_back(Info.slots[I].name);
  return Names;
}

/// Renders every scenario through both kernels and a fresh reference each
/// time, and compares the three. The kernels run at the reference's rate.
template <class MakeReference>
void runScenarios(const CompiledPair &Kernels, MakeReference Make,
                  const std::vector<Scenario> &Scenarios, double Tolerance) {
  ASSERT_TRUE(Kernels.O0 && Kernels.O3);
  std::unique_ptr<Processor> Probe = Make();
  ASSERT_TRUE(Probe);
  ASSERT_EQ(Kernels.O3->info().inputs, Probe->inputs());
  ASSERT_EQ(Kernels.O3->info().outputs, Probe->outputs());
  std::vector<std::string> Meters = Probe->meterNames();
  std::vector<std::string> KernelMeters = meterSlots(*Kernels.O3);
  EXPECT_EQ(std::set<std::string>(Meters.begin(), Meters.end()),
            std::set<std::string>(KernelMeters.begin(), KernelMeters.end()));
  for (const Scenario &S : Scenarios) {
    SCOPED_TRACE("scenario " + S.Name);
    std::unique_ptr<Processor> Ref = Make();
    Capture Want = renderReference(*Ref, S);
    Capture Got0 = renderKernel(*Kernels.O0, S, Meters, Ref->sampleRate());
    Capture Got3 = renderKernel(*Kernels.O3, S, Meters, Ref->sampleRate());
    expectCapturesClose(Got0, Got3, OptLevelTolerance, "-O0 vs -O3");
    expectCapturesClose(Got3, Want, Tolerance, "-O3 vs reference");
    expectCapturesClose(Got0, Want, Tolerance, "-O0 vs reference");
  }
}

// --- The examples
// -------------------------------------------------------------

std::string examplePath(const std::string &Name) {
  return std::string(DSPJIT_SOURCE_DIR) + "/examples/" + Name + ".dsp";
}

/// The circuit models of De Pra and Fontana carry the paper's constants for
/// 44.1 kHz; everything else runs at the suite's 48 kHz.
double exampleRate(const std::string &Name) {
  return Name == "diode_ringmod" || Name == "vcs3_filter" ? 44100 : SampleRate;
}

/// Parameter moves for each example: applied at block 100 (and some at 250),
/// chosen to change the sound audibly and to hit a range edge.
struct ExampleMoves {
  SignalSpec Signal;
  std::vector<ParamChange> Changes;
};

ExampleMoves movesFor(const std::string &Name) {
  SignalSpec Noise = signal("noise"), Sine = signal("sine:440");
  if (Name == "gain")
    return {Noise, {{100, "gain", -20}, {250, "gain", 30}}}; // 30 clamps to 12
  if (Name == "wavetable")
    return {Noise, {{100, "freq", 1500}, {100, "drive", 30}}}; // 30 clamps
  if (Name == "tremolo")
    return {Noise, {{100, "rate", 11}, {100, "depth", 0.9f}}};
  if (Name == "echo")
    return {
        Noise,
        {{100, "time", 0.05f}, {100, "feedback", 0.9f}, {100, "mix", 0.7f}}};
  if (Name == "lowpass")
    return {Noise, {{100, "cutoff", 200}, {250, "cutoff", 1e6f}}};
  if (Name == "biquad")
    return {Noise,
            {{100, "mode", 4},
             {100, "freq", 3000},
             {100, "q", 4},
             {100, "gain", 9},
             {250, "mode", 6},
             {250, "gain", -6}}};
  if (Name == "distortion")
    return {Sine, {{100, "drive", 30}, {100, "tone", 1500}, {100, "level", 0}}};
  if (Name == "freeverb")
    return {Noise,
            {{100, "roomsize", 0.9f},
             {100, "damp", 0.1f},
             {100, "wet", 0.5f},
             {100, "dry", 0.4f},
             {100, "width", 0.3f},
             {250, "freeze", 1}}};
  if (Name == "chorus")
    return {Noise,
            {{100, "rate", 3},
             {100, "time", 25},
             {100, "depth", 5},
             {100, "mix", 0.8f}}};
  if (Name == "ringmod")
    return {Noise, {{100, "freq", 1234}, {100, "mix", 0.6f}}};
  if (Name ==
      "additive") // at 1500 Hz the partials from the 16th on are dropped
    return {signal("silence"),
            {{100, "freq", 1500},
             {100, "tilt", 2},
             {100, "even", 0.3f},
             {100, "level", -20}}};
  if (Name == "meter")
    return {Noise, {{100, "window", 50}, {100, "release", 0.3f}}};
  if (Name == "diode_ringmod") // the 0.5 sine, then quieter; 60 clamps to 48
    return {Sine, {{100, "input", -6}, {100, "level", 12}, {250, "level", 60}}};
  if (Name == "vcs3_filter") // a quieter input, the cutoff down, then up; 60
                             // clamps to 40
    return {Sine,
            {{100, "drive", -20}, {100, "current", 10}, {250, "current", 60}}};
  if (Name ==
      "gate") // the -6 dB sine: closed below -1 - 2 dB, open again at -40
    return {Sine,
            {{100, "threshold", -1},
             {100, "hysteresis", 2},
             {100, "hold", 10},
             {100, "release", 20},
             {250, "threshold", -40},
             {250, "attack", 5}}};
  if (Name == "amp") // cleaner and symmetric, then a lead tone (60 -> 48)
    return {Sine,
            {{100, "gain", 6},
             {100, "bias", 0},
             {250, "gain", 60},
             {250, "bias", 0.5f},
             {250, "level", 0}}};
  if (Name == "reverb") // mostly wet and dark, then dry only
    return {Noise, {{100, "mix", 0.8f}, {100, "tone", 1000}, {250, "mix", 0}}};
  return {Noise, {}};
}

/// The diode ring modulator's forward Euler at 30x diverges on full-scale
/// inputs (see its header), so it runs on the usual signals at half scale,
/// where every state stays finite and the renders compare real audio; the
/// sine runs as it is (0.5 already). Its two inputs also get a sine pair: a
/// 1 kHz carrier and a 110 Hz modulator.
std::vector<Scenario> ringModScenarios() {
  auto Scaled = [](std::string Spec) {
    return [Spec](double Rate) {
      std::vector<float> In = generateSignal(signal(Spec), Rate, 2, Frames);
      for (float &X : In)
        X *= 0.5f;
      return In;
    };
  };
  auto SinePair = [](double Rate) {
    std::vector<float> In(Frames * 2);
    for (uint64_t F = 0; F < Frames; ++F) {
      double T = double(F) / Rate;
      In[2 * F] = float(0.5 * std::sin(2 * M_PI * 1000 * T));
      In[2 * F + 1] = float(0.5 * std::sin(2 * M_PI * 110 * T));
    }
    return In;
  };
  return {{"impulse at 0.5", signal("silence"), {}, Scaled("impulse")},
          {"sine", signal("sine:440"), {}},
          {"noise at 0.5", signal("silence"), {}, Scaled("noise")},
          {"sine pair", signal("silence"), {}, SinePair}};
}

MidiAt noteOn(uint64_t Frame, uint8_t Key, uint8_t Velocity) {
  return {Frame, 0x90, Key, Velocity};
}
MidiAt noteOff(uint64_t Frame, uint8_t Key) { return {Frame, 0x80, Key, 64}; }
MidiAt control(uint64_t Frame, uint8_t Number, uint8_t Value,
               uint8_t Channel = 0) {
  return {Frame, uint8_t(0xb0 | Channel), Number, Value};
}

/// The notes and controllers each instrument, and each effect with MIDI
/// mappings, plays: overlapping notes, note-offs with their releases, a
/// key struck again while held and while releasing, messages between block
/// boundaries (which split blocks), and for subsynth more notes than
/// voices.
std::vector<Scenario> midiScenarios(const std::string &Name) {
  SignalSpec Silence = signal("silence");
  if (Name == "subsynth") {
    // Ten keys held on eight voices steal the two held longest (67, then
    // the 60 struck again at 9000); after the release (shortened to 50 ms)
    // every voice is quiet and free again by frame 20000.
    std::vector<MidiAt> Midi = {
        noteOn(0, 60, 100),     noteOn(2400, 64, 80),
        noteOn(4800, 67, 127),  noteOff(7200, 60),
        noteOn(9000, 60, 90),   noteOn(9500, 64, 60),
        control(12000, 74, 30), control(12000, 71, 100),
        {13000, 0xe0, 0, 0x50}, // bend up a semitone and a quarter
        control(15500, 74, 90)};
    const uint8_t Burst[] = {62, 65, 69, 71, 72, 74, 76};
    for (unsigned I = 0; I < 7; ++I)
      Midi.push_back(noteOn(10001 + 97 * I, Burst[I], uint8_t(50 + 10 * I)));
    for (uint8_t Key : {60, 64, 67, 62, 65, 69, 71, 72, 74, 76})
      Midi.push_back(noteOff(14000, Key));
    Midi.push_back(noteOn(20000, 48, 100));
    Midi.push_back({22222, 0x90, 48, 0}); // velocity 0: a note-off
    std::stable_sort(
        Midi.begin(), Midi.end(),
        [](const MidiAt &A, const MidiAt &B) { return A.Frame < B.Frame; });
    return {{"notes and controllers",
             Silence,
             {{0, "release", 0.05f}, {200, "detune", 40}},
             nullptr,
             Midi,
             2}};
  }
  if (Name == "fmbell")
    return {{"notes",
             Silence,
             {{200, "ratio", 1.4f}},
             nullptr,
             {noteOn(0, 72, 127), noteOn(1200, 76, 60), noteOn(3000, 79, 100),
              noteOff(6000, 72), noteOn(8000, 76, 110), noteOn(10000, 72, 90),
              noteOff(14000, 76), noteOff(14000, 79), noteOff(16001, 72),
              noteOn(18000, 84, 50), noteOff(23000, 84)},
             0}};
  if (Name == "filter_midi") // the note is not for an effect: ignored
    return {{"controllers",
             signal("noise"),
             {},
             nullptr,
             {control(3000, 74, 20),
              noteOn(5000, 60, 100),
              control(6000, 71, 110),
              {9000, 0xd0, 100},
              control(12000, 1, 40),
              control(15000, 74, 127, 1),
              {18000, 0xd0, 0},
              control(18001, 74, 64)}}};
  return {};
}

class ExampleGolden : public testing::TestWithParam<std::string> {};

TEST_P(ExampleGolden, MatchesReference) {
  const std::string &Name = GetParam();
  double Rate = exampleRate(Name);
  CompiledPair Kernels = compileBoth(examplePath(Name), nullptr, Rate);
  ASSERT_TRUE(Kernels.O0 && Kernels.O3);
  std::vector<Scenario> Scenarios = basicScenarios(Kernels.O3->info().inputs);
  if (Name == "diode_ringmod")
    Scenarios = ringModScenarios();
  ExampleMoves Moves = movesFor(Name);
  if (!Moves.Changes.empty())
    Scenarios.push_back({"moved parameters", Moves.Signal, Moves.Changes});
  for (Scenario &S : midiScenarios(Name))
    Scenarios.push_back(std::move(S));
  runScenarios(
      Kernels, [&] { return makeExample(Name, Rate); }, Scenarios,
      ReferenceTolerance);
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleGolden,
                         testing::ValuesIn(exampleNames()),
                         [](const auto &Info) { return Info.param; });

TEST(ExampleGolden, EveryExampleHasAReference) {
  std::set<std::string> Files;
  for (const auto &Entry : std::filesystem::directory_iterator(
           std::string(DSPJIT_SOURCE_DIR) + "/examples"))
    if (Entry.path().extension() == ".dsp")
      Files.insert(Entry.path().stem().string());
  std::vector<std::string> Names = exampleNames();
  EXPECT_EQ(Files, std::set<std::string>(Names.begin(), Names.end()))
      << "every examples/*.dsp needs a model in tests/golden/Reference.cpp";
}

/// The examples are what users start from: none may warn, and neither may
/// the standard library's functions they call, checked here as if they
/// were the script's own (the compiler never warns about the library).
TEST(ExampleGolden, NoExampleWarns) {
  std::ifstream StdFile(std::string(DSPJIT_SOURCE_DIR) + "/dsl/std.dsp");
  std::string Std((std::istreambuf_iterator<char>(StdFile)), {});
  ASSERT_FALSE(Std.empty());
  for (const std::string &Name : exampleNames()) {
    std::ifstream File(examplePath(Name));
    std::string Text((std::istreambuf_iterator<char>(File)), {});
    for (bool StdAsScript : {false, true}) {
      CompileOptions O;
      O.optLevel = 0;
      O.useStdLib = !StdAsScript;
      Compiler C(O);
      auto K = C.compileSource(examplePath(Name),
                               StdAsScript ? Std + "\n" + Text : Text);
      // An example may replace a library name (meter.dsp's `peak`), which
      // a script cannot do to its own definitions.
      if (!K && StdAsScript &&
          C.diagnostics().all()[0].Id == DiagId::Redefinition)
        continue;
      ASSERT_NE(K, nullptr) << Name;
      std::ostringstream OS;
      C.diagnostics().print(OS);
      EXPECT_TRUE(C.diagnostics().all().empty())
          << Name << (StdAsScript ? " (with std.dsp as its own)" : "") << ":\n"
          << OS.str();
    }
  }
}

/// Each example opens with a comment naming the file, saying what it does,
/// and describing every parameter.
TEST(ExampleGolden, HeadersDescribeEveryParameter) {
  for (const std::string &Name : exampleNames()) {
    std::ifstream File(examplePath(Name));
    ASSERT_TRUE(File) << examplePath(Name);
    std::string Line, Header;
    std::vector<std::string> Params;
    bool InHeader = true;
    while (std::getline(File, Line)) {
      if (InHeader && Line.rfind("//", 0) == 0) {
        Header += Line + "\n";
        continue;
      }
      InHeader = false;
      if (Line.rfind("param ", 0) == 0) {
        size_t End = Line.find_first_of(" =", 6);
        Params.push_back(Line.substr(6, End - 6));
      }
    }
    EXPECT_EQ(Header.rfind("// " + Name + ".dsp", 0), 0u)
        << Name << ".dsp should open with a comment naming it";
    for (const std::string &P : Params)
      EXPECT_NE(Header.find(P), std::string::npos)
          << Name << ".dsp: the header comment does not describe parameter '"
          << P << "'";
  }
}

/// The VCS3 filter's fixed-point iteration converges in about ten passes at
/// the paper's settings: the figure README.md quotes. Each signal runs for
/// 2 s at 44.1 kHz in 64-frame callbacks; the meter gives each callback's
/// mean, which weighted by the callback's length gives the signal's. The
/// musical signal is an arpeggio of naive sawtooth notes (A2 C3 E3 A3, a
/// quarter of a second each, amplitude 0.5).
TEST(PaperModels, Vcs3FilterConvergesInAboutTenPasses) {
  const double Rate = 44100;
  const uint64_t Length = 88200;
  std::unique_ptr<Kernel> K =
      compileAt(examplePath("vcs3_filter"), nullptr, 3, Rate);
  ASSERT_TRUE(K);
  std::vector<float> Arpeggio(Length);
  const double Notes[] = {110, 130.81, 164.81, 220};
  for (uint64_t F = 0; F < Length; ++F) {
    double Freq = Notes[(F / 11025) % 4];
    double Phase = std::fmod(Freq * double(F) / Rate, 1.0);
    Arpeggio[F] = float(0.5 * (2 * Phase - 1));
  }
  std::vector<std::pair<std::string, std::vector<float>>> Signals = {
      {"impulse", generateSignal(signal("impulse"), Rate, 1, Length)},
      {"sine", generateSignal(signal("sine:440"), Rate, 1, Length)},
      {"noise", generateSignal(signal("noise"), Rate, 1, Length)},
      {"sawtooth arpeggio", Arpeggio}};
  for (const auto &[Name, In] : Signals) {
    auto I = Instance::create(K->info(), Rate);
    ASSERT_TRUE(bool(I)) << I.error();
    std::vector<float> Out(Length);
    double Passes = 0;
    for (uint64_t Start = 0; Start < Length; Start += BlockSize) {
      unsigned long N = std::min<uint64_t>(BlockSize, Length - Start);
      I->process(In.data() + Start, Out.data() + Start, N);
      Passes += (*I->meter("iterations"))[0] * double(N);
    }
    double Mean = Passes / double(Length);
    std::printf("vcs3_filter: %.2f passes per sample on %s\n", Mean,
                Name.c_str());
    EXPECT_GT(Mean, 2) << Name;
    EXPECT_LT(Mean, 20) << Name;
  }
}

// --- The standard library ----------------------------------------------------

/// A one-line wrapper script around a std function, and its model.
struct StdCase {
  std::string Name;
  std::string Source;
  std::function<std::unique_ptr<Processor>()> Reference;
};

std::ostream &operator<<(std::ostream &OS, const StdCase &C) {
  return OS << C.Name;
}

using Body = FrameFunction::Body;

StdCase mono(std::string Name, std::string Expr, Body F) {
  return {Name, "io 1 -> 1;\nprocess {\n    out = " + Expr + ";\n}\n",
          [F] { return std::make_unique<FrameFunction>(1, 1, SampleRate, F); }};
}

StdCase withIo(std::string Name, unsigned Ins, unsigned Outs, std::string Expr,
               Body F) {
  return {Name,
          "io " + std::to_string(Ins) + " -> " + std::to_string(Outs) +
              ";\nprocess {\n    out = " + Expr + ";\n}\n",
          [=] {
            return std::make_unique<FrameFunction>(Ins, Outs, SampleRate, F);
          }};
}

/// A mono biquad case with fixed cookbook parameters.
StdCase rbj(std::string Name, std::string Args, RbjShape Shape, float F,
            float Q, float GainDb = 0) {
  BiquadCoefs C = rbjCoefs(Shape, F, Q, GainDb, Sr);
  return mono(Name, Name + "(in, " + Args + ")",
              [C, B = Biquad()](const float *In, float *Out) mutable {
                Out[0] = B.process(In[0], C);
              });
}

/// A gate from a phasor: 1 while phasor(FreqHz) is below Threshold.
float below(Phasor &P, float FreqHz, float Threshold) {
  return P.next(FreqHz, Sr) < Threshold ? 1.0f : 0.0f;
}

/// The envelope cases' gate: at 4 Hz, up for the first 40% of each 250 ms
/// (twice in the render, with a release long enough to reach 0 after each),
/// its threshold moved by the input, so that noise makes it chatter at its
/// edges (rising again from part-way through a release); and their trigger,
/// pulses of 8 frames every 83 ms: at a note's start, during a held note (a
/// retrigger) and while released (ignored).
constexpr const char *EnvelopeGate = "phasor(4) < 0.4 + 0.1 * in";
constexpr const char *EnvelopeTrig = "phasor(12) < 0.002";
struct EnvelopeSignals {
  Phasor G, T;
  float gate(const float *In) { return below(G, 4, madd(0.1f, In[0], 0.4f)); }
  float trig() { return below(T, 12, 0.002f); }
};

std::string envelopeCall(const std::string &Fn, const std::string &Args) {
  return Fn + "(" + EnvelopeGate + ", " + Args + ")";
}

std::vector<StdCase> stdCases() {
  return {
      mono("fract", "fract(in * 3.7)",
           [](const float *In, float *Out) { Out[0] = fract(In[0] * 3.7f); }),
      mono("smoothcoef", "in * smoothcoef(0.002 + 0.001 * in)",
           [](const float *In, float *Out) {
             Out[0] = In[0] * smoothCoef(0.002f + 0.001f * In[0], Sr);
           }),
      mono("db2lin", "db2lin(in * 40)",
           [](const float *In, float *Out) { Out[0] = db2lin(In[0] * 40); }),
      mono("lin2db", "lin2db(in)",
           [](const float *In, float *Out) { Out[0] = lin2db(In[0]); }),
      mono("softclip", "softclip(in * 3)",
           [](const float *In, float *Out) { Out[0] = softclip(In[0] * 3); }),
      mono("phasor", "phasor(440 + 200 * in)",
           [P = Phasor()](const float *In, float *Out) mutable {
             Out[0] = P.next(440 + 200 * In[0], Sr);
           }),
      mono("sine", "sine(440 + 200 * in)",
           [P = Phasor()](const float *In, float *Out) mutable {
             Out[0] = sineOsc(P, 440 + 200 * In[0], Sr);
           }),
      mono("polyblep", "polyblep(fract(in * 1.3), 0.1)",
           [](const float *In, float *Out) {
             Out[0] = polyBlep(fract(In[0] * 1.3f), 0.1f);
           }),
      mono("saw", "saw(440 + 200 * in)",
           [P = Phasor()](const float *In, float *Out) mutable {
             Out[0] = sawOsc(P, madd(200, In[0], 440), Sr);
           }),
      mono("square", "square(440 + 200 * in)",
           [P = Phasor()](const float *In, float *Out) mutable {
             Out[0] = squareOsc(P, madd(200, In[0], 440), Sr);
           }),
      withIo("noise", 0, 1, "noise()",
             [N = Noise()](const float *, float *Out) mutable {
               Out[0] = N.next();
             }),
      withIo("noise_seeded", 0, 2, "[noise_seeded(7), noise_seeded(16777211)]",
             [A = Noise(7), B = Noise(16777211)](const float *,
                                                 float *Out) mutable {
               Out[0] = A.next();
               Out[1] = B.next();
             }),
      mono("onepole", "onepole(in, 1000)",
           [F = OnePole()](const float *In, float *Out) mutable {
             Out[0] = F.process(In[0], 1000, Sr);
           }),
      mono("onepole_modulated", "onepole(in, 1000 + 800 * sine(3))",
           [F = OnePole(), P = Phasor()](const float *In, float *Out) mutable {
             Out[0] = F.process(In[0], 1000 + 800 * sineOsc(P, 3, Sr), Sr);
           }),
      mono("smooth", "smooth(in, 0.01)",
           [S = Smoother()](const float *In, float *Out) mutable {
             Out[0] = S.process(In[0], 0.01f, Sr);
           }),
      mono("dcblock", "dcblock(in + 0.5)",
           [D = DcBlocker()](const float *In, float *Out) mutable {
             Out[0] = D.process(In[0] + 0.5f, Sr);
           }),
      mono("envfollow", "envfollow(in, 0.005, 0.1)",
           [E = EnvelopeFollower()](const float *In, float *Out) mutable {
             Out[0] = E.process(In[0], 0.005f, 0.1f, Sr);
           }),
      mono("biquad", "biquad(in, 0.2, 0.3, 0.1, -0.5, 0.25)",
           [B = Biquad()](const float *In, float *Out) mutable {
             Out[0] = B.process(In[0], {0.2f, 0.3f, 0.1f, -0.5f, 0.25f});
           }),
      mono("rbj_w0", "rbj_w0(1000 + 900 * in)",
           [](const float *In, float *Out) {
             Out[0] =
                 Tau * std::clamp(1000 + 900 * In[0], 1.0f, 0.49f * Sr) / Sr;
           }),
      mono("rbj_alpha", "rbj_alpha(0.3 + 0.2 * in, 0.707)",
           [](const float *In, float *Out) {
             Out[0] = std::sin(0.3f + 0.2f * In[0]) / (2 * 0.707f);
           }),
      rbj("lowpass", "1000, 0.707", RbjShape::Lowpass, 1000, 0.707f),
      mono("lowpass_modulated", "lowpass(in, 1000 + 800 * sine(3), 2)",
           [B = Biquad(), P = Phasor()](const float *In, float *Out) mutable {
             float F = 1000 + 800 * sineOsc(P, 3, Sr);
             Out[0] =
                 B.process(In[0], rbjCoefs(RbjShape::Lowpass, F, 2, 0, Sr));
           }),
      withIo(
          "lowpass_stereo", 2, 2, "lowpass(in, 1000, 0.707)",
          [C = rbjCoefs(RbjShape::Lowpass, 1000, 0.707f, 0, Sr),
           B = std::array<Biquad, 2>()](const float *In, float *Out) mutable {
            Out[0] = B[0].process(In[0], C);
            Out[1] = B[1].process(In[1], C);
          }),
      rbj("highpass", "1000, 0.707", RbjShape::Highpass, 1000, 0.707f),
      rbj("bandpass", "1000, 2", RbjShape::Bandpass, 1000, 2),
      rbj("notch", "1000, 2", RbjShape::Notch, 1000, 2),
      rbj("peak", "2000, 2, -9", RbjShape::Peak, 2000, 2, -9),
      rbj("lowshelf", "300, 0.707, 6", RbjShape::LowShelf, 300, 0.707f, 6),
      rbj("highshelf", "4000, 0.707, -6", RbjShape::HighShelf, 4000, 0.707f,
          -6),
      withIo("svf", 1, 3, "svf(in, 1000, 2)",
             [S = Svf()](const float *In, float *Out) mutable {
               Svf::Outputs O = S.process(In[0], 1000, 2, Sr);
               Out[0] = O.Low, Out[1] = O.Band, Out[2] = O.High;
             }),
      withIo("svf_modulated", 1, 3, "svf(in, 1000 + 800 * sine(3), 5)",
             [S = Svf(), P = Phasor()](const float *In, float *Out) mutable {
               Svf::Outputs O =
                   S.process(In[0], 1000 + 800 * sineOsc(P, 3, Sr), 5, Sr);
               Out[0] = O.Low, Out[1] = O.Band, Out[2] = O.High;
             }),
      // The rate argument: each function run as if at another rate.
      mono("onepole_rate", "onepole(in, 1000, 4 * sr)",
           [F = OnePole()](const float *In, float *Out) mutable {
             Out[0] = F.process(In[0], 1000, 4 * Sr);
           }),
      mono("phasor_rate", "phasor(440 + 200 * in, 2 * sr)",
           [P = Phasor()](const float *In, float *Out) mutable {
             Out[0] = P.next(440 + 200 * In[0], 2 * Sr);
           }),
      mono("saw_rate", "saw(440, 3 * sr)",
           [P = Phasor()](const float *, float *Out) mutable {
             Out[0] = sawOsc(P, 440, 3 * Sr);
           }),
      mono("smooth_rate", "smooth(in, 0.01, 8 * sr)",
           [S = Smoother()](const float *In, float *Out) mutable {
             Out[0] = S.process(In[0], 0.01f, 8 * Sr);
           }),
      mono("envfollow_rate", "envfollow(in, 0.005, 0.1, 2 * sr)",
           [E = EnvelopeFollower()](const float *In, float *Out) mutable {
             Out[0] = E.process(In[0], 0.005f, 0.1f, 2 * Sr);
           }),
      mono("dcblock_rate", "dcblock(in + 0.5, 4 * sr)",
           [D = DcBlocker()](const float *In, float *Out) mutable {
             Out[0] = D.process(In[0] + 0.5f, 4 * Sr);
           }),
      mono("lowpass_rate", "lowpass(in, 1000, 0.707, 4 * sr)",
           [C = rbjCoefs(RbjShape::Lowpass, 1000, 0.707f, 0, 4 * Sr),
            B = Biquad()](const float *In, float *Out) mutable {
             Out[0] = B.process(In[0], C);
           }),
      mono("peak_rate", "peak(in, 2000, 2, -9, 2 * sr)",
           [C = rbjCoefs(RbjShape::Peak, 2000, 2, -9, 2 * Sr),
            B = Biquad()](const float *In, float *Out) mutable {
             Out[0] = B.process(In[0], C);
           }),
      withIo("svf_rate", 1, 3, "svf(in, 1000, 2, 4 * sr)",
             [S = Svf()](const float *In, float *Out) mutable {
               Svf::Outputs O = S.process(In[0], 1000, 2, 4 * Sr);
               Out[0] = O.Low, Out[1] = O.Band, Out[2] = O.High;
             }),
      // Instruments: envelopes and notes.
      mono("adsr",
           envelopeCall("adsr",
                        std::string("0.005, 0.02, 0.5, 0.03, ") + EnvelopeTrig),
           [E = Adsr(), S = EnvelopeSignals()](const float *In,
                                               float *Out) mutable {
             Out[0] = E.process(S.gate(In), 0.005f, 0.02f, 0.5f, 0.03f,
                                S.trig(), Sr);
           }),
      mono("adsr_instant",
           envelopeCall("adsr", std::string("0, 0, 0.6, 0, ") + EnvelopeTrig),
           [E = Adsr(), S = EnvelopeSignals()](const float *In,
                                               float *Out) mutable {
             Out[0] = E.process(S.gate(In), 0, 0, 0.6f, 0, S.trig(), Sr);
           }),
      // Times and sustain computed every frame (the others fold).
      mono("adsr_modulated",
           envelopeCall("adsr", "0.004 + 0.002 * in, 0.02 + 0.01 * in, "
                                "0.5 + 0.3 * in, 0.03 + 0.01 * in"),
           [E = Adsr(), S = EnvelopeSignals()](const float *In,
                                               float *Out) mutable {
             float X = In[0];
             Out[0] = E.process(S.gate(In), madd(0.002f, X, 0.004f),
                                madd(0.01f, X, 0.02f), madd(0.3f, X, 0.5f),
                                madd(0.01f, X, 0.03f), 0, Sr);
           }),
      mono("adsr_rate",
           envelopeCall("adsr", "0.005, 0.02, 0.5, 0.03, 0, 4 * sr"),
           [E = Adsr(), S = EnvelopeSignals()](const float *In,
                                               float *Out) mutable {
             Out[0] =
                 E.process(S.gate(In), 0.005f, 0.02f, 0.5f, 0.03f, 0, 4 * Sr);
           }),
      // Four voices in one vector: each lane its own gate, trigger, times
      // (some 0) and sustain (one 0), and its own envelope.
      withIo(
          "adsr_lanes", 1, 4,
          "adsr(phasor([4, 7, 3, 11]) < [0.5, 0.3, 0.6, 0.2] + 0.1 * in, "
          "[0.005, 0, 0.01, 0.002], [0.02, 0.01, 0, 0.05], "
          "[0.5, 0.8, 0.3, 0], [0.03, 0.01, 0.05, 0], "
          "phasor([12, 17, 9, 5]) < 0.002)",
          [E = std::array<Adsr, 4>(), G = std::array<Phasor, 4>(),
           T = std::array<Phasor, 4>()](const float *In, float *Out) mutable {
            static constexpr float GateHz[4] = {4, 7, 3, 11},
                                   Up[4] = {0.5f, 0.3f, 0.6f, 0.2f},
                                   A[4] = {0.005f, 0, 0.01f, 0.002f},
                                   D[4] = {0.02f, 0.01f, 0, 0.05f},
                                   S[4] = {0.5f, 0.8f, 0.3f, 0},
                                   R[4] = {0.03f, 0.01f, 0.05f, 0},
                                   TrigHz[4] = {12, 17, 9, 5};
            for (unsigned L = 0; L < 4; ++L) {
              float Gate = below(G[L], GateHz[L], madd(0.1f, In[0], Up[L]));
              float Trig = below(T[L], TrigHz[L], 0.002f);
              Out[L] = E[L].process(Gate, A[L], D[L], S[L], R[L], Trig, Sr);
            }
          }),
      mono("ar", envelopeCall("ar", std::string("0.01, 0.05, ") + EnvelopeTrig),
           [E = Adsr(), S = EnvelopeSignals()](const float *In,
                                               float *Out) mutable {
             Out[0] = E.process(S.gate(In), 0.01f, 0, 1, 0.05f, S.trig(), Sr);
           }),
      // Triggers at 7 Hz, 10% of the time (a held trigger does not hold the
      // level); the 50 ms decay reaches 0 in 125 ms, before the next.
      mono("decay", "decay(phasor(7) < 0.1 + 0.05 * in, 0.05)",
           [E = DecayEnvelope(), P = Phasor()](const float *In,
                                               float *Out) mutable {
             float Trig = below(P, 7, madd(0.05f, In[0], 0.1f));
             Out[0] = E.process(Trig, 0.05f, Sr);
           }),
      mono("note2freq", "note2freq(60 + 24 * in)",
           [](const float *In, float *Out) {
             Out[0] = note2freq(madd(24, In[0], 60));
           }),
      // Negative velocities (half the input) give 0; a range of 0, 1.
      withIo("velgain", 1, 3,
             "[velgain(in), velgain(abs(in), 60), velgain(in, 0)]",
             [](const float *In, float *Out) {
               Out[0] = velGain(In[0], 40);
               Out[1] = velGain(std::fabs(In[0]), 60);
               Out[2] = velGain(In[0], 0);
             }),
      mono("comb", "comb(in, 1000, 0.8, 0.3)",
           [C = FreeverbComb(1000)](const float *In, float *Out) mutable {
             Out[0] = C.process(In[0], 0.8f, 0.3f);
           }),
      mono("allpass", "allpass(in, 300, 0.5)",
           [A = FreeverbAllpass(300)](const float *In, float *Out) mutable {
             Out[0] = A.process(In[0], 0.5f);
           }),
  };
}

class StdGolden : public testing::TestWithParam<StdCase> {};

TEST_P(StdGolden, MatchesReference) {
  const StdCase &C = GetParam();
  SCOPED_TRACE("script:\n" + C.Source);
  CompiledPair Kernels = compileBoth(C.Name + ".dsp", &C.Source);
  ASSERT_TRUE(Kernels.O0 && Kernels.O3);
  runScenarios(Kernels, C.Reference, basicScenarios(Kernels.O3->info().inputs),
               ReferenceTolerance);
}

INSTANTIATE_TEST_SUITE_P(Std, StdGolden, testing::ValuesIn(stdCases()),
                         [](const auto &Info) { return Info.param.Name; });

/// Every function std.dsp defines has a golden case (a case may cover more
/// than one, e.g. `lowpass` also runs `biquad`, `rbj_w0` and `rbj_alpha`).
TEST(StdGolden, EveryStdFunctionIsCovered) {
  std::ifstream File(std::string(DSPJIT_SOURCE_DIR) + "/dsl/std.dsp");
  ASSERT_TRUE(File) << "cannot read dsl/std.dsp";
  std::set<std::string> Covered;
  for (const StdCase &C : stdCases())
    Covered.insert(C.Name);
  std::string Line;
  while (std::getline(File, Line)) {
    if (Line.rfind("fn ", 0) != 0)
      continue;
    std::string Name = Line.substr(3, Line.find('(') - 3);
    EXPECT_TRUE(Covered.count(Name))
        << "std function '" << Name << "' has no golden case";
  }
}

/// What the golden cases' tolerance cannot see (1e-5 is well within it):
/// the envelopes land exactly on their targets, lane by lane. Four voices
/// with their own gates and times (some 0) and a `decay`; every lane reaches
/// exactly 0 after its releases, a held one exactly its sustain (`decay`:
/// exactly 1 at its triggers), and no level is ever strictly between 0 and
/// 1e-5, where a voice would be silent without saying so.
TEST(StdInstruments, EnvelopesLandExactly) {
  const std::string Source =
      "io 0 -> 5;\nprocess {\n"
      "    out = [adsr(phasor([4, 4, 6, 6]) < [0.3, 0.5, 0.3, 0.5], "
      "[0.005, 0, 0.005, 0], [0.02, 0.02, 0.01, 0], [0.5, 0.25, 0.5, 0.25], "
      "[0.03, 0.03, 0, 0]), decay(phasor(7) < 0.1, 0.05)];\n}\n";
  SCOPED_TRACE("script:\n" + Source);
  std::unique_ptr<Kernel> K =
      compileAt("envelopes.dsp", &Source, 3, SampleRate);
  ASSERT_TRUE(K);
  Capture C =
      renderKernel(*K, {"generator", signal("silence"), {}}, {}, SampleRate);
  const float Held[5] = {0.5f, 0.25f, 0.5f, 0.25f, 1};
  for (unsigned L = 0; L < 5; ++L) {
    SCOPED_TRACE("lane " + std::to_string(L));
    unsigned AtHeld = 0, ZerosAfterSound = 0, Tiny = 0;
    bool Sounded = false;
    for (uint64_t F = 0; F < Frames; ++F) {
      float Y = C.Output[F * 5 + L];
      AtHeld += Y == Held[L];
      Sounded = Sounded || Y != 0;
      ZerosAfterSound += Sounded && Y == 0;
      Tiny += Y > 0 && Y < 1e-5f;
    }
    EXPECT_GT(AtHeld, 0u);
    EXPECT_GT(ZerosAfterSound, 1000u);
    EXPECT_EQ(Tiny, 0u);
  }
}

// --- Delay lines read at vectors of positions
// ---------------------------------

/// A script around a delay line, and its model; run at -O0 and -O3.
struct DelayCase {
  std::string Name;
  std::string Source;
  std::function<std::unique_ptr<Processor>()> Reference;
};

std::ostream &operator<<(std::ostream &OS, const DelayCase &C) {
  return OS << C.Name;
}

DelayCase delayCase(std::string Name, unsigned Ins, unsigned Outs,
                    std::string Source, Body F) {
  return {Name, std::move(Source), [=] {
            return std::make_unique<FrameFunction>(Ins, Outs, SampleRate, F);
          }};
}

/// Positions that cover the interior, both ends (0 and past the length
/// clamp), fractions and NaN (which reads as 1).
float modulated(float In) { return 50 + 49.5f * In; }

std::vector<DelayCase> delayCases() {
  const float NaN = std::numeric_limits<float>::quiet_NaN();
  return {
      // A mono line read at six positions: six lanes (multi-tap).
      delayCase("multitap_tap_mono", 1, 6,
                "io 1 -> 6;\ndelay d[100];\nprocess {\n"
                "    let y = d.tap([1, 10.9, 0, 250, 0 / 0, 50 + 49.5 * in]);\n"
                "    d.write(in);\n    out = y;\n}\n",
                [D = DelayLine(100), NaN](const float *In, float *Out) mutable {
                  const float At[6] = {1, 10.9f, 0, 250, NaN, modulated(In[0])};
                  for (unsigned K = 0; K < 6; ++K)
                    Out[K] = D.tap(At[K]);
                  D.write(In[0]);
                }),
      delayCase(
          "multitap_read_mono", 1, 6,
          "io 1 -> 6;\ndelay d[100];\nprocess {\n"
          "    let y = d.read([1.25, 10.5, 0.3, 99.75, 0 / 0, 50 + 49.5 * "
          "in]);\n"
          "    d.write(in);\n    out = y;\n}\n",
          [D = DelayLine(100), NaN](const float *In, float *Out) mutable {
            const float At[6] = {1.25f,  10.5f, 0.3f,
                                 99.75f, NaN,   modulated(In[0])};
            for (unsigned K = 0; K < 6; ++K)
              Out[K] = D.read(At[K]);
            D.write(In[0]);
          }),
      // A mono multi-tap summed, as LANGUAGE.md section 9 shows it.
      delayCase(
          "multitap_sum", 1, 1,
          "io 1 -> 1;\ndelay m[2000];\nprocess {\n"
          "    m.write(in);\n    out = sum(m.tap([441, 882, 1323]));\n}\n",
          [D = DelayLine(2000)](const float *In, float *Out) mutable {
            D.write(In[0]);
            Out[0] = (D.tap(441) + D.tap(1323)) + D.tap(882);
          }),
      // A stereo line read per lane: lane j at position j.
      delayCase("perlane_tap_stereo", 2, 2,
                "io 2 -> 2;\ndelay d[100];\nprocess {\n"
                "    let y = d.tap([0 / 0, 50 + 49.5 * in[0]]);\n"
                "    d.write(in);\n    out = y;\n}\n",
                [D = std::array<DelayLine, 2>{DelayLine(100), DelayLine(100)},
                 NaN](const float *In, float *Out) mutable {
                  Out[0] = D[0].tap(NaN);
                  Out[1] = D[1].tap(modulated(In[0]));
                  D[0].write(In[0]);
                  D[1].write(In[1]);
                }),
      delayCase("perlane_read_stereo", 2, 2,
                "io 2 -> 2;\ndelay d[100];\nprocess {\n"
                "    let y = d.read([150, 50 + 49.5 * in[1]]);\n"
                "    d.write(in);\n    out = y;\n}\n",
                [D = std::array<DelayLine, 2>{DelayLine(100), DelayLine(100)}](
                    const float *In, float *Out) mutable {
                  Out[0] = D[0].read(150);
                  Out[1] = D[1].read(modulated(In[1]));
                  D[0].write(In[0]);
                  D[1].write(In[1]);
                }),
      // The feedback loop of issue 12: the read at two positions makes the
      // write, and so the line, width 2; lane j is read at position j.
      delayCase("multitap_feedback_tap", 1, 2,
                "io 1 -> 2;\ndelay d[100];\nprocess {\n"
                "    let y = d.tap([10, 20]);\n"
                "    d.write(in + 0.5 * y);\n    out = y;\n}\n",
                [D = std::array<DelayLine, 2>{DelayLine(100), DelayLine(100)}](
                    const float *In, float *Out) mutable {
                  const float At[2] = {10, 20};
                  for (unsigned J = 0; J < 2; ++J) {
                    Out[J] = D[J].tap(At[J]);
                    D[J].write(In[0] + 0.5f * Out[J]);
                  }
                }),
      delayCase("multitap_feedback_read", 1, 2,
                "io 1 -> 2;\ndelay d[100];\nprocess {\n"
                "    let y = d.read([10.5, 20.25]);\n"
                "    d.write(in + 0.5 * y);\n    out = y[0] + [0, y[1]];\n}\n",
                [D = std::array<DelayLine, 2>{DelayLine(100), DelayLine(100)}](
                    const float *In, float *Out) mutable {
                  const float At[2] = {10.5f, 20.25f};
                  float Y[2];
                  for (unsigned J = 0; J < 2; ++J) {
                    Y[J] = D[J].read(At[J]);
                    D[J].write(In[0] + 0.5f * Y[J]);
                  }
                  Out[0] = Y[0];
                  Out[1] = Y[0] + Y[1];
                }),
  };
}

class DelayGolden : public testing::TestWithParam<DelayCase> {};

TEST_P(DelayGolden, MatchesReference) {
  const DelayCase &C = GetParam();
  SCOPED_TRACE("script:\n" + C.Source);
  CompiledPair Kernels = compileBoth(C.Name + ".dsp", &C.Source);
  ASSERT_TRUE(Kernels.O0 && Kernels.O3);
  runScenarios(Kernels, C.Reference, basicScenarios(Kernels.O3->info().inputs),
               ReferenceTolerance);
}

INSTANTIATE_TEST_SUITE_P(Delay, DelayGolden, testing::ValuesIn(delayCases()),
                         [](const auto &Info) { return Info.param.Name; });

} // namespace
} // namespace dspjit::golden
