//===- runtime/Host.cpp - A compiled effect running live ------------------===//
//
// See Host.h. Three parts: choosing devices (with messages that list what
// exists), the trampoline callback, and the file threads.
//
//===----------------------------------------------------------------------===//
#include "runtime/Host.h"

#include "runtime/Messages.h"
#include "runtime/PortAudio.h"
#include "runtime/SpscRing.h"

#include <sndfile.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

namespace dspjit {

//===-- Choosing devices --------------------------------------------------===//

static std::string lowered(std::string_view Text) {
  std::string Lower(Text);
  for (char &C : Lower)
    C = char(std::tolower(static_cast<unsigned char>(C)));
  return Lower;
}

static const char *dirName(Direction Dir) {
  return Dir == Direction::Input ? "input" : "output";
}

static int channelsOf(PaDeviceIndex Index, Direction Dir) {
  const PaDeviceInfo *D = Pa_GetDeviceInfo(Index);
  if (!D)
    return 0;
  return Dir == Direction::Input ? D->maxInputChannels : D->maxOutputChannels;
}

static std::string deviceLabel(PaDeviceIndex Index) {
  const PaDeviceInfo *D = Pa_GetDeviceInfo(Index);
  return "[" + std::to_string(Index) + "] '" + D->name + "' (" +
         Pa_GetHostApiInfo(D->hostApi)->name + ")";
}

std::string noDeviceAdvice() {
  return "no audio device: PortAudio finds no sound card and no running JACK "
         "server. On a machine without a sound card, start JACK with its "
         "dummy driver and run again:\n"
         "  jackd --no-realtime -d dummy -r 48000 -p 64 &\n"
         "(`scripts/dev demo` does this by itself)";
}

/// The host API to use: the one named, else JACK when its server runs
/// (PortAudio lists JACK devices only then), else PortAudio's default.
static Result<PaHostApiIndex> chooseHostApi(const HostOptions &O) {
  if (Pa_GetDeviceCount() <= 0)
    return fail(noDeviceAdvice());
  if (!O.HostApi.empty())
    return findHostApi(O.HostApi);
  PaHostApiIndex Jack = Pa_HostApiTypeIdToHostApiIndex(paJACK);
  if (Jack >= 0 && Pa_GetHostApiInfo(Jack)->deviceCount > 0)
    return Jack;
  PaHostApiIndex Default = Pa_GetDefaultHostApi();
  if (Default < 0)
    return fail(noDeviceAdvice());
  return Default;
}

/// A device by global index or name. Names are looked up in `Api` when the
/// user named a host API, else across all of them.
static Result<PaDeviceIndex> chooseDevice(const HostOptions &O,
                                          PaHostApiIndex Api,
                                          const std::string &Spec,
                                          Direction Dir) {
  if (Spec.empty()) {
    const PaHostApiInfo *Info = Pa_GetHostApiInfo(Api);
    PaDeviceIndex D = Dir == Direction::Input ? Info->defaultInputDevice
                                              : Info->defaultOutputDevice;
    if (D == paNoDevice)
      return fail(std::string(Info->name) + " has no default " + dirName(Dir) +
                  " device; choose one with --" + dirName(Dir) +
                  "-device (see `dspjit devices`)");
    return D;
  }
  if (std::all_of(Spec.begin(), Spec.end(),
                  [](unsigned char C) { return std::isdigit(C); })) {
    long Index = Spec.size() < 6 ? std::stol(Spec) : -1;
    if (Index < 0 || Index >= Pa_GetDeviceCount())
      return fail("no device has index " + Spec + " (there are " +
                  std::to_string(Pa_GetDeviceCount()) +
                  "; see `dspjit devices`)");
    if (channelsOf(PaDeviceIndex(Index), Dir) <= 0)
      return fail("device " + deviceLabel(PaDeviceIndex(Index)) + " has no " +
                  dirName(Dir) + " channels");
    return PaDeviceIndex(Index);
  }
  std::string Want = lowered(Spec);
  std::vector<PaDeviceIndex> Exact, Partial, Candidates;
  for (PaDeviceIndex D = 0, N = Pa_GetDeviceCount(); D < N; ++D) {
    const PaDeviceInfo *Info = Pa_GetDeviceInfo(D);
    if (channelsOf(D, Dir) <= 0)
      continue;
    if (!O.HostApi.empty() && Info->hostApi != Api)
      continue;
    Candidates.push_back(D);
    std::string Name = lowered(Info->name);
    if (Name == Want)
      Exact.push_back(D);
    else if (Name.find(Want) != std::string::npos)
      Partial.push_back(D);
  }
  std::vector<PaDeviceIndex> &Matches = Exact.empty() ? Partial : Exact;
  if (Matches.size() == 1)
    return Matches[0];
  auto List = [](const std::vector<PaDeviceIndex> &Ds) {
    std::string Text;
    for (PaDeviceIndex D : Ds)
      Text += "\n  " + deviceLabel(D);
    return Text;
  };
  if (Matches.size() > 1)
    return fail(std::string(dirName(Dir)) + " device '" + Spec +
                "' is ambiguous; it matches:" + List(Matches) +
                "\nname one exactly, by more of its name or by its index");
  if (Candidates.empty())
    return fail("no " + std::string(dirName(Dir)) + " device matches '" +
                Spec + "': there are no " + dirName(Dir) + " devices");
  return fail("no " + std::string(dirName(Dir)) + " device matches '" + Spec +
              "'; the " + dirName(Dir) + " devices are:" + List(Candidates));
}

Result<double> defaultSampleRate(const HostOptions &O) {
  auto Api = chooseHostApi(O);
  if (!Api)
    return fail(Api.error());
  std::string OutSpec = !O.OutputDevice.empty() ? O.OutputDevice : O.InputDevice;
  auto Out = chooseDevice(O, *Api, OutSpec, Direction::Output);
  if (Out)
    return Pa_GetDeviceInfo(*Out)->defaultSampleRate;
  auto In = chooseDevice(O, *Api, O.InputDevice, Direction::Input);
  if (In)
    return Pa_GetDeviceInfo(*In)->defaultSampleRate;
  return fail(Out.error());
}

std::string listDevices() {
  if (Pa_GetDeviceCount() <= 0)
    return noDeviceAdvice() + "\n";
  std::string Text;
  char Line[512];
  PaDeviceIndex DefIn = Pa_GetDefaultInputDevice();
  PaDeviceIndex DefOut = Pa_GetDefaultOutputDevice();
  for (PaHostApiIndex Api = 0, N = Pa_GetHostApiCount(); Api < N; ++Api) {
    const PaHostApiInfo *A = Pa_GetHostApiInfo(Api);
    Text += std::string(A->name) + (Api == Pa_GetDefaultHostApi() ? " (default host API)" : "") +
            ": " + std::to_string(A->deviceCount) + " device" +
            (A->deviceCount == 1 ? "" : "s") + "\n";
  }
  Text += "\n";
  for (PaDeviceIndex D = 0, N = Pa_GetDeviceCount(); D < N; ++D) {
    const PaDeviceInfo *Info = Pa_GetDeviceInfo(D);
    const PaHostApiInfo *A = Pa_GetHostApiInfo(Info->hostApi);
    // Marks as sounddevice's query_devices(): '>' default input, '<'
    // default output, '*' both; the host API's own defaults count too.
    bool In = D == DefIn || D == A->defaultInputDevice;
    bool Out = D == DefOut || D == A->defaultOutputDevice;
    char Mark = In && Out ? '*' : In ? '>' : Out ? '<' : ' ';
    std::snprintf(Line, sizeof Line,
                  "%c %3d %s, %s (%d in, %d out), %s Hz, latency in %.1f/%.1f "
                  "ms, out %.1f/%.1f ms (low/high)\n",
                  Mark, D, Info->name, A->name, Info->maxInputChannels,
                  Info->maxOutputChannels,
                  formatNumber(Info->defaultSampleRate).c_str(),
                  Info->defaultLowInputLatency * 1e3,
                  Info->defaultHighInputLatency * 1e3,
                  Info->defaultLowOutputLatency * 1e3,
                  Info->defaultHighOutputLatency * 1e3);
    Text += Line;
  }
  return Text;
}

//===-- Files -------------------------------------------------------------===//

namespace {
void napMs(int Ms) { std::this_thread::sleep_for(std::chrono::milliseconds(Ms)); }

/// File threads yield to the audio thread: without real-time scheduling
/// (jackd --no-realtime, most desktops) their wake-ups would preempt it in
/// the middle of callbacks (measured: p99 of a 64-frame wire callback 5 us
/// without file threads, 200 us with them at normal priority). SCHED_IDLE
/// never preempts a normal thread; the rings hold seconds of audio, so the
/// file threads still keep up on any machine that is not saturated (if not,
/// the summary counts the late and dropped frames).
void lowerThisThreadsPriority() {
  sched_param P = {};
  if (sched_setscheduler(0, SCHED_IDLE, &P) != 0)
    setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), 19);
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
  std::mutex CloseLock; ///< serializes closing the writer
  std::string WriteError; ///< set before WriteFailed
  std::atomic<bool> WriteFailed{false};
  unsigned RecordChannels = 0;

