//===- session/WebProtocol.cpp - The web panel's messages, as JSON --------===//
//
// JSON with nlohmann/json (Debian nlohmann-json3-dev): parsed without
// exceptions (json::parse(..., false) gives a "discarded" value on bad
// input) and dumped with invalid UTF-8 replaced, so that no byte a script
// or a page sends can throw.
//
//===----------------------------------------------------------------------===//
#include "session/WebProtocol.h"

#include "runtime/MessageCatalog.h"
#include "session/MidiMap.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace dspjit::session::web {

using nlohmann::json;

static std::string dump(const json &J) {
  return J.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// A number JSON can carry: non-finite values become null.
static json number(double V) { return std::isfinite(V) ? json(V) : json(); }

/// Rounded for the wire: a page shows a few digits, and 30 messages a
/// second of 17-digit numbers are mostly noise.
static json rounded(double V, double Scale = 1e4) {
  if (!std::isfinite(V))
    return json();
  return std::round(V * Scale) / Scale;
}

//===-- From the page -----------------------------------------------------===//

Result<Command> parseCommand(std::string_view Text) {
  if (Text.size() > MaxMessage)
    return fail(message<Msg::WebTooLong>(Text.size(), MaxMessage));
  json J = json::parse(Text.begin(), Text.end(), nullptr,
                       /*allow_exceptions=*/false);
  if (J.is_discarded() || !J.is_object())
    return fail(message<Msg::WebNotJson>());
  auto Type = J.find("type");
  if (Type == J.end() || !Type->is_string())
    return fail(message<Msg::WebNoType>());
  const std::string &Kind = Type->get_ref<const std::string &>();
  Command C;
  if (Kind == "set") {
    auto Name = J.find("name");
    auto Value = J.find("value");
    if (Name == J.end() || !Name->is_string() || Value == J.end() ||
        !Value->is_number())
      return fail(message<Msg::WebBadSet>());
    C.What = Command::Set;
    C.Name = Name->get<std::string>();
    C.Value = Value->get<double>();
    return C;
  }
  if (Kind == "learn") {
    auto Name = J.find("name");
    if (Name == J.end() || !Name->is_string())
      return fail(message<Msg::WebBadLearn>());
    C.What = Command::Learn;
    C.Name = Name->get<std::string>();
    return C;
  }
  if (Kind == "reset") {
    auto What = J.find("what");
    std::string W = What != J.end() && What->is_string()
                        ? What->get<std::string>()
                        : std::string();
    if (W == "params")
      C.What = Command::ResetParams;
    else if (W == "state")
      C.What = Command::ResetState;
    else
      return fail(message<Msg::WebBadReset>());
    return C;
  }
  return fail(message<Msg::WebUnknownType>(abbreviated(Kind)));
}

Handled handleMessage(ControlBus &Bus, std::string_view Text) {
  auto C = parseCommand(Text);
  if (!C)
    return {false, replyMessage(false, C.error())};
  switch (C->What) {
  case Command::Set: {
    // A finite double beyond float's range has no float value.
    if (std::isfinite(C->Value) &&
        std::fabs(C->Value) > std::numeric_limits<float>::max())
      return {false, replyMessage(false, message<Msg::WebOutOfRange>(
                                             abbreviated(C->Name), C->Value))};
    ParamUpdate U = Bus.setParam(C->Name, float(C->Value));
    if (!U.stored())
      return {false, replyMessage(false, U.Message)};
    if (U.Status == ParamUpdate::Clamped)
      return {true, replyMessage(true, U.Message)};
    return {true, {}};
  }
  case Command::ResetParams:
    if (auto R = Bus.resetParams(); !R)
      return {false, replyMessage(false, R.error())};
    return {true, {}};
  case Command::ResetState:
    if (auto R = Bus.resetState(); !R)
      return {false, replyMessage(false, R.error())};
    return {true, {}};
  case Command::Learn: {
    auto R = Bus.midiLearn(C->Name);
    return {bool(R), replyMessage(bool(R), R ? *R : R.error())};
  }
  }
  return {false, {}};
}

//===-- To the page -------------------------------------------------------===//

static const char *stateName(SessionState S) {
  switch (S) {
  case SessionState::Waiting: return "waiting";
  case SessionState::Running: return "running";
  case SessionState::Stopped: return "stopped";
  }
  return "stopped";
}

std::string helloMessage(std::string_view Script, SessionState State,
                         double Rate) {
  return dump({{"type", "hello"},
               {"protocol", 1},
               {"script", Script},
               {"state", stateName(State)},
               {"rate", Rate}});
}

/// Logarithmic for `hz` parameters whose range spans more than a decade.
static bool logarithmic(const DspjitSlot &S) {
  return std::strcmp(S.unit ? S.unit : "", "hz") == 0 && S.min > 0 &&
         S.max > 10 * S.min;
}

/// A toggle: not smoothed, and only 0 and 1 make sense.
static bool toggle(const DspjitSlot &S) {
  return S.smooth_seconds == 0 && S.min == 0 && S.max == 1;
}

/// The script's own MIDI mapping of a parameter, as people read it.
static std::string midiText(const DspjitSlot &S) {
  auto Source = declaredSource(S.midi);
  return Source ? describeMidiSource(*Source) : std::string();
}

std::string scriptMessage(const Instance &Inst, std::string_view Script,
                          bool MidiOpen) {
  const DspjitKernel &K = Inst.kernel();
  json Params = json::array(), Meters = json::array();
  for (uint32_t I = 0; I < K.num_slots; ++I) {
    const DspjitSlot &S = K.slots[I];
    if (S.kind == DSPJIT_SLOT_PARAM) {
      auto Value = Inst.param(S.name);
      Params.push_back({{"name", S.name},
                        {"min", number(S.min)},
                        {"max", number(S.max)},
                        {"default", number(S.def)},
                        {"unit", S.unit ? S.unit : ""},
                        {"smooth", S.smooth_seconds > 0},
                        {"log", logarithmic(S)},
                        {"toggle", toggle(S)},
                        {"value", number(Value ? *Value : S.def)},
                        {"midi", midiText(S)}});
    } else if (S.kind == DSPJIT_SLOT_METER) {
      Meters.push_back({{"name", S.name}, {"lanes", S.width}});
    }
  }
  return dump({{"type", "script"},
               {"script", Script},
               {"inputs", K.inputs},
               {"outputs", K.outputs},
               {"voices", K.voices},
               {"midi", MidiOpen},
               {"params", Params},
               {"meters", Meters}});
}

bool sameControls(const DspjitKernel &A, const DspjitKernel &B) {
  auto Controls = [](const DspjitKernel &K) {
    std::vector<const DspjitSlot *> List;
    for (uint32_t I = 0; I < K.num_slots; ++I)
      if (K.slots[I].kind == DSPJIT_SLOT_PARAM ||
          K.slots[I].kind == DSPJIT_SLOT_METER)
        List.push_back(&K.slots[I]);
    return List;
  };
  auto CA = Controls(A), CB = Controls(B);
  if (CA.size() != CB.size() || A.inputs != B.inputs || A.outputs != B.outputs)
    return false;
  for (size_t I = 0; I < CA.size(); ++I) {
    const DspjitSlot &X = *CA[I], &Y = *CB[I];
    if (std::strcmp(X.name, Y.name) != 0 || X.kind != Y.kind ||
        X.width != Y.width || X.min != Y.min || X.max != Y.max ||
        X.def != Y.def || X.smooth_seconds != Y.smooth_seconds ||
        std::strcmp(X.unit ? X.unit : "", Y.unit ? Y.unit : "") != 0)
      return false;
  }
  return true;
}

static json numbers(const std::vector<double> &Values, double Scale) {
  json A = json::array();
  for (double V : Values)
    A.push_back(rounded(V, Scale));
  return A;
}

std::string tickMessage(const Instance &Inst, const Levels &Out,
                        const Health &H, double Seconds) {
  const DspjitKernel &K = Inst.kernel();
  json Params = json::object(), Meters = json::object();
  for (uint32_t I = 0; I < K.num_slots; ++I) {
    const DspjitSlot &S = K.slots[I];
    if (S.kind == DSPJIT_SLOT_PARAM) {
      if (auto V = Inst.param(S.name))
        Params[S.name] = number(*V);
    } else if (S.kind == DSPJIT_SLOT_METER) {
      json Lanes = json::array();
      if (auto V = Inst.meter(S.name))
        for (float L : *V)
          Lanes.push_back(rounded(L, 1e6));
      Meters[S.name] = Lanes;
    }
  }
  const TimingSummary &S = H.Summary;
  json Xruns = json::object();
  for (unsigned Kind = 0; Kind < NumXrunKinds; ++Kind)
    Xruns[xrunKindName(XrunKind(Kind))] = S.Xruns[Kind];
  json Buckets = json::array();
  for (uint64_t N : H.Buckets)
    Buckets.push_back(N);
  json Health = {{"share", rounded(H.RecentShare, 1e5)},
                 {"meanShare", rounded(S.MeanShare, 1e5)},
                 {"p99Share", rounded(S.P99Share, 1e5)},
                 {"maxShare", rounded(S.MaxShare, 1e5)},
                 {"deadlineUs", rounded(S.DeadlineUs, 10)},
                 {"meanUs", rounded(S.MeanUs, 100)},
                 {"callbacks", S.Callbacks},
                 {"overDeadline", S.OverDeadline},
                 {"xruns", Xruns},
                 {"nonfinite", S.NonfiniteSamples},
                 {"cpu", rounded(H.CpuLoad, 1e4)},
                 {"buckets", Buckets}};
  return dump({{"type", "tick"},
               {"seconds", rounded(Seconds, 100)},
               {"params", Params},
               {"meters", Meters},
               {"peakDb", numbers(Out.PeakDb, 100)},
               {"rmsDb", numbers(Out.RmsDb, 100)},
               {"health", Health}});
}

std::string scopeMessage(const std::vector<std::vector<float>> &Lanes,
                         double Rate) {
  // Samples as integers in 1/10000 of full scale (the page divides by
  // "scale"): a third of the bytes of decimal fractions, 30 times a second.
  json L = json::array();
  for (const std::vector<float> &Lane : Lanes) {
    json A = json::array();
    for (float V : Lane)
      A.push_back(
          std::isfinite(V)
              ? json(std::lround(std::clamp(double(V), -8.0, 8.0) * 1e4))
              : json());
    L.push_back(A);
  }
  return dump(
      {{"type", "scope"}, {"rate", Rate}, {"scale", 1e-4}, {"lanes", L}});
}

std::string spectrumMessage(const std::vector<double> &Hz,
                            const std::vector<std::vector<double>> &Db) {
  json L = json::array();
  for (const std::vector<double> &Lane : Db)
    L.push_back(numbers(Lane, 10));
  return dump({{"type", "spectrum"}, {"hz", numbers(Hz, 10)}, {"db", L}});
}

std::string responseMessage(const std::vector<double> &Hz,
                            const std::vector<double> &MagnitudeDb,
                            const std::vector<double> &PhaseDegrees,
                            const std::vector<double> &MinDb,
                            const std::vector<double> &MaxDb) {
  return dump({{"type", "response"},
               {"hz", numbers(Hz, 10)},
               {"db", numbers(MagnitudeDb, 100)},
               {"phase", numbers(PhaseDegrees, 10)},
               {"minDb", numbers(MinDb, 100)},
               {"maxDb", numbers(MaxDb, 100)}});
}

std::string eventMessage(const Event &E) {
  json J = {{"type", "event"},
            {"kind", eventName(E)},
            {"text", describe(E)},
            {"error", isError(E)}};
  if (const auto *F = std::get_if<event::ReloadFailed>(&E))
    J["diagnostics"] = F->Diagnostics;
  else if (const auto *R = std::get_if<event::Reloaded>(&E))
    J["diagnostics"] = R->Diagnostics;
  else if (const auto *N = std::get_if<event::Notice>(&E))
    J["severity"] = N->Severity == event::Notice::Error     ? "error"
                    : N->Severity == event::Notice::Warning ? "warning"
                                                            : "info";
  return dump(J);
}

std::string replyMessage(bool Ok, std::string_view Text) {
  return dump({{"type", "reply"}, {"ok", Ok}, {"text", Text}});
}

} // namespace dspjit::session::web
