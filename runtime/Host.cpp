//===- runtime/Host.cpp - A compiled effect running live ------------------===//
//
// See Host.h. Three parts: choosing devices (with messages that list what
// exists), the trampoline callback, and the file threads.
//
//===----------------------------------------------------------------------===//
#include "runtime/Host.h"

#include "runtime/MessageCatalog.h"
#include "runtime/SpscRing.h"
#include "runtime/WavRepair.h"

#include <sched.h>
#include <sndfile.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

namespace dspjit {

//===-- Files -------------------------------------------------------------===//

namespace {
void napMs(int Ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(Ms));
}

/// The --play reader yields to the audio thread: without real-time
/// scheduling (jackd --no-realtime, most desktops) its wake-ups would
/// preempt it in the middle of callbacks (measured: p99 of a 64-frame wire
/// callback 5 us without file threads, 200 us with them at normal
/// priority). SCHED_IDLE never preempts a normal thread; the ring holds a
/// second of audio, so the reader still keeps up on any machine that is
/// not saturated (if not, the summary counts the late frames).
void lowerReaderPriority() {
  sched_param P = {};
  if (sched_setscheduler(0, SCHED_IDLE, &P) != 0)
    setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), 19);
}

/// The --record writer's niceness. Not SCHED_IDLE like the reader: what
/// sits in the ring is lost if the process is killed, and an idle thread
/// may wait for the CPU as long as every core is busy (measured, two cores
/// and four busy loops: the file stopped growing for 350 ms). At nice 10
/// it gets a tenth of a nice-0 thread's share, within milliseconds, and
/// still yields to the audio thread: with JACK not real-time, the
/// callback's p99 and maximum were the same as with SCHED_IDLE (wire.dsp,
/// 64 frames, four runs each: p99 1.6-5.3 us, max 55-283 us either way).
constexpr int WriterNice = 10;

void lowerWriterPriority() {
  setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), WriterNice);
}
} // namespace

struct Host::Files {
  // --play: a reader thread keeps the ring full.
  SNDFILE *PlayFile = nullptr;
  std::string PlayName;
  bool Loop = false;
  std::unique_ptr<SpscRing<float>> PlayRing;
  std::atomic<bool> PlayEof{false}; ///< the reader pushed the last frame
  std::atomic<bool> QuitReader{false};
  std::thread Reader;
  std::string ReadError;

  // --record: a writer thread empties the ring into the file.
  std::optional<AudioFileWriter> Writer;
  std::unique_ptr<SpscRing<float>> RecordRing;
  std::atomic<bool> Recording{false}; ///< the callback pushes while true
  std::atomic<bool> Drain{false};     ///< write what is left, then close
  std::atomic<bool> CloseNow{false};  ///< close at once
  std::atomic<bool> Closed{false};
  std::thread WriterThread;
  std::mutex CloseLock;   ///< serializes closing the writer
  std::string WriteError; ///< set before WriteFailed
  std::atomic<bool> WriteFailed{false};
  unsigned RecordChannels = 0;

  void readLoop(unsigned Channels) {
    lowerReaderPriority();
    std::vector<float> Chunk(4096 * Channels);
    while (!QuitReader.load(std::memory_order_relaxed)) {
      sf_count_t Got = sf_readf_float(PlayFile, Chunk.data(), 4096);
      if (Got <= 0) {
        if (Loop && sf_seek(PlayFile, 0, SEEK_SET) == 0)
          continue;
        if (Got < 0)
          ReadError = sf_strerror(PlayFile);
        PlayEof.store(true, std::memory_order_release);
        return;
      }
      size_t Pushed = 0, Total = size_t(Got) * Channels;
      while (Pushed < Total && !QuitReader.load(std::memory_order_relaxed)) {
        Pushed += PlayRing->push(Chunk.data() + Pushed, Total - Pushed);
        if (Pushed < Total)
          napMs(10); // the ring holds a second
      }
    }
  }

