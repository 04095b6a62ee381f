//===- analysis/Fft.h - The real FFT every picture of a script uses -*- C++ -*-===//
//
// Responses (`dspjit plot`), spectrograms and the web panel's spectrum all
// take the discrete Fourier transform of real signals. This is FFTW's
// real-to-complex transform (Debian libfftw3-dev) behind one small class, in
// double precision so that a measured response is exact to far better than
// the 0.05 dB its tests ask for.
//
//   analysis::RealFft F(4096);
//   std::copy(Signal.begin(), Signal.end(), F.input());  // 4096 samples
//   F.run();
//   std::complex<double> Bin = F.output()[K];            // K <= 2048
//
// Thread contract: a RealFft is used by one thread at a time; several may
// run at once on different threads. Creating and destroying one is safe
// from any thread (FFTW's planner is not, so they take a process-wide
// lock), but allocates: never on the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_ANALYSIS_FFT_H
#define DSPJIT_ANALYSIS_FFT_H

#include <complex>
#include <cstddef>
#include <vector>

namespace dspjit::analysis {

class RealFft {
public:
  /// A transform of `Size` real samples (any size >= 2; powers of two are
  /// fastest) into Size / 2 + 1 bins.
  explicit RealFft(size_t Size);
  ~RealFft();
  RealFft(const RealFft &) = delete;
  RealFft &operator=(const RealFft &) = delete;

  size_t size() const { return N; }
  size_t bins() const { return N / 2 + 1; }
  /// The Size samples to transform; run() leaves them unchanged.
  double *input() { return In; }
  /// Bin K is frequency K * rate / Size, unnormalized (a full-scale
  /// sine of Size samples on a bin gives magnitude Size / 2).
  const std::complex<double> *output() const {
    return reinterpret_cast<const std::complex<double> *>(Out);
  }
  void run();

private:
  size_t N;
  double *In;
  double (*Out)[2];
  void *Plan;
};

/// The periodic Hann window of `Size` samples, and its coherent gain (the
/// mean of the window: a windowed sine's bin is scaled by it).
std::vector<double> hann(size_t Size);

} // namespace dspjit::analysis

#endif
