//===- plugin/core/LiveCore.cpp - A script live-coded inside a plugin host ===//
#include "plugin/core/LiveCore.h"

#include "compiler/Compiler.h"
#include "plugin/core/EffectCore.h"
#include "runtime/Host.h"
#include "runtime/MessageCatalog.h"
#include "session/ControlBus.h"
#include "session/Reloader.h"

#include <chrono>
#include <cmath>
#include <sstream>

namespace dspjit::plugin {

Result<std::unique_ptr<LiveScript>> LiveScript::load(const std::string &Path,
                                                     double Rate, LogFn Log) {
  CompileOptions Options = pluginCompileOptions(Rate);
  Compiler C(Options);
  std::shared_ptr<Kernel> K = C.compileFile(Path);
  if (!K) {
    std::ostringstream Diags;
    C.diagnostics().print(Diags);
    return fail(message<Msg::PluginDoesNotCompile>(Path, Rate, Diags.str()));
  }
  const DspjitKernel &Info = K->info();
  if (Info.inputs > Channels || Info.outputs > Channels)
    return fail(message<Msg::LiveTooManyChannels>(Path, Info.inputs,
                                                  Info.outputs, Channels));
  std::unique_ptr<LiveScript> L(new LiveScript);
  L->Path = Path;
  L->Log = std::move(Log);
  L->ScriptIn = Info.inputs;
  L->ScriptOut = Info.outputs;
  HostOptions HO;
  auto H = Host::openOffline(Info, HO, K);
  if (!H)
    return fail(H.error());
  L->H = std::move(*H);
  if (auto Ok = L->H->start(); !Ok)
    return fail(Ok.error());
  L->K = K;
  L->Bus = std::make_unique<session::ControlBus>(*L->H);
  L->Sub = std::make_unique<session::Subscription>(
      L->Bus->subscribe([P = L.get()](const session::Event &E) {
        std::string Text = session::describe(E);
        if (auto *F = std::get_if<session::event::ReloadFailed>(&E))
          if (!F->Diagnostics.empty())
            Text += "\n" + F->Diagnostics;
        P->Log(session::isError(E), Text);
      }));
  session::ReloaderOptions RO;
  RO.Script = Path;
  RO.Compile = Options;
  auto R = session::Reloader::start(*L->H, *L->Bus, RO, C.sourceFiles(),
                                    C.sourceTexts(), K->codeHash());
  if (!R)
    return fail(R.error());
  L->R = std::move(*R);
  L->InScratch.assign(size_t(MaxChunk) * std::max(1u, Info.inputs), 0.0f);
  L->OutScratch.assign(size_t(MaxChunk) * std::max(1u, Info.outputs), 0.0f);
  for (auto &Knob : L->KnobIn)
    Knob.store(NAN);
  for (auto &M : L->MeterOut)
    M.store(0);
  L->Control = std::thread([P = L.get()] { P->controlLoop(); });
  return L;
}

LiveScript::~LiveScript() {
  Quit.store(true);
  if (Control.joinable())
    Control.join();
  R.reset(); // joins the reload threads before the Host goes
  Sub.reset();
  if (Bus)
    Bus->detach();
  if (H)
    (void)H->stop();
}

void LiveScript::controlLoop() {
  std::array<float, Knobs> Sent;
  Sent.fill(NAN);
  const DspjitKernel *Last = nullptr;
  while (!Quit.load()) {
    std::shared_ptr<Instance> I = H->instance();
    const DspjitKernel &Info = I->kernel();
    if (&Info != Last) { // a new version: its parameters take the knobs anew
      Sent.fill(NAN);
      Last = &Info;
    }
    unsigned Knob = 0, Meter = 0;
    for (uint32_t S = 0; S < Info.num_slots; ++S) {
      const DspjitSlot &D = Info.slots[S];
      if (D.kind == DSPJIT_SLOT_PARAM && Knob < Knobs) {
        const float V = KnobIn[Knob].load(std::memory_order_relaxed);
        if (!std::isnan(V) && V != Sent[Knob]) {
          H->setParam(D.name,
                      D.min + std::clamp(V, 0.0f, 1.0f) * (D.max - D.min));
          Sent[Knob] = V;
        }
        ++Knob;
      }
      if (D.kind == DSPJIT_SLOT_METER &&
          std::string_view(D.name) != "voice.peak")
        if (auto Lanes = I->meter(D.name))
          for (float Lane : *Lanes)
            if (Meter < Meters)
              MeterOut[Meter++].store(Lane, std::memory_order_relaxed);
    }
    H->collect();
    I.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void LiveScript::process(const float *const *In, float *const *Out,
                         const float *const *Knob, float *const *Meter,
                         uint32_t Frames) {
  for (unsigned I = 0; I < Knobs; ++I)
    if (Knob[I])
      KnobIn[I].store(*Knob[I], std::memory_order_relaxed);
  static const PaStreamCallbackTimeInfo NoTime = {0, 0, 0};
  for (uint32_t Done = 0; Done < Frames;) {
    const uint32_t N = std::min(Frames - Done, MaxChunk);
    for (unsigned C = 0; C < ScriptIn; ++C)
      for (uint32_t F = 0; F < N; ++F)
        InScratch[size_t(F) * ScriptIn + C] = In[C] ? In[C][Done + F] : 0.0f;
    Host::callback(ScriptIn ? InScratch.data() : nullptr,
                   ScriptOut ? OutScratch.data() : nullptr, N, &NoTime, 0,
                   H.get());
    for (unsigned C = 0; C < Channels; ++C) {
      if (!Out[C])
        continue;
      if (!ScriptOut) {
        std::fill(Out[C] + Done, Out[C] + Done + N, 0.0f);
        continue;
      }
      const unsigned From = C % ScriptOut;
      for (uint32_t F = 0; F < N; ++F)
        Out[C][Done + F] = OutScratch[size_t(F) * ScriptOut + From];
    }
    Done += N;
  }
  for (unsigned M = 0; M < Meters; ++M)
    if (Meter[M])
      *Meter[M] = MeterOut[M].load(std::memory_order_relaxed);
}

} // namespace dspjit::plugin
