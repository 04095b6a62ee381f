//===- tools/render.cpp - `dspjit render FILE [IN.wav] OUT.wav` ----------===//
//
// Runs the same compiled callback a live stream would run, block by block,
// over a file or a generated signal, and writes the result. Deterministic:
// the same script, input and options give the same samples.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "runtime/AudioFile.h"
#include "runtime/HotSwap.h"
#include "runtime/Instance.h"
#include "runtime/Render.h"
#include "runtime/Messages.h"
#include "runtime/Signals.h"

#include <cstdio>
#include <iostream>
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
  bool Quiet = false;
  CompileFlags Flags;
};

int fail(const std::string &Message) {
  std::cerr << "dspjit render: error: " << Message << "\n";
  return 1;
}

void progressBar(uint64_t Done, uint64_t Total) {
  const int Width = 40;
  int Filled = Total ? int(double(Done) / double(Total) * Width) : Width;
  std::fprintf(stderr, "\r[%.*s%*s] %3d%%", Filled,
               "########################################", Width - Filled, "",
               Total ? int(100.0 * double(Done) / double(Total)) : 100);
  if (Done == Total)
    std::fputc('\n', stderr);
}

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
      return PlannedSwap{Spec, Spec.substr(Colon + 1), D->frames(Rate), 0, nullptr};
    if (Colon == 0)
      break;
  }
  return dspjit::fail("'" + Spec + "' is not TIME:FILE (e.g. 2s:echo_v2.dsp)");
}

int run(const RenderOpts &O) {
  if (O.Files.empty() || O.Files.size() > 2)
    return fail("give an output file, and optionally an input file before it: "
                "dspjit render SCRIPT [IN.wav] OUT.wav");
  const std::string &OutPath = O.Files.back();
  std::optional<AudioData> InFile;
  if (O.Files.size() == 2) {
    if (!O.Input.empty())
      return fail("give either an input file or --input, not both");
    auto Data = readAudioFile(O.Files[0]);
    if (!Data)
      return fail(Data.error());
    InFile = std::move(*Data);
  }
  // The rate: the input file's, unless told otherwise.
  double Rate = O.Rate ? O.Rate : InFile ? InFile->SampleRate : 48000;
  if (InFile && O.Rate && O.Rate != InFile->SampleRate)
    return fail(O.Files[0] + " is " + std::to_string(int(InFile->SampleRate)) +
                " Hz but --rate asks for " + std::to_string(int(O.Rate)) +
                " Hz; dspjit does not resample: drop --rate or convert the file");

  CompileOptions CO = O.Flags.options();
  CO.sampleRate = Rate;
  Compiler C(CO);
  std::shared_ptr<Kernel> K = C.compileFile(O.Script);
  printDiagnostics(C);
  if (!K)
    return 1;
  const DspjitKernel &Info = K->info();

  auto Inst = Instance::create(Info, Rate);
  if (!Inst)
    return fail(Inst.error());

  // --swap: the versions to swap in, compiled before rendering, through the
  // same HotSwap a live session uses.
  std::unique_ptr<HotSwap> Swap;
  std::vector<PlannedSwap> Planned;
  unsigned SwapFailures = 0;
  if (!O.Swaps.empty()) {
    auto X = parseDuration(O.Xfade);
    if (!X)
      return fail("--xfade: " + X.error());
    uint32_t Fade = uint32_t(X->frames(Rate));
    for (const std::string &Spec : O.Swaps) {
      auto P = parseSwap(Spec, Rate);
      if (!P)
        return fail("--swap: " + P.error());
      Compiler SC(CO);
      P->Code = SC.compileFile(P->Script);
      printDiagnostics(SC);
      if (!P->Code) {
        std::cerr << "dspjit render: error: --swap " << Spec << ": "
                  << P->Script << " does not compile; the version before it "
                  << "keeps running\n";
        ++SwapFailures;
        continue;
      }
      P->Fade = Fade;
      Planned.push_back(std::move(*P));
    }
    std::stable_sort(Planned.begin(), Planned.end(),
                     [](const auto &A, const auto &B) { return A.AtFrame < B.AtFrame; });
    Swap = std::make_unique<HotSwap>(K, std::move(*Inst), O.Block);
    if (!applySets([&](std::string_view N, float V) { return Swap->setParamImmediate(N, V); },
                   O.Sets, "render"))
      return 1;
  } else if (!applySets(*Inst, O.Sets, "render")) {
    return 1;
  }

  RenderInput Input;
  RenderOptions RO;
  RO.BlockSize = O.Block;
  RO.KernelName = O.Script;
  if (InFile) {
    Input = BufferInput::fromAudio(*InFile, O.Files[0]);
  } else if (Info.inputs > 0) {
    auto Spec = parseSignal(O.Input.empty() ? "impulse" : O.Input);
    if (!Spec)
      return fail("--input: " + Spec.error());
    Input = *Spec;
  } else if (!O.Input.empty()) {
    std::cerr << "dspjit render: warning: " << O.Script
              << " has no inputs (io 0 -> " << Info.outputs << "); --input is ignored\n";
  }
  std::string DurationText = O.Duration.empty() && !InFile ? "5s" : O.Duration;
  if (!DurationText.empty()) {
    auto D = parseDuration(DurationText);
    if (!D)
      return fail("--duration: " + D.error());
    RO.Frames = D->frames(Rate);
  }
  if (Info.outputs == 0)
    return fail(O.Script + " has no outputs (io " + std::to_string(Info.inputs) +
                " -> 0), so there is nothing to write to " + OutPath);

  SampleFormat Format = InFile ? InFile->Format : SampleFormat::Float32;
  if (!O.Format.empty()) {
    auto F = parseSampleFormat(O.Format);
    if (!F)
      return fail("--format: " + F.error());
    Format = *F;
  }
  // Everything that can refuse the render does so before the output file
  // is created: a mistyped command must not destroy the previous render.
  if (auto Length = renderLength(Info, Rate, Input, RO); !Length)
    return fail(Length.error());
  auto Writer = AudioFileWriter::create(OutPath, Info.outputs, Rate, Format);
  if (!Writer)
    return fail(Writer.error());
  RO.Sink = [&](const float *Out, uint64_t Frames) { return Writer->write(Out, Frames); };
  if (!O.Quiet && isatty(STDERR_FILENO))
    RO.Progress = progressBar;
  for (const PlannedSwap &P : Planned)
    RO.Events.push_back({P.AtFrame, [&] {
      SwapReport Report;
      auto V = Swap->prepare(P.Code, P.Code->info(), {.FadeFrames = P.Fade}, &Report);
      if (!V || !Swap->publish(*V)) {
        std::cerr << "dspjit render: error: --swap " << P.Spec << ": "
                  << (V ? "could not publish" : V.error()) << "\n";
        ++SwapFailures;
        return;
      }
      if (!O.Quiet)
        std::cerr << "dspjit render: at " << formatNumber(double(P.AtFrame) / Rate)
                  << " s, " << P.Script << ": " << Report.text() << "\n";
    }});

  auto R = Swap ? render(*Swap, Input, RO) : render(*Inst, Input, RO);
  if (!R)
    return fail(R.error());
  if (auto Closed = Writer->close(); !Closed)
    return fail(Closed.error());
  if (!O.Quiet)
    std::printf("wrote %s: %u channel%s, %g Hz, %.3f s, %s; rendered %.1fx faster than "
                "real time\n",
                OutPath.c_str(), Info.outputs, Info.outputs == 1 ? "" : "s", Rate,
                R->AudioSeconds, sampleFormatName(Format), R->realTimeFactor());
  if (uint64_t Bad = Swap ? Swap->nonfiniteSamples() : Inst->nonfiniteSamples())
    std::cerr << "dspjit render: warning: " << Bad
              << " non-finite output samples (NaN or infinity) were replaced by silence\n";
  for (const PlannedSwap &P : Planned)
    if (P.AtFrame >= R->Frames)
      std::cerr << "dspjit render: warning: --swap " << P.Spec
                << " comes after the end of the render ("
                << formatNumber(double(R->Frames) / Rate) << " s); it did not run\n";
  if (SwapFailures)
    return fail(std::to_string(SwapFailures) + " of " +
                std::to_string(O.Swaps.size()) + " --swap versions were not "
                "swapped in (see above); " + OutPath + " holds the render without them");
  return 0;
}
} // namespace

