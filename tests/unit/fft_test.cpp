//===- tests/unit/fft_test.cpp - analysis/Fft.h ---------------------------===//
#include "analysis/Fft.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

using dspjit::analysis::RealFft;

TEST(Fft, ASineOnABinHasHalfTheSizeAsMagnitudeThere) {
  RealFft F(1024);
  for (size_t I = 0; I < F.size(); ++I)
    F.input()[I] = std::cos(2 * std::numbers::pi * 10 * double(I) / 1024);
  F.run();
  EXPECT_NEAR(std::abs(F.output()[10]), 512, 1e-9);
  EXPECT_NEAR(std::abs(F.output()[11]), 0, 1e-9);
  EXPECT_EQ(F.bins(), 513u);
}

TEST(Fft, AnImpulseIsFlatAndADelayTurnsThePhase) {
  RealFft F(64);
  F.input()[1] = 1; // one sample late
  F.run();
  for (size_t K = 0; K < F.bins(); ++K) {
    EXPECT_NEAR(std::abs(F.output()[K]), 1, 1e-12);
    double Expected = -2 * std::numbers::pi * double(K) / 64;
    EXPECT_NEAR(std::remainder(std::arg(F.output()[K]) - Expected,
                               2 * std::numbers::pi),
                0, 1e-12);
  }
}

TEST(Fft, HannHasACoherentGainOfOneHalf) {
  auto W = dspjit::analysis::hann(4096);
  double Sum = 0;
  for (double V : W)
    Sum += V;
  EXPECT_NEAR(Sum / 4096, 0.5, 1e-12);
}
