//===- scripttest/Runner.cpp - Compile, render, check ---------------------===//
#include "scripttest/Runner.h"

#include "runtime/AudioFile.h"
#include "runtime/HotSwap.h"
#include "runtime/Instance.h"
#include "runtime/MessageCatalog.h"
#include "runtime/MidiFile.h"
#include "runtime/Render.h"
#include "scripttest/Compare.h"
#include "session/MidiRender.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

namespace fs = std::filesystem;

namespace dspjit::scripttest {

std::string Outcome::name() const {
  return Script + ":" + std::to_string(Line) + ": " + Spec;
}

namespace {

/// One compile of the script at one rate.
struct Compiled {
  std::shared_ptr<Kernel> Code;
  /// The compiler's report: the errors when Code is null, else warnings.
  std::string Diagnostics;
  /// The messages of the errors.
  std::vector<std::string> Errors;
  bool WarningsShown = false;
};

/// Compiles a script at most once per rate.
class CompileCache {
public:
  CompileCache(const std::string &Script, const CompileOptions &Options)
      : Script(Script), Options(Options) {}

  Compiled &at(double Rate) {
    auto It = ByRate.find(Rate);
    if (It != ByRate.end())
      return It->second;
    CompileOptions O = Options;
    O.sampleRate = Rate;
    Compiler C(O);
    Compiled &Out = ByRate[Rate];
    Out.Code = C.compileFile(Script);
    std::ostringstream OS;
    C.diagnostics().print(OS);
    Out.Diagnostics = OS.str();
    for (const Diagnostic &D : C.diagnostics().all())
      if (D.Sev == Severity::Error)
        Out.Errors.push_back(D.Message);
    return Out;
  }

private:
  std::string Script;
  CompileOptions Options;
  std::map<double, Compiled> ByRate;
};

/// What a test renders from, read before it is compiled (a file's rate
/// decides the kernel's).
struct TestInput {
  std::optional<AudioData> File;
  std::optional<MidiFileData> Song;
  double Rate = 48000;
};

Result<TestInput> readInputs(const TestCase &T) {
  TestInput In;
  if (!T.InputFile.empty()) {
    auto Data = readAudioFile(T.InputFile);
    if (!Data)
      return fail(Data.error());
    In.File = std::move(*Data);
  }
  if (!T.Midi.empty()) {
    auto Song = readMidiFile(T.Midi);
    if (!Song)
      return fail(Song.error());
    In.Song = std::move(*Song);
  }
  In.Rate = T.Rate ? T.Rate : In.File ? In.File->SampleRate : 48000;
  return In;
}

/// The frames to render: the test's duration, else the input file's
/// length, else the MIDI file and 2 s of release, else 1 s.
std::optional<uint64_t> testFrames(const TestCase &T, const TestInput &In) {
  if (T.Length)
    return T.Length->frames(In.Rate);
  if (In.File)
    return std::nullopt;
  if (In.Song)
    return session::midiRenderFrames(*In.Song, In.Rate);
  return uint64_t(In.Rate);
}

RenderInput renderInput(const TestCase &T, const TestInput &In,
                        const DspjitKernel &Info) {
  if (In.File)
    return BufferInput::fromAudio(*In.File, T.InputFile);
  if (T.Signal)
    return *T.Signal;
  if (Info.inputs > 0)
    return SignalSpec{SignalSpec::Impulse};
  return std::monostate{};
}

/// A render and what it says besides its samples.
struct TestRender {
  Rendered Audio;
  uint64_t Nonfinite = 0;
  std::vector<std::string> Warnings;
};

/// Sets the test's parameters through `Set`; a clamped value is a warning,
/// any other refusal fails the test.
Result<void>
applySets(const TestCase &T,
          const std::function<ParamUpdate(std::string_view, float)> &Set,
          TestRender &Out) {
  for (const auto &[Name, Value] : T.Sets) {
    ParamUpdate U = Set(Name, Value);
    if (!U.stored())
      return fail(U.Message);
    if (U.Status == ParamUpdate::Clamped)
      Out.Warnings.push_back(U.Message);
  }
  return {};
}

Result<TestRender> renderTest(const TestCase &T, const TestInput &In,
                              const std::shared_ptr<Kernel> &K) {
  const DspjitKernel &Info = K->info();
  auto Inst = Instance::create(Info, In.Rate);
  if (!Inst)
    return fail(Inst.error());
  TestRender Out;
  RenderOptions RO;
  RO.BlockSize = T.Block;
  RO.KernelName = T.Script;
  RO.Frames = testFrames(T, In);
  RenderInput Input = renderInput(T, In, Info);
  Result<RenderResult> R = fail("");
  if (In.Song) {
    std::vector<session::MidiMapping> Maps;
    for (const std::string &Spec : T.MidiMaps)
      Maps.push_back(*session::parseMidiMapping(Spec)); // checked by parsing
    session::MidiMapper Mapper(std::move(Maps));
    session::MidiRenderCounts Counts;
    HotSwap Swap(K, std::move(*Inst), T.Block);
    if (auto S = applySets(
            T,
            [&](std::string_view N, float V) {
              return Swap.setParamImmediate(N, V);
            },
            Out);
        !S)
      return fail(S.error());
    session::scheduleMidiFile(*In.Song, In.Rate, Swap, Mapper, Counts,
                              RO.Events);
    R = render(Swap, Input, RO);
    Out.Nonfinite = Swap.nonfiniteSamples();
  } else {
    if (auto S = applySets(
            T,
            [&](std::string_view N, float V) {
              return Inst->setParamImmediate(N, V);
            },
            Out);
        !S)
      return fail(S.error());
    R = render(*Inst, Input, RO);
    Out.Nonfinite = Inst->nonfiniteSamples();
  }
  if (!R)
    return fail(R.error());
  Out.Audio = {std::move(R->Output), R->Channels, In.Rate};
  return Out;
}

/// Writes a golden file, as float WAV (the render's exact samples).
Result<void> writeGolden(const std::string &Path, const Rendered &R) {
  std::error_code Ec;
  fs::create_directories(fs::path(Path).parent_path(), Ec);
  return writeAudioFile(Path, R.Samples.data(), R.frames(), R.Channels, R.Rate,
                        SampleFormat::Float32);
}

/// The golden check, or with Update, the golden file brought up to date.
void checkGolden(const TestCase &T, const Rendered &R, bool Update,
                 Outcome &O) {
  std::optional<AudioData> Want;
  if (fs::exists(T.GoldenPath)) {
    auto Data = readAudioFile(T.GoldenPath);
    if (!Data && !Update) {
      O.Details.push_back(Data.error());
      return;
    }
    if (Data)
      Want = std::move(*Data);
  }
  if (Update) {
    if (Want && sameAudio(R, *Want)) {
      O.Result = Outcome::Passed;
      return;
    }
    if (auto W = writeGolden(T.GoldenPath, R); !W) {
      O.Details.push_back(W.error());
      return;
    }
    O.Details.push_back(message<Msg::TestWroteGolden>(T.GoldenPath));
    O.Result = Outcome::Updated;
    return;
  }
  if (!Want) {
    O.Details.push_back(message<Msg::TestGoldenMissing>(T.GoldenPath));
    return;
  }
  Verdict V = compareWithGolden(R, *Want, T.Expect.Tolerance, T.GoldenPath);
  O.Details = std::move(V.Lines);
}

/// error "text": the compile must fail with an error containing the text.
void checkCompileError(const TestCase &T, const Compiled &C, Outcome &O) {
  if (C.Code) {
    O.Details.push_back(message<Msg::TestCompiled>(T.Expect.Text));
    return;
  }
  for (const std::string &E : C.Errors)
    if (E.find(T.Expect.Text) != std::string::npos) {
      O.Result = Outcome::Passed;
      return;
    }
  O.Details.push_back(
      message<Msg::TestOtherErrors>(T.Expect.Text, C.Diagnostics));
}

void runRenderTest(const TestCase &T, CompileCache &Cache, bool Update,
                   Outcome &O) {
  auto In = readInputs(T);
  if (!In) {
    O.Details.push_back(In.error());
    return;
  }
  Compiled &C = Cache.at(In->Rate);
  if (!C.Code) {
    O.Details.push_back(
        message<Msg::TestDoesNotCompile>(T.Script, In->Rate, C.Diagnostics));
    return;
  }
  if (!C.WarningsShown)
    O.Warnings = C.Diagnostics;
  C.WarningsShown = true;
  if (C.Code->info().outputs == 0 && T.Expect.Type != Check::Finite) {
    O.Details.push_back(
        message<Msg::AnalysisNoOutputs>(T.Script, C.Code->info().inputs));
    return;
  }
  auto R = renderTest(T, *In, C.Code);
  if (!R) {
    O.Details.push_back(R.error());
    return;
  }
  for (const std::string &W : R->Warnings)
    O.Warnings += T.where() + ": warning: " + W + "\n";
  O.Result = Outcome::Passed;
  if (T.Expect.Type == Check::Golden)
    checkGolden(T, R->Audio, Update, O);
  else
    O.Details = checkLevel(R->Audio, T.Expect).Lines;
  if (R->Nonfinite)
    O.Details.push_back(
        message<Msg::TestNonfinite>(R->Nonfinite, R->Nonfinite == 1 ? "" : "s",
                                    R->Nonfinite == 1 ? "was" : "were"));
  bool Wrote = O.Result == Outcome::Updated && !R->Nonfinite;
  if (!O.Details.empty() && !Wrote)
    O.Result = Outcome::Failed;
}

} // namespace

void runScriptTests(const ScriptTests &Tests, const RunOptions &Options,
                    const std::function<void(const Outcome &)> &Report) {
  CompileCache Cache(Tests.Script, Options.Compile);
  size_t NextError = 0;
  auto ReportErrorsBefore = [&](unsigned Line) {
    for (;
         NextError < Tests.Errors.size() && Tests.Errors[NextError].Line < Line;
         ++NextError) {
      const LineError &E = Tests.Errors[NextError];
      Outcome O;
      O.Script = E.Script;
      O.Line = E.Line;
      O.Spec = E.Spec;
      O.Details.push_back(E.text());
      Report(O);
    }
  };
  for (const TestCase &T : Tests.Tests) {
    ReportErrorsBefore(T.Line);
    auto Start = std::chrono::steady_clock::now();
    Outcome O;
    O.Script = T.Script;
    O.Line = T.Line;
    O.Spec = T.Spec;
    if (T.rendered()) {
      runRenderTest(T, Cache, Options.Update, O);
    } else {
      checkCompileError(T, Cache.at(Options.Compile.sampleRate), O);
    }
    O.Seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
            .count();
    Report(O);
  }
  ReportErrorsBefore(~0u);
}

} // namespace dspjit::scripttest
