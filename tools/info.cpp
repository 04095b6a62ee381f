//===- tools/info.cpp - `dspjit info FILE` --------------------------------===//
//
// What a host needs to know about a script: channels, parameters, meters,
// the memory an instance takes and the tables compiled into the kernel.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "session/MidiMap.h"

#include <cstdio>

namespace dspjit::tools {

Command addInfo(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "info", "List a script's channels, parameters and meters");
  struct Opts {
    std::string File;
    bool State = false;
    CompileFlags Flags;
  };
  auto O = std::make_shared<Opts>();
  Cmd->add_option("FILE", O->File, "The .dsp script")->required();
  Cmd->add_flag("--state", O->State, "Also list every state and delay line");
  O->Flags.add(*Cmd);
  return [O] {
    Compiler C(O->Flags.options());
    auto K = C.compileFile(O->File);
    printDiagnostics(C);
    if (!K)
      return 1;
    const DspjitKernel &I = K->info();
    std::printf("%s\n  channels: %u in, %u out%s\n", O->File.c_str(), I.inputs,
                I.outputs,
                I.inputs == 0    ? " (a generator)"
                : I.outputs == 0 ? " (analysis only)"
                                 : "");
    if (I.voices)
      std::printf("  instrument: %u voices, side by side in SIMD lanes; "
                  "play it with --midi\n",
                  I.voices);
    auto Count = [&](uint32_t Kind) {
      unsigned N = 0;
      for (uint32_t S = 0; S < I.num_slots; ++S)
        N += I.slots[S].kind == Kind;
      return N;
    };
    std::printf("  parameters: %u\n", Count(DSPJIT_SLOT_PARAM));
    for (uint32_t S = 0; S < I.num_slots; ++S) {
      const DspjitSlot &P = I.slots[S];
      if (P.kind != DSPJIT_SLOT_PARAM)
        continue;
      std::printf("    %-16s default %-8g range [%g, %g]%s%s", P.name, P.def,
                  P.min, P.max, P.unit[0] ? " " : "", P.unit);
      if (P.smooth_seconds > 0)
        std::printf(", smoothed over %g ms", P.smooth_seconds * 1e3);
      else
        std::printf(", not smoothed");
      if (auto Source = session::declaredSource(P.midi))
        std::printf(", MIDI %s", session::describeMidiSource(*Source).c_str());
      std::printf("\n");
    }
    std::printf("  meters: %u\n", Count(DSPJIT_SLOT_METER));
    for (uint32_t S = 0; S < I.num_slots; ++S)
      if (I.slots[S].kind == DSPJIT_SLOT_METER)
        std::printf("    %-16s width %u\n", I.slots[S].name, I.slots[S].width);
    uint64_t StateBytes = 0;
    unsigned States = 0, Delays = 0;
    for (uint32_t S = 0; S < I.num_slots; ++S) {
      const DspjitSlot &D = I.slots[S];
      if (D.kind == DSPJIT_SLOT_STATE) {
        ++States;
        StateBytes += uint64_t(D.count) * D.width * D.elem_size;
      } else if (D.kind == DSPJIT_SLOT_DELAY) {
        ++Delays;
        StateBytes += uint64_t(D.capacity) * D.width * D.elem_size;
      }
    }
    std::printf(
        "  state: %u states and %u delay lines, %llu bytes; %llu bytes per "
        "instance\n",
        States, Delays, (unsigned long long)StateBytes,
        (unsigned long long)I.instance_size);
    if (O->State) {
      for (uint32_t S = 0; S < I.num_slots; ++S) {
        const DspjitSlot &D = I.slots[S];
        if (D.kind == DSPJIT_SLOT_STATE)
          std::printf("    state %-28s width %u x %u\n", D.name, D.width,
                      D.count);
        else if (D.kind == DSPJIT_SLOT_DELAY)
          std::printf("    delay %-28s width %u, %u frames\n", D.name, D.width,
                      D.length);
      }
    }
    // Tables are constant data in the kernel's code, shared by every
    // instance: not part of the bytes per instance above.
    uint64_t TableBytes = 0;
    for (const Compiler::TableInfo &T : C.tables())
      TableBytes += uint64_t(T.Length) * T.Width *
                    (O->Flags.options().doublePrecision ? 8 : 4);
    std::printf("  tables: %zu, %llu bytes of read-only data in the kernel\n",
                C.tables().size(), (unsigned long long)TableBytes);
    for (const Compiler::TableInfo &T : C.tables()) {
      std::printf("    %-16s length %u, width %u, ", T.Name.c_str(), T.Length,
                  T.Width);
      if (T.File.empty())
        std::printf("from an expression\n");
      else
        std::printf("from %s (%g Hz%s)\n", T.File.c_str(), T.FileRate,
                    T.Resampled ? ", resampled" : "");
    }
    if (!C.convolutions().empty()) {
      uint64_t PlanBytes = 0, ConvStateBytes = 0;
      for (const Compiler::ConvolutionInfo &V : C.convolutions()) {
        PlanBytes += V.PlanBytes;
        ConvStateBytes += V.StateBytes;
      }
      std::printf(
          "  convolve: %zu call%s, %llu bytes of plans in the kernel, "
          "%llu bytes of the instance\n",
          C.convolutions().size(), C.convolutions().size() == 1 ? "" : "s",
          (unsigned long long)PlanBytes, (unsigned long long)ConvStateBytes);
      for (const Compiler::ConvolutionInfo &V : C.convolutions())
        std::printf("    %-16s %u -> %u lanes%s\n", V.Table.c_str(), V.InLanes,
                    V.OutLanes, V.Matrix ? ", true stereo (a matrix)" : "");
    }
    std::printf("  compiled for %g Hz\n", I.sample_rate);
    if (I.latency_frames > 0)
      std::printf("  latency: %.3f frames (%.3f ms), from oversample blocks\n",
                  I.latency_frames, I.latency_frames * 1e3 / I.sample_rate);
    return 0;
  };
}

} // namespace dspjit::tools
