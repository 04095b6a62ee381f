//===- runtime/Instance.cpp - One running copy of a compiled kernel -------===//
//
// Instance memory, slot lookup and the atomic accesses the ABI promises are
// safe from any thread; see Instance.h.
//
//===----------------------------------------------------------------------===//
#include "runtime/Instance.h"

#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <new>

namespace dspjit {

static_assert(std::atomic_ref<float>::is_always_lock_free,
              "parameter stores must be lock-free for the audio thread");
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free,
              "counter loads must be lock-free");

const char *slotKindName(uint32_t Kind) {
  switch (Kind) {
  case DSPJIT_SLOT_PARAM: return "param";
  case DSPJIT_SLOT_METER: return "meter";
  case DSPJIT_SLOT_STATE: return "state";
  case DSPJIT_SLOT_DELAY: return "delay";
  case DSPJIT_SLOT_NOTE: return "note";
  }
  return "unknown";
}

/// Does [Offset, Offset + Bytes) lie inside the instance, aligned to Align?
static bool fits(const DspjitKernel &K, uint64_t Offset, uint64_t Bytes,
                 uint64_t Align) {
  return Offset % Align == 0 && Offset >= sizeof(DspjitInstanceHeader) &&
         Offset + Bytes <= K.instance_size;
}

static Result<void> checkSlot(const DspjitKernel &K, const DspjitSlot &S,
                              uint32_t Index) {
  if (!S.name)
    return fail(message<Msg::SlotHasNoName>(Index));
  if (S.kind > DSPJIT_SLOT_NOTE)
    return fail(message<Msg::SlotUnknownKind>(Index, S.name, S.kind));
  if (S.width == 0 || S.count == 0)
    return fail(message<Msg::SlotZeroWidth>(Index, S.name));
  if (S.elem_size != 4 && S.elem_size != 8)
    return fail(message<Msg::SlotElementSize>(Index, S.name, S.elem_size));

  uint64_t Lanes = uint64_t(S.width) * S.count;
  bool Inside = true;
  switch (S.kind) {
  case DSPJIT_SLOT_PARAM:
    Inside = fits(K, S.offset, 4, 4) && fits(K, S.value_offset, 4, 4);
    if (!(S.min <= S.max) || !(S.def >= S.min && S.def <= S.max))
      return fail(
          message<Msg::SlotDefaultOutside>(Index, S.name, S.def, S.min, S.max));
    break;
  case DSPJIT_SLOT_METER:
  case DSPJIT_SLOT_STATE:
  case DSPJIT_SLOT_NOTE:
    Inside = fits(K, S.offset, Lanes * S.elem_size, S.elem_size);
    break;
  case DSPJIT_SLOT_DELAY:
    Inside = fits(K, S.offset, uint64_t(S.capacity) * Lanes * S.elem_size,
                  S.elem_size) &&
             fits(K, S.value_offset, 4, 4);
    break;
  }
  if (!Inside)
    return fail(message<Msg::SlotOutsideInstance>(Index, S.name));
  return {};
}

Result<void> checkKernel(const DspjitKernel &K) {
  if (K.abi_version != DSPJIT_ABI_VERSION)
    return fail(message<Msg::AbiMismatch>(K.abi_version, DSPJIT_ABI_VERSION));
  if (!K.process || !K.init)
    return fail(message<Msg::KernelMissingFunctions>());
  if (K.instance_align == 0 || (K.instance_align & (K.instance_align - 1)) != 0)
    return fail(message<Msg::KernelAlignment>(K.instance_align));
  if (K.instance_size < sizeof(DspjitInstanceHeader))
    return fail(message<Msg::KernelTooSmall>(K.instance_size));
  if (!(K.sample_rate > 0))
    return fail(message<Msg::KernelSampleRate>(K.sample_rate));
  if (K.num_slots > 0 && !K.slots)
    return fail(message<Msg::KernelNoSlotTable>());
  for (uint32_t I = 0; I < K.num_slots; ++I)
    if (auto Checked = checkSlot(K, K.slots[I], I); !Checked)
      return Checked;
  return {};
}

const DspjitSlot *findSlot(const DspjitKernel &K, std::string_view Name) {
  for (uint32_t I = 0; I < K.num_slots; ++I)
    if (K.slots[I].name && Name == K.slots[I].name)
      return &K.slots[I];
  return nullptr;
}