  void readLoop(unsigned Channels) {
    lowerThisThreadsPriority();
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

  void writeLoop() {
    lowerThisThreadsPriority();
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
      napMs(10); // the ring holds two seconds
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
    return fail("cannot open '" + Path + "': " + sf_strerror(nullptr));
  auto Refuse = [&](std::string Message) {
    sf_close(F);
    return fail(std::move(Message));
  };
  if (unsigned(Info.channels) != Channels)
    return Refuse("'" + Path + "' has " + std::to_string(Info.channels) +
                  " channel" + (Info.channels == 1 ? "" : "s") + " but " +
                  Script + " takes " + std::to_string(Channels));
  if (double(Info.samplerate) != Rate)
    return Refuse("'" + Path + "' is at " + std::to_string(Info.samplerate) +
                  " Hz but the stream runs at " + formatNumber(Rate) +
                  " Hz; run with --rate " + std::to_string(Info.samplerate) +
                  " or resample the file");
  if (Info.frames <= 0)
    return Refuse("'" + Path + "' holds no audio");
  return F;
}

/// Rates a device pair can run at, from the usual ones, for a message.
static std::string supportedRates(const PaStreamParameters *In,
                                  const PaStreamParameters *Out) {
  static const double Rates[] = {8000,  11025, 16000, 22050,  32000, 44100,
                                 48000, 88200, 96000, 176400, 192000};
  std::vector<std::string> Ok;
  for (double R : Rates)
    if (Pa_IsFormatSupported(In, Out, R) == paFormatIsSupported)
      Ok.push_back(formatNumber(R));
  return Ok.empty() ? "none of the usual rates" : joinNames(Ok) + " Hz";
}

Result<std::unique_ptr<Host>> Host::open(const DspjitKernel &Kernel,
                                         const HostOptions &O,
                                         std::shared_ptr<const void> Keep) {
  auto Inst = Instance::create(Kernel, Kernel.sample_rate);
  if (!Inst)
    return fail(Inst.error());
  const double Rate = Kernel.sample_rate;
  std::unique_ptr<Host> H(new Host(Rate, O));
  const std::string Script =
      "the script (io " + std::to_string(Kernel.inputs) + " -> " +
      std::to_string(Kernel.outputs) + ")";

  if (O.Direct && (!O.PlayPath.empty() || !O.RecordPath.empty() ||
                   !O.Map.empty()))
    return fail("--direct hands the kernel to PortAudio unwrapped: it cannot "
                "be combined with --play, --record or --map");
  if (!O.PlayPath.empty() && Kernel.inputs == 0)
    return fail("--play needs a script with inputs; " + Script +
                " is a generator");
  if (!O.RecordPath.empty() && Kernel.outputs == 0)
    return fail("--record needs a script with outputs; " + Script +
                " only analyzes its input");

  H->KernelIn = Kernel.inputs;
  H->KernelOut = Kernel.outputs;
  bool Play = !O.PlayPath.empty();
  unsigned WantIn = Play ? 0 : Kernel.inputs;
  unsigned WantOut = Kernel.outputs;
  for (unsigned M : O.Map)
    if (M == 0)
      return fail("--map counts device channels from 1");
  auto Mapped = [&](unsigned Channels, std::vector<unsigned> &Map,
                    bool &IsMapped) -> Result<unsigned> {
    if (Channels == 0)
      return 0u;
    if (O.Map.empty()) {
      for (unsigned C = 0; C < Channels; ++C)
        Map.push_back(C);
      return Channels;
    }
    if (O.Map.size() < Channels)
      return fail("--map lists " + std::to_string(O.Map.size()) +
                  " channels but " + Script + " has " +
                  std::to_string(Channels));
    unsigned Max = 0;
    for (unsigned C = 0; C < Channels; ++C) {
      Map.push_back(O.Map[C] - 1);
      Max = std::max(Max, O.Map[C]);
    }
    IsMapped = true;
    return Max;
  };
  auto DevIn = Mapped(WantIn, H->InMap, H->MapInput);
  if (!DevIn)
    return fail(DevIn.error());
  auto DevOut = Mapped(WantOut, H->OutMap, H->MapOutput);
  if (!DevOut)
    return fail(DevOut.error());
  H->DeviceIn = *DevIn;
  H->DeviceOut = *DevOut;
  // A script that only analyzes a played file still needs a clock: a
  // silent output.
  if (H->DeviceIn == 0 && H->DeviceOut == 0)
    H->DeviceOut = 1;

  auto Api = chooseHostApi(O);
  if (!Api)
    return fail(Api.error());
  PaStreamParameters In = {}, Out = {};
  auto Fill = [&](PaStreamParameters &P, const std::string &Spec,
                  Direction Dir, unsigned Channels) -> Result<void> {
    auto Dev = chooseDevice(O, *Api, Spec, Dir);
    if (!Dev)
      return fail(Dev.error());
    const PaDeviceInfo *Info = Pa_GetDeviceInfo(*Dev);
    int Has = channelsOf(*Dev, Dir);
    if (Has < int(Channels))
      return fail(std::string(dirName(Dir)) + " device " + deviceLabel(*Dev) +
                  " has " + std::to_string(Has) + " " + dirName(Dir) +
                  " channel" + (Has == 1 ? "" : "s") + " but " + Script +
                  (O.Map.empty() ? "" : " with --map") + " needs " +
                  std::to_string(Channels) +
                  "; choose another device or route channels with --map");
    P.device = *Dev;
    P.channelCount = int(Channels);
    P.sampleFormat = paFloat32;
    P.suggestedLatency =
        O.LatencySeconds > 0 ? O.LatencySeconds
        : Dir == Direction::Input
            ? (O.HighLatency ? Info->defaultHighInputLatency
                             : Info->defaultLowInputLatency)
            : (O.HighLatency ? Info->defaultHighOutputLatency
                             : Info->defaultLowOutputLatency);
    return {};
  };
  if (H->DeviceIn)
    if (auto R = Fill(In, O.InputDevice, Direction::Input, H->DeviceIn); !R)
      return fail(R.error());
  if (H->DeviceOut)
    if (auto R = Fill(Out, O.OutputDevice, Direction::Output, H->DeviceOut); !R)
      return fail(R.error());
  if (H->DeviceIn && H->DeviceOut &&
      Pa_GetDeviceInfo(In.device)->hostApi !=
          Pa_GetDeviceInfo(Out.device)->hostApi)
    return fail("input device " + deviceLabel(In.device) +
                " and output device " + deviceLabel(Out.device) +
                " belong to different host APIs; PortAudio cannot join them "
                "in one stream");
  const PaStreamParameters *InP = H->DeviceIn ? &In : nullptr;
  const PaStreamParameters *OutP = H->DeviceOut ? &Out : nullptr;
  const PaDeviceInfo *Main = Pa_GetDeviceInfo(OutP ? Out.device : In.device);
  std::string ApiName = Pa_GetHostApiInfo(Main->hostApi)->name;

  PaError Check = Pa_IsFormatSupported(InP, OutP, Rate);
  if (Check == paInvalidSampleRate)
    return fail(ApiName + " device '" + Main->name + "' cannot run at " +
                formatNumber(Rate) + " Hz; it supports " +
                supportedRates(InP, OutP) + " (default " +
                formatNumber(Main->defaultSampleRate) + " Hz): pass --rate");
  if (Check == paInvalidChannelCount)
    return fail(ApiName + " device '" + Main->name + "' cannot open " +
                std::to_string(H->DeviceIn) + " input and " +
                std::to_string(H->DeviceOut) + " output channels (it has " +
                std::to_string(Main->maxInputChannels) + " in, " +
                std::to_string(Main->maxOutputChannels) + " out)");
  if (Check != paFormatIsSupported)
    return fail("cannot open a stream on " + ApiName + " device '" +
                Main->name + "': " + paErrorText(Check));

  // Scratch for at most MaxChunk frames per kernel call; longer host
  // buffers are processed in several calls.
  H->MaxChunk = std::max<unsigned long>(4096, O.FramesPerBuffer);
  H->InScratch.assign(H->MaxChunk * std::max(1u, H->KernelIn), 0.0f);
  H->OutScratch.assign(H->MaxChunk * std::max(1u, H->KernelOut), 0.0f);
  H->Swap = std::make_unique<HotSwap>(std::move(Keep), std::move(*Inst),
                                      H->MaxChunk);

  // Files, before the stream exists: their errors are the user's.
  H->IO = std::make_unique<Files>();
  Files &F = *H->IO;
  if (Play) {
    auto File = openPlayFile(O.PlayPath, Kernel.inputs, Rate, Script);
    if (!File)
      return fail(File.error());
    F.PlayFile = *File;
    F.PlayName = O.PlayPath;
    F.Loop = O.Loop;
    F.PlayRing = std::make_unique<SpscRing<float>>(size_t(Rate) * Kernel.inputs);
  }
  if (!O.RecordPath.empty()) {
    auto W = AudioFileWriter::create(O.RecordPath, Kernel.outputs, Rate,
                                     O.RecordFormat);
    if (!W)
      return fail(W.error());
    F.Writer.emplace(std::move(*W));
    F.RecordChannels = Kernel.outputs;
    F.RecordRing =
        std::make_unique<SpscRing<float>>(size_t(2 * Rate) * Kernel.outputs);
  }

  PaStreamCallback *Callback = &Host::callback;
  void *UserData = H.get();
  if (O.Direct) {
    // Sound by runtime/PortAudio.cpp's static_asserts on the signatures.
    Callback = reinterpret_cast<PaStreamCallback *>(Kernel.process);
    UserData = H->Swap->newest()->I.data();
    if (RealtimeChecked) {
      // RealtimeSanitizer builds only: a marked frame around the kernel,
      // so that RTSan checks --direct streams too (runtime/Realtime.h).
      H->DirectFrame = {Kernel.process, UserData};
      Callback = reinterpret_cast<PaStreamCallback *>(&RealtimeFrame::callback);
      UserData = &H->DirectFrame;
    }
  }
  PaError Error = Pa_OpenStream(
      &H->Stream, InP, OutP, Rate,
      O.FramesPerBuffer ? O.FramesPerBuffer : paFramesPerBufferUnspecified,
      paNoFlag, Callback, UserData);
  if (Error != paNoError)
    return fail("cannot open a stream on " + ApiName + " device '" +
                Main->name + "': " + paErrorText(Error));
  if (const PaStreamInfo *S = Pa_GetStreamInfo(H->Stream)) {
    H->InputLatency = S->inputLatency;
    H->OutputLatency = S->outputLatency;
  }

  std::string D = ApiName + ": ";
  if (Play)
    D += "'" + O.PlayPath + "'" + (O.Loop ? " (looped)" : "");
  else if (H->DeviceIn)
    D += "in '" + std::string(Pa_GetDeviceInfo(In.device)->name) + "' (" +
         std::to_string(H->DeviceIn) + " ch)";
  else
    D += "no input";
  D += " -> ";
  if (Kernel.outputs)
    D += "out '" + std::string(Pa_GetDeviceInfo(Out.device)->name) + "' (" +
         std::to_string(H->DeviceOut) + " ch)";
  else
    D += "meters only";
  if (!O.RecordPath.empty())
    D += " + '" + O.RecordPath + "'";
  D += ", " + formatNumber(Rate) + " Hz, " +
       (O.FramesPerBuffer ? std::to_string(O.FramesPerBuffer)
                          : std::string("host-chosen")) +
       " frames per buffer, latency in " +
       formatNumber(std::round(H->InputLatency * 1e4) / 10) + " ms, out " +
       formatNumber(std::round(H->OutputLatency * 1e4) / 10) + " ms" +
       (O.Direct ? ", kernel.process as the callback (--direct)" : "");
  H->Description = D;

  if (Play) {
    Files *FP = H->IO.get();
    unsigned Ch = Kernel.inputs;
    F.Reader = std::thread([FP, Ch] { FP->readLoop(Ch); });
    // Start with a full ring (or the whole file when it is shorter).
    for (int Ms = 0; Ms < 3000; Ms += 2) {
      if (F.PlayEof.load() || F.PlayRing->space() < 4096 * Ch)
        break;
      napMs(2);
    }
  }
  if (F.Writer) {
    F.Recording.store(true);
    Files *FP = H->IO.get();
    F.WriterThread = std::thread([FP] { FP->writeLoop(); });
  }
  return H;
}

//===-- The trampoline ----------------------------------------------------===//

int Host::callback(const void *Input, void *Output, unsigned long Frames,
                   const PaStreamCallbackTimeInfo *Time,
                   PaStreamCallbackFlags Flags, void *Self) {
  Host &H = *static_cast<Host *>(Self);
  const uint64_t Start = monotonicNanoseconds();
  uint64_t KernelNs = 0;
  Files &F = *H.IO;
  const auto *DevIn = static_cast<const float *>(Input);
  auto *DevOut = static_cast<float *>(Output);
  const bool Recording =
      F.RecordRing && F.Recording.load(std::memory_order_relaxed);

  for (unsigned long Done = 0; Done < Frames;) {
    const unsigned long N = std::min(Frames - Done, H.MaxChunk);
    unsigned long RecordFrames = N;
    const float *KIn = nullptr;
    if (H.KernelIn) {
      float *Scratch = H.InScratch.data();
      const size_t Want = size_t(N) * H.KernelIn;
      if (F.PlayRing) {
        bool Eof = F.PlayEof.load(std::memory_order_acquire);
        size_t Got = F.PlayRing->pop(Scratch, Want);
        if (Got < Want) {
          std::fill(Scratch + Got, Scratch + Want, 0.0f);
          if (Eof) {
            // The recording ends with the file's last frame.
            if (!H.PlayFinished.load(std::memory_order_relaxed))
              RecordFrames = Got / H.KernelIn;
            else
              RecordFrames = 0;
            H.PlayFinished.store(true, std::memory_order_relaxed);
          }
          else
            H.PlayUnderruns.store(
                H.PlayUnderruns.load(std::memory_order_relaxed) +
                    (Want - Got) / H.KernelIn,
                std::memory_order_relaxed);
        }
        KIn = Scratch;
      } else if (!DevIn) {
        std::fill(Scratch, Scratch + Want, 0.0f);
        KIn = Scratch;
      } else if (H.MapInput) {
        const float *Src = DevIn + size_t(Done) * H.DeviceIn;
        for (unsigned long Fr = 0; Fr < N; ++Fr)
          for (unsigned C = 0; C < H.KernelIn; ++C)
            Scratch[Fr * H.KernelIn + C] = Src[Fr * H.DeviceIn + H.InMap[C]];
        KIn = Scratch;
      } else {
        KIn = DevIn + size_t(Done) * H.KernelIn;
      }
    }
    float *KOut = nullptr;
    const bool Direct = DevOut && !H.MapOutput && H.DeviceOut == H.KernelOut;
    if (H.KernelOut)
      KOut = Direct ? DevOut + size_t(Done) * H.KernelOut : H.OutScratch.data();

    const uint64_t Before = monotonicNanoseconds();
    H.Swap->process(KIn, KOut, N, reinterpret_cast<const DspjitTimeInfo *>(Time),
                    Flags);
    KernelNs += monotonicNanoseconds() - Before;

    if (DevOut && !Direct) {
      float *Dst = DevOut + size_t(Done) * H.DeviceOut;
      std::fill(Dst, Dst + size_t(N) * H.DeviceOut, 0.0f);
      for (unsigned long Fr = 0; Fr < N && KOut; ++Fr)
        for (unsigned C = 0; C < H.KernelOut; ++C)
          Dst[Fr * H.DeviceOut + H.OutMap[C]] = KOut[Fr * H.KernelOut + C];
    }
    if (Recording && RecordFrames) {
      const size_t Want = size_t(RecordFrames) * H.KernelOut;
      // Whole frames only, so that channels never slip.
      size_t Room = F.RecordRing->space() / H.KernelOut * H.KernelOut;
      size_t Put = F.RecordRing->push(KOut, std::min(Want, Room));
      if (Put < Want)
        H.RecordDropped.store(H.RecordDropped.load(std::memory_order_relaxed) +
                                  (Want - Put) / H.KernelOut,
                              std::memory_order_relaxed);
    }
    Done += N;
  }

  if (Flags && H.Options.FatalXruns && H.FatalKind.load(std::memory_order_relaxed) < 0)
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
    return fail("the stream was already started");
  PaError Error = Pa_StartStream(Stream);
  if (Error != paNoError)
    return fail("cannot start the stream: " + paErrorText(Error));
  Started = true;
  return {};
}

Result<void> Host::stop() {
  if (Stopped)
    return {};
  Stopped = true;
  std::string Problem;
  if (Stream) {
    if (Started && Pa_IsStreamStopped(Stream) != 1)
      if (PaError E = Pa_AbortStream(Stream); E != paNoError)
        Problem = "cannot stop the stream: " + paErrorText(E);
  }
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
      Problem = "cannot read '" + IO->PlayName + "': " + IO->ReadError;
  }
  if (Stream) {
    Pa_CloseStream(Stream);
    Stream = nullptr;
  }
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
  if (Options.Direct)
    return fail("--direct hands the first kernel to PortAudio unwrapped, so "
                "it cannot be replaced while it runs; run without --direct "
                "to reload");
  Swap->collect();
  // A previous version still waiting for the audio thread (at most a block
  // and a crossfade away while the stream runs).
  for (int Ms = 0; Swap->pending(); ++Ms) {
    if (Ms > 1000 || !Started || Stopped)
      return fail("the audio thread has not taken the previous version yet "
                  "(is the stream running?)");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto V = Swap->prepare(std::move(Code), Kernel, SO, Report);
  if (!V)
    return fail(V.error());
  if (!Swap->publish(*V))
    return fail("another version was published meanwhile; try again");
  return *V;
}

Result<void> Host::resetState() {
  std::shared_ptr<KernelVersion> Now = Swap->newest();
  auto V = reload(Now->Code, Now->I.kernel(),
                  {.FadeFrames = crossfadeFrames(), .CarryState = false});
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
  if (Started && !Stopped && Stream && Pa_IsStreamActive(Stream) == 0)
    return StopReason::StreamEnded;
  return StopReason::None;
}

XrunKind Host::fatalXrun() const {
  return XrunKind(std::max(0, FatalKind.load(std::memory_order_relaxed)));
}

std::string Host::stopMessage() const {
  switch (stopReason()) {
  case StopReason::None:
    return "running";
  case StopReason::Requested:
    return "stopped on request";
  case StopReason::PlayEnded:
    return "end of '" + Options.PlayPath + "'";
  case StopReason::FatalXrun:
    return std::string("stopped at the first xrun (--fatal-xruns): ") +
           xrunKindName(fatalXrun()) + " after " +
           std::to_string(Stats.frames()) + " frames";
  case StopReason::StreamEnded:
    return "the stream stopped by itself (did the audio server quit?)";
  case StopReason::RecordFailed:
    return "recording failed: " + IO->WriteError;
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

double Host::cpuLoad() const {
  return Stream ? Pa_GetStreamCpuLoad(Stream) : 0;
}

} // namespace dspjit
