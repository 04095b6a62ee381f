//===- tests/fuzz/fuzz_midi.cpp - Arbitrary bytes from a MIDI controller ===//
//
// A libFuzzer target: the input is what a MIDI source sends, byte for byte,
// cut into the messages RtMidi's callback hands over (the first byte of the
// input chooses the cut: 1 to 3 bytes, or 4 and more, which the callback
// ignores). Each piece goes through MidiInput::receive (the callback's path,
// into the ring) and the ring is drained as the surface's thread does
// (decoder, mappings, ControlBus::setParam), against a real bus on an
// offline Host of a real compiled kernel (SurfaceHarness.h). Every
// parameter of SurfaceScript is mapped, through a CC 0-31 (14-bit pairs),
// a CC above 63, pitch bend and aftertouch; running status, SysEx, stray
// data bytes and a ring smaller than the input are all reached. A `learn`
// of "gain" is pending at the start of every input.
//
// Invariants (SurfaceHarness.h): no crash, no hang; after the input and a
// block, every parameter's target and smoothed value is finite and within
// its range; a piece of more than three bytes never reaches the ring.
//
//===----------------------------------------------------------------------===//
#include "FuzzHarness.h"
#include "SurfaceHarness.h"

#include "session/Midi.h"

#include <algorithm>
#include <cstdint>
#include <string>

using namespace dspjit;
using namespace dspjit::fuzz;

extern "C" int dspjitFuzzMidi(const uint8_t *Data, size_t Size) {
  static SurfaceTarget *T = new SurfaceTarget; // lives for the process
  static session::MidiInput *M = [] {
    std::vector<session::MidiMapping> Maps;
    const char *Specs[] = {"gain=cc7",        "mix=cc64",   "freq=cc1",
                           "freq=cc74/ch1",   "neg=bend",   "tiny=cc2/ch16",
                           "wide=aftertouch", "fixed=cc80", "gain=cc39"};
    for (const char *S : Specs)
      Maps.push_back(*session::parseMidiMapping(S));
    return session::MidiInput::forTest(T->bus(), Maps, 64).release();
  }();
  (void)T->bus().resetParams();
  T->runBlock();
  if (Size == 0)
    return 0;
  size_t Cut = size_t(Data[0] % 5) + 1;
  uint64_t Before = M->received(), Short = 0;
  for (size_t I = 1; I < Size; I += Cut) {
    size_t Piece = std::min(Cut, Size - I);
    Short += Piece <= 3;
    M->receive(Data + I, Piece, 0);
    if (Data[0] & 0x80) // sometimes drain as it arrives, sometimes not
      M->drain();
  }
  while (M->drain()) {
  }
  if (M->received() - Before != Short)
    fuzz::fail(
        "a message of more than three bytes reached the ring, or one of three or fewer did not");
  T->runBlock();
  T->collect();
  T->checkParams("MIDI bytes of " + std::to_string(Size) + " bytes");
  return 0;
}

#ifdef DSPJIT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  return dspjitFuzzMidi(Data, Size);
}
#endif
