#include "tools/Commands.h"
namespace dspjit::tools {
Command addInfo(CLI::App &App) {
  App.add_subcommand("info", "not yet");
  return [] { return 1; };
}
}
