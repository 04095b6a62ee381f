//===- tests/support/Heard.h - What a recording of a gain script heard ----===//
//
// Hot reload tests play noise of constant magnitude through scripts that
// scale it, and record the output: each recorded sample divided by its
// played sample is the gain of the version that processed it. These turn a
// recording into the gains heard, in order, so a test can say which
// versions went live, and that nothing else did.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_HEARD_H
#define DSPJIT_TESTS_SUPPORT_HEARD_H

#include "runtime/AudioFile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace dspjit::test {

/// The gain of each 10 ms of the stereo recording `Path` (median of out /
/// in, the played noise `In` looping), so that crossfades show as single
/// odd values between steady runs.
inline std::vector<float> recordedGains(const std::string &Path,
                                        const std::vector<float> &In,
                                        double Rate) {
  auto A = readAudioFile(Path);
  EXPECT_TRUE(A) << A.error();
  std::vector<float> G;
  if (!A)
    return G;
  const size_t Hop = size_t(Rate / 100);
  for (size_t F = 0; F + Hop <= A->frames(); F += Hop) {
    std::vector<float> R;
    for (size_t I = F; I < F + Hop; ++I)
      R.push_back(A->Samples[2 * I] / In[2 * (I % (In.size() / 2))]);
    std::nth_element(R.begin(), R.begin() + R.size() / 2, R.end());
    G.push_back(R[R.size() / 2]);
  }
  return G;
}

/// The gains in the order they were heard, each steady run once
/// (crossfade windows dropped). A steady run is three or more windows in a
/// row within 1e-3 of its first; it is reported as its median, so a window
/// at the end of a crossfade that is already within 1e-3 of the new gain
/// does not stand for the whole run.
inline std::vector<float> heardGains(const std::vector<float> &G) {
  std::vector<float> Runs;
  for (size_t I = 0; I < G.size();) {
    size_t J = I + 1;
    while (J < G.size() && std::abs(G[J] - G[I]) < 1e-3)
      ++J;
    if (J - I >= 3) {
      std::vector<float> Run(G.begin() + I, G.begin() + J);
      std::nth_element(Run.begin(), Run.begin() + Run.size() / 2, Run.end());
      float Gain = Run[Run.size() / 2];
      if (Runs.empty() || std::abs(Runs.back() - Gain) > 1e-3)
        Runs.push_back(Gain);
      I = J;
    } else {
      ++I;
    }
  }
  return Runs;
}

} // namespace dspjit::test

#endif
