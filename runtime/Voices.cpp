//===- runtime/Voices.cpp - Which note each voice of an instrument plays --===//
//
// Why and the policy: see Voices.h.
//
//===----------------------------------------------------------------------===//
#include "runtime/Voices.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dspjit {

NoteLayout NoteLayout::of(const DspjitKernel &K) {
  static const char *const Names[Fields] = {"note.freq",     "note.key",
                                            "note.velocity", "note.gate",
                                            "note.trigger",  "note.pressure"};
  NoteLayout L;
  L.Voices = K.voices;
  for (uint32_t S = 0; S < K.num_slots; ++S) {
    const DspjitSlot &Slot = K.slots[S];
    if (Slot.kind == DSPJIT_SLOT_METER &&
        std::strcmp(Slot.name, "voice.peak") == 0)
      L.PeakOffset = Slot.offset;
    if (Slot.kind != DSPJIT_SLOT_NOTE || Slot.width != K.voices)
      continue;
    for (unsigned F = 0; F < Fields; ++F)
      if (std::strcmp(Slot.name, Names[F]) == 0)
        L.Offsets[F] = Slot.offset;
  }
  // A kernel missing one of them is not an instrument this host can drive.
  for (int64_t O : L.Offsets)
    if (O < 0)
      L.Voices = 0;
  L.Voices = std::min(L.Voices, uint32_t(VoiceAllocator::MaxVoices));
  return L;
}

void VoiceAllocator::setVoices(unsigned N) {
  N = std::min(N, MaxVoices);
  for (unsigned V = N; V < Count; ++V)
    Voice[V] = VoiceState{};
  Count = N;
}

void VoiceAllocator::handle(const ChannelMessage &E) {
  if (E.Size < 2 || E.Bytes[0] < 0x80 || E.Bytes[0] >= 0xf0)
    return;
  uint8_t Channel = E.Bytes[0] & 0x0f, D1 = E.Bytes[1] & 0x7f,
          D2 = E.Size > 2 ? E.Bytes[2] & 0x7f : 0;
  switch (E.Bytes[0] & 0xf0) {
  case 0x90:
    if (E.Size < 3)
      return;
    if (D2) {
      noteOn(Channel, D1, D2);
      return;
    }
    [[fallthrough]]; // velocity 0 is a note-off (running status idiom)
  case 0x80: noteOff(Channel, D1); return;
  case 0xa0: // polyphonic aftertouch: the voice playing the key
    for (unsigned V = 0; V < Count; ++V)
      if (Voice[V].Busy && Voice[V].Channel == Channel && Voice[V].Key == D1)
        Voice[V].Pressure = D2 / 127.0f;
    return;
  case 0xb0:
    if (E.Size == 3)
      controller(Channel, D1, D2);
    return;
  case 0xd0: // channel pressure
    Pressure[Channel] = D1 / 127.0f;
    for (unsigned V = 0; V < Count; ++V)
      if (Voice[V].Channel == Channel)
        Voice[V].Pressure = Pressure[Channel];
    return;
  case 0xe0: // pitch bend, 14 bits around 8192, +-2 semitones
    if (E.Size == 3)
      Bend[Channel] = float(int(D1 | D2 << 7) - 8192) / 8192.0f * 2.0f;
    return;
  default: return;
  }
}

void VoiceAllocator::noteOn(uint8_t Channel, uint8_t Key, uint8_t Velocity) {
  if (!Count)
    return;
  VoiceState *Pick = nullptr;
  // 1. The same key on the same channel, held or releasing.
  for (unsigned V = 0; V < Count && !Pick; ++V)
    if (Voice[V].Busy && Voice[V].Channel == Channel && Voice[V].Key == Key)
      Pick = &Voice[V];
  // 2. A free voice, lowest number first.
  for (unsigned V = 0; V < Count && !Pick; ++V)
    if (!Voice[V].Busy)
      Pick = &Voice[V];
  // 3. The voice released longest ago; 4. else the one held longest.
  if (!Pick) {
    VoiceState *Released = nullptr, *Held = nullptr;
    for (unsigned V = 0; V < Count; ++V) {
      VoiceState &S = Voice[V];
      if (!S.Gate && (!Released || S.Released < Released->Released))
        Released = &S;
      if (S.Gate && (!Held || S.Order < Held->Order))
        Held = &S;
    }
    Pick = Released ? Released : Held;
    Stolen += !Released;
  }
  VoiceState &S = *Pick;
  S.Key = Key;
  S.Channel = Channel;
  S.Velocity = Velocity / 127.0f;
  S.Pressure = Pressure[Channel];
  S.Gate = S.Busy = S.Trigger = true;
  S.Sustained = false;
  S.Order = ++Clock;
  S.Released = 0;
  S.QuietFrames = 0;
  ++NotesOn;
}

