//===- runtime/Host.h - A compiled effect running live, with files and stats -*- C++ -*-===//
//
// dspjit::Host runs one compiled kernel on a PortAudio stream (opened with
// runtime/PortAudio.h's Stream and device search), optionally feeds it from
// a file (option `play`) instead of the live input and records what it
// outputs (option `record`), lets any thread set parameters and read meters
// while it runs, swaps in new versions (runtime/HotSwap.h), and times every
// callback (runtime/Stats.h). A live session (session/Session.h: compile,
// watch, reload, stop) is built on it; an application that wants all that
// embeds the session. This is the layer below, for a program that compiles
// and swaps kernels itself, in order (the compiler is not a dependency of
// the runtime, so compiling is the caller's first step):
//
//   PaSession Session = *PaSession::open();              // control thread
//   double Rate = *defaultSampleRate(Options.Devices);   // the device's rate
//   Compiler C({.sampleRate = Rate});
//   std::shared_ptr<Kernel> K = C.compileFile("echo.dsp");
//   auto H = Host::open(K->info(), Options, K);          // keeps K alive
//   (*H)->start();
//   (*H)->setParam("feedback", 0.6);                     // any thread
//   auto Level = (*H)->meter("rms");                     // any thread
//   std::shared_ptr<Kernel> K2 = C.compileFile("echo.dsp"); // edited
//   (*H)->reload(K2, K2->info(), {.FadeFrames = 960});   // control thread
//   (*H)->stop();                                        // control thread
//   std::cout << (*H)->summary().text();
//
// The callback. The script's own compiled function has PortAudio's exact
// callback signature, and HostOptions::Direct hands it to Pa_OpenStream
// unwrapped (as runtime/PortAudio.h's Stream does). By default, though, a
// Host installs a small trampoline around it, because per-callback timing,
// xrun flags, channel mapping and the file rings all need a few
// instructions per callback that the script cannot do:
//
//   read the clock; pull --play input from its ring (or gather mapped input
//   channels); call kernel.process; scatter mapped outputs; push the output
//   to the --record ring; read the clock; record the time and status flags.
//
// The trampoline allocates nothing, takes no lock, never waits and never
// does I/O: rings are lock-free SPSC (runtime/SpscRing.h), scratch buffers
// are allocated when the Host opens, statistics are relaxed atomic stores.
// Its cost is measured on every run and printed in the summary ("the host's
// trampoline adds ... us"): two clock reads (vDSO clock_gettime, ~20 ns
// each) and the copies, well under a microsecond for 64-frame blocks.
//
// Parameters need no ring: a parameter's target is one float that the host
// stores with a relaxed atomic store (the ABI allows it at any time) and the
// kernel smooths towards.
//
// Files are read and written on two threads of their own, never on the audio
// thread. A recording's header is finalized on every way out: stop(), the
// destructor, and finalizeRecordingNow() (for a second Ctrl-C). Until then
// it survives the process's death by any means (SIGKILL, the OOM killer, a
// power cut) but for its last fraction of a second: the writer thread
// empties the ring every 20 ms, and the file keeps its header up to date
// and syncs itself to the disk (runtime/AudioFile.h, WriteCadence).
//
// Ownership and order: a PaSession must be open for the Host's lifetime.
// The Host holds each kernel's owner (KeepAlive, reload's Code) for as long
// as the audio thread may run that kernel.
// stop() and the destructor stop the stream before anything it uses is
// freed.
//
// Thread contracts are on each function. "Control thread" means the thread
// that opened the Host; "any thread" includes OSC and console threads but
// never the audio thread, which only ever runs the callback.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_HOST_H
#define DSPJIT_RUNTIME_HOST_H

#include "runtime/AudioFile.h"
#include "runtime/HotSwap.h"
#include "runtime/Instance.h"
#include "runtime/PortAudio.h"
#include "runtime/Realtime.h"
#include "runtime/Result.h"
#include "runtime/SpscRing.h"
#include "runtime/Stats.h"