Command addRender(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "render", "Run a script over a file or a generated signal and write a sound file");
  auto O = std::make_shared<RenderOpts>();
  Cmd->add_option("SCRIPT", O->Script, "The .dsp script")->required();
  Cmd->add_option("FILES", O->Files, "[IN.wav] OUT.wav")->required()->expected(1, 2);
  Cmd->add_option("--set", O->Sets, "Set a parameter before rendering: name=value");
  Cmd->add_option("--rate", O->Rate, "Sample rate (default: the input file's, or 48000)")
      ->check(CLI::Range(1000.0, 768000.0));
  Cmd->add_option("--block", O->Block, "Frames per callback")->check(CLI::Range(1, 65536));
  Cmd->add_option("--duration", O->Duration,
                  "Length: 10, 10s, 500ms, 1:30 or 96000frames (default: the input "
                  "file's, or 5s)");
  Cmd->add_option("--input", O->Input,
                  "Generated input: impulse, noise, sine:440 or silence (default: impulse)");
  Cmd->add_option("--format", O->Format,
                  "Output sample format: float, 16 or 24 (default: the input's, or float)");
  Cmd->add_option("--swap", O->Swaps,
                  "Swap in another version at a time, as a live reload would: "
                  "TIME:FILE (2s:echo_v2.dsp); repeatable");
  Cmd->add_option("--xfade", O->Xfade,
                  "Crossfade of each --swap: 20ms (default), 0, 960samples");
  Cmd->add_flag("-q,--quiet", O->Quiet, "Print nothing but errors");
  O->Flags.add(*Cmd, /*WithRate=*/false);
  return [O] { return run(*O); };
}

} // namespace dspjit::tools
