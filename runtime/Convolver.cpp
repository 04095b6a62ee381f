//===- runtime/Convolver.cpp - Zero-latency partitioned convolution -------===//
//
// Why: see Convolver.h for the scheme. This file holds both ends of it: the
// plan the compiler prepares (a header, the direct taps and every
// partition's spectrum, at offsets within one block of bytes, so that the
// kernel can hold it as constant data without relocations), and the two
// C entry points the generated code calls (runtime/dspjit_abi.h).
//
// Spectra are kept split (all real parts, then all imaginary parts, padded
// to a multiple of 8 bins), so that the multiply-adds are plain vector
// arithmetic; FFTW's interleaved output is split once per transform.
//
//===----------------------------------------------------------------------===//
#include "runtime/Convolver.h"
#include "runtime/Fft.h"
#include "runtime/dspjit_abi.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

namespace dspjit {

namespace {

constexpr uint32_t PlanMagic = 0x7663646a; // "jdcv"
constexpr uint32_t PlanVersion = 1;
constexpr unsigned MaxLevels = 8;
constexpr unsigned MaxPaths = 256;

/// One level of uniform partitions of Size frames: its taps are
/// [2 * Size, 2 * Size + Partitions * Size), clipped to the response.
struct Level {
  uint32_t Size, Partitions, Slices, Bins; ///< Bins: Size + 1, padded to 8
  uint64_t Spectra; ///< plan: [ir lane][partition][re, im][Bins]
  uint64_t Fdl;     ///< state: [in lane][partition][re, im][Bins]
  uint64_t Acc;     ///< state: [out lane][re, im][Bins]
  uint64_t Out;     ///< state: [out lane][2][Size], double-buffered output
};

struct Path {
  uint32_t In, Ir, Out;
};

/// The plan's first bytes.
struct PlanHeader {
  uint32_t Magic, Version;
  uint32_t InLanes, OutLanes, IrLanes, NumPaths;
  uint32_t Taps, Block;
  uint32_t DirectPad; ///< direct taps, padded to 8 (leading zeros)
  uint32_t History;   ///< input ring per lane (power of two), doubled
  uint32_t MaxSize, NumLevels;
  uint64_t StateBytes;
  uint64_t Direct;    ///< plan: [ir lane][DirectPad], reversed
  uint64_t HistoryAt; ///< state: [in lane][2 * History]
  uint64_t TimeAt;    ///< state: 2 * MaxSize floats of scratch
  uint64_t SpecAt;    ///< state: 2 * (MaxSize + 1) floats of scratch
  Path Paths[MaxPaths];
  Level Levels[MaxLevels];
};

/// The state's first bytes.
struct StateHeader {
  uint64_t Frames; ///< frames since init
  uint32_t Ready;  ///< set by init
  uint32_t Pad;
  FftPlans Plans[MaxLevels];
};

uint64_t align64(uint64_t N) { return (N + 63) / 64 * 64; }
uint32_t pad8(uint32_t N) { return (N + 7) / 8 * 8; }

/// Four floats: SSE on every x86-64, NEON on ARM.
using V4 = float __attribute__((vector_size(16)));

V4 load4(const float *P) {
  V4 V;
  std::memcpy(&V, P, sizeof V);
  return V;
}
void store4(float *P, V4 V) { std::memcpy(P, &V, sizeof V); }

/// A dot product of N floats, N a multiple of 8.
float dot(const float *A, const float *B, uint32_t N) {
  V4 S0 = {}, S1 = {};
  for (uint32_t I = 0; I < N; I += 8) {
    S0 += load4(A + I) * load4(B + I);
    S1 += load4(A + I + 4) * load4(B + I + 4);
  }
  V4 S = S0 + S1;
  return (S[0] + S[2]) + (S[1] + S[3]);
}

/// Acc += X * H over Bins complex values, split; Bins a multiple of 8.
void multiplyAdd(float *Acc, const float *X, const float *H, uint32_t Bins) {
  float *AccIm = Acc + Bins;
  const float *XIm = X + Bins, *HIm = H + Bins;
  for (uint32_t I = 0; I < Bins; I += 4) {
    V4 Xr = load4(X + I), Xi = load4(XIm + I);
    V4 Hr = load4(H + I), Hi = load4(HIm + I);
    store4(Acc + I, load4(Acc + I) + (Xr * Hr - Xi * Hi));
    store4(AccIm + I, load4(AccIm + I) + (Xr * Hi + Xi * Hr));
  }
}

void split(const float *Interleaved, float *Split, uint32_t Count,
           uint32_t Bins) {
  for (uint32_t I = 0; I < Count; ++I) {
    Split[I] = Interleaved[2 * I];
    Split[Bins + I] = Interleaved[2 * I + 1];
  }
}

void interleave(const float *Split, float *Interleaved, uint32_t Count,
                uint32_t Bins) {
  for (uint32_t I = 0; I < Count; ++I) {
    Interleaved[2 * I] = Split[I];
    Interleaved[2 * I + 1] = Split[Bins + I];
  }
}

std::vector<Path> pathsOf(uint32_t IrLanes, uint32_t InLanes,
                          ConvolutionForm Form, uint32_t &OutLanes) {
  std::vector<Path> Paths;
  if (Form == ConvolutionForm::Matrix) {
    OutLanes = InLanes;
    for (uint32_t I = 0; I < InLanes; ++I)
      for (uint32_t O = 0; O < InLanes; ++O)
        Paths.push_back({I, I * InLanes + O, O});
    return Paths;
  }
  OutLanes = std::max(IrLanes, InLanes);
  for (uint32_t K = 0; K < OutLanes; ++K)
    Paths.push_back({InLanes == 1 ? 0 : K, IrLanes == 1 ? 0 : K, K});
  return Paths;
}

template <typename T> T *at(void *Base, uint64_t Offset) {
  return reinterpret_cast<T *>(static_cast<uint8_t *>(Base) + Offset);
}
template <typename T> const T *at(const void *Base, uint64_t Offset) {
  return reinterpret_cast<const T *>(static_cast<const uint8_t *>(Base) +
                                     Offset);
}

} // namespace

ConvolutionPlan prepareConvolution(const double *Ir, uint32_t Taps,
                                   uint32_t IrLanes, uint32_t InLanes,
                                   ConvolutionForm Form,
                                   const ConvolutionScheme &Scheme) {
  assert(Taps >= 1 && Taps <= MaxConvolutionTaps && IrLanes >= 1);
  PlanHeader H = {};
  H.Magic = PlanMagic;
  H.Version = PlanVersion;
  H.InLanes = InLanes;
  H.IrLanes = IrLanes;
  H.Taps = Taps;
  H.Block = Scheme.Block;
  std::vector<Path> Paths = pathsOf(IrLanes, InLanes, Form, H.OutLanes);
  assert(Paths.size() <= MaxPaths);
  H.NumPaths = uint32_t(Paths.size());
  std::copy(Paths.begin(), Paths.end(), H.Paths);

  // The levels: each starts at twice its size.
  const uint32_t DirectTaps = std::min(Taps, 2 * Scheme.Block);
  H.DirectPad = pad8(DirectTaps);
  uint32_t Size = Scheme.Block;
  H.MaxSize = 0;
  while (2 * uint64_t(Size) < Taps && H.NumLevels < MaxLevels) {
    uint64_t Next =
        std::min<uint64_t>(uint64_t(Size) * Scheme.Ratio, Scheme.MaxPartition);
    bool Last =
        Next <= Size || 2 * Next >= Taps || H.NumLevels + 1 == MaxLevels;
    uint64_t End = Last ? Taps : 2 * Next;
    Level &L = H.Levels[H.NumLevels++];
    L.Size = Size;
    L.Partitions = uint32_t((End - 2 * uint64_t(Size) + Size - 1) / Size);
    L.Slices = Size / Scheme.Block;
    L.Bins = pad8(Size + 1);
    H.MaxSize = std::max(H.MaxSize, Size);
    if (Last)
      break;
    Size = uint32_t(Next);
  }
  H.History = 8;
  while (H.History < std::max(2 * H.MaxSize, H.DirectPad))
    H.History *= 2;

  // The plan's layout.
  uint64_t PlanAt = align64(sizeof(PlanHeader));
  H.Direct = PlanAt;
  PlanAt = align64(PlanAt + uint64_t(IrLanes) * H.DirectPad * 4);
  for (unsigned I = 0; I < H.NumLevels; ++I) {
    Level &L = H.Levels[I];
    L.Spectra = PlanAt;
    PlanAt =
        align64(PlanAt + uint64_t(IrLanes) * L.Partitions * 2 * L.Bins * 4);
  }
  // The state's layout.
  uint64_t StateAt = align64(sizeof(StateHeader));
  H.HistoryAt = StateAt;
  StateAt = align64(StateAt + uint64_t(InLanes) * 2 * H.History * 4);
  for (unsigned I = 0; I < H.NumLevels; ++I) {
    Level &L = H.Levels[I];
    L.Fdl = StateAt;
    StateAt =
        align64(StateAt + uint64_t(InLanes) * L.Partitions * 2 * L.Bins * 4);
    L.Acc = StateAt;
    StateAt = align64(StateAt + uint64_t(H.OutLanes) * 2 * L.Bins * 4);
    L.Out = StateAt;
    StateAt = align64(StateAt + uint64_t(H.OutLanes) * 2 * L.Size * 4);
  }
  H.TimeAt = StateAt;
  StateAt = align64(StateAt + uint64_t(2) * H.MaxSize * 4);
  H.SpecAt = StateAt;
  StateAt = align64(StateAt + uint64_t(2) * (H.MaxSize + 1) * 4);
  H.StateBytes = StateAt;

  ConvolutionPlan Plan;
  Plan.StateBytes = StateAt;
  Plan.Bytes.assign(PlanAt, 0);
  std::memcpy(Plan.Bytes.data(), &H, sizeof H);
  uint8_t *Base = Plan.Bytes.data();
  for (uint32_t Lane = 0; Lane < IrLanes; ++Lane) {
    float *Direct = at<float>(Base, H.Direct) + Lane * H.DirectPad;
    for (uint32_t T = 0; T < DirectTaps; ++T)
      Direct[H.DirectPad - 1 - T] = float(Ir[uint64_t(T) * IrLanes + Lane]);
  }
  // Each partition's spectrum, scaled by 1 / (2M) for the inverse FFT.
  for (unsigned I = 0; I < H.NumLevels; ++I) {
    const Level &L = H.Levels[I];
    const uint32_t N = 2 * L.Size;
    FftPlans Fft = fftPlans(N);
    FftBuffer Time(N), Spec(2 * (L.Size + 1));
    for (uint32_t Lane = 0; Lane < IrLanes; ++Lane)
      for (uint32_t Part = 0; Part < L.Partitions; ++Part) {
        std::fill(Time.data(), Time.data() + N, 0.0f);
        const uint64_t First = 2 * uint64_t(L.Size) + uint64_t(Part) * L.Size;
        for (uint32_t T = 0; T < L.Size && First + T < Taps; ++T)
          Time.data()[T] = float(Ir[(First + T) * IrLanes + Lane] / double(N));
        fftForward(Fft, Time.data(), Spec.data());
        float *Out = at<float>(Base, L.Spectra) +
                     (uint64_t(Lane) * L.Partitions + Part) * 2 * L.Bins;
        split(Spec.data(), Out, L.Size + 1, L.Bins);
      }
  }
  return Plan;
}

namespace {

/// The level work due now that `C` frames have come in (C a multiple of
/// the block): the slice of each level's period that falls here.
void blockWork(const PlanHeader &H, const void *Plan, void *State, uint64_t C) {
  auto *S = static_cast<StateHeader *>(State);
  float *Time = at<float>(State, H.TimeAt);
  float *Spec = at<float>(State, H.SpecAt);
  const uint64_t SubBlock = C / H.Block; // sub-blocks completed
  for (unsigned I = 0; I < H.NumLevels; ++I) {
    const Level &L = H.Levels[I];
    const uint32_t Slice = uint32_t(SubBlock % L.Slices);
    // The period started when the block j (of L.Size frames) completed.
    const uint64_t Start = C - uint64_t(Slice) * H.Block;
    const uint64_t J = Start / L.Size - 1;
    const uint32_t N = 2 * L.Size;
    const uint64_t FdlStride = uint64_t(L.Partitions) * 2 * L.Bins;
    if (Slice == 0) {
      for (uint32_t In = 0; In < H.InLanes; ++In) {
        const float *Ring =
            at<float>(State, H.HistoryAt) + uint64_t(In) * 2 * H.History;
        uint64_t From = (Start - N) & (H.History - 1);
        std::memcpy(Time, Ring + From, N * sizeof(float));
        fftForward(S->Plans[I], Time, Spec);
        float *X = at<float>(State, L.Fdl) + In * FdlStride +
                   (J % L.Partitions) * 2 * L.Bins;
        split(Spec, X, L.Size + 1, L.Bins);
      }
      std::memset(at<float>(State, L.Acc), 0,
                  uint64_t(H.OutLanes) * 2 * L.Bins * sizeof(float));
    }
    const uint32_t PartFrom =
        uint32_t(uint64_t(Slice) * L.Partitions / L.Slices);
    const uint32_t PartTo =
        uint32_t(uint64_t(Slice + 1) * L.Partitions / L.Slices);
    for (uint32_t Part = PartFrom; Part < PartTo; ++Part) {
      const uint64_t Slot = (J + L.Partitions - Part) % L.Partitions;
      for (uint32_t K = 0; K < H.NumPaths; ++K) {
        const Path &Pa = H.Paths[K];
        const float *X =
            at<float>(State, L.Fdl) + Pa.In * FdlStride + Slot * 2 * L.Bins;
        const float *Hs = at<float>(Plan, L.Spectra) +
                          (uint64_t(Pa.Ir) * L.Partitions + Part) * 2 * L.Bins;
        multiplyAdd(at<float>(State, L.Acc) + uint64_t(Pa.Out) * 2 * L.Bins, X,
                    Hs, L.Bins);
      }
    }
    if (Slice + 1 == L.Slices) {
      // The output of frames [Start + M, Start + 2M).
      const uint64_t Buffer = ((Start + L.Size) / L.Size) & 1;
      for (uint32_t O = 0; O < H.OutLanes; ++O) {
        interleave(at<float>(State, L.Acc) + uint64_t(O) * 2 * L.Bins, Spec,
                   L.Size + 1, L.Bins);
        fftInverse(S->Plans[I], Spec, Time);
        float *Out =
            at<float>(State, L.Out) + (uint64_t(O) * 2 + Buffer) * L.Size;
        std::memcpy(Out, Time + L.Size, L.Size * sizeof(float));
      }
    }
  }
}

} // namespace

} // namespace dspjit

