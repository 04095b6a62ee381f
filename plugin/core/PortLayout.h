//===- plugin/core/PortLayout.h - A script's ports, for any plugin format -*- C++ -*-===//
//
// What a plugin format needs to know about a kernel to declare its ports,
// decided once here so that every format (LV2 now; CLAP or VST3 later)
// exposes a script the same way:
//
//   audio in   one per input channel of `io`   ("in_1", "in_2", ...)
//   audio out  one per output channel           ("out_1", ...)
//   control in one per `param`, named as in the script, with its default,
//              range and unit; a parameter declared `nosmooth` whose range
//              and default are whole numbers is a switch ([0, 1]: toggled)
//              or a choice (integer); smoothed ones are continuous
//   control out one per lane of each `meter` ("rms_1", "rms_2" for a
//              two-lane meter; "open" for a scalar one)
//   latency    one output, when the kernel delays its output (oversample
//              blocks: DspjitKernel::latency_frames)
//   midi in    one event input, for an instrument (`voices N;`): notes,
//              pitch bend and aftertouch for its voices
//
// Port symbols are unique and valid C identifiers (LV2's rule).
//
// Thread contract: any non-audio thread (allocates).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_PLUGIN_CORE_PORTLAYOUT_H
#define DSPJIT_PLUGIN_CORE_PORTLAYOUT_H

#include "runtime/dspjit_abi.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dspjit::plugin {

struct PortSpec {
  enum Kind { AudioIn, AudioOut, ControlIn, ControlOut, Latency, MidiIn };
  Kind K = AudioIn;
  std::string Symbol;   ///< unique, [A-Za-z_][A-Za-z0-9_]*
  std::string Name;     ///< for people: "feedback", "rms 2", "In 1"
  uint32_t Channel = 0; ///< audio: the channel of `io`
  uint32_t Slot = 0;    ///< controls: the slot's index in the kernel's table
  uint32_t Lane = 0;    ///< meters: the lane
  float Default = 0, Min = 0, Max = 0;
  std::string Unit; ///< "", "hz", "s", "ms", "db" or "%"
  bool Toggled = false, Integer = false;
};

struct PortLayout {
  std::vector<PortSpec> Ports;
  unsigned AudioIns = 0, AudioOuts = 0, Params = 0, MeterLanes = 0;
  bool HasLatency = false;
  bool HasMidi = false;

  /// The ports of `Kernel`; the latency port when `WithLatency` (decided
  /// at export from the kernel then: the port list must not depend on the
  /// rate a host instantiates at).
  static PortLayout of(const DspjitKernel &Kernel, bool WithLatency);
  /// What must not change between export and instantiation: channel
  /// counts, parameters (names, ranges) and meter lanes, as text.
  std::string signature() const;
};

} // namespace dspjit::plugin

#endif
