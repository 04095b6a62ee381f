//===- runtime/Resampler.h - A source at another rate -----------*- C++ -*-===//
//
// A file at 44.1 kHz through a script written for 48 kHz: the render reads
// the file through a ResamplingSource, which converts it block by block
// with libsoxr, so that memory stays one block whatever the file's length.
//
// Quality: libsoxr's "very high quality" (SOXR_VHQ: 28-bit precision, a
// linear-phase filter passing 91.1% of the lower Nyquist frequency). Its
// error is of the order of float32's own rounding: a 1 kHz sine through
// 44.1 -> 48 -> 44.1 kHz keeps 155 dB of SNR (measured by
// Resampler.ASineThrough441To48To441KeepsOver100dB).
// The filter's delay is compensated: frame 0 of the output is time 0 of
// the input, and the output's length is the input's, converted (rounded).
//
// Thread contract: as any AudioSource; creating one allocates.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_RESAMPLER_H
#define DSPJIT_RUNTIME_RESAMPLER_H

#include "runtime/AudioSource.h"
#include "runtime/Result.h"

#include <memory>
#include <vector>

namespace dspjit {

class ResamplingSource final : public AudioSource {
public:
  /// Reads `From` and gives its audio at `Rate`. Fails (with libsoxr's
  /// reason) for rates it cannot convert.
  static Result<std::unique_ptr<ResamplingSource>> create(AudioSource &From,
                                                          double Rate);
  ~ResamplingSource() override;
  ResamplingSource(const ResamplingSource &) = delete;
  ResamplingSource &operator=(const ResamplingSource &) = delete;

  unsigned channels() const override { return From.channels(); }
  double sampleRate() const override { return Rate; }
  uint64_t expectedFrames() const override;
  uint64_t read(float *Out, uint64_t Frames) override;
  std::string problem() const override { return From.problem(); }

  /// "libsoxr, very high quality (28-bit)", for reports.
  static const char *qualityName();

private:
  ResamplingSource(AudioSource &From, double Rate, void *Soxr);
  /// The output frames that `InFrames` input frames make.
  uint64_t convertedLength(uint64_t InFrames) const;

  AudioSource &From;
  double Rate;
  void *Soxr; ///< soxr_t, kept opaque so that callers need no soxr.h
  std::vector<float> In;
  size_t InAt = 0, InFrames = 0; ///< unread frames: [InAt, InFrames)
  bool InputEnded = false;
  bool Ended = false;
};

} // namespace dspjit

#endif
