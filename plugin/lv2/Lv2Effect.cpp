//===- plugin/lv2/Lv2Effect.cpp - An exported script as an LV2 plugin -----===//
//
// The thin LV2 side of plugin/core/EffectCore.h: ports by index onto the
// core's audio channels, parameters and meter lanes; instantiate compiles
// (for the host's rate, through the object cache); run() hands the
// connected buffers to the core and reports the latency.
//
// Thread contracts are LV2's: instantiate, activate, deactivate and cleanup
// in the instantiation class; connect_port and run in the audio class,
// where nothing allocates, locks or waits.
//
//===----------------------------------------------------------------------===//
#include "plugin/core/EffectCore.h"
#include "plugin/lv2/Lv2Plugin.h"
#include "runtime/MessageCatalog.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/util.h>
#include <lv2/midi/midi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace dspjit::plugin {
namespace {

struct Effect {
  std::unique_ptr<EffectCore> Core;
  /// Per port: where its pointer goes.
  struct Binding {
    PortSpec::Kind K;
    uint32_t Index; ///< channel, parameter or meter lane
  };
  std::vector<Binding> Bindings;
  std::vector<const float *> In;
  std::vector<float *> Out;
  std::vector<const float *> Params;
  std::vector<float *> Meters;
  float *Latency = nullptr;
  /// An instrument's MIDI: the port, and the events of one run() (at most
  /// MaxEvents; later ones in a run are dropped).
  const LV2_Atom_Sequence *Midi = nullptr;
  LV2_URID MidiEventUrid = 0;
  static constexpr uint32_t MaxEvents = 1024;
  std::vector<MidiEvent> Events;
};

LV2_Handle instantiate(const LV2_Descriptor *, double Rate, const char *Bundle,
                       const LV2_Feature *const *Features) {
  const Payload &P = libraryPayload();
  auto Core = EffectCore::create(P, Bundle, Rate);
  if (!Core) {
    logMessage(Features, LV2_LOG__Error, Core.error());
    return nullptr;
  }
  if (std::getenv("DSPJIT_PLUGIN_TIMES")) {
    char Ms[32];
    std::snprintf(Ms, sizeof Ms, "%.1f", (*Core)->compileSeconds() * 1e3);
    logMessage(Features, LV2_LOG__Note,
               message<Msg::PluginCompiled>(
                   P.Name, Rate, Ms,
                   (*Core)->cached() ? " (from the object cache)" : ""));
  }
  auto E = std::make_unique<Effect>();
  E->Core = std::move(*Core);
  if (E->Core->layout().HasMidi) {
    const LV2_URID_Map *Map = nullptr;
    for (int I = 0; Features && Features[I]; ++I)
      if (!std::strcmp(Features[I]->URI, LV2_URID__map))
        Map = static_cast<const LV2_URID_Map *>(Features[I]->data);
    if (!Map) {
      logMessage(Features, LV2_LOG__Error,
                 "an instrument needs the host feature " LV2_URID__map);
      return nullptr;
    }
    E->MidiEventUrid = Map->map(Map->handle, LV2_MIDI__MidiEvent);
    E->Events.reserve(Effect::MaxEvents);
  }
  const PortLayout &L = E->Core->layout();
  uint32_t Counts[6] = {};
  for (const PortSpec &Port : L.Ports)
    E->Bindings.push_back({Port.K, Counts[Port.K]++});
  E->In.assign(L.AudioIns, nullptr);
  E->Out.assign(L.AudioOuts, nullptr);
  E->Params.assign(L.Params, nullptr);
  E->Meters.assign(L.MeterLanes, nullptr);
  return E.release();
}

void connectPort(LV2_Handle H, uint32_t Port, void *Data) {
  auto &E = *static_cast<Effect *>(H);
  if (Port >= E.Bindings.size())
    return;
  const auto [K, Index] = E.Bindings[Port];
  auto *F = static_cast<float *>(Data);
  switch (K) {
  case PortSpec::AudioIn: E.In[Index] = F; break;
  case PortSpec::AudioOut: E.Out[Index] = F; break;
  case PortSpec::ControlIn: E.Params[Index] = F; break;
  case PortSpec::ControlOut: E.Meters[Index] = F; break;
  case PortSpec::Latency: E.Latency = F; break;
  case PortSpec::MidiIn:
    E.Midi = static_cast<const LV2_Atom_Sequence *>(Data);
    break;
  }
}

void activate(LV2_Handle H) { static_cast<Effect *>(H)->Core->activate(); }

void run(LV2_Handle H, uint32_t Frames) {
  auto &E = *static_cast<Effect *>(H);
  E.Events.clear(); // capacity reserved at instantiate: no allocation
  if (E.Midi)
    LV2_ATOM_SEQUENCE_FOREACH(E.Midi, Ev) {
      if (Ev->body.type != E.MidiEventUrid || Ev->body.size == 0 ||
          Ev->body.size > 3 || E.Events.size() == Effect::MaxEvents)
        continue;
      MidiEvent M;
      M.Frame = uint32_t(std::max<int64_t>(0, Ev->time.frames));
      std::memcpy(M.Message.Bytes, LV2_ATOM_BODY_CONST(&Ev->body),
                  Ev->body.size);
      M.Message.Size = uint8_t(Ev->body.size);
      E.Events.push_back(M);
    }
  E.Core->process(E.In.data(), E.Out.data(), E.Params.data(), E.Meters.data(),
                  Frames, E.Events.data(), uint32_t(E.Events.size()));
  if (E.Latency)
    *E.Latency = float(std::lround(E.Core->latencyFrames()));
}

void deactivate(LV2_Handle) {}

void cleanup(LV2_Handle H) { delete static_cast<Effect *>(H); }

const void *extensionData(const char *) { return nullptr; }

} // namespace

const LV2_Descriptor *effectDescriptor() {
  static const LV2_Descriptor D = {libraryPayload().Uri.c_str(),
                                   instantiate,
                                   connectPort,
                                   activate,
                                   run,
                                   deactivate,
                                   cleanup,
                                   extensionData};
  return &D;
}

} // namespace dspjit::plugin