  /// Closes the file once, finalizing its header.
  void closeWriter() {
    std::lock_guard<std::mutex> Guard(CloseLock);
    if (Closed.load())
      return;
    Recording.store(false, std::memory_order_relaxed);
    if (Writer) {
      Result<void> R = Writer->close();
      if (!R && WriteError.empty())
        WriteError = R.error();
    }
    Closed.store(true);
  }

  /// Empties the ring into the file (which keeps its header up to date
  /// and syncs itself: runtime/AudioFile.h, WriteCadence) until told to
  /// drain and close, or to close at once.
  void writeLoop() {
    lowerWriterPriority();
    std::vector<float> Chunk(4096 * RecordChannels);
    for (;;) {
      if (CloseNow.load()) {
        closeWriter();
        return;
      }
      size_t Got = RecordRing->pop(Chunk.data(), Chunk.size());
      if (Got) {
        std::lock_guard<std::mutex> Guard(CloseLock);
        if (Closed.load())
          return;
        Result<void> R = Writer->write(Chunk.data(), Got / RecordChannels);
        if (!R) {
          WriteError = R.error();
          WriteFailed.store(true);
          Recording.store(false, std::memory_order_relaxed);
          return; // closed by stop()
        }
        continue;
      }
      if (Drain.load()) {
        closeWriter();
        return;
      }
      napMs(int(WriteCadence::WriterWakeMs)); // the ring holds two seconds
    }
  }

  ~Files() {
    if (PlayFile)
      sf_close(PlayFile);
  }
};

//===-- Opening -----------------------------------------------------------===//

static Result<SNDFILE *> openPlayFile(const std::string &Path,
                                      unsigned Channels, double Rate,
                                      const std::string &Script) {
  SF_INFO Info = {};
  SNDFILE *F = sf_open(Path.c_str(), SFM_READ, &Info);
  if (!F)
    return fail(message<Msg::CannotOpenPlayFile>(Path, sf_strerror(nullptr)));
  auto Refuse = [&](std::string Message) {
    sf_close(F);
    return fail(std::move(Message));
  };
  if (unsigned(Info.channels) != Channels)
    return Refuse(message<Msg::PlayFileChannels>(
        Path, Info.channels, Info.channels == 1 ? "" : "s", Script, Channels));
  if (double(Info.samplerate) != Rate)
    return Refuse(message<Msg::PlayFileRate>(Path, Info.samplerate, Rate));
  if (Info.frames <= 0) {
    std::string Advice = repairAdviceForEmpty(Path);
    return Refuse(Advice.empty() ? message<Msg::PlayFileEmpty>(Path) : Advice);
  }
  return F;
}

/// What cannot be combined, before anything is opened.
static Result<void> checkOptions(const DspjitKernel &Kernel,
                                 const HostOptions &O,
                                 const std::string &Script) {
  if (O.Direct &&
      (!O.PlayPath.empty() || !O.RecordPath.empty() || !O.Map.empty()))
    return fail(message<Msg::DirectExcludesFiles>());
  if (!O.PlayPath.empty() && Kernel.inputs == 0)
    return fail(message<Msg::PlayNeedsInputs>(Script));
  if (!O.RecordPath.empty() && Kernel.outputs == 0)
    return fail(message<Msg::RecordNeedsOutputs>(Script));
  for (unsigned M : O.Map)
    if (M == 0)
      return fail(message<Msg::MapCountsFromOne>());
  return {};
}

/// The device channels of `Channels` script channels (0-based in `Map`):
/// as many as the script's without a map, else up to the highest mapped.
static Result<unsigned> mapChannels(const HostOptions &O, unsigned Channels,
                                    const std::string &Script,
                                    std::vector<unsigned> &Map,
                                    bool &IsMapped) {
  if (Channels == 0)
    return 0u;
  if (O.Map.empty()) {
    for (unsigned C = 0; C < Channels; ++C)
      Map.push_back(C);
    return Channels;
  }
  if (O.Map.size() < Channels)
    return fail(message<Msg::MapTooShort>(O.Map.size(), Script, Channels));
  unsigned Max = 0;
  for (unsigned C = 0; C < Channels; ++C) {
    Map.push_back(O.Map[C] - 1);
    Max = std::max(Max, O.Map[C]);
  }
  IsMapped = true;
  return Max;
}

