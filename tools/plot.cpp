//===- tools/plot.cpp - `dspjit plot FILE`: pictures of a script ----------===//
//
// Compiles the script and draws one picture of what it does, measured by
// analysis/ on an instance of its own: its frequency response (the
// default), impulse or step response, transfer curve and harmonics, or the
// spectrogram of its output over a file. `--sweep name=a,b,c` draws one
// curve per value. Writes SVG, or PNG with --png or a .png name, and prints
// the path written.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "analysis/Figure.h"
#include "analysis/Plots.h"
#include "analysis/Response.h"
#include "analysis/Spectrogram.h"
#include "analysis/Transfer.h"
#include "runtime/AudioFile.h"
#include "runtime/Messages.h"
#include "runtime/Signals.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace dspjit::tools {

namespace {

using namespace dspjit::analysis;

struct PlotOpts {
  std::string Script, OutPath, Length, Sweep, Size, Duration = "2s";
  std::vector<std::string> Sets;
  bool Response = false, Impulse = false, Step = false, Transfer = false,
       GroupDelay = false, Png = false, Linear = false;
  std::optional<std::string> Spectrogram;
  double Rate = 0, Level = -6, Frequency = 1000;
  unsigned In = 0, Out = 0, Channel = 0; // 1-based; 0: not given
  CompileFlags Flags;
};

int fail(const std::string &Message) {
  std::cerr << "dspjit plot: error: " << Message << "\n";
  return 1;
}

void warn(const std::string &Message) {
  std::cerr << "dspjit plot: warning: " << Message << "\n";
}

/// The one picture asked for: "response", "impulse", "step", "transfer" or
/// "spectrogram".
Result<std::string> chosenView(const PlotOpts &O) {
  std::vector<std::string> Views;
  for (auto [Given, Name] : {std::pair{O.Response, "response"},
                             {O.Impulse, "impulse"},
                             {O.Step, "step"},
                             {O.Transfer, "transfer"},
                             {bool(O.Spectrogram), "spectrogram"}})
    if (Given)
      Views.push_back(Name);
  if (Views.size() > 1)
    return dspjit::fail("draw one picture at a time: --" + Views[0] + " or --" +
                        Views[1] + ", not both");
  if (O.GroupDelay && !Views.empty() && Views[0] != "response")
    return dspjit::fail("--group-delay belongs to --response, not --" +
                        Views[0]);
  return Views.empty() ? std::string("response") : Views[0];
}

/// A --sweep: the parameter and its values.
struct Sweep {
  std::string Name;
  std::vector<float> Values;
};

/// "cutoff=200,1000,5000".
Result<std::optional<Sweep>> parseSweep(const std::string &Text) {
  if (Text.empty())
    return std::optional<Sweep>();
  auto Bad = [&] {
    return dspjit::fail("--sweep takes name=value,value,... (e.g. "
                        "cutoff=200,1000,5000), not '" +
                        Text + "'");
  };
  size_t Eq = Text.find('=');
  if (Eq == std::string::npos || Eq == 0 || Eq + 1 == Text.size())
    return Bad();
  Sweep S{Text.substr(0, Eq), {}};
  for (size_t Start = Eq + 1; Start <= Text.size();) {
    size_t Comma = std::min(Text.find(',', Start), Text.size());
    std::string Item = Text.substr(Start, Comma - Start);
    char *End = nullptr;
    float V = std::strtof(Item.c_str(), &End);
    if (Item.empty() || *End != '\0')
      return Bad();
    S.Values.push_back(V);
    Start = Comma + 1;
  }
  return std::optional<Sweep>(S);
}

/// --length: a number of frames ("4096") or a duration ("50ms").
Result<std::optional<size_t>> parseLength(const std::string &Text,
                                          double Rate) {
  if (Text.empty())
    return std::optional<size_t>();
  if (Text.find_first_not_of("0123456789") == std::string::npos)
    return std::optional<size_t>(std::stoull(Text));
  auto D = parseDuration(Text);
  if (!D)
    return dspjit::fail("--length: " + D.error());
  return std::optional<size_t>(D->frames(Rate));
}

/// --size WxH.
Result<std::pair<unsigned, unsigned>> parseSize(const std::string &Text) {
  unsigned W = 0, H = 0;
  char Tail = 0;
  if (std::sscanf(Text.c_str(), "%ux%u%c", &W, &H, &Tail) != 2 || W < 200 ||
      H < 150 || W > 10000 || H > 10000)
    return dspjit::fail("--size takes WIDTHxHEIGHT in pixels, from 200x150 "
                        "to 10000x10000 (e.g. 1200x800), not '" +
                        Text + "'");
  return std::pair{W, H};
}

/// The file to write and its format: -o, else the script's stem and the
/// view ("biquad-response.svg").
Result<std::pair<std::string, ImageFormat>>
outputFile(const PlotOpts &O, const std::string &View) {
  std::string Path = O.OutPath;
  auto EndsWith = [&](const char *Ext) {
    return Path.size() >= 4 &&
           std::equal(Path.end() - 4, Path.end(), Ext, [](char A, char B) {
             return std::tolower(static_cast<unsigned char>(A)) == B;
           });
  };
  if (Path.empty())
    Path = std::filesystem::path(O.Script).stem().string() + "-" + View +
           (O.Png ? ".png" : ".svg");
  if (O.Png && EndsWith(".svg"))
    return dspjit::fail("--png writes PNG, but -o names an SVG file: " + Path);
  return std::pair{Path, O.Png || EndsWith(".png") ? ImageFormat::Png
                                                   : ImageFormat::Svg};
}

/// Checks --set and --sweep against the script's parameters (with the
/// messages of `dspjit render`) and returns the values to set.
Result<std::vector<std::pair<std::string, float>>>
checkedParams(const PlotOpts &O, const DspjitKernel &Info, double Rate,
              const std::optional<Sweep> &S) {
  auto Inst = Instance::create(Info, Rate);
  if (!Inst)
    return dspjit::fail(Inst.error());
  std::vector<std::pair<std::string, float>> Params;
  if (!applySets(
          [&](std::string_view Name, float V) {
            ParamUpdate U = Inst->setParamImmediate(Name, V);
            if (U.stored())
              Params.emplace_back(std::string(Name), U.Value);
            return U;
          },
          O.Sets, "plot"))
    return dspjit::fail("");
  for (float V : S ? S->Values : std::vector<float>()) {
    ParamUpdate U = Inst->setParamImmediate(S->Name, V);
    if (!U.stored())
      return dspjit::fail("--sweep " + S->Name + ": " + U.Message);
    if (U.Status == ParamUpdate::Clamped)
      warn(U.Message);
  }
  return Params;
}

/// "freq = 1000 Hz, q = 0.707, gain = 0 dB": every parameter's value but
/// the swept one's.
std::string paramText(const DspjitKernel &Info,
                      const std::vector<std::pair<std::string, float>> &Params,
                      const std::optional<Sweep> &S) {
  std::string Text;
  for (uint32_t I = 0; I < Info.num_slots; ++I) {
    const DspjitSlot &Slot = Info.slots[I];
    if (Slot.kind != DSPJIT_SLOT_PARAM || (S && S->Name == Slot.name))
      continue;
    float V = Slot.def;
    for (const auto &[Name, Value] : Params)
      if (Name == Slot.name)
        V = Value;
    std::string Unit = Slot.unit ? Slot.unit : "";
    Unit = Unit == "hz"   ? " Hz"
           : Unit == "db" ? " dB"
           : Unit.empty() ? ""
                          : " " + Unit;
    char Value[32];
    std::snprintf(Value, sizeof Value, "%.4g", double(V));
    Text += (Text.empty() ? "" : ", ") + std::string(Slot.name) + " = " +
            Value + Unit;
  }
  return Text;
}

/// Runs `Measure` once, or once per --sweep value with the value set last.
template <class T, class F>
Result<NamedCurves<T>> measureEach(const ResponseOptions &Base,
                                   const std::optional<Sweep> &S, F Measure) {
  NamedCurves<T> Curves;
  for (size_t I = 0; I < (S ? S->Values.size() : 1); ++I) {
    ResponseOptions O = Base;
    std::string Name;
    if (S) {
      O.Params.emplace_back(S->Name, S->Values[I]);
      Name = S->Name + " = " + formatNumber(S->Values[I]);
    }
    auto R = Measure(O);
    if (!R)
      return dspjit::fail(R.error());
    Curves.emplace_back(Name, std::move(*R));
  }
  return Curves;
}

/// The spectrogram's input: the file, or for a generator a length.
struct SpectrogramInput {
  std::optional<AudioData> File;
  std::optional<uint64_t> Frames;
};

/// Reads the --spectrogram file, whose rate the script is compiled for.
Result<SpectrogramInput> readSpectrogramFile(const PlotOpts &O) {
  SpectrogramInput In;
  if (!O.Spectrogram || O.Spectrogram->empty())
    return In;
  auto Data = readAudioFile(*O.Spectrogram);
  if (!Data)
    return dspjit::fail(Data.error());
  if (O.Rate && O.Rate != Data->SampleRate)
    return dspjit::fail(*O.Spectrogram + " is " +
                        formatNumber(Data->SampleRate) +
                        " Hz but --rate asks for " + formatNumber(O.Rate) +
                        " Hz; dspjit does not resample: drop --rate or "
                        "convert the file");
  In.File = std::move(*Data);
  return In;
}

/// Settles the spectrogram's input once the script's inputs are known: a
/// script with inputs needs the file, a generator runs for --duration.
Result<void> settleSpectrogramInput(const PlotOpts &O, const DspjitKernel &Info,
                                    const std::string &Name, double Rate,
                                    SpectrogramInput &In) {
  if (Info.inputs > 0) {
    if (!In.File)
      return dspjit::fail("--spectrogram needs a sound file to run " + Name +
                          " over (io " + std::to_string(Info.inputs) + " -> " +
                          std::to_string(Info.outputs) +
                          "): --spectrogram IN.wav");
    return {};
  }
  if (In.File)
    warn(Name + " has no inputs (io 0 -> " + std::to_string(Info.outputs) +
         "): " + *O.Spectrogram + " is ignored; drawing " + O.Duration +
         " of its output (--duration)");
  In.File.reset();
  auto D = parseDuration(O.Duration);
  if (!D)
    return dspjit::fail("--duration: " + D.error());
  In.Frames = D->frames(Rate);
  return {};
}

/// Measures and draws the view.
Result<Figure> makeFigure(const PlotOpts &O, const std::string &View,
                          const DspjitKernel &Info, const ResponseOptions &Base,
                          const std::optional<Sweep> &S,
                          const SpectrogramInput &In, FigureText Text) {
  const double Rate = Base.SampleRate;
  if (View == "response") {
    auto C =
        measureEach<FrequencyResponse>(Base, S, [&](const ResponseOptions &R) {
          return frequencyResponse(Info, R);
        });
    if (!C)
      return dspjit::fail(C.error());
    for (const auto &[Name, R] : *C)
      if (*std::max_element(R.MagnitudeDb.begin(), R.MagnitudeDb.end()) <=
          SilentDb)
        warn("the response" + (Name.empty() ? "" : " at " + Name) +
             " is silent: nothing comes out after an impulse");
    size_t Longest = 0;
    for (const auto &[Name, R] : *C)
      Longest = std::max(Longest, R.ImpulseFrames);
    char Seconds[32];
    std::snprintf(Seconds, sizeof Seconds, "%.1f", double(ImpulseCap) / Rate);
    if (!Base.Length && Longest >= ImpulseCap)
      warn("the impulse response had not decayed after " +
           std::to_string(ImpulseCap) + " frames (" + Seconds +
           " s): the script may ring or oscillate by itself; the response "
           "drawn is that of those frames (choose another with --length)");
    Text.Subtitle += " · from " +
                     std::string(S ? "impulse responses of up to "
                                   : "an impulse response of ") +
                     std::to_string(Longest) + " frames";
    return responseFigure(*C, Rate, Text, O.GroupDelay);
  }
  if (View == "impulse" || View == "step") {
    bool Step = View == "step";
    auto C = measureEach<std::vector<double>>(
        Base, S, [&](const ResponseOptions &R) {
          return Step ? stepResponse(Info, R) : impulseResponse(Info, R);
        });
    if (!C)
      return dspjit::fail(C.error());
    return timeFigure(*C, Rate, Text, Step, Base.Length.has_value());
  }
  if (View == "transfer") {
    TransferOptions T;
    T.FrequencyHz = O.Frequency;
    auto C = measureEach<TransferCurve>(Base, S, [&](const ResponseOptions &R) {
      return transferCurve(Info, R, T);
    });
    if (!C)
      return dspjit::fail(C.error());
    auto H =
        measureEach<HarmonicContent>(Base, S, [&](const ResponseOptions &R) {
          return harmonics(Info, R, O.Level, T);
        });
    if (!H)
      return dspjit::fail(H.error());
    return transferFigure(*C, *H, Text);
  }
  if (S)
    return dspjit::fail("--sweep draws one curve per value; a spectrogram is "
                        "one image: draw one per value with --set");
  RenderInput Input;
  if (In.File)
    Input = BufferInput::fromAudio(*In.File, *O.Spectrogram);
  auto G = spectrogram(Info, Base, Input, In.Frames);
  if (!G)
    return dspjit::fail(G.error());
  return spectrogramFigure(*G, Text, !O.Linear);
}

int run(PlotOpts &O) {
  auto View = chosenView(O);
  if (!View)
    return fail(View.error());
  auto S = parseSweep(O.Sweep);
  if (!S)
    return fail(S.error());
  auto Output = outputFile(O, *View);
  if (!Output)
    return fail(Output.error());
  std::pair<unsigned, unsigned> Size{900, 0};
  if (!O.Size.empty()) {
    auto Parsed = parseSize(O.Size);
    if (!Parsed)
      return fail(Parsed.error());
    Size = *Parsed;
  }
  if (O.Channel)
    O.In = O.Out = O.Channel;
  const std::string Name = std::filesystem::path(O.Script).filename().string();

  auto In = readSpectrogramFile(O);
  if (!In)
    return fail(In.error());
  const double Rate = O.Rate ? O.Rate : In->File ? In->File->SampleRate : 48000;
  std::shared_ptr<Kernel> K = compileScript(O.Flags, O.Script, Rate);
  if (!K)
    return fail(O.Script + " cannot be compiled (see above); nothing drawn");
  const DspjitKernel &Info = K->info();
  if (O.Spectrogram)
    if (auto Settled = settleSpectrogramInput(O, Info, Name, Rate, *In);
        !Settled)
      return fail(Settled.error());

  auto Params = checkedParams(O, Info, Rate, *S);
  if (!Params) // a bad --set is reported by applySets already
    return Params.error().empty() ? 1 : fail(Params.error());
  auto Length = parseLength(O.Length, Rate);
  if (!Length)
    return fail(Length.error());

  ResponseOptions Base;
  Base.SampleRate = Rate;
  Base.Params = *Params;
  Base.Length = *Length;
  Base.Input = O.In ? O.In - 1 : 0;
  Base.Output = O.Out ? O.Out - 1 : 0;
  Base.KernelName = Name;

  static const std::pair<const char *, const char *> Titles[] = {
      {"response", "frequency response"},
      {"impulse", "impulse response"},
      {"step", "step response"},
      {"transfer", "transfer curve"},
      {"spectrogram", "spectrogram"}};
  FigureText Text;
  for (auto [Key, Title] : Titles)
    if (*View == Key)
      Text.Title = Name + ": " + Title;
  Text.Subtitle = formatNumber(Rate) + " Hz · ";
  if (Info.inputs && *View != "spectrogram")
    Text.Subtitle += "input " + std::to_string(Base.Input + 1) + " → ";
  Text.Subtitle += "output " + std::to_string(Base.Output + 1);
  if (std::string P = paramText(Info, Base.Params, *S); !P.empty())
    Text.Subtitle += " · " + P;
  if (In->File)
    Text.Subtitle += " · over " + *O.Spectrogram;

  auto F = makeFigure(O, *View, Info, Base, *S, *In, Text);
  if (!F) {
    if (Info.inputs == 0 && *View != "spectrogram")
      return fail(F.error() + "; draw what it makes with --spectrogram");
    return fail(F.error());
  }
  F->Width = Size.first;
  F->Height = Size.second ? Size.second : F->Height;
  if (auto Written = writeFigure(*F, Output->first, Output->second); !Written)
    return fail(Written.error());
  std::printf("wrote %s\n", Output->first.c_str());
  return 0;
}

} // namespace

