//===- plugin/core/PortLayout.cpp - A script's ports, for any plugin format ===//
#include "plugin/core/PortLayout.h"

#include <cctype>
#include <cmath>
#include <set>

namespace dspjit::plugin {

static bool whole(float V) { return std::isfinite(V) && std::floor(V) == V; }

/// `Want`, made a valid symbol and unique among `Taken`.
static std::string uniqueSymbol(std::string Want,
                                std::set<std::string> &Taken) {
  for (char &C : Want)
    if (!std::isalnum(static_cast<unsigned char>(C)) && C != '_')
      C = '_';
  if (Want.empty() || std::isdigit(static_cast<unsigned char>(Want[0])))
    Want = "_" + Want;
  std::string S = Want;
  for (unsigned N = 2; Taken.count(S); ++N)
    S = Want + "_" + std::to_string(N);
  Taken.insert(S);
  return S;
}

PortLayout PortLayout::of(const DspjitKernel &K, bool WithLatency) {
  PortLayout L;
  std::set<std::string> Taken;
  auto Add = [&](PortSpec P) { L.Ports.push_back(std::move(P)); };
  auto AddAudio = [&](PortSpec::Kind Kind, uint32_t Count, const char *Sym,
                      const char *Label) {
    for (uint32_t C = 0; C < Count; ++C) {
      PortSpec P;
      P.K = Kind;
      P.Channel = C;
      P.Symbol = uniqueSymbol(Sym + std::to_string(C + 1), Taken);
      P.Name = Label + std::to_string(C + 1);
      Add(P);
    }
  };
  AddAudio(PortSpec::AudioIn, K.inputs, "in_", "In ");
  AddAudio(PortSpec::AudioOut, K.outputs, "out_", "Out ");
  L.AudioIns = K.inputs;
  L.AudioOuts = K.outputs;
  for (uint32_t S = 0; S < K.num_slots; ++S) {
    const DspjitSlot &D = K.slots[S];
    if (D.kind != DSPJIT_SLOT_PARAM)
      continue;
    PortSpec P;
    P.K = PortSpec::ControlIn;
    P.Slot = S;
    P.Symbol = uniqueSymbol(D.name, Taken);
    P.Name = D.name;
    P.Default = D.def;
    P.Min = D.min;
    P.Max = D.max;
    P.Unit = D.unit ? D.unit : "";
    if (D.smooth_seconds == 0 && whole(D.min) && whole(D.max) && whole(D.def) &&
        P.Unit.empty()) {
      P.Toggled = D.min == 0 && D.max == 1;
      P.Integer = !P.Toggled;
    }
    Add(P);
    ++L.Params;
  }
  for (uint32_t S = 0; S < K.num_slots; ++S) {
    const DspjitSlot &D = K.slots[S];
    if (D.kind != DSPJIT_SLOT_METER || std::string_view(D.name) == "voice.peak")
      continue;
    for (uint32_t Lane = 0; Lane < D.width; ++Lane) {
      PortSpec P;
      P.K = PortSpec::ControlOut;
      P.Slot = S;
      P.Lane = Lane;
      std::string Suffix = D.width > 1 ? "_" + std::to_string(Lane + 1) : "";
      P.Symbol = uniqueSymbol(D.name + Suffix, Taken);
      P.Name = D.width > 1
                   ? std::string(D.name) + " " + std::to_string(Lane + 1)
                   : std::string(D.name);
      Add(P);
      ++L.MeterLanes;
    }
  }
  if (K.voices) {
    PortSpec P;
    P.K = PortSpec::MidiIn;
    P.Symbol = uniqueSymbol("midi_in", Taken);
    P.Name = "MIDI in";
    Add(P);
    L.HasMidi = true;
  }
  if (WithLatency) {
    PortSpec P;
    P.K = PortSpec::Latency;
    P.Symbol = uniqueSymbol("latency", Taken);
    P.Name = "Latency";
    P.Max = 1e6f;
    Add(P);
    L.HasLatency = true;
  }
  return L;
}

std::string PortLayout::signature() const {
  std::string S = std::to_string(AudioIns) + " -> " + std::to_string(AudioOuts);
  for (const PortSpec &P : Ports)
    if (P.K == PortSpec::ControlIn || P.K == PortSpec::ControlOut)
      S += "; " + P.Symbol + (P.K == PortSpec::ControlIn ? " in" : " out");
  if (HasLatency)
    S += "; latency";
  if (HasMidi)
    S += "; midi";
  return S;
}

} // namespace dspjit::plugin