Result<void> Host::openFiles(const DspjitKernel &Kernel,
                             const std::string &Script) {
  IO = std::make_unique<Files>();
  Files &F = *IO;
  if (!Options.PlayPath.empty()) {
    auto File = openPlayFile(Options.PlayPath, Kernel.inputs, Rate, Script);
    if (!File)
      return fail(File.error());
    F.PlayFile = *File;
    F.PlayName = Options.PlayPath;
    F.Loop = Options.Loop;
    F.PlayRing =
        std::make_unique<SpscRing<float>>(size_t(Rate) * Kernel.inputs);
  }
  if (!Options.RecordPath.empty()) {
    auto W = AudioFileWriter::create(
        Options.RecordPath, Kernel.outputs, Rate, Options.RecordFormat,
        CrashSafety::PowerCut, Options.RecordDither);
    if (!W)
      return fail(W.error());
    F.Writer.emplace(std::move(*W));
    F.RecordChannels = Kernel.outputs;
    F.RecordRing =
        std::make_unique<SpscRing<float>>(size_t(2 * Rate) * Kernel.outputs);
  }
  return {};
}

Result<void> Host::openStream(const DspjitKernel &Kernel,
                              const std::string &Script) {
  PaStreamCallback *Callback = &Host::callback;
  void *UserData = this;
  if (Options.Direct) {
    // Sound by runtime/PortAudio.cpp's static_asserts on the signatures.
    Callback = reinterpret_cast<PaStreamCallback *>(Kernel.process);
    UserData = Swap->newest()->I.data();
    if (RealtimeChecked) {
      // RealtimeSanitizer builds only: a marked frame around the kernel,
      // so that RTSan checks --direct streams too (runtime/Realtime.h).
      DirectFrame = {Kernel.process, UserData};
      Callback = reinterpret_cast<PaStreamCallback *>(&RealtimeFrame::callback);
      UserData = &DirectFrame;
    }
  }
  StreamOptions SO = Options.Devices;
  SO.FramesPerBuffer = Options.FramesPerBuffer;
  SO.Need = Script;
  SO.Mapped = !Options.Map.empty();
  auto S = Stream::openWithCallback(DeviceIn, DeviceOut, Rate, Callback,
                                    UserData, SO);
  if (!S)
    return fail(S.error());
  Audio.emplace(std::move(*S));
  return {};
}

/// "JACK Audio Connection Kit: in 'system' (2 ch) -> out 'system' (2 ch),
/// 48000 Hz, 64 frames per buffer, latency in 1.3 ms, out 2.7 ms".
std::string Host::describe(const DspjitKernel &Kernel) const {
  const StreamInfo &S = Audio->info();
  std::string D = S.HostApi + ": ";
  if (!Options.PlayPath.empty())
    D += "'" + Options.PlayPath + "'" + (Options.Loop ? " (looped)" : "");
  else if (DeviceIn)
    D += "in '" + S.InputDevice + "' (" + std::to_string(DeviceIn) + " ch)";
  else
    D += "no input";
  D += " -> ";
  if (Kernel.outputs)
    D += "out '" + S.OutputDevice + "' (" + std::to_string(DeviceOut) + " ch)";
  else
    D += "meters only";
  if (!Options.RecordPath.empty())
    D += " + '" + Options.RecordPath + "'";
  D += ", " + formatNumber(Rate) + " Hz, " +
       (Options.FramesPerBuffer ? std::to_string(Options.FramesPerBuffer)
                                : std::string("host-chosen")) +
       " frames per buffer, latency in " +
       formatNumber(std::round(S.InputLatency * 1e4) / 10) + " ms, out " +
       formatNumber(std::round(S.OutputLatency * 1e4) / 10) + " ms" +
       (Options.Direct ? message<Msg::DirectDescription>() : std::string());
  return D;
}

