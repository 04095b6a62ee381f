//===- runtime/AudioSource.h - Audio pulled block by block ------*- C++ -*-===//
//
// A render of a two-hour file must not hold two hours of samples: it pulls
// its input a block at a time from a source -- a file being read
// (AudioFileReader), the same resampled to the render's rate
// (ResamplingSource), or samples already in memory (MemorySource, for tests
// and the Python module). Its memory is one block, whatever the length.
//
// A source that ends before it expected to (a file cut short, a damaged
// one) does not fail the read: it gives what it has, ends, and says what
// went wrong in problem(), so that a render keeps what could be read and
// still reports the fault.
//
// Thread contract: a source is used by one thread at a time; reading does
// file I/O, so never on the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_AUDIOSOURCE_H
#define DSPJIT_RUNTIME_AUDIOSOURCE_H

#include <algorithm>
#include <cstdint>
#include <string>

namespace dspjit {

class AudioSource {
public:
  virtual ~AudioSource() = default;

  virtual unsigned channels() const = 0;
  virtual double sampleRate() const = 0;
  /// How many frames it expects to give in all (a file's header says so),
  /// or 0 when that is not known. The reads may give fewer (problem()).
  virtual uint64_t expectedFrames() const = 0;
  /// Reads up to `Frames` interleaved frames into `Out` and returns how
  /// many it gave: 0 only at the end, and every read after it gives 0.
  virtual uint64_t read(float *Out, uint64_t Frames) = 0;
  /// Once read() gave 0: why the audio ended early or could not all be
  /// read ("in.wav is truncated: ..."), or "" when it ended as expected.
  virtual std::string problem() const = 0;
};

/// Interleaved samples already in memory, borrowed while it is read.
class MemorySource final : public AudioSource {
public:
  MemorySource(const float *Samples, uint64_t Frames, unsigned Channels,
               double SampleRate)
      : Samples(Samples), Frames(Frames), Channels(Channels), Rate(SampleRate) {
  }

  unsigned channels() const override { return Channels; }
  double sampleRate() const override { return Rate; }
  uint64_t expectedFrames() const override { return Frames; }
  uint64_t read(float *Out, uint64_t Wanted) override {
    uint64_t N = std::min(Wanted, Frames - Done);
    std::copy_n(Samples + Done * Channels, N * Channels, Out);
    Done += N;
    return N;
  }
  std::string problem() const override { return ""; }

private:
  const float *Samples;
  uint64_t Frames;
  unsigned Channels;
  double Rate;
  uint64_t Done = 0;
};

} // namespace dspjit

#endif
