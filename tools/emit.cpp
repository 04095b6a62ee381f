#include "tools/Commands.h"
namespace dspjit::tools {
Command addEmit(CLI::App &App) {
  App.add_subcommand("emit", "not yet");
  return [] { return 1; };
}
}
