//===- tools/devices.cpp - `dspjit devices` -------------------------------===//
//
// Every host API and device PortAudio sees, marked like sounddevice's
// query_devices(): `>` the default input, `<` the default output, `*` both.
// With --midi, the MIDI sources instead (session/Midi.h): JACK's when its
// server runs, and ALSA's; none is not an error.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "runtime/PortAudio.h"
#include "session/Midi.h"
#include "session/Session.h"

#include <cstdlib>
#include <iostream>
#include <memory>

namespace dspjit::tools {

Command addDevices(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "devices", "List host APIs and audio devices (> default input, < default "
                 "output, * both)");
  auto Midi = std::make_shared<bool>(false);
  Cmd->add_flag("--midi", *Midi,
                "List MIDI input sources (JACK and ALSA) instead");
  return [Midi] {
    if (*Midi) {
      for (const session::MidiPortList &L : session::listMidiSources()) {
        if (!L.Error.empty()) {
          std::cout << "MIDI sources (" << L.Api << "): " << L.Error << "\n";
          continue;
        }
        std::cout << "MIDI sources (" << L.Api
                  << "):" << (L.Ports.empty() ? " none\n" : "\n");
        for (size_t I = 0; I < L.Ports.size(); ++I)
          std::cout << "  " << I << "  " << L.Ports[I] << "\n";
      }
      return 0;
    }
    auto Session = session::openAudio();
    if (!Session) {
      std::cerr << "dspjit devices: error: " << Session.error() << "\n";
      return 1;
    }
    if (Pa_GetDeviceCount() <= 0) {
      std::cerr << "dspjit devices: error: " << noDeviceAdvice() << "\n";
      return 1;
    }
    std::cout << listDevices();
    return 0;
  };
}

} // namespace dspjit::tools
