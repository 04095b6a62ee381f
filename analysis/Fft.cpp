//===- analysis/Fft.cpp - The real FFT every picture of a script uses -----===//
#include "analysis/Fft.h"

#include <fftw3.h>

#include <cmath>
#include <mutex>
#include <new>
#include <numbers>

namespace dspjit::analysis {

/// FFTW's planner and its allocator's bookkeeping are not thread-safe.
static std::mutex &plannerLock() {
  static std::mutex Lock;
  return Lock;
}

RealFft::RealFft(size_t Size) : N(Size < 2 ? 2 : Size) {
  std::lock_guard<std::mutex> Guard(plannerLock());
  In = fftw_alloc_real(N);
  Out = fftw_alloc_complex(N / 2 + 1);
  if (!In || !Out)
    throw std::bad_alloc();
  // FFTW_ESTIMATE: plans in microseconds without touching the buffers.
  Plan = fftw_plan_dft_r2c_1d(int(N), In, Out, FFTW_ESTIMATE);
  for (size_t I = 0; I < N; ++I)
    In[I] = 0;
}

RealFft::~RealFft() {
  std::lock_guard<std::mutex> Guard(plannerLock());
  fftw_destroy_plan(static_cast<fftw_plan>(Plan));
  fftw_free(In);
  fftw_free(Out);
}

void RealFft::run() { fftw_execute(static_cast<fftw_plan>(Plan)); }

std::vector<double> hann(size_t Size) {
  std::vector<double> W(Size);
  for (size_t I = 0; I < Size; ++I)
    W[I] =
        0.5 - 0.5 * std::cos(2 * std::numbers::pi * double(I) / double(Size));
  return W;
}

} // namespace dspjit::analysis