void Host::startFiles(unsigned Inputs) {
  Files &F = *IO;
  if (F.PlayRing) {
    Files *FP = IO.get();
    F.Reader = std::thread([FP, Inputs] { FP->readLoop(Inputs); });
    // Start with a full ring (or the whole file when it is shorter).
    for (int Ms = 0; Ms < 3000; Ms += 2) {
      if (F.PlayEof.load() || F.PlayRing->space() < 4096 * Inputs)
        break;
      napMs(2);
    }
  }
  if (F.Writer) {
    F.Recording.store(true);
    Files *FP = IO.get();
    F.WriterThread = std::thread([FP] { FP->writeLoop(); });
  }
}

Result<std::unique_ptr<Host>> Host::prepare(const DspjitKernel &Kernel,
                                            const HostOptions &O,
                                            std::shared_ptr<const void> Keep) {
  auto Inst = Instance::create(Kernel, Kernel.sample_rate);
  if (!Inst)
    return fail(Inst.error());
  const std::string Script =
      message<Msg::ScriptChannels>(Kernel.inputs, Kernel.outputs);
  if (auto Ok = checkOptions(Kernel, O, Script); !Ok)
    return fail(Ok.error());
  std::unique_ptr<Host> H(new Host(Kernel.sample_rate, O));
  H->KernelIn = Kernel.inputs;
  H->KernelOut = Kernel.outputs;
  const unsigned WantIn = O.PlayPath.empty() ? Kernel.inputs : 0;
  auto DevIn = mapChannels(O, WantIn, Script, H->InMap, H->MapInput);
  if (!DevIn)
    return fail(DevIn.error());
  auto DevOut = mapChannels(O, Kernel.outputs, Script, H->OutMap, H->MapOutput);
  if (!DevOut)
    return fail(DevOut.error());
  H->DeviceIn = *DevIn;
  H->DeviceOut = *DevOut;
  // A script that only analyzes a played file still needs a clock: a
  // silent output.
  if (H->DeviceIn == 0 && H->DeviceOut == 0)
    H->DeviceOut = 1;

  // Scratch for at most MaxChunk frames per kernel call; longer host
  // buffers are processed in several calls.
  H->MaxChunk = std::max<unsigned long>(4096, O.FramesPerBuffer);
  H->InScratch.assign(H->MaxChunk * std::max(1u, H->KernelIn), 0.0f);
  H->OutScratch.assign(H->MaxChunk * std::max(1u, H->KernelOut), 0.0f);
  if (H->Options.MonitorSeconds > 0 && H->KernelOut)
    H->Monitor = std::make_unique<SpscRing<float>>(
        size_t(std::ceil(H->Options.MonitorSeconds * H->Rate)) * H->KernelOut);
  H->Swap =
      std::make_unique<HotSwap>(std::move(Keep), std::move(*Inst), H->MaxChunk);
  // Files before the stream: their errors are the user's.
  if (auto Ok = H->openFiles(Kernel, Script); !Ok)
    return fail(Ok.error());
  return H;
}

Result<std::unique_ptr<Host>> Host::open(const DspjitKernel &Kernel,
                                         const HostOptions &O,
                                         std::shared_ptr<const void> Keep) {
  auto H = prepare(Kernel, O, std::move(Keep));
  if (!H)
    return fail(H.error());
  const std::string Script =
      message<Msg::ScriptChannels>(Kernel.inputs, Kernel.outputs);
  if (auto Ok = (*H)->openStream(Kernel, Script); !Ok)
    return fail(Ok.error());
  (*H)->Description = (*H)->describe(Kernel);
  (*H)->startFiles(Kernel.inputs);
  return H;
}

