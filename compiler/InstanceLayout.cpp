//===- compiler/InstanceLayout.cpp - Where each slot lives in an instance -===//
//
// Why: see InstanceLayout.h. The offsets are an ABI, shared by the host and
// the generated code; tests/unit/checker_test.cpp checks their alignment.
//
//===----------------------------------------------------------------------===//
#include "compiler/InstanceLayout.h"
#include "compiler/Program.h"
#include "runtime/dspjit_abi.h"

#include <algorithm>
#include <cstdint>

namespace dspjit {

namespace {

class Layout {
public:
  explicit Layout(Program &P) : P(P), ElemSize(P.DoublePrecision ? 8 : 4) {}

  void run() {
    for (Slot &S : P.Slots)
      placeScalars(S);
    placeDelayBuffers();
    for (Convolution &C : P.Convolutions) {
      align(InstanceAlign);
      C.Offset = here();
      Offset += C.StateBytes;
    }
    align(InstanceAlign);
    P.InstanceSize = Offset;
  }

private:
  void align(uint64_t A) { Offset = (Offset + A - 1) / A * A; }
  uint32_t here() const {
    return uint32_t(std::min<uint64_t>(Offset, UINT32_MAX));
  }

  void placeScalars(Slot &S) {
    switch (S.K) {
    case Slot::Param:
      S.Offset = uint32_t(Offset);
      S.ValueOffset = uint32_t(Offset + 4);
      Offset += 8;
      break;
    case Slot::Meter:
    case Slot::Note:
      S.Offset = uint32_t(Offset);
      Offset += 4 * uint64_t(S.Width);
      break;
    case Slot::State:
      align(ElemSize);
      S.Offset = here();
      Offset += ElemSize * S.Width * S.Count;
      break;
    case Slot::Delay:
      S.ValueOffset = here();
      Offset += 4;
      break;
    }
  }

  /// Delay buffers last, each on its own cache line. Their sizes are powers
  /// of two and every line advances one frame at a time, so if they all
  /// started on the same 4 KiB boundary, each frame's reads and writes would
  /// fall in one L1 set and evict each other (Freeverb's 24 lines ran 1.7x
  /// slower for it). Each buffer starts a different number of lines in.
  void placeDelayBuffers() {
    unsigned DelayIndex = 0;
    for (Slot &S : P.Slots) {
      if (S.K != Slot::Delay)
        continue;
      uint64_t Cap = 1;
      while (Cap < uint64_t(S.Length) + 2)
        Cap <<= 1;
      S.Capacity = uint32_t(Cap);
      align(InstanceAlign);
      Offset += (uint64_t(DelayIndex++) * 37 % 64) * InstanceAlign;
      S.Offset = here();
      Offset += Cap * S.Width * ElemSize;
    }
  }

  Program &P;
  uint64_t ElemSize;
  uint64_t Offset = sizeof(DspjitInstanceHeader);
};

} // namespace

void layoutInstance(Program &P) { Layout(P).run(); }

} // namespace dspjit
