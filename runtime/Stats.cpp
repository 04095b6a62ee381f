//===- runtime/Stats.cpp - Honest timing of a live callback ---------------===//
#include "runtime/Stats.h"

#include "runtime/MessageCatalog.h"

#include <portaudio.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace dspjit {

static constexpr unsigned long XrunFlags[NumXrunKinds] = {
    paInputUnderflow, paInputOverflow, paOutputUnderflow, paOutputOverflow,
    paPrimingOutput};

const char *xrunKindName(XrunKind Kind) {
  switch (Kind) {
  case XrunKind::InputUnderflow: return "input underflow";
  case XrunKind::InputOverflow: return "input overflow";
  case XrunKind::OutputUnderflow: return "output underflow";
  case XrunKind::OutputOverflow: return "output overflow";
  case XrunKind::PrimingOutput: return "priming output";
  }
  return "xrun";
}

int firstXrunKind(unsigned long StatusFlags) {
  for (unsigned K = 0; K < NumXrunKinds; ++K)
    if (StatusFlags & XrunFlags[K])
      return int(K);
  return -1;
}

uint64_t monotonicNanoseconds() {
  timespec T;
  clock_gettime(CLOCK_MONOTONIC, &T);
  return uint64_t(T.tv_sec) * 1000000000u + uint64_t(T.tv_nsec);
}

unsigned CallbackStats::binOf(uint64_t Value) {
  if (Value < 16)
    return unsigned(Value);
  unsigned Exponent = 63 - unsigned(__builtin_clzll(Value)); // >= 4
  unsigned Sub = unsigned(Value >> (Exponent - 4)) & 15;
  return std::min((Exponent - 3) * 16 + Sub, NumBins - 1);
}

double CallbackStats::binCenter(unsigned Bin) {
  if (Bin < 16)
    return Bin;
  unsigned Exponent = Bin / 16 + 3, Sub = Bin % 16;
  double Low = std::ldexp(16.0 + Sub, int(Exponent) - 4);
  double Width = std::ldexp(1.0, int(Exponent) - 4);
  return Low + (Width - 1) / 2;
}

void CallbackStats::record(uint64_t CallbackNs, uint64_t KernelNs,
                           unsigned long FrameCount,
                           unsigned long StatusFlags) noexcept {
  add(Callbacks, 1);
  add(Frames, FrameCount);
  add(SumNs, CallbackNs);
  add(SumKernelNs, KernelNs);
  if (CallbackNs < load(MinNs))
    MinNs.store(CallbackNs, std::memory_order_relaxed);
  if (CallbackNs > load(MaxNs))
    MaxNs.store(CallbackNs, std::memory_order_relaxed);
  auto &Bin = DurationHistogram[binOf(CallbackNs)];
  add(Bin, 1);

  double DeadlineNs = double(FrameCount) * 1e9 / SampleRate;
  add(SumDeadlineNs, uint64_t(DeadlineNs));
  uint64_t SharePpm =
      DeadlineNs > 0 ? uint64_t(double(CallbackNs) * 1e6 / DeadlineNs) : 0;
  add(SumSharePpm, SharePpm);
  LastSharePpm.store(SharePpm, std::memory_order_relaxed);
  if (SharePpm > load(MaxSharePpm))
    MaxSharePpm.store(SharePpm, std::memory_order_relaxed);
  add(ShareHistogram[binOf(SharePpm)], 1);
  if (SharePpm > 1000000)
    add(OverDeadline, 1);

  if (StatusFlags)
    for (unsigned K = 0; K < NumXrunKinds; ++K)
      if (StatusFlags & XrunFlags[K])
        add(Xruns[K], 1);
}

uint64_t CallbackStats::xruns() const {
  uint64_t N = 0;
  for (const Counter &C : Xruns)
    N += load(C);
  return N;
}

double CallbackStats::percentile(const std::array<Counter, NumBins> &Histogram,
                                 uint64_t Count, double Q) {
  if (Count == 0)
    return 0;
  uint64_t Rank = uint64_t(std::ceil(Q * double(Count)));
  uint64_t Seen = 0;
  for (unsigned B = 0; B < NumBins; ++B) {
    Seen += load(Histogram[B]);
    if (Seen >= std::max<uint64_t>(Rank, 1))
      return binCenter(B);
  }
  return binCenter(NumBins - 1);
}

TimingSummary CallbackStats::summary() const {
  TimingSummary S;
  S.SampleRate = SampleRate;
  S.Callbacks = load(Callbacks);
  S.Frames = load(Frames);
  for (unsigned K = 0; K < NumXrunKinds; ++K)
    S.Xruns[K] = load(Xruns[K]);
  if (S.Callbacks == 0)
    return S;
  double N = double(S.Callbacks);
  double MinUs = double(load(MinNs)) / 1e3, MaxUs = double(load(MaxNs)) / 1e3;
  auto Clamp = [&](double Us) { return std::clamp(Us, MinUs, MaxUs); };
  S.MinUs = MinUs;
  S.MaxUs = MaxUs;
  S.MeanUs = double(load(SumNs)) / N / 1e3;
  S.MeanKernelUs = double(load(SumKernelNs)) / N / 1e3;
  S.P50Us = Clamp(percentile(DurationHistogram, S.Callbacks, 0.50) / 1e3);
  S.P99Us = Clamp(percentile(DurationHistogram, S.Callbacks, 0.99) / 1e3);
  S.DeadlineUs = double(load(SumDeadlineNs)) / N / 1e3;
  double MaxShare = double(load(MaxSharePpm)) * 1e-6;
  S.MaxShare = MaxShare;
  S.MeanShare = double(load(SumSharePpm)) / N * 1e-6;
  S.P50Share =
      std::min(percentile(ShareHistogram, S.Callbacks, 0.50) * 1e-6, MaxShare);
  S.P99Share =
      std::min(percentile(ShareHistogram, S.Callbacks, 0.99) * 1e-6, MaxShare);
  S.OverDeadline = load(OverDeadline);
  return S;
}

