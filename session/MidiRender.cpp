//===- session/MidiRender.cpp - A MIDI file played through a render -------===//
//
// Why: see MidiRender.h.
//
//===----------------------------------------------------------------------===//
#include "session/MidiRender.h"

#include <cmath>

namespace dspjit::session {

void scheduleMidiFile(const MidiFileData &File, double Rate, HotSwap &Swap,
                      MidiMapper &Mapper, MidiRenderCounts &Counts,
                      std::vector<RenderEvent> &Events) {
  Events.reserve(Events.size() + File.Events.size());
  for (const MidiEvent &E : File.Events) {
    MidiMessage M{E.Status, E.Data1, E.Data2};
    Events.push_back({midiFrame(E, Rate), [M, &Swap, &Mapper, &Counts] {
                        ++Counts.Messages;
                        std::shared_ptr<KernelVersion> V = Swap.active();
                        const DspjitKernel &K = V->I.kernel();
                        if (K.voices)
                          Swap.sendMidi(toChannelMessage(M));
                        std::vector<MidiParamChange> Changes;
                        Mapper.handle(M, K, Changes);
                        for (const MidiParamChange &C : Changes) {
                          if (Swap.setParam(C.Param, C.Value).stored())
                            ++Counts.ParamChanges;
                          else
                            ++Counts.Unknown;
                        }
                      }});
  }
}

uint64_t midiRenderFrames(const MidiFileData &File, double Rate,
                          double TailSeconds) {
  return uint64_t(
      std::llround((File.Info.DurationSeconds + TailSeconds) * Rate));
}

} // namespace dspjit::session
