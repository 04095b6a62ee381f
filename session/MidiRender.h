//===- session/MidiRender.h - A MIDI file played through a render -*- C++ -*-===//
//
// `dspjit render synth.dsp out.wav --midi song.mid`: every channel message
// of a Standard MIDI File becomes a render event at its exact frame
// (runtime/Render.h splits blocks there), so notes start and controllers
// move sample-accurately and the same file always renders the same bits.
// Notes, pitch bend, pressure and the sustain pedal go to an instrument's
// voices through the HotSwap's MIDI queue, exactly as live MIDI does;
// controllers, bend and aftertouch also move the parameters mapped to them
// (the script's `midi cc 74`, --midi-map), through the same MidiMapper as
// `dspjit run --midi`.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_MIDIRENDER_H
#define DSPJIT_SESSION_MIDIRENDER_H

#include "runtime/HotSwap.h"
#include "runtime/MidiFile.h"
#include "runtime/Render.h"
#include "session/MidiMap.h"

#include <memory>
#include <vector>

namespace dspjit::session {

/// What a MIDI file did to a render.
struct MidiRenderCounts {
  uint64_t Messages = 0;     ///< channel messages played
  uint64_t ParamChanges = 0; ///< parameter targets set from controllers
  uint64_t Unknown = 0;      ///< parameter changes refused (no such name)
};

/// Appends one render event per channel message of `File` (at
/// midiFrame(E, Rate)) that plays it through `Swap` and `Mapper`.
/// `Counts` is updated as the render runs. The events keep `Swap`,
/// `Mapper` and `Counts` by reference: they must outlive the render.
void scheduleMidiFile(const MidiFileData &File, double Rate, HotSwap &Swap,
                      MidiMapper &Mapper, MidiRenderCounts &Counts,
                      std::vector<RenderEvent> &Events);

/// The frames a render of `File` needs: the song, then `TailSeconds` for
/// the last notes' release.
uint64_t midiRenderFrames(const MidiFileData &File, double Rate,
                          double TailSeconds = 2.0);

} // namespace dspjit::session

#endif
