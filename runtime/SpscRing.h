//===- runtime/SpscRing.h - Lock-free single-producer, single-consumer ring -*- C++ -*-===//
//
// The audio thread and the file threads of a live session (runtime/Host.h)
// exchange samples through these rings: the file reader produces what the
// callback consumes, the callback produces what the file writer consumes.
// Neither side ever waits for the other: a ring that is empty or full is
// reported to the caller, who counts it (an underrun of the file reader, an
// overrun of the file writer) and goes on.
//
// Capacity is a power of two, fixed at construction. Head and tail are
// free-running 64-bit counters on separate cache lines; the producer
// publishes with a release store, the consumer reads with an acquire load.
//
// Thread contract: construction and destruction on the control thread (it
// allocates). Afterwards exactly one thread may push and exactly one other
// thread may pop, both without locks or allocation (the audio thread may be
// either). available()/space() may be called from any thread as estimates.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_SPSCRING_H
#define DSPJIT_RUNTIME_SPSCRING_H

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace dspjit {

template <class T> class SpscRing {
public:
  /// At least `MinCapacity` elements, rounded up to a power of two.
  explicit SpscRing(size_t MinCapacity) {
    size_t Capacity = 1;
    while (Capacity < MinCapacity)
      Capacity <<= 1;
    Mask = Capacity - 1;
    Data = std::make_unique<T[]>(Capacity);
  }

  size_t capacity() const { return Mask + 1; }

  /// Elements ready to pop. Thread: any (exact on the consumer thread).
  size_t available() const {
    return size_t(Head.load(std::memory_order_acquire) -
                  Tail.load(std::memory_order_acquire));
  }
  /// Room to push. Thread: any (exact on the producer thread).
  size_t space() const { return capacity() - available(); }

  /// Pushes up to `Count` elements; returns how many fit.
  /// Thread: the producer only.
  size_t push(const T *Items, size_t Count) {
    uint64_t H = Head.load(std::memory_order_relaxed);
    uint64_t Tl = Tail.load(std::memory_order_acquire);
    size_t N = std::min(Count, capacity() - size_t(H - Tl));
    copyIn(H, Items, N);
    Head.store(H + N, std::memory_order_release);
    return N;
  }

  /// Pops up to `Count` elements into `Items`; returns how many there were.
  /// Thread: the consumer only.
  size_t pop(T *Items, size_t Count) {
    uint64_t Tl = Tail.load(std::memory_order_relaxed);
    uint64_t H = Head.load(std::memory_order_acquire);
    size_t N = std::min(Count, size_t(H - Tl));
    copyOut(Tl, Items, N);
    Tail.store(Tl + N, std::memory_order_release);
    return N;
  }

private:
  void copyIn(uint64_t At, const T *Items, size_t N) {
    size_t Start = size_t(At) & Mask;
    size_t First = std::min(N, capacity() - Start);
    std::copy(Items, Items + First, Data.get() + Start);
    std::copy(Items + First, Items + N, Data.get());
  }
  void copyOut(uint64_t At, T *Items, size_t N) const {
    size_t Start = size_t(At) & Mask;
    size_t First = std::min(N, capacity() - Start);
    std::copy(Data.get() + Start, Data.get() + Start + First, Items);
    std::copy(Data.get(), Data.get() + (N - First), Items + First);
  }

  size_t Mask = 0;
  std::unique_ptr<T[]> Data;
  alignas(64) std::atomic<uint64_t> Head{0}; ///< Written by the producer.
  alignas(64) std::atomic<uint64_t> Tail{0}; ///< Written by the consumer.
};

} // namespace dspjit

#endif
