//===- tools/run.cpp - `dspjit run FILE`: the effect on the sound card ----===//
//
// The command line of a live session (session/Session.h): parse the flags
// into SessionOptions, attach the console (standard input) and OSC, print
// the session's events on stderr with a status line on a terminal, and
// print its summary at the end. The protocol itself -- when to stop, how,
// the watchdog, the exit status -- is the session library's.
//
// Ctrl-C: the signal handler only counts (Session::interrupt). The first
// one stops the session normally: stream stopped, recording drained and
// finalized, summary printed. A second one during that shutdown closes the
// recording at once (a valid file with what it has) and exits with status
// 130.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "compiler/ObjectCache.h"
#include "runtime/MessageCatalog.h"
#include "runtime/Messages.h"
#include "session/Console.h"
#include "session/Midi.h"
#include "session/Osc.h"
#include "session/Session.h"
#include "session/WebPanel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <unistd.h>

namespace dspjit::tools {

namespace {

using session::Event;
namespace event = session::event;

std::atomic<session::Session *> Running{nullptr};

extern "C" void onInterrupt(int) {
  if (session::Session *S = Running.load()) // lock-free: signal-safe
    S->interrupt();
}

struct RunOpts {
  std::string Script;
  std::string Device, InputDevice, OutputDevice, HostApi;
  std::string Rate, Latency = "low", Map, Duration;
  unsigned long Block = 0;
  std::string Play, Record, Format = "float", StatsJson;
  bool Loop = false, FatalXruns = false, Direct = false, NoStatus = false;
  bool NoWatch = false, NoCache = false, NoDither = false;
  std::string Xfade = "20ms";
  std::vector<std::string> Sets;
  int OscPort = -1;
  bool Web = false;
  std::string WebPort, WebBind = "127.0.0.1";
  bool Midi = false;
  session::MidiOptions MidiOptions;
  CompileFlags Flags;
};

int reportError(const std::string &Message) {
  std::cerr << "dspjit run: error: " << Message << "\n";
  return 1;
}

//===-- The terminal ------------------------------------------------------===//

/// Serializes everything written to stderr: the status line, replies and
/// events, which come from several threads.
class Terminal {
public:
  explicit Terminal(bool Status) : Status(Status) {}

