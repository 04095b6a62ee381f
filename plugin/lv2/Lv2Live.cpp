//===- plugin/lv2/Lv2Live.cpp - The live plugin: a script hot-reloaded in a DAW ===//
//
// The LV2 side of plugin/core/LiveCore.h. Ports (plugin/lv2/dspjit-live.ttl):
// in_1, in_2, out_1, out_2, knob_1..knob_16, meter_1..meter_4, and an atom
// input `control` that takes patch:Set of urn:dspjit:live#script (the
// script's path, a patch:writable parameter: a host shows a file chooser).
//
// Loading never happens in run(): a patch:Set schedules the compile on the
// host's worker thread (LV2 worker extension); the worker's response, in
// the audio thread, swaps the new script in by pointer and sends the old
// one back to the worker to be freed. State (LV2 state extension) saves the
// path; restoring it loads synchronously, as state restore runs in the
// instantiation class, never concurrently with run(). The knobs are control
// ports, which hosts save and restore themselves. Errors (a script that
// does not compile, a failed reload) go to the host's log (LV2 log
// extension), stderr without one.
//
//===----------------------------------------------------------------------===//
#include "plugin/core/LiveCore.h"
#include "plugin/lv2/Lv2Plugin.h"
#include "runtime/MessageCatalog.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/util.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/worker/worker.h>

#include <cstring>
#include <memory>
#include <string>

namespace dspjit::plugin {
namespace {

constexpr const char *ScriptKey = "urn:dspjit:live#script";
constexpr uint32_t AudioPorts = 4, FirstKnob = 4,
                   FirstMeter = FirstKnob + LiveScript::Knobs,
                   ControlPort = FirstMeter + LiveScript::Meters;

struct Live {
  double Rate = 48000;
  const LV2_Feature *const *Features = nullptr;
  LV2_URID_Map *Map = nullptr;
  LV2_Worker_Schedule *Schedule = nullptr;
  struct {
    LV2_URID Path, String, Uri, Urid, Object, PatchSet, Property, Value, Script;
  } U = {};

  const float *In[2] = {};
  float *Out[2] = {};
  const float *Knob[LiveScript::Knobs] = {};
  float *Meter[LiveScript::Meters] = {};
  const LV2_Atom_Sequence *Control = nullptr;

  /// The script the audio thread runs; swapped only by the audio thread
  /// (work_response) or while no run() can happen (restore, cleanup).
  LiveScript *Active = nullptr;

