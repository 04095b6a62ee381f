//===- runtime/Render.h - Running a kernel offline --------------*- C++ -*-===//
//
// `dspjit render`, golden tests and benchmarks all run a kernel faster than
// real time over a file or a test signal. Rendering calls process() block by
// block exactly as a PortAudio stream would -- same pointers, same
// interleaving, null input for kernels without inputs and null output for
// kernels without outputs -- so an offline render is a faithful preview of a
// live run with the same block size. Only the last block may be shorter.
//
// An input buffer or stream shorter than the render is followed by silence
// (for the tails of reverbs and echoes). Without a length, a render runs as
// long as its input.
//
// A file is rendered as a stream (StreamInput): read, processed and written
// a block at a time, so that its memory does not grow with its length.
//
// Thread contract: render() runs the instance on the calling thread; no
// stream may run the same instance meanwhile. It allocates.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_RENDER_H
#define DSPJIT_RUNTIME_RENDER_H

#include "runtime/AudioFile.h"
#include "runtime/AudioSource.h"
#include "runtime/Instance.h"
#include "runtime/Result.h"
#include "runtime/Signals.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dspjit {

/// Interleaved input already in memory (typically a file that was read).
/// The samples are borrowed for the duration of render().
struct BufferInput {
  const float *Samples = nullptr;
  uint64_t Frames = 0;
  unsigned Channels = 0;
  /// Checked against the instance's rate when non-zero.
  double SampleRate = 0;
  /// Names the input in messages ("in.wav").
  std::string Name = "the input";

  static BufferInput fromAudio(const AudioData &Data, std::string Name) {
    return {Data.Samples.data(), Data.frames(), Data.Channels, Data.SampleRate,
            std::move(Name)};
  }
};

/// Input pulled block by block while rendering (a file being read, maybe
/// resampled). The source is borrowed for the duration of render(); its
/// rate must be the instance's (put a ResamplingSource in front).
struct StreamInput {
  AudioSource *Source = nullptr;
  /// Names the input in messages ("in.wav").
  std::string Name = "the input";
};

/// What feeds the kernel: nothing (only for kernels without inputs), a
/// buffer, a stream, or a generated signal with as many channels as the
/// kernel takes.
using RenderInput =
    std::variant<std::monostate, BufferInput, StreamInput, SignalSpec>;

/// Something to do at an exact frame of a render, before the block that
/// starts there (e.g. publish a new version to a HotSwap: `render --swap`).
struct RenderEvent {
  uint64_t AtFrame = 0;
  std::function<void()> Run;
};

/// The most frames RenderOptions::Sink gets at a time when blocks are
/// shorter: a file writer makes a write(2) of each call, which at 64-frame
/// blocks was most of a long render's time (30 min of mono: 31 s, against
/// 1.6 s with this and the reader's read-ahead). A killed render's file
/// holds its samples up to one such chunk past its last header update.
inline constexpr uint64_t RenderSinkChunkFrames = 1024;

struct RenderOptions {
  /// Frames per process() call, like a stream's frames per buffer.
  unsigned BlockSize = 64;
  /// Frames to render. Defaults to the buffer input's length or, for a
  /// stream, to as many frames as it gives; required for signals and for
  /// kernels without inputs.
  std::optional<uint64_t> Frames;
  /// Names the kernel in messages ("echo.dsp").
  std::string KernelName = "the kernel";
  /// Called now and then (about every 1% of the render and at its end) with
  /// frames done and frames in total (for a stream without a length, the
  /// frames it expects to give; 0 when unknown). Its time is not counted as
  /// process time.
  std::function<void(uint64_t Done, uint64_t Total)> Progress;
  /// When set and true, the render stops before its next block (Ctrl-C);
  /// RenderResult::Stopped says so. Typically set by a signal handler.
  const std::atomic<bool> *Stop = nullptr;
  /// When set, receives the output (Frames * outputs interleaved samples)
  /// instead of RenderResult::Output, e.g. to stream to a file, in chunks
  /// of whole blocks up to RenderSinkChunkFrames (or one block if longer).
  /// A failure stops the render and is returned. Unused for kernels without
  /// outputs.
  std::function<Result<void>(const float *Out, uint64_t Frames)> Sink;
  /// Frames of the output to drop at its start, rendered past the end
  /// instead (the input there is silence), so that a kernel that delays its
  /// output by this much (DspjitKernel::latency_frames) comes out aligned
  /// with its input and as long. RenderResult::Frames counts what is kept.
  uint64_t DropFrames = 0;
  /// Run in AtFrame order; blocks are split so that each runs exactly at
  /// its frame. Events past the end never run.
  std::vector<RenderEvent> Events;
  /// Called before each block with the frame it starts at; returns how many
  /// frames from there on nothing it controls changes, and the block is
  /// split there (AutomationPlayer::apply: parameter curves, frame by
  /// frame while they move).
  std::function<uint64_t(uint64_t AtFrame)> Automate;
};

struct RenderResult {
  /// Interleaved output, Frames * Channels samples (empty with a Sink).
  std::vector<float> Output;
  unsigned Channels = 0;
  /// Frames rendered; fewer than asked only if process() returned non-zero,
  /// which ends a stream too, or the render was stopped (Stopped).
  uint64_t Frames = 0;
  /// RenderOptions::Stop ended the render early.
  bool Stopped = false;
  uint64_t Callbacks = 0;
  /// Wall-clock seconds spent inside process() alone.
  double ProcessSeconds = 0;
  /// Frames / sample rate.
  double AudioSeconds = 0;

  /// How many times faster than real time process() ran (AudioSeconds /
  /// ProcessSeconds): 100 means one second of audio took 10 ms.
  double realTimeFactor() const;
};

/// Checks that `Input` fits a kernel and returns how many frames a render
/// would run, exactly as render() does before running anything (so that a
/// caller can refuse before it creates the output file).
Result<uint64_t> renderLength(const DspjitKernel &Kernel, double Rate,
                              const RenderInput &Input,
                              const RenderOptions &Options);

/// Renders `Input` through `I`. Fails before running anything when the
/// input does not fit the kernel, e.g.
///   "in.wav has 1 channel but echo.dsp expects 2 (io 2 -> 2)".
Result<RenderResult> render(Instance &I, const RenderInput &Input,
                            const RenderOptions &Options = {});

class HotSwap;
/// Renders through a HotSwap: whatever version it runs at each block, with
/// the crossfades and take-overs of a live session (runtime/HotSwap.h).
Result<RenderResult> render(HotSwap &Swap, const RenderInput &Input,
                            const RenderOptions &Options = {});

} // namespace dspjit

#endif