#include <portaudio.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace dspjit {

struct HostOptions {
  /// Host API, devices and latency (runtime/PortAudio.h: the one device
  /// search). FramesPerBuffer below overrides Devices.FramesPerBuffer.
  StreamOptions Devices;
  /// Frames per buffer; 0 lets PortAudio choose (for JACK: its period).
  unsigned long FramesPerBuffer = 0;
  /// Device channel (1-based) of each script channel, for inputs and
  /// outputs alike (option `map`). Empty: script channel i is device
  /// channel i + 1.
  std::vector<unsigned> Map;
  /// Feed this file to the kernel instead of the live input (option
  /// `play`); from its start again at its end with Loop.
  std::string PlayPath;
  bool Loop = false;
  /// Record the kernel's output to this file (option `record`).
  std::string RecordPath;
  SampleFormat RecordFormat = SampleFormat::Float32;
  /// Dither of a 16- or 24-bit recording, added by the writer thread (never
  /// the audio thread) as it quantizes.
  Dither RecordDither = Dither::Tpdf;
  /// Stop at the first xrun (see stopReason()).
  bool FatalXruns = false;
  /// Hand kernel.process to PortAudio unwrapped: no statistics beyond the
  /// instance's counters, and no files or mapping.
  bool Direct = false;
  /// Crossfade of reloads and of resetState(), in seconds.
  double CrossfadeSeconds = 0.02;
  /// A copy of the output for one monitor on another thread (the web
  /// panel's scope and spectrum): a lock-free ring of this many seconds
  /// that the callback fills and readMonitor() empties; 0: none.
  double MonitorSeconds = 0;
};

/// Why a running Host wants to stop (or stopped).
enum class StopReason {
  None,        ///< still running
  Requested,   ///< requestStop() (Ctrl-C, `quit`, OSC /quit)
  PlayEnded,   ///< every frame of --play was processed
  FatalXrun,   ///< an xrun with FatalXruns; see fatalXrun()
  StreamEnded, ///< PortAudio stopped the stream (e.g. the JACK server quit)
  RecordFailed ///< the --record file could not be written
};

class Host {
public:
  /// Checks everything that can be checked before audio runs -- devices,
  /// channels, rate, files -- creates the instance, opens the stream (not
  /// started) and, with --play, starts the reader and fills its ring.
  /// `KeepAlive` is held until the Host is gone (e.g. the Kernel).
  /// Thread: control thread (allocates, does I/O).
  static Result<std::unique_ptr<Host>>
  open(const DspjitKernel &Kernel, const HostOptions &Options,
       std::shared_ptr<const void> KeepAlive = {});

  /// Everything open() does but the stream: a Host with no device, whose
  /// callback() nothing calls but its owner, with buffers of its own, as a
  /// stream would (one thread at a time). The surfaces' fuzzers and tests
  /// drive a real bus, versions, files and timing this way on machines
  /// without audio. start() only marks it started; Devices, Map's device
  /// side and Direct are not used (Direct is refused).
  /// Thread: control thread (allocates, does I/O).
  static Result<std::unique_ptr<Host>>
  openOffline(const DspjitKernel &Kernel, const HostOptions &Options,
              std::shared_ptr<const void> KeepAlive = {});

  /// stop(), ignoring its errors.
  ~Host();
  Host(const Host &) = delete;
  Host &operator=(const Host &) = delete;

  /// Thread: control thread.
  Result<void> start();

  /// Stops the stream, drains and finalizes the recording, joins the file
  /// threads and closes the stream. Idempotent. Fails when the recording
  /// could not be written completely. Thread: control thread.
  Result<void> stop();

  /// Asks the control thread's loop to stop (sets a flag).
  /// Thread: any, including signal handlers and the audio thread.
  void requestStop() { Requested.store(true, std::memory_order_relaxed); }

