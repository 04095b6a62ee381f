//===- runtime/PortAudio.h - Live streams whose callback is the kernel -*- C++ -*-===//
//
// The point of dspjit is that the compiled `process` function IS the
// PortAudio callback: no wrapper, no trampoline, no copy. Stream::open hands
// kernel.process to Pa_OpenStream as the PaStreamCallback and the instance
// as its userData. PortAudio.cpp checks at compile time that the ABI's
// DspjitProcessFn has exactly PaStreamCallback's signature. (The one
// exception is the RealtimeSanitizer build, which must put a frame marked
// real-time around the kernel to check it: runtime/Realtime.h.)
//
// Around that: RAII for Pa_Initialize/Pa_Terminate and for streams, choosing
// host APIs and devices by name ("jack" finds "JACK Audio Connection Kit"),
// and messages built from Pa_GetErrorText that say what to do.
//
// Ownership and order: a PaSession must outlive its Streams, and the
// Instance (and the kernel's code) must outlive the Stream running it.
// Destroying a Stream stops it first, so destroy the Stream, then the
// Instance, then the kernel.
//
// Thread contract: everything here is for the control thread. The audio
// thread only ever runs the callback.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_PORTAUDIO_H
#define DSPJIT_RUNTIME_PORTAUDIO_H

#include "runtime/Instance.h"
#include "runtime/Realtime.h"
#include "runtime/Result.h"

#include <portaudio.h>

#include <memory>
#include <string>
#include <string_view>

namespace dspjit {

/// PortAudio initialized for the lifetime of this object. Sessions nest
/// (PortAudio counts them). Host APIs see the environment at the time the
/// first session opens: e.g. set JACK_DEFAULT_SERVER before. ALSA's error
/// messages are silenced while PortAudio probes devices (process-wide, so
/// open sessions while no other thread uses ALSA).
class PaSession {
public:
  static Result<PaSession> open();

  PaSession(PaSession &&Other) noexcept;
  PaSession &operator=(PaSession &&Other) noexcept;
  PaSession(const PaSession &) = delete;
  PaSession &operator=(const PaSession &) = delete;
  ~PaSession();

private:
  PaSession() = default;
  bool Active = false;
};

/// "PortAudio error: <Pa_GetErrorText>", with the host's own text for
/// paUnanticipatedHostError.
std::string paErrorText(PaError Error);

enum class Direction { Input, Output };

/// Where a stream goes and how it is buffered. The one device search of
/// dspjit: Host and Stream both use it.
struct StreamOptions {
  /// Host API by name: an exact match ignoring case, else the only one
  /// containing it ("jack", "alsa"). Empty: JACK when its server runs
  /// (PortAudio lists JACK devices only then), else PortAudio's default.
  std::string HostApi;
  /// Devices by global index ("3") or name (as host APIs; across every
  /// host API unless one was named). Empty: the host API's default.
  std::string InputDevice;
  std::string OutputDevice;
  /// Frames per callback; 0 = paFramesPerBufferUnspecified, i.e. whatever
  /// the host delivers, which adds no buffering latency.
  unsigned long FramesPerBuffer = 0;
  /// Suggested latency: the device's default high latency with
  /// HighLatency, else `Latency` seconds when positive, else its default
  /// low latency.
  bool HighLatency = false;
  double Latency = 0;
  /// Who needs the channels, for messages ("the script (io 2 -> 2)"), and
  /// whether its channels were routed with the `map` option.
  std::string Need = "the kernel";
  bool Mapped = false;
};

/// The host API StreamOptions::HostApi names (see there).
/// Thread: control thread, with a PaSession open.
Result<PaHostApiIndex> findHostApi(std::string_view Name);

/// A device with channels in direction `Dir`, by global index or name;
/// names are looked up in `Api` when `OnlyApi`, else in every host API.
/// Empty: `Api`'s default device for `Dir`. Failures list the candidates.
Result<PaDeviceIndex> findDevice(PaHostApiIndex Api, std::string_view Spec,
                                 Direction Dir, bool OnlyApi = true);

/// The sample rate of the device a stream with these options would use
/// (the output device's, or the input device's when there is no output),
/// to compile a kernel for it. Thread: control thread.
Result<double> defaultSampleRate(const StreamOptions &Options);

/// `dspjit devices`: every host API and device, marked as sounddevice does
/// (`>` default input, `<` default output, `*` both), with channels,
/// default rate and default low/high latencies. Thread: control thread.
std::string listDevices();

/// The message for a machine where PortAudio sees no device at all.
std::string noDeviceAdvice();

/// What a stream was actually opened with.
struct StreamInfo {
  std::string HostApi;
  std::string InputDevice;  ///< Empty for output-only streams.
  std::string OutputDevice; ///< Empty for input-only streams.
  unsigned Inputs = 0, Outputs = 0;
  double SampleRate = 0;
  double InputLatency = 0, OutputLatency = 0; ///< Seconds, as reported.
};

/// One open PortAudio stream. Closed (after stopping) on destruction.
class Stream {
public:
  /// Opens a stream whose callback is `I.kernel().process` itself, with
  /// `I.data()` as userData: duplex for effects, output-only for generators
  /// (no inputs), input-only for analyzers (no outputs). The stream runs at
  /// the instance's rate; a device that cannot is an error that says so.
  /// RealtimeSanitizer builds (DSPJIT_RTSAN) put a RealtimeFrame around the
  /// kernel instead, so that RTSan checks it (runtime/Realtime.h).
  static Result<Stream> open(Instance &I, const StreamOptions &Options = {});

  /// The same with any callback and device channel counts: for a host
  /// that must observe each block (runtime/Host.h's trampoline), and tests.
  static Result<Stream> openWithCallback(unsigned Inputs, unsigned Outputs,
                                         double SampleRate,
                                         PaStreamCallback *Callback,
                                         void *UserData,
                                         const StreamOptions &Options = {});

  Stream(Stream &&Other) noexcept;
  Stream &operator=(Stream &&Other) noexcept;
  Stream(const Stream &) = delete;
  Stream &operator=(const Stream &) = delete;
  ~Stream();

  Result<void> start();
  /// Stops after the buffers already queued have played.
  Result<void> stop();
  /// Stops as soon as possible, dropping queued buffers.
  Result<void> abort();
  /// Stops if needed, then closes. Further calls do nothing.
  Result<void> close();

  bool isActive() const;
  /// Open, started, and no longer running by itself (e.g. the audio server
  /// quit).
  bool hasEnded() const;
  /// PortAudio's estimate of the callback's share of the available time.
  double cpuLoad() const;
  const StreamInfo &info() const { return Info; }

private:
  Stream(PaStream *Handle, StreamInfo Info)
      : Handle(Handle), Info(std::move(Info)) {}

  PaStream *Handle = nullptr;
  StreamInfo Info;
  /// RTSan builds: the frame the callback runs the kernel in. Freed after
  /// the stream is closed.
  std::unique_ptr<RealtimeFrame> Frame;
  bool Started = false;
};

} // namespace dspjit

#endif