void VoiceAllocator::noteOff(uint8_t Channel, uint8_t Key) {
  for (unsigned V = 0; V < Count; ++V) {
    VoiceState &S = Voice[V];
    if (!S.Gate || S.Sustained || S.Channel != Channel || S.Key != Key)
      continue;
    if (Pedal[Channel])
      S.Sustained = true;
    else
      release(S);
  }
}

void VoiceAllocator::release(VoiceState &V) {
  V.Gate = V.Sustained = false;
  V.Released = ++Clock;
  V.QuietFrames = 0;
}

void VoiceAllocator::controller(uint8_t Channel, uint8_t Number,
                                uint8_t Value) {
  if (Number == 64) { // sustain pedal
    Pedal[Channel] = Value >= 64;
    if (!Pedal[Channel])
      for (unsigned V = 0; V < Count; ++V)
        if (Voice[V].Sustained && Voice[V].Channel == Channel)
          release(Voice[V]);
    return;
  }
  if (Number == 120 || Number == 123) { // all sound off, all notes off
    Pedal[Channel] = false;
    for (unsigned V = 0; V < Count; ++V)
      if (Voice[V].Gate && Voice[V].Channel == Channel)
        release(Voice[V]);
  }
}

void VoiceAllocator::releaseAll() {
  for (unsigned V = 0; V < Count; ++V)
    if (Voice[V].Gate)
      release(Voice[V]);
  Pedal.fill(false);
}

float VoiceAllocator::frequency(const VoiceState &V) const {
  return float(440.0 *
               std::exp2((double(V.Key) + Bend[V.Channel] - 69.0) / 12.0));
}

void VoiceAllocator::write(const NoteLayout &L, void *Instance) const {
  auto *Base = static_cast<unsigned char *>(Instance);
  unsigned N = std::min<unsigned>(L.Voices, Count);
  auto Put = [&](NoteLayout::Field F, unsigned V, float X) {
    std::memcpy(Base + L.Offsets[F] + 4 * V, &X, 4);
  };
  for (unsigned V = 0; V < N; ++V) {
    const VoiceState &S = Voice[V];
    if (!S.Order)
      continue; // never played: init's zeros
    Put(NoteLayout::Freq, V, frequency(S));
    Put(NoteLayout::Key, V, S.Key);
    Put(NoteLayout::Velocity, V, S.Velocity);
    Put(NoteLayout::Gate, V, S.Gate ? 1.0f : 0.0f);
    Put(NoteLayout::Pressure, V, S.Pressure);
    if (S.Trigger)
      Put(NoteLayout::Trigger, V, 1.0f);
  }
}

void VoiceAllocator::written() {
  for (VoiceState &S : Voice)
    S.Trigger = false;
}

void VoiceAllocator::afterProcess(const NoteLayout &L, const void *Instance,
                                  uint64_t Frames, double Rate) {
  if (L.PeakOffset < 0)
    return;
  const auto *Base = static_cast<const unsigned char *>(Instance);
  const uint64_t Needed = uint64_t(QuietSeconds * Rate);
  unsigned N = std::min<unsigned>(L.Voices, Count);
  for (unsigned V = 0; V < N; ++V) {
    VoiceState &S = Voice[V];
    if (!S.Busy || S.Gate)
      continue;
    float Peak;
    std::memcpy(&Peak, Base + L.PeakOffset + 4 * V, 4);
    S.QuietFrames = Peak < QuietLevel ? S.QuietFrames + Frames : 0;
    if (S.QuietFrames >= Needed)
      S.Busy = false;
  }
}

unsigned VoiceAllocator::busy() const {
  return unsigned(std::count_if(Voice.begin(), Voice.begin() + Count,
                                [](const VoiceState &S) { return S.Busy; }));
}

unsigned VoiceAllocator::held() const {
  return unsigned(std::count_if(Voice.begin(), Voice.begin() + Count,
                                [](const VoiceState &S) { return S.Gate; }));
}

} // namespace dspjit
