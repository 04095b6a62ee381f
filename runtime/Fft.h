//===- runtime/Fft.h - FFTW plans shared by the whole process ---*- C++ -*-===//
//
// Why this file exists: `convolve` (runtime/Convolver.h) transforms blocks
// with FFTW in single precision. FFTW's planner is not thread-safe and may
// allocate and measure, so plans are made here, once per size for the whole
// process, under one lock, and never destroyed: the audio thread only
// executes them (fftwf_execute_dft_r2c/c2r on the instance's own arrays,
// which FFTW allows from any thread at once). Everything in the process that
// plans single-precision FFTW goes through this file (the compiler, when it
// transforms an impulse response, and instances, when they are created);
// analysis/Fft.h's double-precision transforms for plots and the web panel
// are FFTW's other library, with a planner of its own.
//
// Plans are made with FFTW_ESTIMATE: deterministic (the same plan, hence the
// same bits, in every process and run) and immediate; they expect arrays
// aligned as fftwf_malloc aligns them (every array the convolver hands them
// starts on a 64-byte boundary).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_FFT_H
#define DSPJIT_RUNTIME_FFT_H

#include <cstddef>

namespace dspjit {

/// The real transforms of one size N (even): Forward takes N floats to
/// N / 2 + 1 complex values (interleaved), Inverse takes them back to N
/// floats (unnormalized: multiplied by N). Opaque fftwf_plan values.
struct FftPlans {
  void *Forward = nullptr;
  void *Inverse = nullptr;
};

/// The plans of size N, made on the first call for that size.
/// Thread: any but the audio thread (locks, may allocate and plan).
FftPlans fftPlans(unsigned N);

/// out[N/2+1 complex] = FFT(in[N]). In and Out aligned to 64 bytes.
/// Thread: any, including the audio thread (no allocation, no lock).
void fftForward(const FftPlans &Plans, float *In, float *Out);
/// out[N] = N * IFFT(in[N/2+1 complex]); In is overwritten.
/// Thread: any, including the audio thread (no allocation, no lock).
void fftInverse(const FftPlans &Plans, float *In, float *Out);

/// Memory aligned as FFTW wants it, zeroed, and freed on destruction.
class FftBuffer {
public:
  explicit FftBuffer(size_t Floats);
  ~FftBuffer();
  FftBuffer(const FftBuffer &) = delete;
  FftBuffer &operator=(const FftBuffer &) = delete;
  float *data() const { return Data; }

private:
  float *Data;
};

} // namespace dspjit

#endif
