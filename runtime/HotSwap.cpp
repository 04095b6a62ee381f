//===- runtime/HotSwap.cpp - Replacing a running kernel without a click ---===//
//
// See HotSwap.h. Three parts: planning a take-over (control thread),
// parameters (any thread), and the audio thread's pick-up and crossfade.
//
//===----------------------------------------------------------------------===//
#include "runtime/HotSwap.h"

#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string_view>

namespace dspjit {

//===-- Reports -----------------------------------------------------------===//

static std::string joined(const std::vector<std::string> &Names,
                          size_t Max = 4) {
  std::string Text;
  for (size_t I = 0; I < Names.size() && I < Max; ++I)
    Text += (I ? ", " : "") + Names[I];
  if (Names.size() > Max)
    Text = message<Msg::SwapMoreNames>(Text, Names.size() - Max);
  return Text;
}

std::string SwapReport::text() const {
  std::string Text;
  auto Add = [&](const std::string &Part) {
    Text += (Text.empty() ? "" : "; ") + Part;
  };
  if (!Kept.empty())
    Add(message<Msg::SwapKept>(Kept.size(), joined(Kept)));
  if (!Reset.empty())
    Add(message<Msg::SwapReset>(Reset.size(), joined(Reset)));
  if (!Added.empty())
    Add(message<Msg::SwapAdded>(Added.size(), joined(Added)));
  if (!Removed.empty())
    Add(message<Msg::SwapRemoved>(Removed.size(), joined(Removed)));
  if (!UserParams.empty())
    Add(message<Msg::SwapUserValues>(joined(UserParams, 8)));
  if (!NewDefaults.empty())
    Add(message<Msg::SwapNewDefaults>(joined(NewDefaults, 8)));
  return Text.empty() ? message<Msg::SwapNothingToCarry>() : Text;
}

//===-- Planning (control thread) -----------------------------------------===//

HotSwap::HotSwap(std::shared_ptr<const void> Code, Instance First,
                 unsigned long MaxFrames)
    : Inputs(First.kernel().inputs), Outputs(First.kernel().outputs),
      Rate(First.sampleRate()), MaxFrames(MaxFrames) {
  auto V = std::make_shared<KernelVersion>(std::move(Code), std::move(First));
  V->Number = 1;
  Current = V.get();
  Voices.setVoices(V->Notes.Voices);
  Owned.push_back(std::move(V));
  FadeOut.assign(size_t(MaxFrames) * std::max(1u, Outputs), 0.0f);
}

HotSwap::~HotSwap() = default;

/// Bytes of one state or delay slot's data.
static uint64_t dataBytes(const DspjitSlot &S) {
  uint64_t Lanes = uint64_t(S.width) * S.count * S.elem_size;
  return S.kind == DSPJIT_SLOT_DELAY ? Lanes * S.capacity : Lanes;
}

static bool sameShape(const DspjitSlot &A, const DspjitSlot &B) {
  if (A.kind != B.kind || A.width != B.width || A.count != B.count ||
      A.elem_size != B.elem_size)
    return false;
  return A.kind != DSPJIT_SLOT_DELAY || A.capacity == B.capacity;
}

Result<std::shared_ptr<KernelVersion>>
HotSwap::prepare(std::shared_ptr<const void> Code, const DspjitKernel &Kernel,
                 const SwapOptions &Options, SwapReport *Report) {
  if (Kernel.inputs != Inputs || Kernel.outputs != Outputs)
    return fail(message<Msg::SwapIoChanged>(Kernel.inputs, Kernel.outputs,
                                            Inputs, Outputs));
  auto Inst = Instance::create(Kernel, Rate);
  if (!Inst)
    return fail(Inst.error());
  auto V = std::make_shared<KernelVersion>(std::move(Code), std::move(*Inst));
  V->FadeFrames = Options.FadeFrames;

  SwapReport Local;
  SwapReport &R = Report ? *Report : Local;
  R = {};
  std::lock_guard<std::mutex> Guard(Lock);
  const KernelVersion &Old = *Owned.back();
  const DspjitKernel &OldK = Old.I.kernel();
  V->Number = Old.Number + 1;
  V->Replaces = Old.Number;

  for (uint32_t S = 0; S < Kernel.num_slots; ++S) {
    const DspjitSlot &New = Kernel.slots[S];
    const DspjitSlot *Prev = findSlot(OldK, New.name);
    if (New.kind == DSPJIT_SLOT_PARAM) {
      if (!Prev || Prev->kind != DSPJIT_SLOT_PARAM) {
        R.Added.push_back(New.name);
        continue;
      }
      // The smoothed value continues; the target is the user's value, or
      // the new default for a parameter the user never touched.
      V->Values.push_back(
          {Prev->value_offset, New.value_offset, New.min, New.max});
      auto User = UserValues.find(std::string_view(New.name));
      if (User != UserValues.end()) {
        V->I.setParamTarget(New, User->second);
        R.UserParams.push_back(std::string(New.name) + "=" +
                               formatNumber(clampParam(New, User->second)));
      } else if (New.def != Prev->def) {
        R.NewDefaults.push_back(std::string(New.name) + "=" +
                                formatNumber(New.def));
      }
      continue;
    }
    if (New.kind != DSPJIT_SLOT_STATE && New.kind != DSPJIT_SLOT_DELAY)
      continue;
    if (!Prev ||
        (Prev->kind != DSPJIT_SLOT_STATE && Prev->kind != DSPJIT_SLOT_DELAY)) {
      R.Added.push_back(New.name);
      continue;
    }
    if (!Options.CarryState || !sameShape(New, *Prev)) {
      R.Reset.push_back(New.name);
      continue;
    }
    V->Copies.push_back({Prev->offset, New.offset, uint32_t(dataBytes(New))});
    if (New.kind == DSPJIT_SLOT_DELAY)
      V->Copies.push_back({Prev->value_offset, New.value_offset, 4});
    R.Kept.push_back(New.name);
    R.CopiedBytes += dataBytes(New);
  }
  for (uint32_t S = 0; S < OldK.num_slots; ++S) {
    const DspjitSlot &Prev = OldK.slots[S];
    if (Prev.kind != DSPJIT_SLOT_METER && !findSlot(Kernel, Prev.name))
      R.Removed.push_back(Prev.name);
  }
  // Adjacent ranges become one memcpy.
  std::vector<KernelVersion::Copy> Merged;
  for (const KernelVersion::Copy &C : V->Copies) {
    if (!Merged.empty() && Merged.back().From + Merged.back().Bytes == C.From &&
        Merged.back().To + Merged.back().Bytes == C.To)
      Merged.back().Bytes += C.Bytes;
    else
      Merged.push_back(C);
  }
  V->Copies = std::move(Merged);
  return V;
}

bool HotSwap::publish(std::shared_ptr<KernelVersion> V) {
  std::lock_guard<std::mutex> Guard(Lock);
  if (Pending.load(std::memory_order_acquire) ||
      V->Replaces != Owned.back()->Number)
    return false;
  // Values the user set since prepare().
  for (const auto &[Name, Value] : UserValues)
    if (const DspjitSlot *S = findSlot(V->I.kernel(), Name);
        S && S->kind == DSPJIT_SLOT_PARAM)
      V->I.setParamTarget(*S, Value);
  KernelVersion *Raw = V.get();
  Owned.push_back(std::move(V));
  Pending.store(Raw, std::memory_order_release);
  return true;
}

void HotSwap::collect() {
  std::vector<std::shared_ptr<KernelVersion>> Dropped; // freed unlocked
  {
    std::lock_guard<std::mutex> Guard(Lock);
    uint64_t From = InUseFrom.load(std::memory_order_acquire);
    auto Keep = std::find_if(Owned.begin(), Owned.end(),
                             [&](const auto &V) { return V->Number >= From; });
    for (auto It = Owned.begin(); It != Keep; ++It)
      RetiredNonfinite += (*It)->I.nonfiniteSamples();
    Dropped.assign(Owned.begin(), Keep);
    Owned.erase(Owned.begin(), Keep);
  }
}

std::shared_ptr<KernelVersion> HotSwap::newest() const {
  std::lock_guard<std::mutex> Guard(Lock);
  return Owned.back();
}

std::shared_ptr<KernelVersion> HotSwap::active() const {
  std::lock_guard<std::mutex> Guard(Lock);
  uint64_t N = ActiveNumber.load(std::memory_order_acquire);
  for (auto It = Owned.rbegin(); It != Owned.rend(); ++It)
    if ((*It)->Number <= N)
      return *It;
  return Owned.front();
}

uint64_t HotSwap::nonfiniteSamples() const {
  std::lock_guard<std::mutex> Guard(Lock);
  uint64_t N = RetiredNonfinite;
  for (const auto &V : Owned)
    N += V->I.nonfiniteSamples();
  return N;
}

//===-- Parameters (any thread) -------------------------------------------===//

ParamUpdate HotSwap::setParam(std::string_view Name, float Value) {
  std::lock_guard<std::mutex> Guard(Lock);
  // The newest version decides the message (its names and range); every
  // version that may still run gets the value.
  ParamUpdate U = Owned.back()->I.setParam(Name, Value);
  if (!U.stored())
    return U;
  for (const auto &V : Owned)
    if (const DspjitSlot *S = findSlot(V->I.kernel(), Name);
        S && S->kind == DSPJIT_SLOT_PARAM)
      V->I.setParamTarget(*S, Value);
  UserValues.insert_or_assign(std::string(Name), Value);
  return U;
}

ParamUpdate HotSwap::setParamImmediate(std::string_view Name, float Value) {
  std::lock_guard<std::mutex> Guard(Lock);
  ParamUpdate U = Owned.back()->I.setParamImmediate(Name, Value);
  if (U.stored())
    UserValues.insert_or_assign(std::string(Name), Value);
  return U;
}

void HotSwap::resetParams() {
  std::lock_guard<std::mutex> Guard(Lock);
  UserValues.clear();
  for (const auto &V : Owned) {
    const DspjitKernel &K = V->I.kernel();
    for (uint32_t S = 0; S < K.num_slots; ++S)
      if (K.slots[S].kind == DSPJIT_SLOT_PARAM)
        V->I.setParamTarget(K.slots[S], K.slots[S].def);
  }
}

//===-- The audio thread --------------------------------------------------===//

void HotSwap::pickUp(KernelVersion &V) {
  if (Current && V.Replaces == Current->Number) {
    auto *From = static_cast<const std::byte *>(Current->I.data());
    auto *To = static_cast<std::byte *>(V.I.data());
    for (const KernelVersion::Copy &C : V.Copies)
      std::memcpy(To + C.To, From + C.From, C.Bytes);
    for (const KernelVersion::ParamValue &P : V.Values) {
      float Value;
      std::memcpy(&Value, From + P.From, sizeof Value);
      Value = std::isnan(Value) ? P.Min : std::clamp(Value, P.Min, P.Max);
      std::memcpy(To + P.To, &Value, sizeof Value);
    }
  }
  V.LiveAtNs.store(monotonicNanoseconds(), std::memory_order_release);
  if (V.FadeFrames && Current && Outputs) {
    Fading = Current;
    FadePos = 0;
    FadeCross = FadeNewPower = FadeOldPower = 0;
  } else {
    InUseFrom.store(V.Number, std::memory_order_release);
  }
  Current = &V;
  ActiveNumber.store(V.Number, std::memory_order_release);
}

int HotSwap::process(const float *In, float *Out, unsigned long Frames,
                     const DspjitTimeInfo *Time, unsigned long Flags) {
  bool Swapped = false;
  if (!Fading) {
    if (KernelVersion *V =
            Pending.exchange(nullptr, std::memory_order_acq_rel)) {
      pickUp(*V);
      Swapped = true;
    }
  }
  if (Current->Notes.Voices || Swapped)
    updateVoices(Swapped);

  const DspjitKernel &K = Current->I.kernel();
  K.process(In, Out, Frames, Time, Flags, Current->I.data());
  if (Current->Notes.Voices) {
    Voices.afterProcess(Current->Notes, Current->I.data(), Frames, Rate);
    VoicesBusy.store(Voices.busy(), std::memory_order_relaxed);
    VoicesHeld.store(Voices.held(), std::memory_order_relaxed);
    NotesOn.store(Voices.notesOn(), std::memory_order_relaxed);
    NotesStolen.store(Voices.stolen(), std::memory_order_relaxed);
  }
  if (!Fading)
    return 0;

  // Equal power: new * sin(pi/2 t) + old * cos(pi/2 t), t from 0 to 1 over
  // FadeFrames frames, evaluated per frame. Those gains keep the power of
  // two uncorrelated signals; two versions that carry the same state are
  // often nearly identical, and would swell by up to 3 dB in the middle.
  // So the gains are divided by sqrt(1 + 2 r sin cos), with r the
  // correlation of old and new measured since the fade began (clamped to
  // [0, 1]): the output keeps the power of either input whatever r is, and
  // r = 0 is the plain equal-power fade.
  const DspjitKernel &OldK = Fading->I.kernel();
  OldK.process(In, FadeOut.data(), Frames, Time, Flags, Fading->I.data());
  const uint32_t Length = Current->FadeFrames;
  const size_t Samples = size_t(Frames) * Outputs;
  for (size_t I = 0; I < Samples; ++I) {
    FadeCross += double(Out[I]) * FadeOut[I];
    FadeNewPower += double(Out[I]) * Out[I];
    FadeOldPower += double(FadeOut[I]) * FadeOut[I];
  }
  double R = 0;
  if (FadeNewPower > 1e-20 && FadeOldPower > 1e-20)
    R = std::clamp(FadeCross / std::sqrt(FadeNewPower * FadeOldPower), 0.0,
                   1.0);
  const double Step = std::numbers::pi / 2 / Length;
  for (unsigned long F = 0; F < Frames; ++F) {
    uint32_t Pos = FadePos + uint32_t(F);
    if (Pos >= Length)
      break;
    double S = std::sin(Step * (Pos + 0.5)), C = std::cos(Step * (Pos + 0.5));
    double Norm = 1 / std::sqrt(1 + 2 * R * S * C);
    float New = float(S * Norm), Old = float(C * Norm);
    for (unsigned Ch = 0; Ch < Outputs; ++Ch) {
      float &O = Out[F * Outputs + Ch];
      O = New * O + Old * FadeOut[F * Outputs + Ch];
    }
  }
  FadePos += uint32_t(std::min<unsigned long>(Frames, Length));
  if (FadePos >= Length) {
    Fading = nullptr;
    InUseFrom.store(Current->Number, std::memory_order_release);
  }
  return 0;
}

void HotSwap::updateVoices(bool Swapped) {
  if (Swapped)
    Voices.setVoices(Current->Notes.Voices);
  ChannelMessage E;
  bool Any = Swapped;
  while (MidiIn.pop(&E, 1) == 1) {
    Voices.handle(E);
    Any = true;
  }
  if (!Any)
    return;
  // A held note carries over a reload: the new version's notes are written
  // whole at its first block, and its per-voice state was carried by name.
  Voices.write(Current->Notes, Current->I.data());
  if (Fading && Fading->Notes.Voices)
    Voices.write(Fading->Notes, Fading->I.data());
  Voices.written();
}

bool HotSwap::sendMidi(const ChannelMessage &E) {
  if (MidiIn.push(&E, 1) == 1)
    return true;
  MidiDropped.fetch_add(1, std::memory_order_relaxed);
  return false;
}

HotSwap::VoiceCounts HotSwap::voiceCounts() const {
  VoiceCounts C;
  C.Voices = active()->Notes.Voices;
  C.Busy = VoicesBusy.load(std::memory_order_relaxed);
  C.Held = VoicesHeld.load(std::memory_order_relaxed);
  C.NotesOn = NotesOn.load(std::memory_order_relaxed);
  C.Stolen = NotesStolen.load(std::memory_order_relaxed);
  return C;
}

} // namespace dspjit
