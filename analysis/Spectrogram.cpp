//===- analysis/Spectrogram.cpp - A script's output over time and frequency ===//
#include "analysis/Spectrogram.h"

#include "analysis/Fft.h"
#include "analysis/Response.h"

#include <algorithm>
#include <cmath>

namespace dspjit::analysis {

Result<Spectrogram> spectrogram(const DspjitKernel &K, const ResponseOptions &O,
                                const RenderInput &Input,
                                std::optional<uint64_t> Frames,
                                const SpectrogramOptions &S) {
  auto P = Probe::create(K, O, /*NeedsInput=*/false);
  if (!P)
    return fail(P.error());
  std::vector<float> Lane;
  RenderOptions RO;
  RO.BlockSize = O.BlockSize;
  RO.Frames = Frames;
  RO.KernelName = O.KernelName;
  RO.Sink = [&](const float *Out, uint64_t N) -> Result<void> {
    for (uint64_t F = 0; F < N; ++F)
      Lane.push_back(Out[F * K.outputs + O.Output]);
    return {};
  };
  if (auto R = render(P->instance(), Input, RO); !R)
    return fail(R.error());

  Spectrogram G;
  G.SampleRate = O.SampleRate;
  G.WindowFrames = std::max<size_t>(S.WindowFrames, 16);
  G.Frames = Lane.size();
  G.Bins = G.WindowFrames / 2 + 1;
  size_t Span = Lane.size() > G.WindowFrames ? Lane.size() - G.WindowFrames : 0;
  size_t MaxColumns = std::max<size_t>(S.MaxColumns, 2);
  G.HopFrames =
      std::max(G.WindowFrames / 4, (Span + MaxColumns - 2) / (MaxColumns - 1));
  G.Columns = Span / G.HopFrames + 1;
  G.Db.resize(G.Columns * G.Bins);

  RealFft F(G.WindowFrames);
  const std::vector<double> Window = hann(G.WindowFrames);
  // A sine's bin is its amplitude * Window / 2 * the Hann window's mean.
  const double Scale = 4.0 / double(G.WindowFrames);
  for (size_t C = 0; C < G.Columns; ++C) {
    size_t Start = C * G.HopFrames;
    for (size_t I = 0; I < G.WindowFrames; ++I)
      F.input()[I] = Start + I < Lane.size() ? Lane[Start + I] * Window[I] : 0;
    F.run();
    for (size_t B = 0; B < G.Bins; ++B) {
      double A = std::abs(F.output()[B]) * Scale;
      G.Db[C * G.Bins + B] = float(A > 1e-15 ? 20 * std::log10(A) : SilentDb);
    }
  }
  return G;
}

} // namespace dspjit::analysis
