//===- tests/support/Noise.h - A test signal that survives every format -*- C++ -*-===//
//
// Noise for tests that compare what went in with what came out of a live
// session: deterministic, different on each channel, and exact in float
// (multiples of 2^-16 in [-0.5, 0.5)), so a WAV file, a ring and a wire
// kernel all carry it bit for bit.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_NOISE_H
#define DSPJIT_TESTS_SUPPORT_NOISE_H

#include <cstdint>
#include <vector>

namespace dspjit::test {

/// Frames * Channels interleaved samples of noise in [-0.5, 0.5).
inline std::vector<float> noise(uint64_t Frames, unsigned Channels,
                                uint32_t Seed) {
  std::vector<float> S(Frames * Channels);
  uint32_t X = Seed;
  for (float &V : S) {
    X = X * 1664525u + 1013904223u;
    V = float(int(X >> 16) - 32768) / 65536.0f;
  }
  return S;
}

} // namespace dspjit::test

#endif