std::vector<std::string> slotNames(const DspjitKernel &K, DspjitSlotKind Kind) {
  std::vector<std::string> Names;
  for (uint32_t I = 0; I < K.num_slots; ++I)
    if (K.slots[I].kind == static_cast<uint32_t>(Kind))
      Names.emplace_back(K.slots[I].name);
  return Names;
}

float clampParam(const DspjitSlot &Param, float Value) {
  if (std::isnan(Value))
    return Param.def;
  return std::clamp(Value, Param.min, Param.max);
}

void Instance::AlignedFree::operator()(std::byte *P) const {
  ::operator delete(P, std::align_val_t(Align));
}

Result<Instance> Instance::create(const DspjitKernel &K, double SampleRate) {
  if (auto Checked = checkKernel(K); !Checked)
    return fail(Checked.error());
  if (SampleRate != K.sample_rate)
    return fail(message<Msg::KernelRateMismatch>(K.sample_rate, SampleRate));

  // The header holds uint64 counters, so never align less than they need.
  std::size_t Align =
      std::max<std::size_t>(K.instance_align, alignof(DspjitInstanceHeader));
  void *Raw =
      ::operator new(K.instance_size, std::align_val_t(Align), std::nothrow);
  if (!Raw)
    return fail(message<Msg::InstanceAllocFailed>(K.instance_size));
  std::memset(Raw, 0, K.instance_size);
  std::unique_ptr<std::byte[], AlignedFree> Memory(
      static_cast<std::byte *>(Raw), AlignedFree{Align});

  if (K.init(Memory.get(), SampleRate) != 0)
    return fail(message<Msg::KernelInitRefused>(SampleRate, K.sample_rate));
  return Instance(K, SampleRate, std::move(Memory));
}

int Instance::process(const float *In, float *Out, unsigned long Frames,
                      const DspjitTimeInfo *Time) {
  static const DspjitTimeInfo NoTime = {0, 0, 0};
  return Kernel->process(In, Out, Frames, Time ? Time : &NoTime, 0, data());
}

void Instance::reset() {
  std::memset(Memory.get(), 0, Kernel->instance_size);
  // create() checked that init accepts this rate.
  [[maybe_unused]] int Status = Kernel->init(Memory.get(), SampleRate);
  assert(Status == 0 && "init refused a rate it accepted before");
}

float *Instance::floatAt(uint32_t Offset) const {
  return reinterpret_cast<float *>(Memory.get() + Offset);
}

uint64_t Instance::headerCounter(std::size_t FieldOffset) const {
  auto *Field = reinterpret_cast<uint64_t *>(Memory.get() + FieldOffset);
  return std::atomic_ref<uint64_t>(*Field).load(std::memory_order_relaxed);
}

uint64_t Instance::framesProcessed() const {
  return headerCounter(offsetof(DspjitInstanceHeader, frames_processed));
}
uint64_t Instance::callbacks() const {
  return headerCounter(offsetof(DspjitInstanceHeader, callbacks));
}
uint64_t Instance::nonfiniteSamples() const {
  return headerCounter(offsetof(DspjitInstanceHeader, nonfinite_samples));
}

/// "unknown parameter 'x'; did you mean 'y'? (parameters: a, y)"
static std::string unknownName(const DspjitKernel &K, std::string_view Name,
                               DspjitSlotKind Kind) {
  std::string KindName = slotKindName(Kind);
  std::string What = KindName == "param" ? "parameter" : KindName;
  std::vector<std::string> Names = slotNames(K, Kind);
  const std::string Shown = abbreviated(Name);
  if (Names.empty())
    return message<Msg::UnknownSlotNoneOfKind>(What, Shown);
  if (std::string Close = closestName(Name, Names); !Close.empty())
    return message<Msg::UnknownSlotDidYouMean>(What, Shown, Close,
                                               joinNames(Names));
  return message<Msg::UnknownSlot>(What, Shown, joinNames(Names));
}

/// "'x' is a meter, not a parameter (parameters: a, b)"
static std::string wrongKind(const DspjitKernel &K, const DspjitSlot &S,
                             DspjitSlotKind Kind) {
  std::string KindName = slotKindName(Kind);
  std::string What = KindName == "param" ? "parameter" : KindName;
  std::vector<std::string> Names = slotNames(K, Kind);
  if (Names.empty())
    return message<Msg::WrongSlotKindNoneOfKind>(S.name, slotKindName(S.kind),
                                                 What);
  return message<Msg::WrongSlotKind>(S.name, slotKindName(S.kind), What,
                                     joinNames(Names));
}