  /// Why the session should stop, or None. Thread: any.
  StopReason stopReason() const;
  /// The first xrun kind seen with FatalXruns. Thread: any.
  XrunKind fatalXrun() const;
  /// Describes stopReason() for the user ("end of in.wav").
  std::string stopMessage() const;

  /// Frames written to the --record file so far. Thread: control thread.
  uint64_t recordedFrames() const;

  /// Closes the recording now with what it has, even while stop() waits
  /// elsewhere for something else; for a second Ctrl-C. Thread: any.
  void finalizeRecordingNow();

  /// Sets a parameter's target (relaxed atomic store; clamped, with a
  /// message) on every version that runs, and keeps it as the user's value
  /// across reloads. Thread: any.
  ParamUpdate setParam(std::string_view Name, float Value);
  /// Like setParam, and the smoothed value too, before start() (`--set`).
  /// Thread: control thread, before start().
  ParamUpdate setParamImmediate(std::string_view Name, float Value);
  /// Every parameter back to its default target; the user's values are
  /// forgotten. Thread: any.
  void resetParams();
  /// A MIDI channel message for an instrument's voices, taken at the next
  /// block (HotSwap::sendMidi). Thread: one producer thread at a time.
  bool sendMidi(const ChannelMessage &M) { return Swap->sendMidi(M); }
  HotSwap::VoiceCounts voiceCounts() const { return Swap->voiceCounts(); }
  uint64_t midiDropped() const { return Swap->midiDropped(); }
  /// Reads a meter's lanes from the version playing. Thread: any.
  Result<std::vector<float>> meter(std::string_view Name) const {
    return instance()->meter(Name);
  }

  /// The instance of the version playing, for its parameters, meters and
  /// counters; holding the pointer keeps it alive across reloads.
  /// Thread: any, within Instance's own contracts.
  std::shared_ptr<Instance> instance() const;

  /// Hot reload: replaces the running kernel by `Kernel` (kept alive by
  /// `Code`) at the audio thread's next block boundary, with the state
  /// take-over and crossfade of runtime/HotSwap.h. Waits (up to a second)
  /// while a previous reload is still being picked up. Returns the new
  /// version, whose LiveAtNs tells when it first ran; on failure (another
  /// io, a direct stream) the running version is untouched.
  /// Thread: any but the audio thread (allocates); reload, resetState and
  /// collect are serialized by a lock the audio thread never takes.
  Result<std::shared_ptr<KernelVersion>>
  reload(std::shared_ptr<const void> Code, const DspjitKernel &Kernel,
         const SwapOptions &Options, SwapReport *Report = nullptr);
  /// Replaces the playing version by a fresh instance of the same kernel
  /// (state and delays from their initial values, the user's parameter
  /// values kept), crossfaded: e.g. after state went non-finite.
  /// Thread: any but the audio thread.
  Result<void> resetState();
  /// Frames of crossfade for reloads (HostOptions::CrossfadeSeconds).
  uint32_t crossfadeFrames() const;

  /// Frees versions the audio thread has let go of. reload() does it too;
  /// call it now and then. Thread: any but the audio thread.
  void collect() {
    std::lock_guard<std::mutex> Guard(SwapLock);
    if (Swap)
      Swap->collect();
  }

  /// Timing so far, with the file and non-finite counters. Thread: any.
  TimingSummary summary() const;
  /// PortAudio's CPU load estimate. Thread: any.
  double cpuLoad() const;
  /// Callbacks by processing time as a share of the deadline, in buckets
  /// of 5% and one over the deadline (CallbackStats::shareBuckets).
  /// Thread: any.
  std::array<uint64_t, CallbackStats::ShareBuckets> shareBuckets() const {
    return Stats.shareBuckets();
  }
  /// Moves up to `MaxFrames` frames of the output (interleaved, outputs()
  /// channels) that the callback copied since the last call into `Out`,
  /// oldest first; returns the frames moved. When the reader falls more
  /// than MonitorSeconds behind, the callback drops the newest frames (the
  /// audio never waits). 0 without HostOptions::MonitorSeconds.
  /// Thread: one reader thread at a time, never the audio thread.
  size_t readMonitor(float *Out, size_t MaxFrames);
  /// The kernel's output channels (those of the monitor).
  unsigned outputs() const { return KernelOut; }

