//===- tools/main.cpp - The dspjit command line ---------------------------===//
#include "tools/Commands.h"

#include <iostream>
#include <unistd.h>

namespace dspjit::tools {

void CompileFlags::add(CLI::App &Cmd, bool WithRate) {
  if (WithRate)
    Cmd.add_option("--rate", Rate, "Sample rate the kernel is compiled for (Hz)")
        ->check(CLI::Range(1000.0, 768000.0));
  Cmd.add_flag("--double", Double, "Compute internally with 64-bit floats");
  Cmd.add_option("-O,--opt", OptLevel, "LLVM optimization level")->check(CLI::Range(0, 3));
}

CompileOptions CompileFlags::options() const {
  CompileOptions O;
  O.sampleRate = Rate;
  O.doublePrecision = Double;
  O.optLevel = OptLevel;
  return O;
}

void printDiagnostics(const Compiler &C) {
  C.diagnostics().print(std::cerr, isatty(STDERR_FILENO));
}

} // namespace dspjit::tools

int main(int argc, char **argv) {
  using namespace dspjit::tools;
  CLI::App App{"dspjit: audio effects written as .dsp scripts, compiled to native code "
               "by LLVM"};
  App.require_subcommand(1);
  App.set_version_flag("--version", std::string("dspjit ") + dspjit::compilerVersion());
  std::vector<std::pair<CLI::App *, Command>> Commands;
  auto Register = [&](Command (*Add)(CLI::App &)) {
    size_t Before = App.get_subcommands({}).size();
    Command C = Add(App);
    Commands.push_back({App.get_subcommands({})[Before], std::move(C)});
  };
  Register(addCheck);
  Register(addRender);
  Register(addEmit);
  Register(addInfo);
  Register(addRun);
  Register(addDevices);
  Register(addBench);
  try {
    App.parse(argc, argv);
  } catch (const CLI::ParseError &E) {
    return App.exit(E);
  }
  for (auto &[Sub, Run] : Commands)
    if (Sub->parsed())
      return Run();
  return 1;
}
