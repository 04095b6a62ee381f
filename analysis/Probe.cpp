//===- analysis/Probe.cpp - A private instance of a kernel to measure -----===//
#include "analysis/Probe.h"

#include "runtime/MessageCatalog.h"

#include <algorithm>

namespace dspjit::analysis {

Result<Probe> Probe::create(const DspjitKernel &K, const ResponseOptions &O,
                            bool NeedsInput) {
  if (K.outputs == 0)
    return fail(message<Msg::AnalysisNoOutputs>(O.KernelName, K.inputs));
  if (NeedsInput && K.inputs == 0)
    return fail(message<Msg::AnalysisNoInputs>(O.KernelName, K.outputs));
  if (NeedsInput && O.Input >= K.inputs)
    return fail(message<Msg::AnalysisNoInputChannel>(O.KernelName, O.Input + 1,
                                                     K.inputs, K.outputs));
  if (O.Output >= K.outputs)
    return fail(message<Msg::AnalysisNoOutputChannel>(
        O.KernelName, O.Output + 1, K.outputs, K.inputs));
  if (O.BlockSize == 0)
    return fail(message<Msg::RenderBlockSize>());
  auto I = Instance::create(K, O.SampleRate);
  if (!I)
    return fail(I.error());
  for (const auto &[Name, Value] : O.Params)
    if (ParamUpdate U = I->setParamImmediate(Name, Value); !U.stored())
      return fail(U.Message);
  return Probe(std::move(*I), O);
}

Probe::Probe(Instance Inst, const ResponseOptions &O)
    : I(std::move(Inst)), InLane(O.Input), OutLane(O.Output),
      Block(O.BlockSize) {
  InFrames.assign(size_t(Block) * I.kernel().inputs, 0.0f);
  OutFrames.assign(size_t(Block) * I.kernel().outputs, 0.0f);
}

void Probe::run(const float *In, float *Out, size_t Frames) {
  const unsigned Ins = I.kernel().inputs, Outs = I.kernel().outputs;
  for (size_t Start = 0; Start < Frames; Start += Block) {
    size_t N = std::min<size_t>(Block, Frames - Start);
    if (Ins > 0 && InLane < Ins)
      for (size_t F = 0; F < N; ++F)
        InFrames[F * Ins + InLane] = In ? In[Start + F] : 0.0f;
    I.process(Ins ? InFrames.data() : nullptr, OutFrames.data(),
              (unsigned long)N);
    if (Out)
      for (size_t F = 0; F < N; ++F)
        Out[Start + F] = OutFrames[F * Outs + OutLane];
  }
  Done += Frames;
}

size_t longestDelay(const DspjitKernel &K) {
  size_t Longest = 0;
  for (uint32_t S = 0; S < K.num_slots; ++S)
    if (K.slots[S].kind == DSPJIT_SLOT_DELAY)
      Longest = std::max<size_t>(Longest, K.slots[S].length);
  return Longest;
}

} // namespace dspjit::analysis
