//===- session/Session.cpp - A script running live, reloaded on save ------===//
//
// See Session.h. Four parts: opening (PortAudio, the rate, the compile, the
// Host), watching the running stream, the stop protocol with its watchdog,
// and the outcome that event::Stopped reports.
//
//===----------------------------------------------------------------------===//
#include "session/Session.h"

#include "runtime/MessageCatalog.h"
#include "session/Reloader.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace dspjit::session {

using Clock = std::chrono::steady_clock;

//===-- Opening -----------------------------------------------------------===//

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
  auto Audio = PaSession::open();
  if (Saved >= 0 && Null >= 0)
    dup2(Saved, STDERR_FILENO);
  if (Null >= 0)
    ::close(Null);
  if (Saved >= 0)
    ::close(Saved);
  return Audio;
}

/// What can be refused before PortAudio is opened.
static Result<void> checkFiles(const HostOptions &H) {
  if (H.Loop && H.PlayPath.empty())
    return fail(message<Msg::LoopNeedsPlay>());
  if (!H.PlayPath.empty() && access(H.PlayPath.c_str(), R_OK) != 0)
    return fail(message<Msg::CannotOpenFile>(H.PlayPath, std::strerror(errno)));
  return {};
}

Result<std::unique_ptr<Session>>
Session::open(SessionOptions Options, const DiagnosticsPrinter &Print) {
  if (auto Ok = checkFiles(Options.Host); !Ok)
    return fail(Ok.error());
  std::unique_ptr<Session> S(new Session());
  SessionOptions &O = S->O = std::move(Options);
  auto Audio = openAudio();
  if (!Audio)
    return fail(Audio.error());
  S->Audio.emplace(std::move(*Audio));
  double Rate = O.Rate;
  if (Rate <= 0) {
    auto R = defaultSampleRate(O.Host.Devices);
    if (!R)
      return fail(R.error());
    Rate = *R;
  }
  O.Compile.sampleRate = Rate;
  if (O.Length)
    S->LengthFrames = O.Length->frames(Rate);
  if (O.Crossfade)
    O.Host.CrossfadeSeconds = double(O.Crossfade->frames(Rate)) / Rate;

  Compiler C(O.Compile);
  S->First = C.compileFile(O.Script);
  if (Print)
    Print(C.diagnostics());
  if (!S->First)
    return fail(std::string());
  S->Sources = C.sourceFiles();
  S->Texts = C.sourceTexts();
  auto H = Host::open(S->First->info(), O.Host, S->First);
  if (!H)
    return fail(H.error());
  S->H = std::move(*H);
  S->Bus = std::make_unique<ControlBus>(*S->H);
  return S;
}

Session::~Session() {
  if (Started && !Outcome)
    (void)stop();
}

event::Stopped Session::run(const std::function<void()> &Tick) {
  waitUntilDone(Tick);
  return stop();
}

Result<void> Session::start() {
  if (auto Ok = H->start(); !Ok)
    return Ok;
  Started = true;
  StartedAt = Clock::now();
  std::optional<double> Seconds;
  if (LengthFrames)
    Seconds = double(*LengthFrames) / sampleRate();
  Bus->publish(event::Started{O.Script, H->description(), Seconds});
  Monitor = std::thread([this] { monitor(); });
  if (!O.Watch)
    return {};
  if (O.Host.Direct) {
    Bus->publish(
        event::Notice{event::Notice::Info, message<Msg::NotWatching>()});
    return {};
  }
  ReloaderOptions RO{O.Script, O.Compile, O.Tiered};
  auto R = Reloader::start(*H, *Bus, std::move(RO), Sources, Texts,
                           First->codeHash());
  if (!R)
    Bus->publish(event::Notice{event::Notice::Warning,
                               message<Msg::CannotWatch>(R.error())});
  else
    Reload = std::move(*R);
  return {};
}

ReloadStats Session::reloads() const {
  return Reload ? Reload->stats() : ReloadStats{};
}

void Session::reloadNow() {
  if (Reload)
    Reload->requestReload();
}

//===-- Watching ----------------------------------------------------------===//

