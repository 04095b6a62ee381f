//===- runtime/PortAudio.cpp - Live streams whose callback is the kernel --===//
//
// See PortAudio.h. The static_asserts below are the proof that handing the
// kernel's process pointer to Pa_OpenStream is sound.
//
//===----------------------------------------------------------------------===//
#include "runtime/PortAudio.h"

#include "runtime/MessageCatalog.h"

#ifdef DSPJIT_HAVE_ALSA
#include <alsa/asoundlib.h>
#endif

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dspjit {

// DspjitTimeInfo mirrors PaStreamCallbackTimeInfo field for field...
static_assert(std::is_same_v<PaTime, double>);
static_assert(sizeof(DspjitTimeInfo) == sizeof(PaStreamCallbackTimeInfo));
static_assert(alignof(DspjitTimeInfo) == alignof(PaStreamCallbackTimeInfo));
static_assert(offsetof(DspjitTimeInfo, inputBufferAdcTime) ==
              offsetof(PaStreamCallbackTimeInfo, inputBufferAdcTime));
static_assert(offsetof(DspjitTimeInfo, currentTime) ==
              offsetof(PaStreamCallbackTimeInfo, currentTime));
static_assert(offsetof(DspjitTimeInfo, outputBufferDacTime) ==
              offsetof(PaStreamCallbackTimeInfo, outputBufferDacTime));
// ...and DspjitProcessFn is PaStreamCallback with that one type swapped.
static_assert(std::is_same_v<PaStreamCallbackFlags, unsigned long>);
static_assert(std::is_same_v<PaStreamCallback *,
                             int (*)(const void *, void *, unsigned long,
                                     const PaStreamCallbackTimeInfo *,
                                     PaStreamCallbackFlags, void *)>);
static_assert(
    std::is_same_v<DspjitProcessFn,
                   int (*)(const void *, void *, unsigned long,
                           const DspjitTimeInfo *, unsigned long, void *)>);
static_assert(paContinue == 0, "kernels return 0 to keep streaming");

std::string paErrorText(PaError Error) {
  std::string Text = Pa_GetErrorText(Error);
  if (Error == paUnanticipatedHostError)
    if (const PaHostErrorInfo *Host = Pa_GetLastHostErrorInfo();
        Host && Host->errorText && *Host->errorText)
      Text += std::string(": ") + Host->errorText;
  return Text;
}

//===-- PaSession ---------------------------------------------------------===//

#ifdef DSPJIT_HAVE_ALSA
static void ignoreAlsaError(const char *, int, const char *, int, const char *,
                            ...) {}
#endif

Result<PaSession> PaSession::open() {
#ifdef DSPJIT_HAVE_ALSA
  // Pa_Initialize opens every ALSA device it can think of; on a machine
  // without sound cards each failure prints lines of configuration errors.
  // Those are probes, not problems: hide them, and only them.
  snd_lib_error_set_handler(ignoreAlsaError);
#endif
  PaError Error = Pa_Initialize();
#ifdef DSPJIT_HAVE_ALSA
  snd_lib_error_set_handler(nullptr); // ALSA's default handler again
#endif
  if (Error != paNoError)
    return fail(message<Msg::PaInitFailed>(paErrorText(Error)));
  PaSession Session;
  Session.Active = true;
  return Session;
}

PaSession::PaSession(PaSession &&Other) noexcept
    : Active(std::exchange(Other.Active, false)) {}

PaSession &PaSession::operator=(PaSession &&Other) noexcept {
  if (this != &Other) {
    if (Active)
      Pa_Terminate();
    Active = std::exchange(Other.Active, false);
  }
  return *this;
}

PaSession::~PaSession() {
  if (Active)
    Pa_Terminate();
}

//===-- Choosing host APIs and devices ------------------------------------===//

static std::string lowered(std::string_view Text) {
  std::string Lower(Text);
  std::transform(Lower.begin(), Lower.end(), Lower.begin(),
                 [](unsigned char C) { return std::tolower(C); });
  return Lower;
}

static const char *directionName(Direction Dir) {
  return Dir == Direction::Input ? "input" : "output";
}

static int channelsOf(PaDeviceIndex Index, Direction Dir) {
  const PaDeviceInfo *D = Pa_GetDeviceInfo(Index);
  if (!D)
    return 0;
  return Dir == Direction::Input ? D->maxInputChannels : D->maxOutputChannels;
}

/// "[3] 'system' (JACK Audio Connection Kit)".
static std::string deviceLabel(PaDeviceIndex Index) {
  const PaDeviceInfo *D = Pa_GetDeviceInfo(Index);
  return "[" + std::to_string(Index) + "] '" + D->name + "' (" +
         Pa_GetHostApiInfo(D->hostApi)->name + ")";
}

std::string noDeviceAdvice() { return message<Msg::NoDevice>(); }

static std::string quotedList(const std::vector<std::string> &Names) {
  std::vector<std::string> Quoted;
  for (const std::string &Name : Names)
    Quoted.push_back("'" + Name + "'");
  return joinNames(Quoted);
}

/// A host API by name: the exact match ignoring case, else the only one
/// containing `Name`.
static Result<PaHostApiIndex> hostApiByName(std::string_view Name) {
  std::string Want = lowered(Name);
  std::vector<std::string> Names, Matches;
  PaHostApiIndex Found = -1;
  for (PaHostApiIndex I = 0, N = Pa_GetHostApiCount(); I < N; ++I) {
    Names.emplace_back(Pa_GetHostApiInfo(I)->name);
    if (lowered(Names.back()) == Want)
      return I;
    if (lowered(Names.back()).find(Want) != std::string::npos) {
      Matches.push_back(Names.back());
      Found = I;
    }
  }
  if (Matches.size() == 1)
    return Found;
  if (Matches.size() > 1)
    return fail(message<Msg::HostApiAmbiguous>(Name, quotedList(Matches)));
  return fail(message<Msg::NoSuchHostApi>(Name, quotedList(Names)));
}

Result<PaHostApiIndex> findHostApi(std::string_view Name) {
  if (Pa_GetDeviceCount() <= 0)
    return fail(noDeviceAdvice());
  if (!Name.empty())
    return hostApiByName(Name);
  PaHostApiIndex Jack = Pa_HostApiTypeIdToHostApiIndex(paJACK);
  if (Jack >= 0 && Pa_GetHostApiInfo(Jack)->deviceCount > 0)
    return Jack;
  PaHostApiIndex Default = Pa_GetDefaultHostApi();
  if (Default < 0)
    return fail(noDeviceAdvice());
  return Default;
}

static std::string deviceList(const std::vector<PaDeviceIndex> &Devices) {
  std::string Text;
  for (PaDeviceIndex D : Devices)
    Text += "\n  " + deviceLabel(D);
  return Text;
}

static Result<PaDeviceIndex> deviceByIndex(std::string_view Spec,
                                           Direction Dir) {
  long Index = Spec.size() < 6 ? std::stol(std::string(Spec)) : -1;
  if (Index < 0 || Index >= Pa_GetDeviceCount())
    return fail(message<Msg::NoDeviceIndex>(Spec, Pa_GetDeviceCount()));
  if (channelsOf(PaDeviceIndex(Index), Dir) <= 0)
    return fail(message<Msg::DeviceHasNoChannels>(
        deviceLabel(PaDeviceIndex(Index)), directionName(Dir)));
  return PaDeviceIndex(Index);
}

Result<PaDeviceIndex> findDevice(PaHostApiIndex Api, std::string_view Spec,
                                 Direction Dir, bool OnlyApi) {
  const char *DirName = directionName(Dir);
  if (Spec.empty()) {
    const PaHostApiInfo *Info = Pa_GetHostApiInfo(Api);
    PaDeviceIndex D = Dir == Direction::Input ? Info->defaultInputDevice
                                              : Info->defaultOutputDevice;
    if (D == paNoDevice)
      return fail(message<Msg::NoDefaultDevice>(
          Info->name, DirName, spellOption(std::string(DirName) + "-device")));
    return D;
  }
  if (std::all_of(Spec.begin(), Spec.end(),
                  [](unsigned char C) { return std::isdigit(C); }))
    return deviceByIndex(Spec, Dir);
  std::string Want = lowered(Spec);
  std::vector<PaDeviceIndex> Exact, Partial, Candidates;
  for (PaDeviceIndex D = 0, N = Pa_GetDeviceCount(); D < N; ++D) {
    if (channelsOf(D, Dir) <= 0 ||
        (OnlyApi && Pa_GetDeviceInfo(D)->hostApi != Api))
      continue;
    Candidates.push_back(D);
    std::string Name = lowered(Pa_GetDeviceInfo(D)->name);
    if (Name == Want)
      Exact.push_back(D);
    else if (Name.find(Want) != std::string::npos)
      Partial.push_back(D);
  }
  std::vector<PaDeviceIndex> &Matches = Exact.empty() ? Partial : Exact;
  if (Matches.size() == 1)
    return Matches[0];
  if (Matches.size() > 1)
    return fail(
        message<Msg::DeviceAmbiguous>(DirName, Spec, deviceList(Matches)));
  if (Candidates.empty())
    return fail(message<Msg::NoDevicesOfKind>(DirName, Spec));
  return fail(
      message<Msg::NoSuchDevice>(DirName, Spec, deviceList(Candidates)));
}

/// The device for `Dir` that `O` names, looked up as StreamOptions says.
static Result<PaDeviceIndex> chooseDevice(const StreamOptions &O,
                                          PaHostApiIndex Api,
                                          const std::string &Spec,
                                          Direction Dir) {
  return findDevice(Api, Spec, Dir, /*OnlyApi=*/!O.HostApi.empty());
}

Result<double> defaultSampleRate(const StreamOptions &O) {
  auto Api = findHostApi(O.HostApi);
  if (!Api)
    return fail(Api.error());
  std::string OutSpec =
      !O.OutputDevice.empty() ? O.OutputDevice : O.InputDevice;
  auto Out = chooseDevice(O, *Api, OutSpec, Direction::Output);
  if (Out)
    return Pa_GetDeviceInfo(*Out)->defaultSampleRate;
  auto In = chooseDevice(O, *Api, O.InputDevice, Direction::Input);
  if (In)
    return Pa_GetDeviceInfo(*In)->defaultSampleRate;
  return fail(Out.error());
}

static std::string deviceLine(PaDeviceIndex D) {
  const PaDeviceInfo *Info = Pa_GetDeviceInfo(D);
  const PaHostApiInfo *A = Pa_GetHostApiInfo(Info->hostApi);
  // Marks as sounddevice's query_devices(): '>' default input, '<' default
  // output, '*' both; the host API's own defaults count too.
  bool In = D == Pa_GetDefaultInputDevice() || D == A->defaultInputDevice;
  bool Out = D == Pa_GetDefaultOutputDevice() || D == A->defaultOutputDevice;
  char Mark = In && Out ? '*' : In ? '>' : Out ? '<' : ' ';
  char Line[512];
  std::snprintf(
      Line, sizeof Line,
      "%c %3d %s, %s (%d in, %d out), %s Hz, latency in %.1f/%.1f "
      "ms, out %.1f/%.1f ms (low/high)\n",
      Mark, D, Info->name, A->name, Info->maxInputChannels,
      Info->maxOutputChannels, formatNumber(Info->defaultSampleRate).c_str(),
      Info->defaultLowInputLatency * 1e3, Info->defaultHighInputLatency * 1e3,
      Info->defaultLowOutputLatency * 1e3,
      Info->defaultHighOutputLatency * 1e3);
  return Line;
}

std::string listDevices() {
  if (Pa_GetDeviceCount() <= 0)
    return noDeviceAdvice() + "\n";
  std::string Text;
  for (PaHostApiIndex Api = 0, N = Pa_GetHostApiCount(); Api < N; ++Api) {
    const PaHostApiInfo *A = Pa_GetHostApiInfo(Api);
    Text += std::string(A->name) +
            (Api == Pa_GetDefaultHostApi() ? " (default host API)" : "") +
            ": " + std::to_string(A->deviceCount) + " device" +
            (A->deviceCount == 1 ? "" : "s") + "\n";
  }
  Text += "\n";
  for (PaDeviceIndex D = 0, N = Pa_GetDeviceCount(); D < N; ++D)
    Text += deviceLine(D);
  return Text;
}

//===-- Stream ------------------------------------------------------------===//

/// Stream parameters for one direction, checking the device's channels.
static Result<PaStreamParameters> directionParameters(const StreamOptions &O,
                                                      PaHostApiIndex Api,
                                                      Direction Dir,
                                                      unsigned Channels) {
  const std::string &Spec =
      Dir == Direction::Input ? O.InputDevice : O.OutputDevice;
  auto Device = chooseDevice(O, Api, Spec, Dir);
  if (!Device)
    return fail(Device.error());
  const PaDeviceInfo *Info = Pa_GetDeviceInfo(*Device);
  int Has = channelsOf(*Device, Dir);
  if (Has < int(Channels))
    return fail(message<Msg::TooFewChannels>(
        directionName(Dir), deviceLabel(*Device), Has, Has == 1 ? "" : "s",
        O.Need + (O.Mapped ? " with " + spellOption("map") : ""), Channels));
  PaStreamParameters P = {};
  P.device = *Device;
  P.channelCount = int(Channels);
  P.sampleFormat = paFloat32; // interleaved, as the ABI says
  const bool In = Dir == Direction::Input;
  P.suggestedLatency = O.HighLatency   ? (In ? Info->defaultHighInputLatency
                                             : Info->defaultHighOutputLatency)
                       : O.Latency > 0 ? O.Latency
                                       : (In ? Info->defaultLowInputLatency
                                             : Info->defaultLowOutputLatency);
  return P;
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
  return Ok.empty() ? message<Msg::NoUsualRates>() : joinNames(Ok) + " Hz";
}

/// Turns the common failures (another rate, too many channels) into advice.
static Result<void> checkFormat(const PaStreamParameters *In,
                                const PaStreamParameters *Out, double Rate,
                                const std::string &ApiName) {
  const PaDeviceInfo *Main = Pa_GetDeviceInfo(Out ? Out->device : In->device);
  PaError Check = Pa_IsFormatSupported(In, Out, Rate);
  if (Check == paInvalidSampleRate)
    return fail(message<Msg::UnsupportedRate>(ApiName, Main->name, Rate,
                                              supportedRates(In, Out),
                                              Main->defaultSampleRate));
  if (Check == paInvalidChannelCount)
    return fail(message<Msg::UnsupportedChannels>(
        ApiName, Main->name, In ? In->channelCount : 0,
        Out ? Out->channelCount : 0, Main->maxInputChannels,
        Main->maxOutputChannels));
  if (Check != paFormatIsSupported)
    return fail(message<Msg::CannotOpenStream>(ApiName, Main->name,
                                               paErrorText(Check)));
  return {};
}

Result<Stream> Stream::openWithCallback(unsigned Inputs, unsigned Outputs,
                                        double SampleRate,
                                        PaStreamCallback *Callback,
                                        void *UserData,
                                        const StreamOptions &Options) {
  if (Inputs == 0 && Outputs == 0)
    return fail(message<Msg::StreamWithoutChannels>());
  auto Api = findHostApi(Options.HostApi);
  if (!Api)
    return fail(Api.error());
  PaStreamParameters In = {}, Out = {};
  if (Inputs) {
    auto P = directionParameters(Options, *Api, Direction::Input, Inputs);
    if (!P)
      return fail(P.error());
    In = *P;
  }
  if (Outputs) {
    auto P = directionParameters(Options, *Api, Direction::Output, Outputs);
    if (!P)
      return fail(P.error());
    Out = *P;
  }
  if (Inputs && Outputs &&
      Pa_GetDeviceInfo(In.device)->hostApi !=
          Pa_GetDeviceInfo(Out.device)->hostApi)
    return fail(message<Msg::DifferentHostApis>(deviceLabel(In.device),
                                                deviceLabel(Out.device)));
  const PaStreamParameters *InPtr = Inputs ? &In : nullptr;
  const PaStreamParameters *OutPtr = Outputs ? &Out : nullptr;
  const PaDeviceInfo *Main = Pa_GetDeviceInfo(Outputs ? Out.device : In.device);
  StreamInfo Info;
  Info.HostApi = Pa_GetHostApiInfo(Main->hostApi)->name;
  Info.Inputs = Inputs;
  Info.Outputs = Outputs;
  if (Inputs)
    Info.InputDevice = Pa_GetDeviceInfo(In.device)->name;
  if (Outputs)
    Info.OutputDevice = Pa_GetDeviceInfo(Out.device)->name;
  if (auto Ok = checkFormat(InPtr, OutPtr, SampleRate, Info.HostApi); !Ok)
    return fail(Ok.error());

  PaStream *Handle = nullptr;
  PaError Error =
      Pa_OpenStream(&Handle, InPtr, OutPtr, SampleRate,
                    Options.FramesPerBuffer ? Options.FramesPerBuffer
                                            : paFramesPerBufferUnspecified,
                    paNoFlag, Callback, UserData);
  if (Error != paNoError)
    return fail(message<Msg::CannotOpenStream>(Info.HostApi, Main->name,
                                               paErrorText(Error)));
  Info.SampleRate = SampleRate;
  if (const PaStreamInfo *Opened = Pa_GetStreamInfo(Handle)) {
    Info.SampleRate = Opened->sampleRate;
    Info.InputLatency = Opened->inputLatency;
    Info.OutputLatency = Opened->outputLatency;
  }
  return Stream(Handle, std::move(Info));
}

Result<Stream> Stream::open(Instance &I, const StreamOptions &Options) {
  const DspjitKernel &K = I.kernel();
  if constexpr (RealtimeChecked) {
    // A bare kernel leaves no frame of ours on the audio thread to mark as
    // real-time, so RTSan builds run it inside one (runtime/Realtime.h).
    auto Frame =
        std::make_unique<RealtimeFrame>(RealtimeFrame{K.process, I.data()});
    auto *Callback =
        reinterpret_cast<PaStreamCallback *>(&RealtimeFrame::callback);
    auto S = openWithCallback(K.inputs, K.outputs, I.sampleRate(), Callback,
                              Frame.get(), Options);
    if (S)
      S->Frame = std::move(Frame);
    return S;
  }
  // Sound by the static_asserts at the top of this file: the two function
  // types differ only in the name of a layout-identical struct.
  auto *Callback = reinterpret_cast<PaStreamCallback *>(K.process);
  return openWithCallback(K.inputs, K.outputs, I.sampleRate(), Callback,
                          I.data(), Options);
}

Stream::Stream(Stream &&Other) noexcept
    : Handle(std::exchange(Other.Handle, nullptr)), Info(std::move(Other.Info)),
      Frame(std::move(Other.Frame)), Started(Other.Started) {}

Stream &Stream::operator=(Stream &&Other) noexcept {
  if (this != &Other) {
    (void)close();
    Handle = std::exchange(Other.Handle, nullptr);
    Info = std::move(Other.Info);
    Frame = std::move(Other.Frame);
    Started = Other.Started;
  }
  return *this;
}

Stream::~Stream() { (void)close(); }

Result<void> Stream::start() {
  if (!Handle)
    return fail(message<Msg::CannotStartClosedStream>());
  if (PaError Error = Pa_StartStream(Handle); Error != paNoError)
    return fail(message<Msg::CannotStartStream>(paErrorText(Error)));
  Started = true;
  return {};
}

Result<void> Stream::stop() {
  if (!Handle || Pa_IsStreamStopped(Handle) == 1)
    return {};
  if (PaError Error = Pa_StopStream(Handle); Error != paNoError)
    return fail(message<Msg::CannotStopStream>(paErrorText(Error)));
  return {};
}

Result<void> Stream::abort() {
  if (!Handle || Pa_IsStreamStopped(Handle) == 1)
    return {};
  if (PaError Error = Pa_AbortStream(Handle); Error != paNoError)
    return fail(message<Msg::CannotAbortStream>(paErrorText(Error)));
  return {};
}

Result<void> Stream::close() {
  if (!Handle)
    return {};
  Result<void> Stopped = stop();
  PaError Error = Pa_CloseStream(std::exchange(Handle, nullptr));
  if (!Stopped)
    return Stopped;
  if (Error != paNoError)
    return fail(message<Msg::CannotCloseStream>(paErrorText(Error)));
  return {};
}

bool Stream::isActive() const {
  return Handle && Pa_IsStreamActive(Handle) == 1;
}

bool Stream::hasEnded() const {
  return Handle && Started && Pa_IsStreamActive(Handle) == 0;
}

double Stream::cpuLoad() const {
  return Handle ? Pa_GetStreamCpuLoad(Handle) : 0;
}

} // namespace dspjit
