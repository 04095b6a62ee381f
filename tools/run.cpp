//===- tools/run.cpp - `dspjit run FILE`: the effect on the sound card ----===//
//
// A thin layer over runtime/Host.h: parse options, compile the script for
// the device's rate, open a Host, take commands from standard input and
// OSC, show a status line, and stop on Ctrl-C, --duration, `quit` or the
// end of --play, printing the timing summary.
//
// Ctrl-C: the signal handler only counts. The first one stops the session
// normally: stream stopped, recording drained and finalized, summary
// printed. A second one during that shutdown closes the recording at once
// (a valid file with what it has) and exits with status 130.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"
#include "tools/LiveReload.h"

#include "compiler/ObjectCache.h"

#include "runtime/Console.h"
#include "runtime/Host.h"
#include "runtime/Messages.h"
#include "runtime/Osc.h"
#include "runtime/PortAudio.h"
#include "runtime/Signals.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <fcntl.h>
#include <unistd.h>

namespace dspjit::tools {

namespace {

std::atomic<int> Interrupts{0};

extern "C" void onInterrupt(int) {
  Interrupts.fetch_add(1, std::memory_order_relaxed); // lock-free: signal-safe
}

struct RunOpts {
  std::string Script;
  std::string Device, InputDevice, OutputDevice, HostApi;
  std::string Rate, Latency = "low", Map, Duration;
  unsigned long Block = 0;
  std::string Play, Record, Format = "float", StatsJson;
  bool Loop = false, FatalXruns = false, Direct = false, NoStatus = false;
  bool NoWatch = false, NoCache = false;
  std::string Xfade = "20ms";
  std::vector<std::string> Sets;
  int OscPort = -1;
  CompileFlags Flags;
};

int reportError(const std::string &Message) {
  std::cerr << "dspjit run: error: " << Message << "\n";
  return 1;
}

/// Serializes everything written to the terminal (status line, replies).
std::mutex TerminalLock;
bool StatusShown = false;

void printLine(const std::string &Text) {
  std::lock_guard<std::mutex> Guard(TerminalLock);
  if (StatusShown) {
    std::fputs("\r\033[K", stderr);
    StatusShown = false;
  }
  std::fputs((Text + "\n").c_str(), stderr);
}

std::string bar(float Value) {
  // Meters in dB (at most 0) read over 60 dB; others as 0..1.
  double Fill = Value <= 0 ? (Value + 60.0) / 60.0 : Value;
  int N = int(std::clamp(Fill, 0.0, 1.0) * 10 + 0.5);
  return std::string(N, '#') + std::string(10 - N, '.');
}

void showStatus(const Host &H) {
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
    std::snprintf(Value, sizeof Value, " %.3g  ", Lanes->empty() ? 0.0 : double((*Lanes)[0]));
    Line += Value;
  }
  TimingSummary S = H.summary();
  char Tail[160];
  std::snprintf(Tail, sizeof Tail,
                "cpu %3.0f%%  dsp %5.1f%% of %.0f us (max %.0f%%)  xruns %llu  "
                "%.1f s",
                H.cpuLoad() * 100, S.MeanShare * 100, S.DeadlineUs,
                S.MaxShare * 100, (unsigned long long)S.totalXruns(),
                H.sampleRate() > 0 ? double(S.Frames) / H.sampleRate() : 0.0);
  Line += Tail;
  if (S.NonfiniteSamples)
    Line += "  NaN/inf " + std::to_string(S.NonfiniteSamples) + " (reset state?)";
  std::lock_guard<std::mutex> Guard(TerminalLock);
  std::fprintf(stderr, "\r\033[K%s", Line.c_str());
  std::fflush(stderr);
  StatusShown = true;
}

} // namespace

Result<PaSession> openAudio() {
  // PortAudio's JACK host API would otherwise try to start a JACK server
  // with its default (ALSA) driver: on a machine without a sound card that
  // fails slowly and noisily.
  setenv("JACK_NO_START_SERVER", "1", /*overwrite=*/0);
  // libjack prints its failure to connect ("Cannot connect to server
  // socket...") on stderr when no server runs; that is the normal case on
  // a machine with a sound card, and ours is reported better. Hide stderr
  // while PortAudio probes, before any other thread exists.
  std::fflush(stderr);
  int Saved = dup(STDERR_FILENO);
  int Null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (Saved >= 0 && Null >= 0)
    dup2(Null, STDERR_FILENO);
  auto Session = PaSession::open();
  if (Saved >= 0 && Null >= 0)
    dup2(Saved, STDERR_FILENO);
  if (Null >= 0)
    ::close(Null);
  if (Saved >= 0)
    ::close(Saved);
  return Session;
}

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
                "48k or 44.1k, not '" + Text + "'");
  return std::round(V * Scale);
}