  /// What was opened, for the user. Thread: any.
  const std::string &description() const { return Description; }
  double sampleRate() const { return Rate; }
  unsigned long framesPerBuffer() const { return Options.FramesPerBuffer; }
  /// Reported stream latencies in seconds.
  double inputLatency() const { return Audio ? Audio->info().InputLatency : 0; }
  double outputLatency() const {
    return Audio ? Audio->info().OutputLatency : 0;
  }

  /// The callback PortAudio calls; public so that tests can drive it
  /// offline to measure the trampoline.
  static int callback(const void *Input, void *Output, unsigned long Frames,
                      const PaStreamCallbackTimeInfo *Time,
                      PaStreamCallbackFlags Flags, void *Self) DSPJIT_REALTIME;

private:
  Host(double Rate, const HostOptions &Options);
  /// What open() and openOffline() share: every check, the instance, the
  /// scratch buffers, the versions and the files (not started).
  static Result<std::unique_ptr<Host>>
  prepare(const DspjitKernel &Kernel, const HostOptions &Options,
          std::shared_ptr<const void> KeepAlive);
  struct Files;
  Result<void> openFiles(const DspjitKernel &Kernel, const std::string &Script);
  Result<void> openStream(const DspjitKernel &Kernel,
                          const std::string &Script);
  std::string describe(const DspjitKernel &Kernel) const;
  void startFiles(unsigned Inputs);
  // The trampoline's steps (see callback()).
  const float *gatherInput(const float *DevIn, unsigned long Done,
                           unsigned long N,
                           unsigned long &RecordFrames) DSPJIT_REALTIME;
  void scatterOutput(const float *KOut, float *DevOut, unsigned long Done,
                     unsigned long N, bool Scatter,
                     unsigned long RecordFrames) DSPJIT_REALTIME;

  double Rate;
  /// The versions of the kernel; the first is the one open() was given.
  std::unique_ptr<HotSwap> Swap;
  /// Serializes the control side of Swap: the reloader's compile threads,
  /// the console's `reset state`. Never taken by the audio thread.
  mutable std::mutex SwapLock;
  Result<std::shared_ptr<KernelVersion>>
  reloadLocked(std::shared_ptr<const void> Code, const DspjitKernel &Kernel,
               const SwapOptions &Options, SwapReport *Report);
  HostOptions Options;
  std::optional<Stream> Audio; ///< runtime/PortAudio.h's RAII stream
  bool Started = false, Stopped = false;
  std::string Description;

  // What the trampoline needs, all sized in open().
  unsigned KernelIn = 0, KernelOut = 0, DeviceIn = 0, DeviceOut = 0;
  std::vector<unsigned> InMap, OutMap; ///< 0-based device channels
  bool MapInput = false, MapOutput = false;
  unsigned long MaxChunk = 4096;
  std::vector<float> InScratch, OutScratch;
  std::unique_ptr<Files> IO;
  std::unique_ptr<SpscRing<float>> Monitor; ///< HostOptions::MonitorSeconds
  std::mutex MonitorReader; ///< one reader at a time; never the audio thread
  CallbackStats Stats;
  RealtimeFrame DirectFrame; ///< --direct in RealtimeSanitizer builds

  std::atomic<bool> Requested{false};
  std::atomic<bool> PlayFinished{false};
  std::atomic<int> FatalKind{-1};
  std::atomic<uint64_t> PlayUnderruns{0}, RecordDropped{0};
};

} // namespace dspjit

#endif