Result<std::unique_ptr<Host>>
Host::openOffline(const DspjitKernel &Kernel, const HostOptions &O,
                  std::shared_ptr<const void> Keep) {
  if (O.Direct)
    return fail(message<Msg::OfflineNotDirect>());
  auto H = prepare(Kernel, O, std::move(Keep));
  if (!H)
    return fail(H.error());
  (*H)->Description = message<Msg::OfflineDescription>(Kernel.sample_rate);
  (*H)->startFiles(Kernel.inputs);
  return H;
}

//===-- The trampoline ----------------------------------------------------===//

/// The kernel's input for `N` frames from frame `Done` of the device's
/// input: the --play ring, silence, gathered mapped channels or the
/// device's buffer itself. Sets `RecordFrames` to the frames of the played
/// file's end that are worth recording.
const float *Host::gatherInput(const float *DevIn, unsigned long Done,
                               unsigned long N, unsigned long &RecordFrames) {
  if (!KernelIn)
    return nullptr;
  float *Scratch = InScratch.data();
  const size_t Want = size_t(N) * KernelIn;
  Files &F = *IO;
  if (F.PlayRing) {
    bool Eof = F.PlayEof.load(std::memory_order_acquire);
    size_t Got = F.PlayRing->pop(Scratch, Want);
    if (Got == Want)
      return Scratch;
    std::fill(Scratch + Got, Scratch + Want, 0.0f);
    if (!Eof) {
      PlayUnderruns.store(PlayUnderruns.load(std::memory_order_relaxed) +
                              (Want - Got) / KernelIn,
                          std::memory_order_relaxed);
      return Scratch;
    }
    // The recording ends with the file's last frame.
    RecordFrames =
        PlayFinished.load(std::memory_order_relaxed) ? 0 : Got / KernelIn;
    PlayFinished.store(true, std::memory_order_relaxed);
    return Scratch;
  }
  if (!DevIn) {
    std::fill(Scratch, Scratch + Want, 0.0f);
    return Scratch;
  }
  if (!MapInput)
    return DevIn + size_t(Done) * KernelIn;
  const float *Src = DevIn + size_t(Done) * DeviceIn;
  for (unsigned long Frame = 0; Frame < N; ++Frame)
    for (unsigned C = 0; C < KernelIn; ++C)
      Scratch[Frame * KernelIn + C] = Src[Frame * DeviceIn + InMap[C]];
  return Scratch;
}

/// Scatters the kernel's output to mapped device channels (the others
/// silent) and pushes what is worth recording to the --record ring.
void Host::scatterOutput(const float *KOut, float *DevOut, unsigned long Done,
                         unsigned long N, bool Scatter,
                         unsigned long RecordFrames) {
  if (DevOut && Scatter) {
    float *Dst = DevOut + size_t(Done) * DeviceOut;
    std::fill(Dst, Dst + size_t(N) * DeviceOut, 0.0f);
    for (unsigned long Frame = 0; Frame < N && KOut; ++Frame)
      for (unsigned C = 0; C < KernelOut; ++C)
        Dst[Frame * DeviceOut + OutMap[C]] = KOut[Frame * KernelOut + C];
  }
  if (Monitor && KOut) {
    // Whole frames that fit; a lagging reader loses the newest.
    size_t Room = Monitor->space() / KernelOut * KernelOut;
    Monitor->push(KOut, std::min(size_t(N) * KernelOut, Room));
  }
  Files &F = *IO;
  if (!RecordFrames || !F.RecordRing ||
      !F.Recording.load(std::memory_order_relaxed))
    return;
  const size_t Want = size_t(RecordFrames) * KernelOut;
  // Whole frames only, so that channels never slip.
  size_t Room = F.RecordRing->space() / KernelOut * KernelOut;
  size_t Put = F.RecordRing->push(KOut, std::min(Want, Room));
  if (Put < Want)
    RecordDropped.store(RecordDropped.load(std::memory_order_relaxed) +
                            (Want - Put) / KernelOut,
                        std::memory_order_relaxed);
}

