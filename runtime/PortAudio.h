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

/// The host API whose name matches `Name`, ignoring case: an exact match,
/// else the only one containing it ("jack", "alsa"). Empty means
/// PortAudio's default host API.
Result<PaHostApiIndex> findHostApi(std::string_view Name);

/// A device of host API `Api` with channels in direction `Dir` whose name
/// matches as above. Empty means the host API's default device for `Dir`.
Result<PaDeviceIndex> findDevice(PaHostApiIndex Api, std::string_view Name,
                                 Direction Dir);

/// Every host API and its devices, for `dspjit devices`.
std::string describeDevices();

struct StreamOptions {
  /// Host API name (see findHostApi); empty = PortAudio's default.
  std::string HostApi;
  /// Device names (see findDevice); empty = the host API's defaults.
  std::string InputDevice;
  std::string OutputDevice;
  /// Frames per callback; 0 = paFramesPerBufferUnspecified, i.e. whatever
  /// the host delivers, which adds no buffering latency.
  unsigned long FramesPerBuffer = 0;
  /// Suggested latency in seconds; 0 = the device's default low latency.
  double Latency = 0;
};

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

  /// The same with any callback: for tools that must observe each block
  /// (and tests). Prefer open().
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
};

} // namespace dspjit

#endif