  void log(bool Error, const std::string &Text) const {
    logMessage(Features, Error ? LV2_LOG__Error : LV2_LOG__Note, Text);
  }
  /// Compiles and starts a script; null (with the error logged) on failure.
  LiveScript *load(const std::string &Path) const {
    auto L = LiveScript::load(
        Path, Rate, [this](bool E, const std::string &T) { log(E, T); });
    if (!L) {
      log(true, L.error());
      return nullptr;
    }
    log(false, message<Msg::LiveLoaded>(Path, Rate));
    return L->release();
  }
};

/// Worker messages: a path to load, or a script to free.
struct WorkMessage {
  enum Kind : uint32_t { Load, Free } K;
  LiveScript *Script;   ///< Free
  char Path[2048 - 16]; ///< Load, NUL-terminated
};

LV2_Handle instantiate(const LV2_Descriptor *, double Rate, const char *,
                       const LV2_Feature *const *Features) {
  auto L = std::make_unique<Live>();
  L->Rate = Rate;
  L->Features = Features;
  for (int I = 0; Features && Features[I]; ++I) {
    if (!std::strcmp(Features[I]->URI, LV2_URID__map))
      L->Map = static_cast<LV2_URID_Map *>(Features[I]->data);
    else if (!std::strcmp(Features[I]->URI, LV2_WORKER__schedule))
      L->Schedule = static_cast<LV2_Worker_Schedule *>(Features[I]->data);
  }
  if (!L->Map) {
    logMessage(Features, LV2_LOG__Error,
               "the live plugin needs the host feature " LV2_URID__map);
    return nullptr;
  }
  auto Map = [&](const char *Uri) { return L->Map->map(L->Map->handle, Uri); };
  L->U = {Map(LV2_ATOM__Path),      Map(LV2_ATOM__String), Map(LV2_ATOM__URI),
          Map(LV2_ATOM__URID),      Map(LV2_ATOM__Object), Map(LV2_PATCH__Set),
          Map(LV2_PATCH__property), Map(LV2_PATCH__value), Map(ScriptKey)};
  return L.release();
}

void connectPort(LV2_Handle H, uint32_t Port, void *Data) {
  auto &L = *static_cast<Live *>(H);
  if (Port < 2)
    L.In[Port] = static_cast<const float *>(Data);
  else if (Port < AudioPorts)
    L.Out[Port - 2] = static_cast<float *>(Data);
  else if (Port < FirstMeter)
    L.Knob[Port - FirstKnob] = static_cast<const float *>(Data);
  else if (Port < ControlPort)
    L.Meter[Port - FirstMeter] = static_cast<float *>(Data);
  else if (Port == ControlPort)
    L.Control = static_cast<const LV2_Atom_Sequence *>(Data);
}

void activate(LV2_Handle) {}

/// A patch:Set of the script's path: schedules its load on the worker.
void takeControl(Live &L) {
  if (!L.Control || !L.Schedule)
    return;
  LV2_ATOM_SEQUENCE_FOREACH(L.Control, Ev) {
    if (Ev->body.type != L.U.Object)
      continue;
    const auto *Obj = reinterpret_cast<const LV2_Atom_Object *>(&Ev->body);
    if (Obj->body.otype != L.U.PatchSet)
      continue;
    const LV2_Atom *Property = nullptr, *Value = nullptr;
    lv2_atom_object_get(Obj, L.U.Property, &Property, L.U.Value, &Value, 0);
    if (!Property || !Value || Property->type != L.U.Urid ||
        reinterpret_cast<const LV2_Atom_URID *>(Property)->body != L.U.Script ||
        (Value->type != L.U.Path && Value->type != L.U.String))
      continue;
    WorkMessage M;
    M.K = WorkMessage::Load;
    M.Script = nullptr;
    const uint32_t N = std::min<uint32_t>(Value->size, sizeof M.Path - 1);
    std::memcpy(M.Path, LV2_ATOM_BODY_CONST(Value), N);
    M.Path[N] = 0;
    L.Schedule->schedule_work(L.Schedule->handle, sizeof M, &M);
  }
}

void run(LV2_Handle H, uint32_t Frames) {
  auto &L = *static_cast<Live *>(H);
  takeControl(L);
  if (L.Active) {
    L.Active->process(L.In, L.Out, L.Knob, L.Meter, Frames);
    return;
  }
  for (float *O : L.Out)
    if (O)
      std::memset(O, 0, Frames * sizeof(float));
  for (float *M : L.Meter)
    if (M)
      *M = 0;
}

void deactivate(LV2_Handle) {}

void cleanup(LV2_Handle H) {
  auto *L = static_cast<Live *>(H);
  delete L->Active;
  delete L;
}

//===-- Worker ------------------------------------------------------------===//

LV2_Worker_Status work(LV2_Handle H, LV2_Worker_Respond_Function Respond,
                       LV2_Worker_Respond_Handle RH, uint32_t Size,
                       const void *Data) {
  auto &L = *static_cast<Live *>(H);
  if (Size != sizeof(WorkMessage))
    return LV2_WORKER_ERR_UNKNOWN;
  const auto &M = *static_cast<const WorkMessage *>(Data);
  if (M.K == WorkMessage::Free) {
    delete M.Script;
    return LV2_WORKER_SUCCESS;
  }
  LiveScript *New = L.load(M.Path);
  if (!New)
    return LV2_WORKER_SUCCESS; // the old script keeps playing
  return Respond(RH, sizeof New, &New);
}

LV2_Worker_Status workResponse(LV2_Handle H, uint32_t Size, const void *Data) {
  auto &L = *static_cast<Live *>(H);
  if (Size != sizeof(LiveScript *))
    return LV2_WORKER_ERR_UNKNOWN;
  LiveScript *New;
  std::memcpy(&New, Data, sizeof New);
  WorkMessage M;
  M.K = WorkMessage::Free;
  M.Script = L.Active;
  M.Path[0] = 0;
  L.Active = New;
  if (M.Script)
    L.Schedule->schedule_work(L.Schedule->handle, sizeof M, &M);
  return LV2_WORKER_SUCCESS;
}

//===-- State -------------------------------------------------------------===//

LV2_State_Status save(LV2_Handle H, LV2_State_Store_Function Store,
                      LV2_State_Handle SH, uint32_t,
                      const LV2_Feature *const *) {
  auto &L = *static_cast<Live *>(H);
  if (!L.Active)
    return LV2_STATE_SUCCESS;
  const std::string &Path = L.Active->path();
  return Store(SH, L.U.Script, Path.c_str(), Path.size() + 1, L.U.Path,
               LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
}

LV2_State_Status restore(LV2_Handle H, LV2_State_Retrieve_Function Retrieve,
                         LV2_State_Handle SH, uint32_t,
                         const LV2_Feature *const *) {
  auto &L = *static_cast<Live *>(H);
  size_t Size = 0;
  uint32_t Type = 0, Flags = 0;
  const void *Value = Retrieve(SH, L.U.Script, &Size, &Type, &Flags);
  if (!Value || (Type != L.U.Path && Type != L.U.String && Type != L.U.Uri))
    return LV2_STATE_SUCCESS;
  std::string Path(static_cast<const char *>(Value),
                   strnlen(static_cast<const char *>(Value), Size));
  if (Path.rfind("file://", 0) == 0)
    Path.erase(0, 7);
  // The instantiation class: run() is not running now.
  if (LiveScript *New = L.load(Path)) {
    delete L.Active;
    L.Active = New;
  }
  return LV2_STATE_SUCCESS;
}

const void *extensionData(const char *Uri) {
  static const LV2_Worker_Interface Worker = {work, workResponse, nullptr};
  static const LV2_State_Interface State = {save, restore};
  if (!std::strcmp(Uri, LV2_WORKER__interface))
    return &Worker;
  if (!std::strcmp(Uri, LV2_STATE__interface))
    return &State;
  return nullptr;
}

} // namespace

const LV2_Descriptor *liveDescriptor() {
  static const LV2_Descriptor D = {LiveUri,  instantiate,  connectPort,
                                   activate, run,          deactivate,
                                   cleanup,  extensionData};
  return &D;
}

} // namespace dspjit::plugin
