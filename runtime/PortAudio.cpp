//===- runtime/PortAudio.cpp - Live streams whose callback is the kernel --===//
//
// See PortAudio.h. The static_asserts below are the proof that handing the
// kernel's process pointer to Pa_OpenStream is sound.
//
//===----------------------------------------------------------------------===//
#include "runtime/PortAudio.h"

#include "runtime/Messages.h"

#ifdef DSPJIT_HAVE_ALSA
#include <alsa/asoundlib.h>
#endif

#include <algorithm>
#include <cctype>
#include <cstddef>
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
static_assert(std::is_same_v<
              PaStreamCallback *,
              int (*)(const void *, void *, unsigned long,
                      const PaStreamCallbackTimeInfo *, PaStreamCallbackFlags,
                      void *)>);
static_assert(std::is_same_v<
              DspjitProcessFn,
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
    return fail("cannot initialize PortAudio: " + paErrorText(Error));
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

/// Index into Names of the exact (case-insensitive) match, else of the only
/// name containing Wanted; -1 with Matches filled when none or several.
static int matchName(std::string_view Wanted,
                     const std::vector<std::string> &Names,
                     std::vector<std::string> &Matches) {
  std::string Want = lowered(Wanted);
  for (size_t I = 0; I < Names.size(); ++I)
    if (lowered(Names[I]) == Want)
      return static_cast<int>(I);
  int Found = -1;
  for (size_t I = 0; I < Names.size(); ++I)
    if (lowered(Names[I]).find(Want) != std::string::npos) {
      Matches.push_back(Names[I]);
      Found = static_cast<int>(I);
    }
  return Matches.size() == 1 ? Found : -1;
}

static std::string quotedList(const std::vector<std::string> &Names) {
  std::vector<std::string> Quoted;
  for (const std::string &Name : Names)
    Quoted.push_back("'" + Name + "'");
  return joinNames(Quoted);
}

Result<PaHostApiIndex> findHostApi(std::string_view Name) {
  if (Name.empty()) {
    PaHostApiIndex Default = Pa_GetDefaultHostApi();
    if (Default < 0)
      return fail("no default host API: " + paErrorText(Default));
    return Default;
  }
  std::vector<std::string> Names;
  for (PaHostApiIndex I = 0, N = Pa_GetHostApiCount(); I < N; ++I)
    Names.emplace_back(Pa_GetHostApiInfo(I)->name);
  std::vector<std::string> Matches;
  int Found = matchName(Name, Names, Matches);
  if (Found >= 0)
    return static_cast<PaHostApiIndex>(Found);
  if (Matches.size() > 1)
    return fail("host API '" + std::string(Name) + "' is ambiguous: it matches " +
                quotedList(Matches));
  return fail("no host API matches '" + std::string(Name) + "' (available: " +
              quotedList(Names) + ")");
}

static int channelsIn(const PaDeviceInfo &Device, Direction Dir) {
  return Dir == Direction::Input ? Device.maxInputChannels
                                 : Device.maxOutputChannels;
}

static const char *directionName(Direction Dir) {
  return Dir == Direction::Input ? "input" : "output";
}

Result<PaDeviceIndex> findDevice(PaHostApiIndex Api, std::string_view Name,
                                 Direction Dir) {
  const PaHostApiInfo *ApiInfo = Pa_GetHostApiInfo(Api);
  if (!ApiInfo)
    return fail("invalid host API index " + std::to_string(Api));
  if (Name.empty()) {
    PaDeviceIndex Default = Dir == Direction::Input ? ApiInfo->defaultInputDevice
                                                    : ApiInfo->defaultOutputDevice;
    if (Default == paNoDevice)
      return fail(std::string(ApiInfo->name) + " has no default " +
                  directionName(Dir) + " device");
    return Default;
  }

  std::vector<std::string> Names;
  std::vector<PaDeviceIndex> Indices;
  for (int I = 0; I < ApiInfo->deviceCount; ++I) {
    PaDeviceIndex Index = Pa_HostApiDeviceIndexToDeviceIndex(Api, I);
    const PaDeviceInfo *Device = Pa_GetDeviceInfo(Index);
    if (Device && channelsIn(*Device, Dir) > 0) {
      Names.emplace_back(Device->name);
      Indices.push_back(Index);
    }
  }
  std::vector<std::string> Matches;
  int Found = matchName(Name, Names, Matches);
  if (Found >= 0)
    return Indices[Found];
  if (Matches.size() > 1)
    return fail(std::string(directionName(Dir)) + " device '" +
                std::string(Name) + "' is ambiguous in " + ApiInfo->name +
                ": it matches " + quotedList(Matches));
  std::string Message = "no " + std::string(directionName(Dir)) +
                        " device of " + ApiInfo->name + " matches '" +
                        std::string(Name) + "'";
  if (Names.empty())
    return fail(Message + "; it has no " + directionName(Dir) + " devices");
  return fail(Message + " (available: " + quotedList(Names) + ")");
}

std::string describeDevices() {
  std::string Text;
  PaHostApiIndex DefaultApi = Pa_GetDefaultHostApi();
  for (PaHostApiIndex Api = 0, N = Pa_GetHostApiCount(); Api < N; ++Api) {
    const PaHostApiInfo *ApiInfo = Pa_GetHostApiInfo(Api);
    Text += ApiInfo->name;
    if (Api == DefaultApi)
      Text += " (default)";
    Text += "\n";
    if (ApiInfo->deviceCount == 0)
      Text += "  (no devices)\n";
    for (int I = 0; I < ApiInfo->deviceCount; ++I) {
      PaDeviceIndex Index = Pa_HostApiDeviceIndexToDeviceIndex(Api, I);
      const PaDeviceInfo *Device = Pa_GetDeviceInfo(Index);
      Text += "  " + std::string(Device->name) + ": " +
              std::to_string(Device->maxInputChannels) + " in, " +
              std::to_string(Device->maxOutputChannels) + " out, " +
              formatNumber(Device->defaultSampleRate) + " Hz";
      if (Index == ApiInfo->defaultInputDevice)
        Text += " [default input]";
      if (Index == ApiInfo->defaultOutputDevice)
        Text += " [default output]";
      Text += "\n";
    }
  }
  return Text;
}

//===-- Stream ------------------------------------------------------------===//

/// Stream parameters for one direction, checking the device's channels.
static Result<PaStreamParameters>
directionParameters(PaHostApiIndex Api, const std::string &DeviceName,
                    Direction Dir, unsigned Channels, double Latency) {
  auto Device = findDevice(Api, DeviceName, Dir);
  if (!Device)
    return fail(Device.error());
  const PaDeviceInfo *Info = Pa_GetDeviceInfo(*Device);
  if (channelsIn(*Info, Dir) < static_cast<int>(Channels))
    return fail(std::string(directionName(Dir)) + " device '" + Info->name +
                "' has " + std::to_string(channelsIn(*Info, Dir)) + " " +
                directionName(Dir) + " channels but the kernel needs " +
                std::to_string(Channels));
  PaStreamParameters Parameters = {};
  Parameters.device = *Device;
  Parameters.channelCount = static_cast<int>(Channels);
  Parameters.sampleFormat = paFloat32; // interleaved, as the ABI says
  Parameters.suggestedLatency =
      Latency > 0 ? Latency
      : Dir == Direction::Input ? Info->defaultLowInputLatency
                                : Info->defaultLowOutputLatency;
  return Parameters;
}

Result<Stream> Stream::openWithCallback(unsigned Inputs, unsigned Outputs,
                                        double SampleRate,
                                        PaStreamCallback *Callback,
                                        void *UserData,
                                        const StreamOptions &Options) {
  if (Inputs == 0 && Outputs == 0)
    return fail("cannot open a stream with neither inputs nor outputs");
  auto Api = findHostApi(Options.HostApi);
  if (!Api)
    return fail(Api.error());

  StreamInfo Info;
  Info.HostApi = Pa_GetHostApiInfo(*Api)->name;
  Info.Inputs = Inputs;
  Info.Outputs = Outputs;
  PaStreamParameters In = {}, Out = {};
  if (Inputs) {
    auto Parameters = directionParameters(*Api, Options.InputDevice,
                                          Direction::Input, Inputs,
                                          Options.Latency);
    if (!Parameters)
      return fail(Parameters.error());
    In = *Parameters;
    Info.InputDevice = Pa_GetDeviceInfo(In.device)->name;
  }
  if (Outputs) {
    auto Parameters = directionParameters(*Api, Options.OutputDevice,
                                          Direction::Output, Outputs,
                                          Options.Latency);
    if (!Parameters)
      return fail(Parameters.error());
    Out = *Parameters;
    Info.OutputDevice = Pa_GetDeviceInfo(Out.device)->name;
  }
  const PaStreamParameters *InPtr = Inputs ? &In : nullptr;
  const PaStreamParameters *OutPtr = Outputs ? &Out : nullptr;

  // Ask first, to turn the common failure (the device runs at another rate)
  // into advice.
  PaError Error = Pa_IsFormatSupported(InPtr, OutPtr, SampleRate);
  if (Error == paInvalidSampleRate) {
    const PaDeviceInfo *Device = Pa_GetDeviceInfo(Outputs ? Out.device : In.device);
    return fail(Info.HostApi + " device '" + Device->name + "' cannot run at " +
                formatNumber(SampleRate) + " Hz (its default rate is " +
                formatNumber(Device->defaultSampleRate) +
                " Hz); compile the kernel for that rate");
  }
  if (Error != paFormatIsSupported)
    return fail("cannot open a stream on " + Info.HostApi + ": " +
                paErrorText(Error));

  PaStream *Handle = nullptr;
  Error = Pa_OpenStream(&Handle, InPtr, OutPtr, SampleRate,
                        Options.FramesPerBuffer ? Options.FramesPerBuffer
                                                : paFramesPerBufferUnspecified,
                        paNoFlag, Callback, UserData);
  if (Error != paNoError)
    return fail("cannot open a stream on " + Info.HostApi + ": " +
                paErrorText(Error));
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
    auto Frame = std::make_unique<RealtimeFrame>(RealtimeFrame{K.process, I.data()});
    auto *Callback = reinterpret_cast<PaStreamCallback *>(&RealtimeFrame::callback);
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
    : Handle(std::exchange(Other.Handle, nullptr)),
      Info(std::move(Other.Info)), Frame(std::move(Other.Frame)) {}

Stream &Stream::operator=(Stream &&Other) noexcept {
  if (this != &Other) {
    (void)close();
    Handle = std::exchange(Other.Handle, nullptr);
    Info = std::move(Other.Info);
    Frame = std::move(Other.Frame);
  }
  return *this;
}

Stream::~Stream() { (void)close(); }

Result<void> Stream::start() {
  if (!Handle)
    return fail("cannot start a closed stream");
  if (PaError Error = Pa_StartStream(Handle); Error != paNoError)
    return fail("cannot start the stream: " + paErrorText(Error));
  return {};
}

Result<void> Stream::stop() {
  if (!Handle || Pa_IsStreamStopped(Handle) == 1)
    return {};
  if (PaError Error = Pa_StopStream(Handle); Error != paNoError)
    return fail("cannot stop the stream: " + paErrorText(Error));
  return {};
}

Result<void> Stream::abort() {
  if (!Handle || Pa_IsStreamStopped(Handle) == 1)
    return {};
  if (PaError Error = Pa_AbortStream(Handle); Error != paNoError)
    return fail("cannot abort the stream: " + paErrorText(Error));
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
    return fail("cannot close the stream: " + paErrorText(Error));
  return {};
}

bool Stream::isActive() const {
  return Handle && Pa_IsStreamActive(Handle) == 1;
}

double Stream::cpuLoad() const { return Handle ? Pa_GetStreamCpuLoad(Handle) : 0; }

} // namespace dspjit
