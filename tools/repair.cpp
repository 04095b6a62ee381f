//===- tools/repair.cpp - `dspjit repair FILE [-o OUT]` -------------------===//
//
// Puts right the header of a WAV file whose samples are there but whose
// sizes are not (runtime/WavRepair.h): a recording left by a program that
// was killed, or a file cut short. In place by default: only a few size
// fields of the header are rewritten, no sample moves, so there is nothing
// to lose and a repair cut short can be run again; `-o OUT` writes a
// repaired copy instead and leaves the original as it was, for a file on
// read-only media or one to keep untouched as evidence.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "runtime/MessageCatalog.h"
#include "runtime/Messages.h"
#include "runtime/WavRepair.h"

#include <cmath>
#include <iostream>

namespace dspjit::tools {

namespace {
struct RepairOpts {
  std::string File, Out;
};

/// Seconds to the hundredth, as the user reads them.
double hundredths(double Seconds) { return std::round(Seconds * 100) / 100; }

int run(const RepairOpts &O) {
  auto R = repairWav(O.File, O.Out);
  if (!R) {
    std::cerr << "dspjit repair: error: " << R.error() << "\n";
    return 1;
  }
  const double Seconds = hundredths(R->seconds());
  if (R->HeaderRight)
    std::cout << message<Msg::RepairNotNeeded>(O.File, Seconds, R->frames())
              << "\n";
  else if (O.Out.empty())
    std::cout << message<Msg::RepairDone>(O.File, Seconds, R->frames(),
                                          R->headerFrames())
              << "\n";
  else
    std::cout << message<Msg::RepairDoneInCopy>(O.File, O.Out, Seconds,
                                                R->frames(), R->headerFrames())
              << "\n";
  return 0;
}
} // namespace

Command addRepair(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "repair", "Put right the header of a WAV file whose samples are there "
                "but whose sizes are not (a recording whose program was "
                "killed)");
  auto O = std::make_shared<RepairOpts>();
  Cmd->add_option("FILE", O->File, "The WAV, RF64 or Wave64 file")->required();
  Cmd->add_option("-o,--output", O->Out,
                  "Write the repaired file here and leave FILE as it is "
                  "(default: repair FILE in place)");
  return [O] { return run(*O); };
}

} // namespace dspjit::tools
