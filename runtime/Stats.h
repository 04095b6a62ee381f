//===- runtime/Stats.h - Honest timing of a live callback -------*- C++ -*-===//
//
// "It ran without glitches" is not a measurement. A live session records,
// inside its callback, how long each callback took, and compares it with
// the callback's deadline (frames / sample rate): the numbers of Table 3 of
// De Pra and Fontana, "Programming Real-Time Sound in Python" (Appl. Sci.
// 2020) -- min, mean, median, 99th percentile and max processing time, the
// share of callbacks that missed their deadline -- plus PortAudio's own xrun
// flags by kind.
//
// Recording must cost next to nothing and never allocate, lock or wait, so
// percentiles come from fixed histograms with log-spaced bins (16 per
// octave: a reported percentile is within 3% of the true value), filled by
// the one audio thread with relaxed atomic stores that any other thread may
// read at any time for a status line.
//
// Thread contract: construct on the control thread. record() is for exactly
// one thread at a time, normally the audio thread; it does not allocate,
// lock or wait. summary() and the counters may be read from any thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_STATS_H
#define DSPJIT_RUNTIME_STATS_H

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace dspjit {

/// PortAudio's xrun flags (paInputUnderflow ...), by kind.
enum class XrunKind {
  InputUnderflow,
  InputOverflow,
  OutputUnderflow,
  OutputOverflow,
  PrimingOutput,
};
constexpr unsigned NumXrunKinds = 5;

/// "input underflow", "input overflow", ...
const char *xrunKindName(XrunKind Kind);
/// The first xrun kind set in a PaStreamCallbackFlags value, or -1.
int firstXrunKind(unsigned long StatusFlags);

/// Monotonic nanoseconds (clock_gettime(CLOCK_MONOTONIC), a vDSO call: no
/// system call). Thread: any, including the audio thread.
uint64_t monotonicNanoseconds();

/// A snapshot of the statistics, with everything derived.
struct TimingSummary {
  double SampleRate = 0;
  uint64_t Callbacks = 0;
  uint64_t Frames = 0;
  /// Processing time of one callback, microseconds.
  double MinUs = 0, MeanUs = 0, P50Us = 0, P99Us = 0, MaxUs = 0;
  /// Mean time inside the kernel's process() alone; MeanUs - MeanKernelUs
  /// is what the host's trampoline adds.
  double MeanKernelUs = 0;
  /// Mean deadline (frames / rate) of a callback, microseconds.
  double DeadlineUs = 0;
  /// Processing time as a share of each callback's own deadline.
  double MeanShare = 0, P50Share = 0, P99Share = 0, MaxShare = 0;
  /// Callbacks that took longer than their deadline.
  uint64_t OverDeadline = 0;
  /// Callbacks whose status flags carried each kind of xrun.
  std::array<uint64_t, NumXrunKinds> Xruns = {};
  /// Filled by the host: frames the file reader did not deliver in time,
  /// frames the file writer could not take, non-finite output samples.
  uint64_t PlayUnderrunFrames = 0, RecordDroppedFrames = 0;
  uint64_t NonfiniteSamples = 0;

  uint64_t totalXruns() const;
  /// The table printed at exit.
  std::string text() const;
  /// The same as a JSON object (for --stats-json).
  std::string json() const;
};

class CallbackStats {
public:
  explicit CallbackStats(double SampleRate) : SampleRate(SampleRate) {}
  CallbackStats(const CallbackStats &) = delete;
  CallbackStats &operator=(const CallbackStats &) = delete;

  /// Records one callback: its total time, the part spent in the kernel,
  /// its frames and PortAudio's status flags.
  /// Thread: one thread (the audio thread); no allocation, lock or wait.
  void record(uint64_t CallbackNs, uint64_t KernelNs, unsigned long Frames,
              unsigned long StatusFlags) noexcept;

  /// Thread: any.
  TimingSummary summary() const;
  uint64_t callbacks() const { return load(Callbacks); }
  uint64_t frames() const { return load(Frames); }
  uint64_t xruns() const;
  /// The last callback's processing time as a share of its deadline.
  double lastShare() const { return double(load(LastSharePpm)) * 1e-6; }
  /// Callbacks so far by processing time as a share of their deadline, in
  /// ShareBuckets buckets of 5% (0-5%, ..., 95-100%) and one for those over
  /// their deadline: a histogram for a health display. Thread: any.
  static constexpr unsigned ShareBuckets = 21;
  std::array<uint64_t, ShareBuckets> shareBuckets() const;

  /// Log-spaced bins: values below 16 are exact, above that 16 per octave.
  static constexpr unsigned NumBins = 61 * 16;
  static unsigned binOf(uint64_t Value);
  /// The middle of a bin's range.
  static double binCenter(unsigned Bin);

private:
  using Counter = std::atomic<uint64_t>;
  static uint64_t load(const Counter &C) {
    return C.load(std::memory_order_relaxed);
  }
  /// Single writer: a plain load and store, no read-modify-write.
  static void add(Counter &C, uint64_t V) {
    C.store(C.load(std::memory_order_relaxed) + V, std::memory_order_relaxed);
  }
  static double percentile(const std::array<Counter, NumBins> &Histogram,
                           uint64_t Count, double Q);

  double SampleRate;
  Counter Callbacks{0}, Frames{0}, SumNs{0}, SumKernelNs{0};
  Counter MinNs{UINT64_MAX}, MaxNs{0}, OverDeadline{0};
  Counter SumDeadlineNs{0}, SumSharePpm{0}, MaxSharePpm{0}, LastSharePpm{0};
  std::array<Counter, NumXrunKinds> Xruns{};
  std::array<Counter, NumBins> DurationHistogram{}; ///< nanoseconds
  std::array<Counter, NumBins> ShareHistogram{};    ///< parts per million
};

} // namespace dspjit

#endif