double Session::stallLimitSeconds() const {
  return 2.0 * double(LengthFrames.value_or(0)) / sampleRate() +
         double(O.StallGrace.count()) / 1000;
}

std::optional<event::ExitReason> Session::whyStop() {
  using event::ExitReason;
  if (Interrupts.load(std::memory_order_relaxed) > 0)
    return ExitReason::Interrupted;
  switch (H->stopReason()) {
  case StopReason::None: break;
  case StopReason::Requested: return ExitReason::Requested;
  case StopReason::PlayEnded: return ExitReason::PlayEnded;
  case StopReason::FatalXrun: return ExitReason::FatalXrun;
  case StopReason::StreamEnded: return ExitReason::StreamEnded;
  case StopReason::RecordFailed: return ExitReason::RecordFailed;
  }
  if (StalledAt)
    return ExitReason::Stalled;
  if (!LengthFrames)
    return std::nullopt;
  uint64_t Frames = H->summary().Frames;
  if (Frames >= *LengthFrames)
    return ExitReason::EndOfDuration;
  // A wall-clock guard in case the device stalls and frames stop coming.
  double Limit = stallLimitSeconds();
  double Wall = std::chrono::duration<double>(Clock::now() - StartedAt).count();
  if (Wall <= Limit)
    return std::nullopt;
  StalledAt = Frames;
  Bus->publish(event::Stalled{Frames, *LengthFrames, Limit});
  return ExitReason::Stalled;
}

void Session::watchStream() {
  TimingSummary S = H->summary();
  if (uint64_t X = S.totalXruns(); X > SeenXruns) {
    XrunKind Kind = XrunKind::OutputUnderflow;
    for (unsigned K = 0; K < NumXrunKinds; ++K)
      if (S.Xruns[K]) {
        Kind = XrunKind(K);
        break;
      }
    Bus->publish(event::Xrun{X - SeenXruns, X, Kind});
    SeenXruns = X;
  }
  if (S.NonfiniteSamples > SeenNonfinite) {
    Bus->publish(event::NonFinite{S.NonfiniteSamples - SeenNonfinite,
                                  S.NonfiniteSamples});
    SeenNonfinite = S.NonfiniteSamples;
  }
}

void Session::monitor() {
  while (!MonitorQuit.load()) {
    if (Interrupts.load(std::memory_order_relaxed) > 0)
      H->requestStop();
    if (auto Why = whyStop()) {
      std::lock_guard<std::mutex> Guard(DoneLock);
      Reason = *Why;
      DoneSignal.notify_all();
      return;
    }
    watchStream();
    std::unique_lock<std::mutex> Guard(DoneLock);
    DoneSignal.wait_for(Guard, std::chrono::milliseconds(10),
                        [&] { return MonitorQuit.load(); });
  }
}

bool Session::done() const {
  std::lock_guard<std::mutex> Guard(DoneLock);
  return Reason.has_value();
}

void Session::waitUntilDone(const std::function<void()> &Tick) {
  while (Started && !Outcome) {
    {
      std::unique_lock<std::mutex> Guard(DoneLock);
      if (DoneSignal.wait_for(Guard, std::chrono::milliseconds(10),
                              [&] { return Reason.has_value(); }))
        return;
    }
    if (Tick)
      Tick();
  }
}

//===-- Stopping ----------------------------------------------------------===//

/// The stop reason for a person.
static std::string whyText(event::ExitReason Reason, const Host &H,
                           const std::optional<uint64_t> &StalledAt,
                           const std::optional<uint64_t> &Length,
                           double Limit) {
  using event::ExitReason;
  switch (Reason) {
  case ExitReason::EndOfDuration: return message<Msg::EndOfLength>();
  case ExitReason::Interrupted: return message<Msg::Interrupted>();
  case ExitReason::Stalled:
    return message<Msg::StalledLine>(Limit, StalledAt.value_or(0),
                                     Length.value_or(0));
  default: return H.stopMessage();
  }
}

void Session::stuck(int Status) {
  if (O.OnShutdownStuck)
    O.OnShutdownStuck(Status);
  else
    std::_Exit(Status);
}