Command addPlot(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "plot", "Draw what a script does: its frequency, impulse or step "
              "response, transfer curve or a spectrogram (SVG or PNG)");
  auto O = std::make_shared<PlotOpts>();
  Cmd->add_option("SCRIPT", O->Script, "The .dsp script")->required();
  Cmd->add_flag("--response", O->Response,
                "Magnitude and phase against frequency (the default)");
  Cmd->add_flag("--group-delay", O->GroupDelay,
                "With --response: the group delay too");
  Cmd->add_flag("--impulse", O->Impulse, "The impulse response in time");
  Cmd->add_flag("--step", O->Step, "The step response in time");
  Cmd->add_flag("--transfer", O->Transfer,
                "Output level against input level for a sine, and the "
                "harmonics at --level");
  Cmd->add_option("--spectrogram", O->Spectrogram,
                  "The output's spectrogram over IN.wav (a generator: over "
                  "--duration)")
      ->expected(0, 1)
      ->type_name("[IN.wav]");
  Cmd->add_option("--set", O->Sets,
                  "Set a parameter before measuring: name=value");
  Cmd->add_option("--sweep", O->Sweep,
                  "One curve per value of a parameter: name=v1,v2,...");
  Cmd->add_option("--length", O->Length,
                  "Impulse length: frames (4096) or a duration (50ms) "
                  "(default: until it has decayed)");
  Cmd->add_option("--level", O->Level,
                  "--transfer: input level of the harmonics, dBFS (default "
                  "-6)");
  Cmd->add_option("--frequency", O->Frequency,
                  "--transfer: the sine's frequency in Hz (default 1000)")
      ->check(CLI::PositiveNumber);
  Cmd->add_option("--in", O->In, "Input channel driven (default 1)")
      ->check(CLI::Range(1, 1024));
  Cmd->add_option("--out", O->Out, "Output channel drawn (default 1)")
      ->check(CLI::Range(1, 1024));
  Cmd->add_option("--channel", O->Channel, "Input and output channel together")
      ->check(CLI::Range(1, 1024));
  Cmd->add_option("--duration", O->Duration,
                  "--spectrogram of a generator: how long (default 2s)");
  Cmd->add_flag("--linear", O->Linear,
                "--spectrogram: a linear frequency axis (default: log)");
  Cmd->add_option("-o,--output", O->OutPath,
                  "The file to write (default: SCRIPT's stem and the "
                  "picture, e.g. biquad-response.svg)");
  Cmd->add_flag("--png", O->Png, "Write PNG instead of SVG");
  Cmd->add_option("--size", O->Size,
                  "Picture size in pixels, WIDTHxHEIGHT (default 900 wide)");
  Cmd->add_option("--rate", O->Rate,
                  "Sample rate (default: the --spectrogram file's, or 48000)")
      ->check(CLI::Range(1000.0, 768000.0));
  O->Flags.add(*Cmd, /*WithRate=*/false);
  return [O] { return run(*O); };
}

} // namespace dspjit::tools
