#include "tools/Commands.h"
namespace dspjit::tools {
Command addRender(CLI::App &App) {
  App.add_subcommand("render", "not yet");
  return [] { return 1; };
}
}