int Host::callback(const void *Input, void *Output, unsigned long Frames,
                   const PaStreamCallbackTimeInfo *Time,
                   PaStreamCallbackFlags Flags, void *Self) {
  Host &H = *static_cast<Host *>(Self);
  const uint64_t Start = monotonicNanoseconds();
  uint64_t KernelNs = 0;
  const auto *DevIn = static_cast<const float *>(Input);
  auto *DevOut = static_cast<float *>(Output);
  // The device's buffer is the kernel's own when nothing is mapped.
  const bool InPlace = DevOut && !H.MapOutput && H.DeviceOut == H.KernelOut;
  for (unsigned long Done = 0; Done < Frames;) {
    const unsigned long N = std::min(Frames - Done, H.MaxChunk);
    unsigned long RecordFrames = N;
    const float *KIn = H.gatherInput(DevIn, Done, N, RecordFrames);
    float *KOut = nullptr;
    if (H.KernelOut)
      KOut =
          InPlace ? DevOut + size_t(Done) * H.KernelOut : H.OutScratch.data();
    const uint64_t Before = monotonicNanoseconds();
    H.Swap->process(KIn, KOut, N,
                    reinterpret_cast<const DspjitTimeInfo *>(Time), Flags);
    KernelNs += monotonicNanoseconds() - Before;
    H.scatterOutput(KOut, DevOut, Done, N, !InPlace, RecordFrames);
    Done += N;
  }
  if (Flags && H.Options.FatalXruns &&
      H.FatalKind.load(std::memory_order_relaxed) < 0)
    H.FatalKind.store(firstXrunKind(Flags), std::memory_order_relaxed);
  H.Stats.record(monotonicNanoseconds() - Start, KernelNs, Frames, Flags);
  return paContinue;
}

//===-- Running -----------------------------------------------------------===//

Host::Host(double Rate, const HostOptions &Options)
    : Rate(Rate), Options(Options), Stats(Rate) {}

Host::~Host() { (void)stop(); }

Result<void> Host::start() {
  if (Started)
    return fail(message<Msg::AlreadyStarted>());
  if (Audio) // none offline
    if (auto Ok = Audio->start(); !Ok)
      return Ok;
  Started = true;
  return {};
}

Result<void> Host::stop() {
  if (Stopped)
    return {};
  Stopped = true;
  std::string Problem;
  if (Audio && Started)
    if (auto Aborted = Audio->abort(); !Aborted)
      Problem = Aborted.error();
  if (IO) {
    if (IO->WriterThread.joinable()) {
      IO->Drain.store(true);
      IO->WriterThread.join();
    }
    IO->closeWriter();
    if (!IO->WriteError.empty() && Problem.empty())
      Problem = IO->WriteError;
    IO->QuitReader.store(true);
    if (IO->Reader.joinable())
      IO->Reader.join();
    if (!IO->ReadError.empty() && Problem.empty())
      Problem = message<Msg::CannotReadPlayFile>(IO->PlayName, IO->ReadError);
  }
  if (Audio)
    (void)Audio->close();
  if (!Problem.empty())
    return fail(Problem);
  return {};
}

uint64_t Host::recordedFrames() const {
  if (!IO || !IO->Writer)
    return 0;
  std::lock_guard<std::mutex> Guard(IO->CloseLock);
  return IO->Writer->framesWritten();
}

void Host::finalizeRecordingNow() {
  if (!IO || !IO->Writer)
    return;
  IO->CloseNow.store(true);
  IO->closeWriter();
}

ParamUpdate Host::setParam(std::string_view Name, float Value) {
  return Swap->setParam(Name, Value);
}

ParamUpdate Host::setParamImmediate(std::string_view Name, float Value) {
  return Swap->setParamImmediate(Name, Value);
}

void Host::resetParams() { Swap->resetParams(); }

std::shared_ptr<Instance> Host::instance() const {
  std::shared_ptr<KernelVersion> V = Swap->active();
  return std::shared_ptr<Instance>(V, &V->I);
}

Result<std::shared_ptr<KernelVersion>>
Host::reload(std::shared_ptr<const void> Code, const DspjitKernel &Kernel,
             const SwapOptions &SO, SwapReport *Report) {
  std::lock_guard<std::mutex> Guard(SwapLock);
  return reloadLocked(std::move(Code), Kernel, SO, Report);
}