using namespace dspjit;

extern "C" void dspjit_convolve_init(const void *Plan, void *State) {
  const auto *H = static_cast<const PlanHeader *>(Plan);
  auto *S = static_cast<StateHeader *>(State);
  if (H->Magic != PlanMagic || H->Version != PlanVersion) {
    std::memset(State, 0, sizeof(StateHeader)); // not ready: silence
    return;
  }
  std::memset(State, 0, H->StateBytes);
  for (unsigned I = 0; I < H->NumLevels; ++I)
    S->Plans[I] = fftPlans(2 * H->Levels[I].Size);
  S->Ready = 1;
}

extern "C" void dspjit_convolve_frame(const void *Plan, void *State,
                                      const float *In, float *Out) {
  const auto &H = *static_cast<const PlanHeader *>(Plan);
  auto *S = static_cast<StateHeader *>(State);
  if (!S->Ready) {
    std::fill(Out, Out + (H.Magic == PlanMagic ? H.OutLanes : 0), 0.0f);
    return;
  }
  const uint64_t Now = S->Frames;
  const uint64_t Pos = Now & (H.History - 1);
  float *Rings = at<float>(State, H.HistoryAt);
  for (uint32_t I = 0; I < H.InLanes; ++I) {
    float *Ring = Rings + uint64_t(I) * 2 * H.History;
    Ring[Pos] = Ring[Pos + H.History] = In[I];
  }
  for (uint32_t O = 0; O < H.OutLanes; ++O)
    Out[O] = 0;
  // The direct taps: the last DirectPad frames, this one included.
  const uint64_t From = (Now + 1 - H.DirectPad) & (H.History - 1);
  for (uint32_t K = 0; K < H.NumPaths; ++K) {
    const Path &Pa = H.Paths[K];
    Out[Pa.Out] +=
        dot(at<float>(Plan, H.Direct) + uint64_t(Pa.Ir) * H.DirectPad,
            Rings + uint64_t(Pa.In) * 2 * H.History + From, H.DirectPad);
  }
  for (unsigned I = 0; I < H.NumLevels; ++I) {
    const Level &L = H.Levels[I];
    const uint64_t Buffer = (Now / L.Size) & 1;
    const float *Outs = at<float>(State, L.Out);
    for (uint32_t O = 0; O < H.OutLanes; ++O)
      Out[O] += Outs[(uint64_t(O) * 2 + Buffer) * L.Size + Now % L.Size];
  }
  S->Frames = Now + 1;
  if ((Now + 1) % H.Block == 0)
    blockWork(H, Plan, State, Now + 1);
}

namespace dspjit {

Convolver::Convolver(ConvolutionPlan P) : Plan(std::move(P)) {
  Plan64 = static_cast<uint8_t *>(
      ::operator new(Plan.Bytes.size(), std::align_val_t(64)));
  std::memcpy(Plan64, Plan.Bytes.data(), Plan.Bytes.size());
  State64 = static_cast<uint8_t *>(
      ::operator new(Plan.StateBytes, std::align_val_t(64)));
  reset();
}

Convolver::~Convolver() {
  ::operator delete(Plan64, std::align_val_t(64));
  ::operator delete(State64, std::align_val_t(64));
}

void Convolver::reset() { dspjit_convolve_init(Plan64, State64); }

void Convolver::frame(const float *In, float *Out) {
  dspjit_convolve_frame(Plan64, State64, In, Out);
}

} // namespace dspjit
