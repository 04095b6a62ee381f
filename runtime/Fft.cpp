//===- runtime/Fft.cpp - FFTW plans shared by the whole process -----------===//
//
// Why: see Fft.h. One map from size to plans, behind one mutex; the plans
// are leaked on purpose (an instance on the audio thread may still use one
// while static destructors run at exit).
//
//===----------------------------------------------------------------------===//
#include "runtime/Fft.h"

#include <fftw3.h>

#include <cassert>
#include <cstring>
#include <map>
#include <mutex>

namespace dspjit {

FftPlans fftPlans(unsigned N) {
  static std::mutex Lock;
  static auto *Plans = new std::map<unsigned, FftPlans>();
  std::lock_guard<std::mutex> Guard(Lock);
  auto It = Plans->find(N);
  if (It != Plans->end())
    return It->second;
  // Planned on fftwf_malloc'd arrays: executed later on arrays of the same
  // (64-byte) alignment.
  float *Real = fftwf_alloc_real(N);
  fftwf_complex *Complex = fftwf_alloc_complex(N / 2 + 1);
  FftPlans P;
  P.Forward = fftwf_plan_dft_r2c_1d(int(N), Real, Complex, FFTW_ESTIMATE);
  P.Inverse = fftwf_plan_dft_c2r_1d(int(N), Complex, Real, FFTW_ESTIMATE);
  fftwf_free(Real);
  fftwf_free(Complex);
  assert(P.Forward && P.Inverse && "FFTW_ESTIMATE always makes a plan");
  (*Plans)[N] = P;
  return P;
}

void fftForward(const FftPlans &Plans, float *In, float *Out) {
  fftwf_execute_dft_r2c(static_cast<fftwf_plan>(Plans.Forward), In,
                        reinterpret_cast<fftwf_complex *>(Out));
}

void fftInverse(const FftPlans &Plans, float *In, float *Out) {
  fftwf_execute_dft_c2r(static_cast<fftwf_plan>(Plans.Inverse),
                        reinterpret_cast<fftwf_complex *>(In), Out);
}

FftBuffer::FftBuffer(size_t Floats) : Data(fftwf_alloc_real(Floats)) {
  std::memset(Data, 0, Floats * sizeof(float));
}

FftBuffer::~FftBuffer() { fftwf_free(Data); }

} // namespace dspjit
