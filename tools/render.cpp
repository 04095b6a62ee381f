//===- tools/render.cpp - `dspjit render FILE [IN.wav] OUT.wav` ----------===//
//
// Runs the same compiled callback a live stream would run, block by block,
// over a file or a generated signal, and writes the result. Deterministic:
// the same script, input and options give the same samples. The input file
// is read, resampled when its rate is not the render's, processed and
// written a block at a time: memory does not grow with its length. Ctrl-C
// (or SIGTERM) stops between blocks and leaves a finished file.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "runtime/AudioFile.h"
#include "runtime/Automation.h"
#include "runtime/Batch.h"
#include "runtime/HotSwap.h"
#include "runtime/Instance.h"
#include "runtime/MessageCatalog.h"
#include "runtime/Messages.h"
#include "runtime/Render.h"
#include "runtime/Resampler.h"
#include "runtime/Signals.h"
#include "runtime/WavRepair.h"
#include "session/MidiRender.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <unistd.h>

namespace dspjit::tools {

namespace {
struct RenderOpts {
  std::string Script;
  std::vector<std::string> Files; // [IN.wav] OUT.wav
  std::vector<std::string> Sets;
  double Rate = 0;
  unsigned Block = 64;
  std::string Duration, Input, Format;
  std::vector<std::string> Swaps; // TIME:FILE
  std::string Xfade = "20ms";
  std::string Midi;                     // a Standard MIDI File to play
  std::vector<std::string> MidiMaps;    // NAME=cc74 ...
  std::vector<std::string> Automations; // NAME=ramp:... or NAME=FILE.csv
  std::string OutDir;                   // many inputs: outputs go there
  unsigned Jobs = 0;                    // threads of a batch (0: cores)
  std::string ParamsCsv;                // per-file values of a batch
  std::string OutExt;                   // a batch's outputs' type
  bool Quiet = false;
  bool NoDither = false;
  bool Align = false;
  CompileFlags Flags;
};

/// Set by SIGINT or SIGTERM; the render stops before its next block.
std::atomic<bool> StopRequested{false};
std::atomic<int> StopSignal{0};
static_assert(std::atomic<bool>::is_always_lock_free &&
              std::atomic<int>::is_always_lock_free);

/// Only sets the flags (async-signal-safe), and gives the signal back its
/// default action: a second Ctrl-C ends the program at once.
extern "C" void onStopSignal(int Signal) {
  StopSignal.store(Signal, std::memory_order_relaxed);
  StopRequested.store(true, std::memory_order_relaxed);
  std::signal(Signal, SIG_DFL);
}

int fail(const std::string &Message) {
  std::cerr << "dspjit render: error: " << Message << "\n";
  return 1;
}

/// The progress bar on a terminal: percent done and the time left,
/// estimated from the time taken so far.
class ProgressBar {
public:
  void update(uint64_t Done, uint64_t Total) {
    if (Finished)
      return;
    const int Width = 40;
    double Fraction = Total ? std::min(1.0, double(Done) / double(Total)) : 0;
    int Filled = int(Fraction * Width);
    double Elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
            .count();
    std::string Left = "--:--";
    if (Fraction > 0) {
      long Seconds = std::lround(Elapsed * (1 - Fraction) / Fraction);
      char Text[32];
      std::snprintf(Text, sizeof Text, "%ld:%02ld", Seconds / 60, Seconds % 60);
      Left = Text;
    }
    std::fprintf(stderr, "\r[%.*s%*s] %3d%%, %s left ", Filled,
                 "########################################", Width - Filled, "",
                 int(100 * Fraction), Left.c_str());
    if (Total && Done >= Total)
      finish();
  }
  /// Ends the bar's line (once).
  void finish() {
    if (!Finished)
      std::fputc('\n', stderr);
    Finished = true;
  }

private:
  std::chrono::steady_clock::time_point Start =
      std::chrono::steady_clock::now();
  bool Finished = false;
};

/// One --swap, parsed and compiled.
struct PlannedSwap {
  std::string Spec, Script;
  uint64_t AtFrame = 0;
  uint32_t Fade = 0;
  std::shared_ptr<Kernel> Code;
};

/// "2s:v2.dsp", "1:30:v2.dsp": the time is the longest prefix before a
/// colon that reads as a duration.
Result<PlannedSwap> parseSwap(const std::string &Spec, double Rate) {
  for (size_t Colon = Spec.rfind(':'); Colon != std::string::npos && Colon > 0;
       Colon = Spec.rfind(':', Colon - 1)) {
    auto D = parseDuration(Spec.substr(0, Colon));
    if (D && Colon + 1 < Spec.size())
      return PlannedSwap{Spec, Spec.substr(Colon + 1), D->frames(Rate), 0,
                         nullptr};
    if (Colon == 0)
      break;
  }
  return dspjit::fail("'" + Spec + "' is not TIME:FILE (e.g. 2s:echo_v2.dsp)");
}

/// The input file named before OUT.wav, open for reading block by block,
/// and resampled to the render's rate when it is at another.
struct InputFile {
  std::unique_ptr<AudioFileReader> Reader;
  std::unique_ptr<ResamplingSource> Resampled;

