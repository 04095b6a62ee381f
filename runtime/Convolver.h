//===- runtime/Convolver.h - Zero-latency partitioned convolution -*- C++ -*-=//
//
// Why this file exists: `convolve(x, ir)` (dsl/LANGUAGE.md, "convolve") is
// exact linear convolution with an impulse response of up to a million taps,
// with no latency, one frame at a time, inside the audio callback. The
// compiler prepares a *plan* when it compiles (prepareConvolution: the
// partitioning and the impulse response's spectra, constant data compiled
// into the kernel and shared by its instances); the generated code calls
// dspjit_convolve_init from `init` and dspjit_convolve_frame once per frame
// (runtime/dspjit_abi.h), on a state block that lives in the instance.
//
// The scheme (B = 64 frames by default):
//   - taps [0, 2B) are a direct-form dot product every frame: no latency;
//   - then levels of uniform partitions, each twice as far out as its
//     partition size M: level 1 has M = B and covers [2B, 2 * 8B), level 2
//     M = 8B and covers [16B, 2 * 64B), ..., the last (M at most 4096) runs
//     to the end. A level transforms 2M frames of input (FFT of 2M, overlap-
//     save) each time M new frames have come in, multiplies and adds the
//     spectra of its partitions (a frequency-domain delay line), and
//     transforms back; because its taps start at 2M, the result is needed
//     only M frames later, so its work is spread over the M / B sub-blocks of
//     B frames of that period: the forward FFT at the first, the partitions'
//     multiply-adds shared out evenly, the inverse FFT at the last. A 64-frame
//     callback therefore does about the same work every time, and no callback
//     does a level's whole work at once.
//
// Thread contract: prepareConvolution runs when compiling (any thread but
// the audio thread: it plans FFTs). dspjit_convolve_init: not the audio
// thread. dspjit_convolve_frame: the audio thread; it neither allocates nor
// locks.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_CONVOLVER_H
#define DSPJIT_RUNTIME_CONVOLVER_H

#include <cstdint>
#include <vector>

namespace dspjit {

/// The longest impulse response `convolve` takes (21.8 s at 48 kHz).
constexpr uint32_t MaxConvolutionTaps = 1u << 20;

/// The partitioning: the direct part is 2 * Block taps; level sizes start
/// at Block and grow by Ratio up to MaxPartition (all powers of two; a
/// Ratio of 1 is one uniform level of Block-sized partitions).
struct ConvolutionScheme {
  uint32_t Block = 64;
  uint32_t Ratio = 8;
  uint32_t MaxPartition = 4096;
};

/// Which output each input lane reaches through which impulse response lane.
enum class ConvolutionForm {
  /// Lane k of the input through lane k of the response to lane k of the
  /// output; a width-1 input or a width-1 response is used for every lane.
  PerLane,
  /// n inputs, n * n response lanes, n outputs: lane i * n + o carries input
  /// i to output o (true stereo: L->L, L->R, R->L, R->R).
  Matrix,
};

/// A plan, ready to be compiled into a kernel, and what its state needs.
struct ConvolutionPlan {
  std::vector<uint8_t> Bytes; ///< 64-byte aligned data, opaque to the kernel
  uint64_t StateBytes = 0;    ///< the instance memory it uses
};

/// Prepares `Taps` frames of `IrLanes` interleaved lanes (Ir[t * IrLanes +
/// l]) for an input of InLanes lanes. Taps from 1 to MaxConvolutionTaps.
/// Thread: any but the audio thread.
ConvolutionPlan prepareConvolution(const double *Ir, uint32_t Taps,
                                   uint32_t IrLanes, uint32_t InLanes,
                                   ConvolutionForm Form,
                                   const ConvolutionScheme &Scheme = {});

/// A plan and its state outside a kernel (tests and benchmarks).
class Convolver {
public:
  explicit Convolver(ConvolutionPlan Plan);
  ~Convolver();
  Convolver(const Convolver &) = delete;
  Convolver &operator=(const Convolver &) = delete;
  /// Zeroes the state (dspjit_convolve_init). Thread: not the audio thread.
  void reset();
  /// One frame (dspjit_convolve_frame). Thread: any.
  void frame(const float *In, float *Out);

private:
  ConvolutionPlan Plan;
  uint8_t *Plan64;  ///< the plan's bytes, 64-byte aligned
  uint8_t *State64; ///< the state, 64-byte aligned
};

} // namespace dspjit

#endif
