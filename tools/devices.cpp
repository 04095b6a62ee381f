//===- tools/devices.cpp - `dspjit devices` -------------------------------===//
//
// Every host API and device PortAudio sees, marked like sounddevice's
// query_devices(): `>` the default input, `<` the default output, `*` both.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "runtime/PortAudio.h"
#include "session/Session.h"

#include <cstdlib>
#include <iostream>

namespace dspjit::tools {

Command addDevices(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "devices", "List host APIs and audio devices (> default input, < default "
                 "output, * both)");
  (void)Cmd;
  return [] {
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