  AudioSource &source() const {
    return Resampled ? static_cast<AudioSource &>(*Resampled) : *Reader;
  }
};

/// Opens the input file, if there is one. Refuses a wrong number of files,
/// and an input file given together with --input.
Result<std::optional<InputFile>> openInputFile(const RenderOpts &O) {
  if (O.Files.empty() || O.Files.size() > 2)
    return dspjit::fail(
        "give an output file, and optionally an input file before it: "
        "dspjit render SCRIPT [IN.wav] OUT.wav (many inputs: dspjit render "
        "SCRIPT IN... --out-dir DIR)");
  if (O.Files.size() < 2)
    return std::optional<InputFile>();
  if (!O.Input.empty())
    return dspjit::fail("give either an input file or --input, not both");
  auto Reader = AudioFileReader::open(O.Files[0]);
  if (!Reader)
    return dspjit::fail(Reader.error());
  // A recording whose program was killed: its samples behind a header
  // that says 0 frames.
  if ((*Reader)->expectedFrames() == 0)
    if (std::string Advice = repairAdviceForEmpty(O.Files[0]); !Advice.empty())
      return dspjit::fail(Advice);
  return std::optional<InputFile>(InputFile{std::move(*Reader), nullptr});
}

/// The rate to render at: --rate, else the input file's, else 48 kHz. An
/// input file at another rate is resampled to it as it is read.
Result<double> renderRate(const RenderOpts &O,
                          std::optional<InputFile> &InFile) {
  double Rate = O.Rate ? O.Rate : InFile ? InFile->Reader->sampleRate() : 48000;
  if (!InFile || InFile->Reader->sampleRate() == Rate)
    return Rate;
  auto Resampled = ResamplingSource::create(*InFile->Reader, Rate);
  if (!Resampled)
    return dspjit::fail(O.Files[0] + ": " + Resampled.error());
  InFile->Resampled = std::move(*Resampled);
  if (!O.Quiet)
    std::cerr << "dspjit render: resampling " << O.Files[0] << " from "
              << formatNumber(InFile->Reader->sampleRate()) << " Hz to "
              << formatNumber(Rate) << " Hz ("
              << ResamplingSource::qualityName() << ")\n";
  return Rate;
}

/// The --swap versions that compiled, in the order they swap in, and how
/// many --swap options failed (did not compile, or could not be swapped in).
struct SwapPlan {
  std::vector<PlannedSwap> Versions;
  unsigned Failures = 0;
};

/// Parses and compiles every --swap before rendering, each with the
/// --xfade crossfade. A version that does not compile is reported, counted
/// and left out; a bad --xfade or TIME:FILE refuses the render.
Result<SwapPlan> compileSwaps(const RenderOpts &O, const CompileOptions &CO,
                              double Rate) {
  SwapPlan Plan;
  if (O.Swaps.empty())
    return Plan;
  auto X = parseDuration(O.Xfade);
  if (!X)
    return dspjit::fail("--xfade: " + X.error());
  uint32_t Fade = uint32_t(X->frames(Rate));
  for (const std::string &Spec : O.Swaps) {
    auto P = parseSwap(Spec, Rate);
    if (!P)
      return dspjit::fail("--swap: " + P.error());
    Compiler SC(CO);
    P->Code = SC.compileFile(P->Script);
    printDiagnostics(SC);
    if (!P->Code) {
      std::cerr << "dspjit render: error: --swap " << Spec << ": " << P->Script
                << " does not compile; the version before it "
                << "keeps running\n";
      ++Plan.Failures;
      continue;
    }
    P->Fade = Fade;
    Plan.Versions.push_back(std::move(*P));
  }
  std::stable_sort(
      Plan.Versions.begin(), Plan.Versions.end(),
      [](const auto &A, const auto &B) { return A.AtFrame < B.AtFrame; });
  return Plan;
}

/// What the script reads: the input file, else for a script with inputs
/// the --input signal (an impulse by default). Warns that --input is
/// ignored by a script without inputs.
Result<RenderInput> renderInput(const RenderOpts &O, const DspjitKernel &Info,
                                const std::optional<InputFile> &InFile) {
  if (InFile)
    return RenderInput(StreamInput{&InFile->source(), O.Files[0]});
  if (Info.inputs > 0) {
    auto Spec = parseSignal(O.Input.empty() ? "impulse" : O.Input);
    if (!Spec)
      return dspjit::fail("--input: " + Spec.error());
    return RenderInput(*Spec);
  }
  if (!O.Input.empty())
    std::cerr << "dspjit render: warning: " << O.Script
              << " has no inputs (io 0 -> " << Info.outputs
              << "); --input is ignored\n";
  return RenderInput();
}

/// The frames to render, from --duration: 5 s by default over a generated
/// input (with --midi and no input file: the song and 2 s of release),
/// none given (the input file's length) by default over a file.
Result<std::optional<uint64_t>> renderFrames(const RenderOpts &O,
                                             bool HasInFile, double Rate,
                                             const MidiFileData *Song) {
  if (O.Duration.empty() && !HasInFile && Song)
    return std::optional<uint64_t>(session::midiRenderFrames(*Song, Rate));
  std::string DurationText =
      O.Duration.empty() && !HasInFile ? "5s" : O.Duration;
  if (DurationText.empty())
    return std::optional<uint64_t>();
  auto D = parseDuration(DurationText);
  if (!D)
    return dspjit::fail("--duration: " + D.error());
  return std::optional<uint64_t>(D->frames(Rate));
}

/// The output's sample format: --format, else the input file's, else float
/// (float too for a lossy output: Ogg Vorbis).
Result<SampleFormat> outputFormat(const RenderOpts &O,
                                  const std::optional<InputFile> &InFile) {
  if (O.Format.empty())
    return defaultFormatFor(O.Files.back(), InFile ? InFile->Reader->format()
                                                   : SampleFormat::Float32);
  auto F = parseSampleFormat(O.Format);
  if (!F)
    return dspjit::fail("--format: " + F.error());
  return *F;
}

/// What a render reads, how long it runs and the format it writes.
struct RenderSetup {
  RenderInput Input;
  RenderOptions RO;
  SampleFormat Format = SampleFormat::Float32;
};

/// Settles the input, the length and the output format, and checks that
/// the render can run. Everything that can refuse the render does so here,
/// before the output file is created: a mistyped command must not destroy
/// the previous render.
Result<RenderSetup> setUpRender(const RenderOpts &O, const DspjitKernel &Info,
                                double Rate,
                                const std::optional<InputFile> &InFile,
                                const MidiFileData *Song) {
  RenderSetup Setup;
  auto Input = renderInput(O, Info, InFile);
  if (!Input)
    return dspjit::fail(Input.error());
  Setup.Input = std::move(*Input);
  Setup.RO.BlockSize = O.Block;
  Setup.RO.KernelName = O.Script;
  auto Frames = renderFrames(O, bool(InFile), Rate, Song);
  if (!Frames)
    return dspjit::fail(Frames.error());
  Setup.RO.Frames = *Frames;
  if (O.Align)
    Setup.RO.DropFrames = uint64_t(std::llround(Info.latency_frames));
  if (Info.outputs == 0)
    return dspjit::fail(
        O.Script + " has no outputs (io " + std::to_string(Info.inputs) +
        " -> 0), so there is nothing to write to " + O.Files.back());
  auto Format = outputFormat(O, InFile);
  if (!Format)
    return dspjit::fail(Format.error());
  Setup.Format = *Format;
  if (auto Length = renderLength(Info, Rate, Setup.Input, Setup.RO); !Length)
    return dspjit::fail(Length.error());
  return Setup;
}

/// Adds a render event at each planned swap's frame that swaps the version
/// in through `Swap`, as a live reload would, and says what changed (unless
/// --quiet) or, counting a failure, why it could not.
void scheduleSwaps(SwapPlan &Plan, HotSwap *Swap, double Rate, bool Quiet,
                   RenderOptions &RO) {
  unsigned *Failures = &Plan.Failures;
  for (const PlannedSwap &Version : Plan.Versions)
    RO.Events.push_back(
        {Version.AtFrame, [P = &Version, Swap, Rate, Quiet, Failures] {
           SwapReport Report;
           auto V = Swap->prepare(P->Code, P->Code->info(),
                                  {.FadeFrames = P->Fade}, &Report);
           if (!V || !Swap->publish(*V)) {
             std::cerr << "dspjit render: error: --swap " << P->Spec << ": "
                       << (V ? "could not publish" : V.error()) << "\n";
             ++*Failures;
             return;
           }
           if (!Quiet)
             std::cerr << "dspjit render: at "
                       << formatNumber(double(P->AtFrame) / Rate) << " s, "
                       << P->Script << ": " << Report.text() << "\n";
         }});
}

/// What the MIDI file did: notes played and stolen, parameters moved, and
/// what was dropped or did nothing.
void reportMidi(const RenderOpts &O, const DspjitKernel &Info,
                const MidiFileData &Song, const session::MidiRenderCounts &C,
                const HotSwap &Swap) {
  HotSwap::VoiceCounts V = Swap.voiceCounts();
  if (!O.Quiet) {
    std::printf("played %s: %llu messages", O.Midi.c_str(),
                (unsigned long long)C.Messages);
    if (Info.voices)
      std::printf(", %llu notes on %u voices (%llu stolen)",
                  (unsigned long long)V.NotesOn, Info.voices,
                  (unsigned long long)V.Stolen);
    std::printf(", %llu parameter changes\n",
                (unsigned long long)C.ParamChanges);
  }
  if (Swap.midiDropped())
    std::cerr << "dspjit render: warning: " << Swap.midiDropped()
              << " MIDI messages were dropped: more than 1024 fell on one "
                 "frame\n";
  if (!Info.voices && Song.Info.Notes && !O.Quiet)
    std::cerr << "dspjit render: note: " << O.Script
              << " is not an instrument (no 'voices'); the " << Song.Info.Notes
              << " notes of " << O.Midi
              << " were ignored, only its controllers were used\n";
}

/// After the render: says what was written (unless --quiet), warns about
/// replaced non-finite samples and --swap times past the end, and fails
/// when some --swap version was not swapped in.
int reportRender(const RenderOpts &O, const DspjitKernel &Info, double Rate,
                 SampleFormat Format, const RenderResult &R, uint64_t Nonfinite,
                 const SwapPlan &Plan) {
  const std::string &OutPath = O.Files.back();
  if (!O.Quiet)
    std::printf(
        "wrote %s: %u channel%s, %g Hz, %.3f s, %s; rendered %.1fx faster than "
        "real time\n",
        OutPath.c_str(), Info.outputs, Info.outputs == 1 ? "" : "s", Rate,
        R.AudioSeconds, sampleFormatName(Format), R.realTimeFactor());
  if (Nonfinite)
    std::cerr
        << "dspjit render: warning: " << Nonfinite
        << " non-finite output samples (NaN or infinity) were replaced by silence\n";
  for (const PlannedSwap &P : Plan.Versions)
    if (P.AtFrame >= R.Frames)
      std::cerr << "dspjit render: warning: --swap " << P.Spec
                << " comes after the end of the render ("
                << formatNumber(double(R.Frames) / Rate)
                << " s); it did not run\n";
  if (Plan.Failures)
    return fail(std::to_string(Plan.Failures) + " of " +
                std::to_string(O.Swaps.size()) +
                " --swap versions were not "
                "swapped in (see above); " +
                OutPath + " holds the render without them");
  return 0;
}

/// What ended the render early or spoiled its input, and what integer
/// output clipped; the exit status: 128 + the signal for a render stopped
/// by one (130 for Ctrl-C), 1 for an input that could not all be read,
/// else `Status`.
int reportEnding(const RenderOpts &O, const RenderResult &R, double Rate,
                 const AudioFileWriter &Writer,
                 const std::optional<InputFile> &InFile, int Status) {
  if (ClipCount Clips = Writer.clipped(); Clips.Samples)
    std::cerr << "dspjit render: warning: " << O.Files.back() << ": "
              << Clips.text() << "\n";
  if (R.Stopped) {
    int Signal = StopSignal.load();
    std::cerr << "dspjit render: "
              << message<Msg::RenderStopped>(
                     Signal == SIGTERM ? "SIGTERM" : "SIGINT (Ctrl-C)",
                     O.Files.back(), formatSeconds(R.Frames, Rate))
              << "\n";
    return 128 + (Signal ? Signal : SIGINT);
  }
  if (InFile)
    if (std::string Problem = InFile->source().problem(); !Problem.empty())
      return fail(Problem + "; " + O.Files.back() + " holds the render of " +
                  "what was read");
  return Status;
}

/// --midi and --midi-map, read and checked before anything renders.
struct MidiPlan {
  std::optional<MidiFileData> Song;
  session::MidiMapper Mapper;
  session::MidiRenderCounts Counts;
};

Result<void> readMidi(const RenderOpts &O, const Instance &Inst,
                      MidiPlan &Plan) {
  std::vector<session::MidiMapping> Maps;
  for (const std::string &Spec : O.MidiMaps) {
    auto M = session::parseMidiMapping(Spec);
    if (!M)
      return dspjit::fail("--midi-map: " + M.error());
    if (auto V = Inst.param(M->Param); !V)
      return dspjit::fail(message<Msg::MidiMapUnknownParam>(
          session::midiMappingSpec(*M), V.error()));
    Maps.push_back(*M);
  }
  if (!Maps.empty() && O.Midi.empty())
    return dspjit::fail("--midi-map needs a MIDI file to play (--midi "
                        "song.mid)");
  Plan.Mapper = session::MidiMapper(std::move(Maps));
  if (O.Midi.empty())
    return {};
  auto Song = readMidiFile(O.Midi);
  if (!Song)
    return dspjit::fail(Song.error());
  for (const std::string &W : Song->Warnings)
    std::cerr << "dspjit render: warning: " << W << "\n";
  Plan.Song = std::move(*Song);
  return {};
}

/// `dspjit render`: compiles the script and its --swap versions, sets the
/// render up, then renders into OUT.wav and reports on it.
/// The --automate curves, checked against the kernel and against --set (a
/// parameter has one value or one curve), with their values at frame 0 set
/// without a ramp; null without --automate.
Result<std::unique_ptr<AutomationPlayer>>
planAutomation(const RenderOpts &O, const DspjitKernel &Info, double Rate,
               HotSwap *Swap, Instance &Inst) {
  if (O.Automations.empty())
    return std::unique_ptr<AutomationPlayer>();
  std::vector<Automation> Curves;
  for (const std::string &Spec : O.Automations) {
    auto A = parseAutomation(Spec, Info, Rate);
    if (!A)
      return dspjit::fail(A.error());
    for (const Automation &Other : Curves)
      if (Other.Param == A->Param)
        return dspjit::fail("'" + A->Param +
                            "' is automated twice: give one --automate per "
                            "parameter");
    for (const std::string &Set : O.Sets)
      if (Set.substr(0, Set.find('=')) == A->Param)
        return dspjit::fail("'" + A->Param +
                            "' has both --set and --automate: its curve "
                            "gives its value from the start");
    Curves.push_back(std::move(*A));
  }
  auto Set = [Swap, &Inst](const std::string &Name, float V) {
    Swap ? Swap->setParam(Name, V) : Inst.setParam(Name, V);
  };
  for (const Automation &A : Curves)
    Swap ? Swap->setParamImmediate(A.Param, A.valueAt(0))
         : Inst.setParamImmediate(A.Param, A.valueAt(0));
  return std::make_unique<AutomationPlayer>(std::move(Curves), Set);
}

/// The --set values, already checked (and warned about) on a probe
/// instance, for the files of a batch.
std::vector<std::pair<std::string, float>>
checkedSets(const std::vector<std::string> &Sets) {
  std::vector<std::pair<std::string, float>> Out;
  for (const std::string &S : Sets) {
    size_t Eq = S.find('=');
    Out.push_back({S.substr(0, Eq), std::strtof(S.c_str() + Eq + 1, nullptr)});
  }
  return Out;
}

/// One file of a batch, as `dspjit render SCRIPT IN OUT` renders it, through
/// the batch's one kernel at its rate (an input at another rate is
/// resampled), with the --set values and then the file's row of
/// --params-csv. Prints nothing: the result says what happened.
BatchFileResult
renderBatchFile(RenderOpts O, const DspjitKernel &Info, double Rate,
                const std::string &In, const std::string &Out,
                const std::vector<std::pair<std::string, float>> &Values) {
  BatchFileResult Result;
  auto Start = std::chrono::steady_clock::now();
  auto Failed = [&](const std::string &Why) {
    Result.Error = Why;
    return Result;
  };
  O.Files = {In, Out};
  O.Rate = Rate;
  O.Quiet = true;
  auto InFile = openInputFile(O);
  if (!InFile)
    return Failed(InFile.error());
  if (auto R = renderRate(O, *InFile); !R)
    return Failed(R.error());
  auto Inst = Instance::create(Info, Rate);
  if (!Inst)
    return Failed(Inst.error());
  for (const auto &[Name, V] : Values)
    Inst->setParamImmediate(Name, V);
  auto Automate = planAutomation(O, Info, Rate, nullptr, *Inst);
  if (!Automate)
    return Failed(Automate.error());
  auto Setup = setUpRender(O, Info, Rate, *InFile, nullptr);
  if (!Setup)
    return Failed(Setup.error());
  RenderOptions &RO = Setup->RO;
  auto Writer = AudioFileWriter::create(
      Out, Info.outputs, Rate, Setup->Format, CrashSafety::PowerCut,
      O.NoDither ? Dither::None : Dither::Tpdf);
  if (!Writer)
    return Failed(Writer.error());
  RO.Sink = [&](const float *Samples, uint64_t Frames) {
    return Writer->write(Samples, Frames);
  };
  RO.Stop = &StopRequested;
  if (*Automate)
    RO.Automate = [P = Automate->get()](uint64_t F) { return P->apply(F); };
  auto R = render(*Inst, Setup->Input, RO);
  if (!R)
    return Failed(R.error());
  if (auto Closed = Writer->close(); !Closed)
    return Failed(Closed.error());
  Result.AudioSeconds = R->AudioSeconds;
  Result.ProcessSeconds = R->ProcessSeconds;
  Result.WallSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
          .count();
  if (ClipCount Clips = Writer->clipped(); Clips.Samples)
    Result.Warnings.push_back(Clips.text());
  if (uint64_t N = Inst->nonfiniteSamples())
    Result.Warnings.push_back(std::to_string(N) +
                              " non-finite samples replaced by silence");
  if (R->Stopped)
    return Failed("stopped: " + Out + " holds the first " +
                  formatSeconds(R->Frames, Rate) + ", a finished file");
  if (std::string Problem = (*InFile)->source().problem(); !Problem.empty())
    return Failed(Problem + "; " + Out + " holds the render of what was read");
  Result.Ok = true;
  return Result;
}

/// `dspjit render SCRIPT IN... --out-dir DIR`: every input through one
/// compiled kernel, an instance per file, on --jobs threads. Everything
/// that can be refused for all files (the inputs, the output names, --set,
/// --automate, --params-csv) is refused before the first file renders; a
/// file that fails then is reported and the others go on. The exit status
/// is the number of files that failed (at most 100), 130 after Ctrl-C.
int renderBatch(const RenderOpts &O) {
  if (!O.Swaps.empty() || !O.Midi.empty() || !O.Input.empty())
    return fail("--swap, --midi and --input render one file; a batch "
                "(--out-dir) renders input files");
  auto Inputs = expandInputs(O.Files);
  if (!Inputs)
    return fail(Inputs.error());
  std::string Ext = O.OutExt;
  if (!Ext.empty() && Ext[0] != '.')
    Ext = "." + Ext;
  auto Outputs = outputPaths(*Inputs, O.OutDir, Ext);
  if (!Outputs)
    return fail(Outputs.error());

  // The kernel's rate: --rate, else the first input's.
  RenderOpts First = O;
  First.Files = {Inputs->front(), Outputs->front()};
  auto FirstIn = openInputFile(First);
  if (!FirstIn)
    return fail(FirstIn.error());
  const double Rate = O.Rate ? O.Rate : (*FirstIn)->Reader->sampleRate();
  FirstIn->reset();

  std::shared_ptr<Kernel> K = compileScript(O.Flags, O.Script, Rate);
  if (!K)
    return 1;
  const DspjitKernel &Info = K->info();
  // --set and --automate checked once, on an instance of their own.
  auto Probe = Instance::create(Info, Rate);
  if (!Probe)
    return fail(Probe.error());
  if (!applySets(*Probe, O.Sets, "render"))
    return 1;
  if (auto A = planAutomation(O, Info, Rate, nullptr, *Probe); !A)
    return fail(A.error());
  std::optional<ParamsTable> Table;
  if (!O.ParamsCsv.empty()) {
    auto T = readParamsCsv(O.ParamsCsv, *Inputs, Info);
    if (!T)
      return fail(T.error());
    for (const std::string &P : T->Params)
      for (const std::string &A : O.Automations)
        if (A.substr(0, A.find('=')) == P)
          return fail("'" + P + "' is both a column of " + O.ParamsCsv +
                      " and automated; give it one or the other");
    Table = std::move(*T);
  }
  const auto Sets = checkedSets(O.Sets);
  if (auto Made = makeOutputDir(O.OutDir); !Made)
    return fail(Made.error());

  std::signal(SIGINT, onStopSignal);
  std::signal(SIGTERM, onStopSignal);
  std::mutex PrintLock;
  BatchSummary S = runBatch(
      Inputs->size(), O.Jobs,
      [&](size_t I) {
        auto Values = Sets;
        if (Table) {
          const std::vector<float> &Row = Table->Rows.at((*Inputs)[I]);
          for (size_t C = 0; C < Row.size(); ++C)
            Values.push_back({Table->Params[C], Row[C]});
        }
        return renderBatchFile(O, Info, Rate, (*Inputs)[I], (*Outputs)[I],
                               Values);
      },
      [&](size_t I, const BatchFileResult &R) {
        std::lock_guard<std::mutex> Guard(PrintLock);
        const std::string &In = (*Inputs)[I], &Out = (*Outputs)[I];
        if (!R.Ok) // named once: the message may already name the file
          std::cerr << "dspjit render: error: "
                    << (R.Error.find(In) == std::string::npos ? In + ": "
                                                              : std::string())
                    << R.Error << "\n";
        else if (!O.Quiet)
          std::printf("%s -> %s: %.3f s, %.1fx real time\n", In.c_str(),
                      Out.c_str(), R.AudioSeconds,
                      R.WallSeconds > 0 ? R.AudioSeconds / R.WallSeconds : 0);
        for (const std::string &W : R.Warnings)
          std::cerr << "dspjit render: warning: " << Out << ": " << W << "\n";
      },
      [] { return StopRequested.load(std::memory_order_relaxed); });
  char Figures[160];
  const bool Hours = S.AudioSeconds >= 3600;
  std::snprintf(Figures, sizeof Figures,
                "%.*f %s of audio in %.3g s, %.0fx real time on %u thread%s",
                Hours ? 2 : 1, Hours ? S.AudioSeconds / 3600 : S.AudioSeconds,
                Hours ? "hours" : "s", S.WallSeconds, S.realTimeFactor(),
                S.Jobs, S.Jobs == 1 ? "" : "s");
  std::string Summary = "rendered " + std::to_string(S.Files - S.Failed) +
                        " of " + std::to_string(S.Files) + " files" +
                        (S.Failed ? " (" + std::to_string(S.Failed) + " failed)"
                                  : std::string()) +
                        ": " + Figures;
  std::fflush(stdout);
  if (S.Failed)
    std::cerr << "dspjit render: " << Summary << "\n";
  else if (!O.Quiet)
    std::printf("%s\n", Summary.c_str());
  if (StopRequested.load())
    return 128 + (StopSignal.load() ? StopSignal.load() : SIGINT);
  return S.exitStatus();
}

int run(const RenderOpts &O) {
  if (!O.OutDir.empty())
    return renderBatch(O);
  auto InFile = openInputFile(O);
  if (!InFile)
    return fail(InFile.error());
  auto Rate = renderRate(O, *InFile);
  if (!Rate)
    return fail(Rate.error());

  std::shared_ptr<Kernel> K = compileScript(O.Flags, O.Script, *Rate);
  if (!K)
    return 1;
  CompileOptions CO = O.Flags.options(); // for the --swap versions
  CO.sampleRate = *Rate;
  const DspjitKernel &Info = K->info();

  auto Inst = Instance::create(Info, *Rate);
  if (!Inst)
    return fail(Inst.error());
  MidiPlan Midi;
  if (auto Read = readMidi(O, *Inst, Midi); !Read)
    return fail(Read.error());

  // --swap: the versions to swap in, compiled before rendering, through the
  // same HotSwap a live session uses.
  auto Plan = compileSwaps(O, CO, *Rate);
  if (!Plan)
    return fail(Plan.error());
  std::unique_ptr<HotSwap> Swap;
  if (!O.Swaps.empty() || Midi.Song) {
    Swap = std::make_unique<HotSwap>(K, std::move(*Inst), O.Block);
    if (!applySets([&](std::string_view N,
                       float V) { return Swap->setParamImmediate(N, V); },
                   O.Sets, "render"))
      return 1;
  } else if (!applySets(*Inst, O.Sets, "render")) {
    return 1;
  }

  auto Automate = planAutomation(O, Info, *Rate, Swap.get(), *Inst);
  if (!Automate)
    return fail(Automate.error());

  auto Setup =
      setUpRender(O, Info, *Rate, *InFile, Midi.Song ? &*Midi.Song : nullptr);
  if (!Setup)
    return fail(Setup.error());
  RenderOptions &RO = Setup->RO;
  auto Writer = AudioFileWriter::create(
      O.Files.back(), Info.outputs, *Rate, Setup->Format, CrashSafety::PowerCut,
      O.NoDither ? Dither::None : Dither::Tpdf);
  if (!Writer)
    return fail(Writer.error());
  RO.Sink = [&](const float *Out, uint64_t Frames) {
    return Writer->write(Out, Frames);
  };
  ProgressBar Bar;
  if (!O.Quiet && isatty(STDERR_FILENO))
    RO.Progress = [&Bar](uint64_t Done, uint64_t Total) {
      Bar.update(Done, Total);
    };
  RO.Stop = &StopRequested;
  std::signal(SIGINT, onStopSignal);
  std::signal(SIGTERM, onStopSignal);
  scheduleSwaps(*Plan, Swap.get(), *Rate, O.Quiet, RO);
  if (*Automate)
    RO.Automate = [P = Automate->get()](uint64_t F) { return P->apply(F); };
  if (Midi.Song)
    session::scheduleMidiFile(*Midi.Song, *Rate, *Swap, Midi.Mapper,
                              Midi.Counts, RO.Events);

  auto R =
      Swap ? render(*Swap, Setup->Input, RO) : render(*Inst, Setup->Input, RO);
  if (RO.Progress)
    Bar.finish();
  if (!R)
    return fail(R.error());
  if (auto Closed = Writer->close(); !Closed)
    return fail(Closed.error());
  if (Midi.Song)
    reportMidi(O, Info, *Midi.Song, Midi.Counts, *Swap);
  int Status = reportRender(
      O, Info, *Rate, Setup->Format, *R,
      Swap ? Swap->nonfiniteSamples() : Inst->nonfiniteSamples(), *Plan);
  return reportEnding(O, *R, *Rate, *Writer, *InFile, Status);
}
} // namespace

Command addRender(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "render",
      "Run a script over a file or a generated signal and write a sound file");
  auto O = std::make_shared<RenderOpts>();
  Cmd->add_option("SCRIPT", O->Script, "The .dsp script")->required();
  Cmd->add_option("FILES", O->Files,
                  "[IN.wav] OUT.wav, or with --out-dir the inputs: files, "
                  "globs ('clips/*.wav') and @lists (one path per line)")
      ->required()
      ->expected(1, -1);
  Cmd->add_option("--set", O->Sets,
                  "Set a parameter before rendering: name=value");
  Cmd->add_option("--rate", O->Rate,
                  "Sample rate (default: the input file's, or 48000)")
      ->check(CLI::Range(1000.0, 768000.0));
  Cmd->add_option("--block", O->Block, "Frames per callback")
      ->check(CLI::Range(1, 65536));
  Cmd->add_option(
      "--duration", O->Duration,
      "Length: 10, 10s, 500ms, 1:30 or 96000frames (default: the input "
      "file's, or 5s)");
  Cmd->add_option(
      "--input", O->Input,
      "Generated input: impulse, noise, sine:440 or silence (default: impulse)");
  Cmd->add_option(
      "--format", O->Format,
      "Output sample format: float, 16, 24 or 32 (integers) (default: the "
      "input's, or float; float for .ogg)");
  Cmd->add_flag("--no-dither", O->NoDither,
                "Round to 16 or 24 bits without TPDF dither (default: "
                "dithered, reproducibly)");
  Cmd->add_option("--swap", O->Swaps,
                  "Swap in another version at a time, as a live reload would: "
                  "TIME:FILE (2s:echo_v2.dsp); repeatable");
  Cmd->add_option("--xfade", O->Xfade,
                  "Crossfade of each --swap: 20ms (default), 0, 960samples");
  Cmd->add_option("--midi", O->Midi,
                  "Play a Standard MIDI File: notes to an instrument's "
                  "voices, controllers to mapped parameters (sample-accurate)");
  Cmd->add_option("--midi-map", O->MidiMaps,
                  "Map a MIDI controller to a parameter while playing --midi: "
                  "cutoff=cc74, q=cc1/ch2, pitch=bend; repeatable");
  Cmd->add_option("--automate", O->Automations,
                  "Move a parameter over time, sample-accurately: "
                  "cutoff=ramp:200@0s,2000@5s (straight lines; exponential "
                  "for hz) or cutoff=moves.csv (rows of seconds,value); "
                  "repeatable");
  Cmd->add_option("--out-dir", O->OutDir,
                  "Render every input (FILES) into DIR, each under its own "
                  "name, through one compiled kernel");
  Cmd->add_option("--jobs", O->Jobs,
                  "Threads of an --out-dir batch (default: one per core); "
                  "the files are the same whatever the number")
      ->check(CLI::Range(1u, 1024u));
  Cmd->add_option("--params-csv", O->ParamsCsv,
                  "Per-file parameter values of an --out-dir batch: a header "
                  "'file,NAME,...', then a row per input");
  Cmd->add_option("--out-ext", O->OutExt,
                  "The type of an --out-dir batch's outputs by extension "
                  "(flac, wav, ogg...; default: each input's)");
  Cmd->add_flag("--align", O->Align,
                "Compensate the script's latency (oversample blocks): drop "
                "that many frames at the start and render as many past the "
                "end, so the output lines up with the input");
  Cmd->add_flag("-q,--quiet", O->Quiet, "Print nothing but errors");
  O->Flags.add(*Cmd, /*WithRate=*/false);
  return [O] { return run(*O); };
}

} // namespace dspjit::tools