/// SoX-like durations: "10", "1:30", "90s", "500ms", and exact frame counts
/// "48000samples" (also "48000frames").
Result<uint64_t> parseRunDuration(const std::string &Text, double Rate) {
  for (const char *Suffix : {"samples", "sample"}) {
    size_t L = std::strlen(Suffix);
    if (Text.size() > L && Text.compare(Text.size() - L, L, Suffix) == 0) {
      std::string N = Text.substr(0, Text.size() - L);
      char *End = nullptr;
      unsigned long long F = std::strtoull(N.c_str(), &End, 10);
      if (*End != '\0' || N.empty())
        break;
      return uint64_t(F);
    }
  }
  auto D = parseDuration(Text);
  if (!D)
    return fail("--duration: " + D.error());
  return D->frames(Rate);
}

static Result<std::vector<unsigned>> parseMap(const std::string &Text) {
  std::vector<unsigned> Map;
  size_t I = 0;
  while (I <= Text.size()) {
    size_t Comma = Text.find(',', I);
    std::string Item = Text.substr(I, Comma == std::string::npos ? std::string::npos : Comma - I);
    char *End = nullptr;
    long V = std::strtol(Item.c_str(), &End, 10);
    if (Item.empty() || *End != '\0' || V < 1 || V > 1024)
      return fail("--map takes device channels counted from 1, separated by "
                  "commas (e.g. 1,2), not '" + Text + "'");
    Map.push_back(unsigned(V));
    if (Comma == std::string::npos)
      break;
    I = Comma + 1;
  }
  return Map;
}

