//===- runtime/Resampler.cpp - A source at another rate -------------------===//
//
// libsoxr's streaming interface behind an AudioSource; see Resampler.h.
//
//===----------------------------------------------------------------------===//
#include "runtime/Resampler.h"

#include "runtime/MessageCatalog.h"

#include <soxr.h>

#include <cmath>

namespace dspjit {

/// Input frames read from the source at a time.
static constexpr size_t InBlock = 4096;

Result<std::unique_ptr<ResamplingSource>>
ResamplingSource::create(AudioSource &From, double Rate) {
  soxr_io_spec_t Io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t Quality = soxr_quality_spec(SOXR_VHQ, 0);
  soxr_error_t Error = nullptr;
  soxr_t Soxr = soxr_create(From.sampleRate(), Rate, From.channels(), &Error,
                            &Io, &Quality, nullptr);
  if (Error || !Soxr)
    return fail(message<Msg::CannotResample>(From.sampleRate(), Rate,
                                             Error ? Error : "unknown"));
  return std::unique_ptr<ResamplingSource>(
      new ResamplingSource(From, Rate, Soxr));
}

ResamplingSource::ResamplingSource(AudioSource &From, double Rate, void *Soxr)
    : From(From), Rate(Rate), Soxr(Soxr),
      In(InBlock * size_t(From.channels())) {}

ResamplingSource::~ResamplingSource() {
  soxr_delete(static_cast<soxr_t>(Soxr));
}

const char *ResamplingSource::qualityName() {
  return "libsoxr, very high quality (28-bit)";
}

uint64_t ResamplingSource::convertedLength(uint64_t InFrames) const {
  return uint64_t(std::llround(double(InFrames) * Rate / From.sampleRate()));
}

uint64_t ResamplingSource::expectedFrames() const {
  return convertedLength(From.expectedFrames());
}

uint64_t ResamplingSource::read(float *Out, uint64_t Frames) {
  auto *S = static_cast<soxr_t>(Soxr);
  const unsigned Channels = From.channels();
  uint64_t Got = 0;
  while (Got < Frames && !Ended) {
    if (InAt == InFrames && !InputEnded) {
      InAt = 0;
      InFrames = From.read(In.data(), InBlock);
      InputEnded = InFrames == 0;
    }
    size_t Used = 0, Made = 0;
    // After the input's end, a null input flushes what the filter holds.
    const float *Input = InputEnded ? nullptr : In.data() + InAt * Channels;
    soxr_error_t Error =
        soxr_process(S, Input, InFrames - InAt, &Used, Out + Got * Channels,
                     size_t(Frames - Got), &Made);
    InAt += Used;
    Got += Made;
    if (Error || (InputEnded && Made == 0))
      Ended = true;
  }
  return Got;
}

} // namespace dspjit