std::array<uint64_t, CallbackStats::ShareBuckets>
CallbackStats::shareBuckets() const {
  std::array<uint64_t, ShareBuckets> Buckets = {};
  for (unsigned Bin = 0; Bin < NumBins; ++Bin)
    if (uint64_t N = load(ShareHistogram[Bin])) {
      double Share = binCenter(Bin) * 1e-6;
      Buckets[std::min<size_t>(ShareBuckets - 1, size_t(Share * 20))] += N;
    }
  return Buckets;
}

uint64_t TimingSummary::totalXruns() const {
  uint64_t N = 0;
  for (uint64_t X : Xruns)
    N += X;
  return N;
}

static std::string printf1(const char *Format, double A) {
  char Buffer[64];
  std::snprintf(Buffer, sizeof Buffer, Format, A);
  return Buffer;
}

std::string TimingSummary::text() const {
  std::string T;
  char Line[256];
  std::snprintf(Line, sizeof Line,
                "timing: %llu callbacks, %llu frames (%.2f s of audio at %s "
                "Hz), deadline %.1f us per callback\n",
                (unsigned long long)Callbacks, (unsigned long long)Frames,
                SampleRate > 0 ? double(Frames) / SampleRate : 0.0,
                formatNumber(SampleRate).c_str(), DeadlineUs);
  T += Line;
  T += "  processing time     min      mean     p50      p99      max\n";
  std::snprintf(Line, sizeof Line,
                "    microseconds  %8.2f %8.2f %8.2f %8.2f %8.2f\n", MinUs,
                MeanUs, P50Us, P99Us, MaxUs);
  T += Line;
  std::snprintf(Line, sizeof Line,
                "    of deadline   %8s %7.2f%% %7.2f%% %7.2f%% %7.2f%%\n", "",
                MeanShare * 100, P50Share * 100, P99Share * 100,
                MaxShare * 100);
  T += Line;
  T += "  " +
       message<Msg::StatsKernelAlone>(printf1("%.2f", MeanKernelUs),
                                      printf1("%.3f", MeanUs - MeanKernelUs)) +
       "\n";
  std::snprintf(Line, sizeof Line, "  over deadline: %llu callbacks (%.3f%%)\n",
                (unsigned long long)OverDeadline,
                Callbacks ? 100.0 * double(OverDeadline) / double(Callbacks)
                          : 0.0);
  T += Line;
  T += "  xruns: " + std::to_string(totalXruns());
  for (unsigned K = 0; K < NumXrunKinds; ++K)
    T += std::string(K ? ", " : " (") + xrunKindName(XrunKind(K)) + " " +
         std::to_string(Xruns[K]);
  T += ")\n";
  if (PlayUnderrunFrames || RecordDroppedFrames || NonfiniteSamples)
    T += "  " +
         message<Msg::StatsFiles>(PlayUnderrunFrames, RecordDroppedFrames,
                                  NonfiniteSamples) +
         "\n";
  return T;
}

std::string TimingSummary::json() const {
  char B[2048];
  std::snprintf(
      B, sizeof B,
      "{\n  \"sample_rate\": %.17g,\n  \"callbacks\": %llu,\n  \"frames\": "
      "%llu,\n  \"deadline_us\": %.6g,\n  \"processing_us\": {\"min\": %.6g, "
      "\"mean\": %.6g, \"p50\": %.6g, \"p99\": %.6g, \"max\": %.6g},\n  "
      "\"kernel_mean_us\": %.6g,\n  \"trampoline_mean_us\": %.6g,\n  "
      "\"share_of_deadline\": {\"mean\": %.6g, \"p50\": %.6g, \"p99\": "
      "%.6g, \"max\": %.6g},\n  \"over_deadline\": %llu,\n  "
      "\"over_deadline_share\": %.6g,\n  \"xruns\": {\"input_underflow\": "
      "%llu, \"input_overflow\": %llu, \"output_underflow\": %llu, "
      "\"output_overflow\": %llu, \"priming_output\": %llu, \"total\": "
      "%llu},\n  \"play_underrun_frames\": %llu,\n  "
      "\"record_dropped_frames\": %llu,\n  \"nonfinite_samples\": %llu\n}\n",
      SampleRate, (unsigned long long)Callbacks, (unsigned long long)Frames,
      DeadlineUs, MinUs, MeanUs, P50Us, P99Us, MaxUs, MeanKernelUs,
      MeanUs - MeanKernelUs, MeanShare, P50Share, P99Share, MaxShare,
      (unsigned long long)OverDeadline,
      Callbacks ? double(OverDeadline) / double(Callbacks) : 0.0,
      (unsigned long long)Xruns[0], (unsigned long long)Xruns[1],
      (unsigned long long)Xruns[2], (unsigned long long)Xruns[3],
      (unsigned long long)Xruns[4], (unsigned long long)totalXruns(),
      (unsigned long long)PlayUnderrunFrames,
      (unsigned long long)RecordDroppedFrames,
      (unsigned long long)NonfiniteSamples);
  return B;
}

} // namespace dspjit