  void line(const std::string &Text) {
    std::lock_guard<std::mutex> Guard(Lock);
    clearStatus();
    std::fputs((Text + "\n").c_str(), stderr);
  }
  /// Text that already ends its lines (diagnostics), then a line.
  void block(const std::string &Text, const std::string &Line) {
    std::lock_guard<std::mutex> Guard(Lock);
    clearStatus();
    std::fputs(Text.c_str(), stderr);
    if (!Line.empty())
      std::fputs((Line + "\n").c_str(), stderr);
  }
  void status(const std::string &Text) {
    std::lock_guard<std::mutex> Guard(Lock);
    std::fprintf(stderr, "\r\033[K%s", Text.c_str());
    std::fflush(stderr);
    Shown = true;
  }
  bool showsStatus() const { return Status; }
  bool colors() const { return isatty(STDERR_FILENO); }

private:
  void clearStatus() {
    if (Shown)
      std::fputs("\r\033[K", stderr);
    Shown = false;
  }
  std::mutex Lock;
  bool Status;
  bool Shown = false;
};

std::string bar(float Value) {
  // Meters in dB (at most 0) read over 60 dB; others as 0..1.
  double Fill = Value <= 0 ? (Value + 60.0) / 60.0 : Value;
  int N = int(std::clamp(Fill, 0.0, 1.0) * 10 + 0.5);
  return std::string(N, '#') + std::string(10 - N, '.');
}

/// "rms [#####.....] -6.2  cpu 3%  dsp 1.9% of 1333 us (max 23%)  xruns 2  4.1
/// s", with "MIDI dropped N" after the xruns when MIDI events were dropped
std::string statusLine(const Host &H, const session::MidiInput *Midi) {
  std::shared_ptr<Instance> Inst = H.instance(); // alive across a reload
  const DspjitKernel &K = Inst->kernel();
  std::string Line;
  for (uint32_t S = 0; S < K.num_slots; ++S) {
    if (K.slots[S].kind != DSPJIT_SLOT_METER)
      continue;
    auto Lanes = Inst->meter(K.slots[S].name);
    Line += std::string(K.slots[S].name) + " ";
    for (size_t L = 0; L < Lanes->size() && L < 2; ++L)
      Line += "[" + bar((*Lanes)[L]) + "]";
    char Value[32];
    std::snprintf(Value, sizeof Value, " %.3g  ",
                  Lanes->empty() ? 0.0 : double((*Lanes)[0]));
    Line += Value;
  }
  TimingSummary S = H.summary();
  char Tail[160];
  std::snprintf(Tail, sizeof Tail,
                "cpu %3.0f%%  dsp %5.1f%% of %.0f us (max %.0f%%)  xruns %llu",
                H.cpuLoad() * 100, S.MeanShare * 100, S.DeadlineUs,
                S.MaxShare * 100, (unsigned long long)S.totalXruns());
  Line += Tail;
  if (K.voices) {
    HotSwap::VoiceCounts V = H.voiceCounts();
    std::snprintf(Tail, sizeof Tail, "  voices %u/%u", V.Busy, K.voices);
    Line += Tail;
  }
  if (Midi && Midi->dropped()) // next to the xruns: both are losses
    Line += "  MIDI dropped " + std::to_string(Midi->dropped());
  std::snprintf(Tail, sizeof Tail, "  %.1f s",
                H.sampleRate() > 0 ? double(S.Frames) / H.sampleRate() : 0.0);
  Line += Tail;
  if (S.NonfiniteSamples)
    Line +=
        "  NaN/inf " + std::to_string(S.NonfiniteSamples) + " (reset state?)";
  return Line;
}

/// How `dspjit run` shows the session's events and the console's replies.
void show(Terminal &T, const session::ConsoleLine &L) {
  if (const session::CommandReply *R = L.Reply)
    return T.line(
        R->Status == session::CommandReply::Error     ? "error: " + R->Text
        : R->Status == session::CommandReply::Warning ? "warning: " + R->Text
                                                      : R->Text);
  const Event &E = *L.Happened;
  const std::string Line = "dspjit run: " + session::describe(E);
  if (const auto *F = std::get_if<event::ReloadFailed>(&E))
    return T.block(T.colors() ? F->DiagnosticsColored : F->Diagnostics, Line);
  if (const auto *R = std::get_if<event::Reloaded>(&E))
    return T.block(T.colors() ? R->DiagnosticsColored : R->Diagnostics, Line);
  if (const auto *N = std::get_if<event::Notice>(&E))
    return T.line(N->Severity == event::Notice::Error
                      ? "dspjit run: error: " + N->Text
                  : N->Severity == event::Notice::Warning
                      ? "dspjit run: warning: " + N->Text
                      : Line);
  // The status line counts xruns and non-finite samples; the stop is
  // reported from event::Stopped at the end; a learn was replied to by the
  // console that asked for it.
  if (std::holds_alternative<event::Xrun>(E) ||
      std::holds_alternative<event::MidiLearn>(E) ||
      std::holds_alternative<event::NonFinite>(E) ||
      std::holds_alternative<event::Stalled>(E) ||
      std::holds_alternative<event::Stopping>(E) ||
      std::holds_alternative<event::Stopped>(E))
    return;
  T.line(Line);
}

//===-- Flags to options --------------------------------------------------===//

/// "48000", "48k", "44.1k", "96kHz".
Result<double> parseRate(const std::string &Text) {
  std::string T;
  for (char C : Text)
    T += char(std::tolower(static_cast<unsigned char>(C)));
  double Scale = 1;
  for (const char *Suffix : {"khz", "hz", "k"}) {
    size_t L = std::strlen(Suffix);
    if (T.size() > L && T.compare(T.size() - L, L, Suffix) == 0) {
      Scale = Suffix[0] == 'k' ? 1000 : 1;
      T.resize(T.size() - L);
      break;
    }
  }
  char *End = nullptr;
  double V = std::strtod(T.c_str(), &End);
  if (T.empty() || *End != '\0' || !(V * Scale >= 1000 && V * Scale <= 768000))
    return fail("--rate takes a rate from 1000 to 768000 Hz such as 48000, "
                "48k or 44.1k, not '" +
                Text + "'");
  return std::round(V * Scale);
}

Result<std::vector<unsigned>> parseMap(const std::string &Text) {
  std::vector<unsigned> Map;
  size_t I = 0;
  while (I <= Text.size()) {
    size_t Comma = Text.find(',', I);
    std::string Item = Text.substr(
        I, Comma == std::string::npos ? std::string::npos : Comma - I);
    char *End = nullptr;
    long V = std::strtol(Item.c_str(), &End, 10);
    if (Item.empty() || *End != '\0' || V < 1 || V > 1024)
      return fail("--map takes device channels counted from 1, separated by "
                  "commas (e.g. 1,2), not '" +
                  Text + "'");
    Map.push_back(unsigned(V));
    if (Comma == std::string::npos)
      break;
    I = Comma + 1;
  }
  return Map;
}

/// The devices, buffers and files of the flags.
Result<HostOptions> hostOptions(const RunOpts &R) {
  HostOptions H;
  H.Devices.HostApi = R.HostApi;
  H.Devices.InputDevice = !R.InputDevice.empty() ? R.InputDevice : R.Device;
  H.Devices.OutputDevice = !R.OutputDevice.empty() ? R.OutputDevice : R.Device;
  H.FramesPerBuffer = R.Block;
  H.Loop = R.Loop;
  H.PlayPath = R.Play;
  H.RecordPath = R.Record;
  H.FatalXruns = R.FatalXruns;
  H.Direct = R.Direct;
  if (R.Latency == "high") {
    H.Devices.HighLatency = true;
  } else if (R.Latency != "low") {
    char *End = nullptr;
    H.Devices.Latency = std::strtod(R.Latency.c_str(), &End);
    if (*End != '\0' || !(H.Devices.Latency > 0 && H.Devices.Latency < 10))
      return fail("--latency takes low, high or seconds (e.g. 0.01), not '" +
                  R.Latency + "'");
  }
  if (!R.Map.empty()) {
    auto M = parseMap(R.Map);
    if (!M)
      return fail(M.error());
    H.Map = *M;
  }
  auto Format = parseSampleFormat(R.Format);
  if (!Format)
    return fail(Format.error());
  H.RecordFormat = *Format;
  H.RecordDither = R.NoDither ? Dither::None : Dither::Tpdf;
  return H;
}

Result<session::SessionOptions> sessionOptions(const RunOpts &R) {
  session::SessionOptions O;
  O.Script = R.Script;
  auto H = hostOptions(R);
  if (!H)
    return fail(H.error());
  O.Host = std::move(*H);
  if (!R.Rate.empty()) {
    auto Rate = parseRate(R.Rate);
    if (!Rate)
      return fail(Rate.error());
    O.Rate = *Rate;
  }
  if (!R.Duration.empty()) {
    auto D = parseDuration(R.Duration);
    if (!D)
      return fail("--duration: " + D.error());
    O.Length = *D;
  }
  auto X = parseDuration(R.Xfade);
  if (!X)
    return fail("--xfade: " + X.error());
  O.Crossfade = *X;
  O.Compile = R.Flags.options();
  if (!R.NoCache)
    O.Compile.cacheDir = ObjectCache::defaultDirectory();
  O.Watch = !R.NoWatch;
  if (R.Web)
    O.Host.MonitorSeconds = 0.5; // the panel's scope and spectrum
  return O;
}

//===-- The session -------------------------------------------------------===//

/// The summary and the errors of the end, and the exit status.
int report(Terminal &T, const event::Stopped &E, const RunOpts &R,
           const session::MidiInput *Midi) {
  if (!E.Failed || E.Reason == event::ExitReason::Interrupted)
    T.line("dspjit run: " + E.Why); // a failure is one of the errors below
  if (E.Direct)
    std::cout << "direct: " << E.Summary.Callbacks << " callbacks, "
              << E.Summary.Frames
              << " frames; kernel.process ran as the callback itself, so "
                 "there is no per-callback timing\n";
  else
    std::cout << E.Summary.text();
  if (E.Reloads.Reloads || E.Reloads.Failed)
    std::cout << E.Reloads.text() << "\n";
  if (Midi) {
    uint64_t In = Midi->received(), Dropped = Midi->dropped();
    std::cout << message<Msg::MidiSummary>(In, In == 1 ? "" : "s",
                                           Midi->applied())
              << "\n";
    if (Dropped)
      std::cout << message<Msg::MidiDropped>(Dropped, Dropped == 1 ? "" : "s")
                << "\n";
    if (E.Voices.Voices)
      std::cout << E.Voices.NotesOn << " notes played on " << E.Voices.Voices
                << " voices (" << E.Voices.Stolen << " stolen)\n";
  }
  std::cout.flush();
  if (!E.Recording.empty())
    T.line("dspjit run: recorded '" + E.Recording + "'");
  int Status = E.ExitStatus;
  for (const std::string &Error : E.Errors)
    T.line("dspjit run: error: " + Error);
  if (!R.StatsJson.empty()) {
    std::ofstream Json(R.StatsJson);
    Json << E.Summary.json();
    if (!Json)
      Status = reportError("cannot write '" + R.StatsJson + "'");
  }
  return Status;
}

/// The panel's options, checked before anything is opened.
Result<session::WebPanelOptions> webOptions(const RunOpts &R) {
  session::WebPanelOptions W;
  W.Bind = R.WebBind;
  W.Script = R.Script;
  char *End = nullptr;
  long Port = R.WebPort.empty() ? 0 : std::strtol(R.WebPort.c_str(), &End, 10);
  if (!R.WebPort.empty() && (*End != '\0' || Port < 0 || Port > 65535))
    return fail("--web takes a TCP port from 0 to 65535 (0 or none: any free "
                "port), not '" +
                R.WebPort +
                "'; put it after the script: dspjit run FILE --web "
                "[PORT]");
  W.Port = unsigned(Port);
  if (auto Ok = session::WebPanel::check(W); !Ok)
    return fail("--web-bind: " + Ok.error());
  return W;
}

int runSession(const RunOpts &R) {
  auto O = sessionOptions(R);
  if (!O)
    return reportError(O.error());
  auto WebOptions = webOptions(R);
  if (!WebOptions)
    return reportError(WebOptions.error());
  if (!R.Midi &&
      (!R.MidiOptions.Maps.empty() || !R.MidiOptions.MapFile.empty()))
    return reportError(message<Msg::MidiMapNeedsMidi>());
  if (R.Midi)
    if (auto Maps = session::MidiInput::check(R.MidiOptions); !Maps)
      return reportError(Maps.error());
  auto Opened =
      session::Session::open(std::move(*O), [](const DiagnosticEngine &D) {
        D.print(std::cerr, isatty(STDERR_FILENO));
      });
  if (!Opened)
    return Opened.error().empty() ? 1 : reportError(Opened.error());
  session::Session &S = **Opened;
  Host &H = S.host();
  if (!applySets([&](std::string_view N,
                     float V) { return H.setParamImmediate(N, V); },
                 R.Sets, "run"))
    return 1;

  Terminal T(isatty(STDERR_FILENO) && !R.NoStatus);
  if (uint32_t Voices = H.instance()->kernel().voices) {
    if (R.Direct)
      return reportError(R.Script + " is an instrument (voices " +
                         std::to_string(Voices) +
                         "): its notes are written between callbacks, which "
                         "a direct stream does not have; run it without "
                         "--direct");
    if (!R.Midi)
      T.line("dspjit run: note: " + R.Script + " is an instrument (voices " +
             std::to_string(Voices) +
             ") and plays nothing without MIDI notes: add --midi");
  }
  auto Console = session::Console::start(
      S.bus(), STDIN_FILENO,
      [&T](const session::ConsoleLine &L) { show(T, L); });
  std::unique_ptr<session::OscServer> Osc;
  if (R.OscPort >= 0) {
    auto Server = session::OscServer::open(
        S.bus(), unsigned(R.OscPort), [&T](const std::string &M, bool IsError) {
          T.line((IsError ? "error: " : "warning: ") + M);
        });
    if (!Server)
      return reportError(Server.error());
    Osc = std::move(*Server);
  }
  // MIDI before the web panel, whose pages offer `learn` when it runs.
  std::unique_ptr<session::MidiInput> Midi;
  if (R.Midi) {
    auto Input = session::MidiInput::open(
        S.bus(), R.MidiOptions, [&T](const std::string &M, bool IsError) {
          T.line((IsError ? "dspjit run: error: " : "dspjit run: warning: ") +
                 M);
        });
    if (!Input)
      return reportError(Input.error());
    Midi = std::move(*Input);
    T.line("dspjit run: " +
           message<Msg::MidiPortOpened>(
               Midi->api(), Midi->portName(),
               Midi->ownPort() ? message<Msg::MidiVirtualHint>() : ""));
  }
  std::unique_ptr<session::WebPanel> Web;
  if (R.Web) {
    auto Panel = session::WebPanel::open(
        S.bus(), *WebOptions, [&T](const std::string &M, bool IsError) {
          T.line((IsError ? "dspjit run: error: " : "dspjit run: warning: ") +
                 M);
        });
    if (!Panel)
      return reportError(Panel.error());
    Web = std::move(*Panel);
    T.line("dspjit run: web panel at " + Web->url());
  }
  Running.store(&S);
  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
  if (auto Started = S.start(); !Started)
    return reportError(Started.error());
  if (Osc)
    T.line("dspjit run: OSC on udp://127.0.0.1:" + std::to_string(Osc->port()) +
           " (/param/NAME f, /meters, /events, /quit)");
  T.line("dspjit run: " +
         (S.lengthFrames()
              ? "running for " +
                    formatNumber(double(*S.lengthFrames()) / S.sampleRate()) +
                    " s"
              : std::string("running")) +
         "; Ctrl-C or 'quit' stops, 'help' lists commands");

  auto Clock = std::chrono::steady_clock::now();
  event::Stopped End = S.run([&] {
    auto Now = std::chrono::steady_clock::now();
    if (!T.showsStatus() || Now - Clock < std::chrono::milliseconds(250))
      return;
    T.status(statusLine(H, Midi.get()));
    Clock = Now;
  });
  Console.reset();
  Osc.reset();
  Web.reset();
  int Status = report(T, End, R, Midi.get());
  Midi.reset(); // saves the map file
  Running.store(nullptr);
  return Status;
}

} // namespace

Command addRun(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "run", "Run a script live on an audio device (Ctrl-C stops)");
  auto O = std::make_shared<RunOpts>();
  Cmd->add_option("FILE", O->Script, "The .dsp script")->required();
  Cmd->add_option("-d,--device", O->Device,
                  "Input and output device: index or part of its name");
  Cmd->add_option("--input-device", O->InputDevice,
                  "Input device: index or name");
  Cmd->add_option("--output-device", O->OutputDevice,
                  "Output device: index or name");
  Cmd->add_option("--host-api", O->HostApi,
                  "Host API by name (jack, alsa); default: JACK when its "
                  "server runs, else PortAudio's default");
  Cmd->add_option("-r,--rate", O->Rate,
                  "Sample rate (48000, 48k, 44.1k); default: the device's");
  Cmd->add_option("-b,--block", O->Block,
                  "Frames per buffer; 0 lets PortAudio choose")
      ->check(CLI::Range(0, 16384));
  Cmd->add_option("--latency", O->Latency, "low, high or seconds");
  Cmd->add_option("--map", O->Map,
                  "Device channel of each script channel, from 1 (e.g. 2,1)");
  Cmd->add_option("-p,--play", O->Play,
                  "Feed this file to the effect instead of the live input");
  Cmd->add_flag("--loop", O->Loop, "Loop the --play file");
  Cmd->add_option("-w,--record", O->Record,
                  "Record the effect's output to a file");
  Cmd->add_option("--format", O->Format,
                  "Sample format of --record: float, 16, 24 or 32 (integers); "
                  "the type from its extension (.wav, .flac, .ogg, .aiff, "
                  ".caf, .w64)");
  Cmd->add_flag("--no-dither", O->NoDither,
                "Record 16 or 24 bits without TPDF dither");
  Cmd->add_option("-t,--duration", O->Duration,
                  "Stop after 10, 1:30, 90s, 500ms or 48000samples");
  Cmd->add_flag("--fatal-xruns", O->FatalXruns,
                "Stop at the first over- or underrun");
  Cmd->add_option("--stats-json", O->StatsJson,
                  "Write the timing summary as JSON");
  Cmd->add_option("--set", O->Sets,
                  "Set a parameter before starting: name=value");
  Cmd->add_option("--osc", O->OscPort,
                  "Take OSC on this UDP port of 127.0.0.1 (0: any free port)")
      ->check(CLI::Range(0, 65535));
  auto *WebOption = Cmd->add_option(
      "--web", O->WebPort,
      "Serve a control panel on http://127.0.0.1:PORT (none or 0: any free "
      "port); its address, with the token it needs, is printed");
  WebOption->expected(0, 1);
  Cmd->add_option("--web-bind", O->WebBind,
                  "The address the web panel listens on (default 127.0.0.1: "
                  "this machine only)");
  auto *MidiOption = Cmd->add_option(
      "--midi", O->MidiOptions.Port,
      "Take MIDI controllers: none, a port of our own (JACK when its server "
      "runs, else ALSA) to connect them to; or the source to connect to, by "
      "index or part of its name (see `dspjit devices --midi`)");
  MidiOption->expected(0, 1);
  Cmd->add_option("--midi-map", O->MidiOptions.Maps,
                  "Map a MIDI control to a parameter: NAME=cc74, "
                  "NAME=cc1/ch2, NAME=bend, NAME=aftertouch (repeatable)");
  Cmd->add_option("--midi-map-file", O->MidiOptions.MapFile,
                  "Load MIDI mappings from this file (NAME=cc74 a line) and "
                  "save them there on each learn and at the end");
  Cmd->add_flag("--no-status", O->NoStatus, "No status line on a terminal");
  Cmd->add_flag("--no-watch", O->NoWatch,
                "Do not reload the script when it is saved");
  Cmd->add_option("--xfade", O->Xfade,
                  "Crossfade of a reload: 20ms (default), 0, 50ms, 960samples");
  Cmd->add_flag("--no-cache", O->NoCache,
                "Neither use nor fill the cache of compiled kernels "
                "(~/.cache/dspjit)");
  Cmd->add_flag("--direct", O->Direct,
                "Hand kernel.process to PortAudio unwrapped (no timing, files "
                "or --map)");
  O->Flags.add(*Cmd, /*WithRate=*/false);
  return [O, WebOption, MidiOption] {
    O->Web = WebOption->count() > 0;
    O->Midi = MidiOption->count() > 0;
    return runSession(*O);
  };
}

} // namespace dspjit::tools