Result<std::shared_ptr<KernelVersion>>
Host::reloadLocked(std::shared_ptr<const void> Code, const DspjitKernel &Kernel,
                   const SwapOptions &SO, SwapReport *Report) {
  if (Options.Direct)
    return fail(message<Msg::DirectCannotReload>());
  Swap->collect();
  // A previous version still waiting for the audio thread (at most a block
  // and a crossfade away while the stream runs).
  for (int Ms = 0; Swap->pending(); ++Ms) {
    if (Ms > 1000 || !Started || Stopped)
      return fail(message<Msg::PreviousVersionPending>());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto V = Swap->prepare(std::move(Code), Kernel, SO, Report);
  if (!V)
    return fail(V.error());
  if (!Swap->publish(*V))
    return fail(message<Msg::PublishedMeanwhile>());
  return *V;
}

Result<void> Host::resetState() {
  std::lock_guard<std::mutex> Guard(SwapLock);
  std::shared_ptr<KernelVersion> Now = Swap->newest();
  auto V = reloadLocked(Now->Code, Now->I.kernel(),
                        {.FadeFrames = crossfadeFrames(), .CarryState = false},
                        nullptr);
  if (!V)
    return fail(V.error());
  return {};
}

uint32_t Host::crossfadeFrames() const {
  return uint32_t(std::lround(std::max(0.0, Options.CrossfadeSeconds) * Rate));
}

StopReason Host::stopReason() const {
  if (Requested.load(std::memory_order_relaxed))
    return StopReason::Requested;
  if (FatalKind.load(std::memory_order_relaxed) >= 0)
    return StopReason::FatalXrun;
  if (PlayFinished.load(std::memory_order_relaxed))
    return StopReason::PlayEnded;
  if (IO && IO->WriteFailed.load())
    return StopReason::RecordFailed;
  if (Started && !Stopped && Audio && Audio->hasEnded())
    return StopReason::StreamEnded;
  return StopReason::None;
}

XrunKind Host::fatalXrun() const {
  return XrunKind(std::max(0, FatalKind.load(std::memory_order_relaxed)));
}

std::string Host::stopMessage() const {
  switch (stopReason()) {
  case StopReason::None: return message<Msg::StopRunning>();
  case StopReason::Requested: return message<Msg::StopRequested>();
  case StopReason::PlayEnded:
    return message<Msg::StopPlayEnded>(Options.PlayPath);
  case StopReason::FatalXrun:
    return message<Msg::StopFatalXrun>(xrunKindName(fatalXrun()),
                                       Stats.frames());
  case StopReason::StreamEnded: return message<Msg::StopStreamEnded>();
  case StopReason::RecordFailed:
    return message<Msg::StopRecordFailed>(IO->WriteError);
  }
  return "";
}

TimingSummary Host::summary() const {
  TimingSummary S = Stats.summary();
  S.PlayUnderrunFrames = PlayUnderruns.load(std::memory_order_relaxed);
  S.RecordDroppedFrames = RecordDropped.load(std::memory_order_relaxed);
  S.NonfiniteSamples = Swap ? Swap->nonfiniteSamples() : 0;
  if (Options.Direct && Swap) {
    const Instance &First = Swap->newest()->I;
    S.Callbacks = First.callbacks();
    S.Frames = First.framesProcessed();
  }
  return S;
}

double Host::cpuLoad() const { return Audio ? Audio->cpuLoad() : 0; }

size_t Host::readMonitor(float *Out, size_t MaxFrames) {
  std::lock_guard<std::mutex> Guard(MonitorReader);
  if (!Monitor || !KernelOut || MaxFrames == 0)
    return 0;
  size_t Frames = std::min(MaxFrames, Monitor->available() / KernelOut);
  return Monitor->pop(Out, Frames * KernelOut) / KernelOut;
}

} // namespace dspjit