void Session::watchdog(const std::atomic<bool> &Done, int BaseInterrupts,
                       const std::string &Why) {
  // An audio server that no longer answers (frozen, or gone mid-call) can
  // block stopping the stream forever.
  const auto Start = Clock::now();
  while (!Done.load()) {
    if (BaseInterrupts > 0 && Interrupts.load() > BaseInterrupts) {
      H->finalizeRecordingNow();
      Bus->publish(
          event::Notice{event::Notice::Info, message<Msg::SecondInterrupt>()});
      return stuck(130);
    }
    if (Clock::now() - Start > O.ShutdownTimeout) {
      H->finalizeRecordingNow();
      std::string Closed =
          O.Host.RecordPath.empty()
              ? std::string()
              : message<Msg::RecordingClosedValid>(O.Host.RecordPath);
      Bus->publish(event::Notice{
          event::Notice::Error,
          message<Msg::ShutdownStuck>(
              Why, double(O.ShutdownTimeout.count()) / 1000, Closed)});
      return stuck(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

event::Stopped Session::stop() {
  if (Outcome)
    return *Outcome;
  if (Monitor.joinable()) {
    {
      std::lock_guard<std::mutex> Guard(DoneLock);
      MonitorQuit.store(true);
      DoneSignal.notify_all();
    }
    Monitor.join();
  }
  event::ExitReason Final =
      Reason.value_or(Started ? whyStop().value_or(event::ExitReason::Requested)
                              : event::ExitReason::Requested);
  std::string Why =
      whyText(Final, *H, StalledAt, LengthFrames, stallLimitSeconds());
  Bus->publish(event::Stopping{Final, Why});

  std::atomic<bool> Done{false};
  const int BaseInterrupts = Interrupts.load();
  std::thread Watchdog([&] { watchdog(Done, BaseInterrupts, Why); });
  ReloadStats Reloads = reloads();
  Reload.reset();
  Bus->detach();
  Result<void> Stopped = H->stop();
  Done.store(true);
  Watchdog.join();

  event::Stopped E = finish(Final, std::move(Why), std::move(Stopped));
  E.Reloads = std::move(Reloads);
  Outcome = E;
  Bus->publish(E);
  return E;
}

//===-- The outcome -------------------------------------------------------===//

event::Stopped Session::finish(event::ExitReason Reason, std::string Why,
                               Result<void> Stopped) {
  event::Stopped E;
  E.Reason = Reason;
  E.Why = std::move(Why);
  E.Summary = H->summary();
  E.Voices = H->voiceCounts();
  E.Direct = O.Host.Direct;
  const StopReason Host = H->stopReason();
  const std::string &Record = O.Host.RecordPath;
  if (!Stopped && Host != StopReason::RecordFailed) // that one is below
    E.Errors.push_back(Stopped.error());
  if (!Record.empty() && Stopped)
    E.Recording = Record;
  if (unsigned N = Bus->errors()) {
    std::vector<std::string> Names = Bus->surfaces();
    std::string Where;
    for (size_t I = 0; I < Names.size(); ++I)
      Where += (I ? " or " : "") + Names[I];
    E.Errors.push_back(message<Msg::CommandsFailed>(
        N, N == 1 ? "" : "s",
        Where.empty() ? message<Msg::NoSurfaces>() : Where));
  }
  if (Reason == event::ExitReason::Stalled)
    E.Errors.push_back(E.Why);
  if (Host == StopReason::FatalXrun || Host == StopReason::StreamEnded)
    E.Errors.push_back(H->stopMessage());
  if (Host == StopReason::RecordFailed) {
    uint64_t Kept = H->recordedFrames();
    E.Errors.push_back(message<Msg::RecordingKept>(
        H->stopMessage(), Record,
        std::round(double(Kept) / sampleRate() * 1000) / 1000, Kept));
  }
  E.Failed = Host == StopReason::FatalXrun || Host == StopReason::StreamEnded ||
             Host == StopReason::RecordFailed ||
             Reason == event::ExitReason::Stalled;
  E.ExitStatus = E.Errors.empty() ? 0 : 1;
  return E;
}

} // namespace dspjit::session
