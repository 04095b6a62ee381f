//===- tools/render.cpp - `dspjit render FILE [IN.wav] OUT.wav` ----------===//
//
// Runs the same compiled callback a live stream would run, block by block,
// over a file or a generated signal, and writes the result. Deterministic:
// the same script, input and options give the same samples.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "runtime/AudioFile.h"
#include "runtime/Instance.h"
#include "runtime/Render.h"
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
  auto K = C.compileFile(O.Script);
  printDiagnostics(C);
  if (!K)
    return 1;
  const DspjitKernel &Info = K->info();

  auto Inst = Instance::create(Info, Rate);
  if (!Inst)
    return fail(Inst.error());
  if (!applySets(*Inst, O.Sets, "render"))
    return 1;

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
  auto Writer = AudioFileWriter::create(OutPath, Info.outputs, Rate, Format);
  if (!Writer)
    return fail(Writer.error());
  RO.Sink = [&](const float *Out, uint64_t Frames) { return Writer->write(Out, Frames); };
  if (!O.Quiet && isatty(STDERR_FILENO))
    RO.Progress = progressBar;

  auto R = render(*Inst, Input, RO);
  if (!R)
    return fail(R.error());
  if (auto Closed = Writer->close(); !Closed)
    return fail(Closed.error());
  if (!O.Quiet)
    std::printf("wrote %s: %u channel%s, %g Hz, %.3f s, %s; rendered %.1fx faster than "
                "real time\n",
                OutPath.c_str(), Info.outputs, Info.outputs == 1 ? "" : "s", Rate,
                R->AudioSeconds, sampleFormatName(Format), R->realTimeFactor());
  if (uint64_t Bad = Inst->nonfiniteSamples())
    std::cerr << "dspjit render: warning: " << Bad
              << " non-finite output samples (NaN or infinity) were replaced by silence\n";
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
  Cmd->add_flag("-q,--quiet", O->Quiet, "Print nothing but errors");
  O->Flags.add(*Cmd, /*WithRate=*/false);
  return [O] { return run(*O); };
}

} // namespace dspjit::tools