Result<const DspjitSlot *> requireSlot(const DspjitKernel &Kernel,
                                       std::string_view Name,
                                       DspjitSlotKind Kind) {
  const DspjitSlot *S = findSlot(Kernel, Name);
  if (!S)
    return fail(unknownName(Kernel, Name, Kind));
  if (S->kind != static_cast<uint32_t>(Kind))
    return fail(wrongKind(Kernel, *S, Kind));
  return S;
}

Result<const DspjitSlot *> Instance::requireSlot(std::string_view Name,
                                                 DspjitSlotKind Kind) const {
  return dspjit::requireSlot(*Kernel, Name, Kind);
}

ParamUpdate Instance::prepareParam(std::string_view Name, float Value,
                                   const DspjitSlot *&Slot) const {
  ParamUpdate Update;
  Slot = nullptr;
  const DspjitSlot *S = findSlot(*Kernel, Name);
  if (!S) {
    Update.Status = ParamUpdate::UnknownName;
    Update.Message = unknownName(*Kernel, Name, DSPJIT_SLOT_PARAM);
    return Update;
  }
  if (S->kind != DSPJIT_SLOT_PARAM) {
    Update.Status = ParamUpdate::NotAParam;
    Update.Message = wrongKind(*Kernel, *S, DSPJIT_SLOT_PARAM);
    return Update;
  }
  if (!std::isfinite(Value)) {
    Update.Status = ParamUpdate::NotFinite;
    Update.Message = message<Msg::ParamNotFinite>(Name, Value);
    return Update;
  }
  Slot = S;
  Update.Value = clampParam(*S, Value);
  if (Update.Value != Value) {
    Update.Status = ParamUpdate::Clamped;
    Update.Message =
        message<Msg::ParamClamped>(Name, Value, S->min, S->max, Update.Value);
  }
  return Update;
}

void Instance::setParamTarget(const DspjitSlot &Param, float Value) {
  assert(Param.kind == DSPJIT_SLOT_PARAM && "not a parameter slot");
  std::atomic_ref<float>(*floatAt(Param.offset))
      .store(clampParam(Param, Value), std::memory_order_relaxed);
}

ParamUpdate Instance::setParam(std::string_view Name, float Value) {
  const DspjitSlot *S;
  ParamUpdate Update = prepareParam(Name, Value, S);
  if (S)
    setParamTarget(*S, Update.Value);
  return Update;
}

ParamUpdate Instance::setParamImmediate(std::string_view Name, float Value) {
  const DspjitSlot *S;
  ParamUpdate Update = prepareParam(Name, Value, S);
  if (S) {
    setParamTarget(*S, Update.Value);
    std::atomic_ref<float>(*floatAt(S->value_offset))
        .store(Update.Value, std::memory_order_relaxed);
  }
  return Update;
}

Result<float> Instance::param(std::string_view Name) const {
  auto S = requireSlot(Name, DSPJIT_SLOT_PARAM);
  if (!S)
    return fail(S.error());
  return std::atomic_ref<float>(*floatAt((*S)->offset))
      .load(std::memory_order_relaxed);
}

Result<float> Instance::smoothedParam(std::string_view Name) const {
  auto S = requireSlot(Name, DSPJIT_SLOT_PARAM);
  if (!S)
    return fail(S.error());
  return std::atomic_ref<float>(*floatAt((*S)->value_offset))
      .load(std::memory_order_relaxed);
}

Result<std::vector<float>> Instance::meter(std::string_view Name) const {
  auto S = requireSlot(Name, DSPJIT_SLOT_METER);
  if (!S)
    return fail(S.error());
  const DspjitSlot &M = **S;
  std::vector<float> Lanes(M.width);
  std::byte *Base = Memory.get() + M.offset;
  for (uint32_t Lane = 0; Lane < M.width; ++Lane) {
    if (M.elem_size == 8) {
      auto *P = reinterpret_cast<double *>(Base) + Lane;
      Lanes[Lane] = static_cast<float>(
          std::atomic_ref<double>(*P).load(std::memory_order_relaxed));
    } else {
      auto *P = reinterpret_cast<float *>(Base) + Lane;
      Lanes[Lane] = std::atomic_ref<float>(*P).load(std::memory_order_relaxed);
    }
  }
  return Lanes;
}

} // namespace dspjit
