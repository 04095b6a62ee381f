//===- plugin/core/EffectCore.cpp - An exported script inside a plugin host ===//
#include "plugin/core/EffectCore.h"

#include "compiler/ObjectCache.h"
#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <sstream>

namespace dspjit::plugin {

CompileOptions pluginCompileOptions(double Rate) {
  CompileOptions O = CompileOptions::fromEnvironment();
  O.sampleRate = Rate;
  O.cacheDir = ObjectCache::defaultDirectory();
  O.warnings.AllDisabled = true;
  return O;
}

Result<std::unique_ptr<EffectCore>>
EffectCore::create(const Payload &P, const std::string &BundleDir,
                   double Rate) {
  namespace fs = std::filesystem;
  const auto Start = std::chrono::steady_clock::now();
  Compiler C(pluginCompileOptions(Rate));
  Compiler::SourceTexts Pins;
  std::error_code EC;
  for (const auto &[Rel, Text] : P.Sources)
    Pins[fs::weakly_canonical(fs::path(BundleDir) / Rel, EC).string()] = Text;
  const std::string Main =
      fs::weakly_canonical(fs::path(BundleDir) / P.Main, EC).string();
  auto Text = Pins.find(Main);
  if (Text == Pins.end())
    return fail(message<Msg::PluginPayloadMalformed>());
  std::string MainText = Text->second;
  C.pinSources(std::move(Pins));
  std::shared_ptr<Kernel> K = C.compileSource(Main, MainText);
  if (!K) {
    std::ostringstream Diags;
    C.diagnostics().print(Diags);
    return fail(message<Msg::PluginDoesNotCompile>(P.Name, Rate, Diags.str()));
  }
  std::unique_ptr<EffectCore> E(new EffectCore);
  E->Layout =
      PortLayout::of(K->info(), P.Ports.find("; latency") != std::string::npos);
  if (E->Layout.signature() != P.Ports)
    return fail(message<Msg::PluginPortsChanged>(P.Name, Rate, P.Ports,
                                                 E->Layout.signature()));
  auto Inst = Instance::create(K->info(), Rate);
  if (!Inst)
    return fail(Inst.error());
  if (K->info().voices) {
    E->Swap = std::make_unique<HotSwap>(K, std::move(*Inst), MaxChunk);
    E->I = &E->Swap->newest()->I;
  } else {
    E->Own = std::make_unique<Instance>(std::move(*Inst));
    E->I = E->Own.get();
  }
  E->K = std::move(K);
  const DspjitKernel &Info = E->K->info();
  for (const PortSpec &Port : E->Layout.Ports) {
    if (Port.K == PortSpec::ControlIn)
      E->ParamSlots.push_back(&Info.slots[Port.Slot]);
    else if (Port.K == PortSpec::ControlOut)
      E->MeterLanes.push_back({reinterpret_cast<const float *>(
                                   static_cast<const char *>(E->I->data()) +
                                   Info.slots[Port.Slot].offset) +
                                   Port.Lane,
                               Port.Lane});
  }
  E->InScratch.assign(size_t(MaxChunk) * std::max(1u, Info.inputs), 0.0f);
  E->OutScratch.assign(size_t(MaxChunk) * std::max(1u, Info.outputs), 0.0f);
  E->Cached = C.times().cached;
  E->CompileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
          .count();
  return E;
}

void EffectCore::activate() {
  I->reset();
  FirstRun = true;
}

void EffectCore::runChunk(const float *const *In, float *const *Out,
                          uint32_t Done, uint32_t N) {
  const DspjitKernel &Info = K->info();
  for (uint32_t C = 0; C < Info.inputs; ++C) {
    const float *Src = In[C];
    for (uint32_t F = 0; F < N; ++F)
      InScratch[size_t(F) * Info.inputs + C] = Src ? Src[Done + F] : 0.0f;
  }
  const float *KIn = Info.inputs ? InScratch.data() : nullptr;
  float *KOut = Info.outputs ? OutScratch.data() : nullptr;
  if (Swap)
    Swap->process(KIn, KOut, N, nullptr, 0);
  else
    I->process(KIn, KOut, N);
  for (uint32_t C = 0; C < Info.outputs; ++C) {
    float *Dst = Out[C];
    if (!Dst)
      continue;
    for (uint32_t F = 0; F < N; ++F)
      Dst[Done + F] = OutScratch[size_t(F) * Info.outputs + C];
  }
}

void EffectCore::process(const float *const *In, float *const *Out,
                         const float *const *Params, float *const *Meters,
                         uint32_t Frames, const MidiEvent *Events,
                         uint32_t NumEvents) {
  for (size_t P = 0; P < ParamSlots.size(); ++P) {
    if (!Params[P])
      continue;
    const DspjitSlot &S = *ParamSlots[P];
    const float V = clampParam(S, *Params[P]);
    I->setParamTarget(S, V);
    if (FirstRun) {
      // The smoothed value too: start at the control's value, no glide.
      auto *Value = reinterpret_cast<float *>(static_cast<char *>(I->data()) +
                                              S.value_offset);
      std::atomic_ref<float>(*Value).store(V, std::memory_order_relaxed);
    }
  }
  FirstRun = false;
  // Chunks end at the next event, so that each plays at its frame (the
  // voices take queued messages at the start of a block).
  uint32_t Next = 0;
  for (uint32_t Done = 0; Done < Frames;) {
    while (Swap && Next < NumEvents && Events[Next].Frame <= Done)
      Swap->sendMidi(Events[Next++].Message);
    uint32_t End = std::min(Frames, Done + MaxChunk);
    if (Swap && Next < NumEvents)
      End = std::min(End, Events[Next].Frame);
    runChunk(In, Out, Done, End - Done);
    Done = End;
  }
  for (size_t M = 0; M < MeterLanes.size(); ++M)
    if (Meters[M])
      *Meters[M] = std::atomic_ref<const float>(*MeterLanes[M].first)
                       .load(std::memory_order_relaxed);
}

} // namespace dspjit::plugin