static int runSession(const RunOpts &O) {
  HostOptions HO;
  HO.HostApi = O.HostApi;
  HO.InputDevice = !O.InputDevice.empty() ? O.InputDevice : O.Device;
  HO.OutputDevice = !O.OutputDevice.empty() ? O.OutputDevice : O.Device;
  HO.FramesPerBuffer = O.Block;
  HO.Loop = O.Loop;
  HO.PlayPath = O.Play;
  HO.RecordPath = O.Record;
  HO.FatalXruns = O.FatalXruns;
  HO.Direct = O.Direct;
  if (O.Latency == "high")
    HO.HighLatency = true;
  else if (O.Latency != "low") {
    char *End = nullptr;
    HO.LatencySeconds = std::strtod(O.Latency.c_str(), &End);
    if (*End != '\0' || !(HO.LatencySeconds > 0 && HO.LatencySeconds < 10))
      return reportError("--latency takes low, high or seconds (e.g. 0.01), not '" +
                  O.Latency + "'");
  }
  if (!O.Map.empty()) {
    auto M = parseMap(O.Map);
    if (!M)
      return reportError(M.error());
    HO.Map = *M;
  }
  auto Format = parseSampleFormat(O.Format);
  if (!Format)
    return reportError(Format.error());
  HO.RecordFormat = *Format;
  if (O.Loop && O.Play.empty())
    return reportError("--loop loops the file of --play; give --play FILE");
  if (!O.Play.empty() && access(O.Play.c_str(), R_OK) != 0)
    return reportError("cannot open '" + O.Play + "': " + std::strerror(errno));

  auto Session = openAudio();
  if (!Session)
    return reportError(Session.error());

  double Rate = 0;
  if (!O.Rate.empty()) {
    auto R = parseRate(O.Rate);
    if (!R)
      return reportError(R.error());
    Rate = *R;
  } else {
    auto R = defaultSampleRate(HO);
    if (!R)
      return reportError(R.error());
    Rate = *R;
  }
  std::optional<uint64_t> DurationFrames;
  if (!O.Duration.empty()) {
    auto D = parseRunDuration(O.Duration, Rate);
    if (!D)
      return reportError(D.error());
    DurationFrames = *D;
  }

  {
    auto X = parseDuration(O.Xfade);
    if (!X)
      return reportError("--xfade: " + X.error());
    HO.CrossfadeSeconds = double(X->frames(Rate)) / Rate;
  }

  CompileOptions CO = O.Flags.options();
  CO.sampleRate = Rate;
  if (!O.NoCache)
    CO.cacheDir = ObjectCache::defaultDirectory();
  Compiler C(CO);
  std::shared_ptr<Kernel> K = C.compileFile(O.Script);
  printDiagnostics(C);
  if (!K)
    return 1;

  auto Opened = Host::open(K->info(), HO, K);
  if (!Opened)
    return reportError(Opened.error());
  Host &H = **Opened;
  if (!applySets([&](std::string_view N, float V) { return H.setParamImmediate(N, V); },
                 O.Sets, "run"))
    return 1;

  const bool Terminal = isatty(STDERR_FILENO) && !O.NoStatus;
  auto Print = [](const CommandReply &R) {
    printLine(R.Status == CommandReply::Error     ? "error: " + R.Text
              : R.Status == CommandReply::Warning ? "warning: " + R.Text
                                                  : R.Text);
  };
  std::unique_ptr<OscServer> Osc;
  if (O.OscPort >= 0) {
    auto S = OscServer::open(H, unsigned(O.OscPort),
                             [](const std::string &M, bool IsError) {
                               printLine((IsError ? "error: " : "warning: ") + M);
                             });
    if (!S)
      return reportError(S.error());
    Osc = std::move(*S);
  }

  std::cerr << "dspjit run: " << O.Script << " on " << H.description() << "\n";
  if (Osc)
    std::cerr << "dspjit run: OSC on udp://127.0.0.1:" << Osc->port()
              << " (/param/NAME f, /meters, /quit)\n";
  std::cerr << "dspjit run: "
            << (DurationFrames ? "running for " + formatNumber(double(*DurationFrames) / Rate) + " s"
                               : std::string("running"))
            << "; Ctrl-C or 'quit' stops, 'help' lists commands\n";
  std::cerr.flush();

  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
  auto Console = Console::start(H, STDIN_FILENO, Print);
  if (auto Started = H.start(); !Started)
    return reportError(Started.error());

  // Hot reload: watch the script and its imports from now on.
  std::unique_ptr<LiveReload> Reload;
  if (!O.NoWatch && O.Direct)
    printLine("dspjit run: --direct hands the kernel to PortAudio unwrapped: "
              "saves of the script are not reloaded");
  if (!O.NoWatch && !O.Direct) {
    LiveReloadOptions LO;
    LO.Script = O.Script;
    LO.Compile = CO;
    LO.Print = printLine;
    LO.PrintDiagnostics = [](const Compiler &C) {
      std::lock_guard<std::mutex> Guard(TerminalLock);
      if (StatusShown) {
        std::fputs("\r\033[K", stderr);
        StatusShown = false;
      }
      printDiagnostics(C);
    };
    auto R = LiveReload::start(H, std::move(LO), C.sourceFiles(), K->codeHash());
    if (!R)
      printLine("dspjit run: warning: " + R.error() + "; saves will not reload");
    else
      Reload = std::move(*R);
  }

  using Clock = std::chrono::steady_clock;
  auto T0 = Clock::now(), LastStatus = T0;
  std::optional<uint64_t> StalledAt; // frames done when the guard fired
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (Interrupts.load() > 0)
      H.requestStop();
    if (H.stopReason() != StopReason::None)
      break;
    if (DurationFrames && H.summary().Frames >= *DurationFrames)
      break;
    // A wall-clock guard in case the device stalls and frames stop coming.
    if (DurationFrames &&
        std::chrono::duration<double>(Clock::now() - T0).count() >
            2.0 * double(*DurationFrames) / Rate + 5) {
      StalledAt = H.summary().Frames;
      break;
    }
    if (Terminal && Clock::now() - LastStatus > std::chrono::milliseconds(250)) {
      showStatus(H);
      LastStatus = Clock::now();
    }
  }
  std::string Why = H.stopReason() == StopReason::None
                        ? std::string("end of --duration")
                        : H.stopMessage();
  if (Interrupts.load() > 0)
    Why = "interrupted";
  else if (StalledAt)
    Why = "the stream stalled: after " +
          formatNumber(2.0 * double(*DurationFrames) / Rate + 5) +
          " s of wall-clock time only " + std::to_string(*StalledAt) + " of " +
          std::to_string(*DurationFrames) + " frames were processed (is the "
          "audio server running in real time?)";

  // Shutdown. A second Ctrl-C from here on finalizes the recording at once
  // and exits.
  std::atomic<bool> ShutdownDone{false};
  int BaseInterrupts = Interrupts.load();
  // An audio server that no longer answers (frozen, or gone mid-call)
  // can block stopping the stream forever: after 5 s the watchdog closes
  // the recording and exits.
  const auto ShutdownStart = Clock::now();
  std::thread Watchdog([&] {
    while (!ShutdownDone.load()) {
      if (Interrupts.load() > BaseInterrupts && BaseInterrupts > 0) {
        H.finalizeRecordingNow();
        printLine("dspjit run: second Ctrl-C: recording closed, exiting now");
        std::_Exit(130);
      }
      if (Clock::now() - ShutdownStart > std::chrono::seconds(5)) {
        H.finalizeRecordingNow();
        printLine("dspjit run: error: " + Why + "; stopping the stream did not "
                  "finish within 5 s (the audio server does not answer)" +
                  (O.Record.empty() ? std::string()
                                    : "; '" + O.Record + "' is closed and valid") +
                  "; exiting");
        std::_Exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  unsigned CommandErrors = Console->errors() + (Osc ? Osc->errors() : 0);
  std::optional<ReloadStats> Reloads;
  if (Reload) {
    Reloads = Reload->stats();
    Reload.reset();
  }
  Console.reset();
  Osc.reset();
  Result<void> Stopped = H.stop();
  ShutdownDone.store(true);
  Watchdog.join();

  const StopReason Reason = H.stopReason();
  const bool Failed = Reason == StopReason::FatalXrun ||
                      Reason == StopReason::StreamEnded ||
                      Reason == StopReason::RecordFailed ||
                      (StalledAt && !Interrupts.load());
  if (!Failed || Interrupts.load() > 0) // failures are reported below, once
    printLine("dspjit run: " + Why);
  TimingSummary S = H.summary();
  if (O.Direct)
    std::cout << "direct: " << S.Callbacks << " callbacks, " << S.Frames
              << " frames; kernel.process ran as the callback itself, so "
                 "there is no per-callback timing\n";
  else
    std::cout << S.text();
  if (Reloads && (Reloads->Reloads || Reloads->Failed))
    std::cout << Reloads->text() << "\n";
  std::cout.flush();
  int Status = 0;
  if (!Stopped && Reason != StopReason::RecordFailed) // that one is below
    Status = reportError(Stopped.error());
  if (!O.Record.empty() && Stopped)
    std::cerr << "dspjit run: recorded '" << O.Record << "'\n";
  if (!O.StatsJson.empty()) {
    std::ofstream Json(O.StatsJson);
    Json << S.json();
    if (!Json)
      Status = reportError("cannot write '" + O.StatsJson + "'");
  }
  if (CommandErrors)
    Status = reportError(std::to_string(CommandErrors) + " command" +
                  (CommandErrors == 1 ? "" : "s") + " on standard input or "
                  "OSC failed");
  if (StalledAt && !Interrupts.load())
    Status = reportError(Why);
  switch (Reason) {
  case StopReason::FatalXrun:
  case StopReason::StreamEnded:
    Status = reportError(H.stopMessage());
    break;
  case StopReason::RecordFailed: {
    uint64_t Kept = H.recordedFrames();
    Status = reportError(H.stopMessage() + "; '" + O.Record + "' keeps the first " +
                         formatNumber(std::round(double(Kept) / Rate * 1000) / 1000) +
                         " s (" + std::to_string(Kept) + " frames), a valid file");
    break;
  }
  default:
    break;
  }
  return Status;
}

Command addRun(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "run", "Run a script live on an audio device (Ctrl-C stops)");
  auto O = std::make_shared<RunOpts>();
  Cmd->add_option("FILE", O->Script, "The .dsp script")->required();
  Cmd->add_option("-d,--device", O->Device,
                  "Input and output device: index or part of its name");
  Cmd->add_option("--input-device", O->InputDevice, "Input device: index or name");
  Cmd->add_option("--output-device", O->OutputDevice, "Output device: index or name");
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
  Cmd->add_option("-w,--record", O->Record, "Record the effect's output to a file");
  Cmd->add_option("--format", O->Format, "Sample format of --record: float, 16, 24");
  Cmd->add_option("-t,--duration", O->Duration,
                  "Stop after 10, 1:30, 90s, 500ms or 48000samples");
  Cmd->add_flag("--fatal-xruns", O->FatalXruns, "Stop at the first over- or underrun");
  Cmd->add_option("--stats-json", O->StatsJson, "Write the timing summary as JSON");
  Cmd->add_option("--set", O->Sets, "Set a parameter before starting: name=value");
  Cmd->add_option("--osc", O->OscPort,
                  "Take OSC on this UDP port of 127.0.0.1 (0: any free port)")
      ->check(CLI::Range(0, 65535));
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
  return [O] { return runSession(*O); };
}

} // namespace dspjit::tools
