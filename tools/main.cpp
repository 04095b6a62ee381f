//===- tools/main.cpp - The dspjit command line ---------------------------===//
#include "tools/Commands.h"

#include "runtime/Instance.h"
#include "runtime/MessageCatalog.h"

#include <algorithm>

#include <iostream>
#include <unistd.h>

namespace dspjit::tools {

void CompileFlags::add(CLI::App &Cmd, bool WithRate) {
  if (WithRate)
    Cmd.add_option("--rate", Rate,
                   "Sample rate the kernel is compiled for (Hz)")
        ->check(CLI::Range(1000.0, 768000.0));
  Cmd.add_flag("--double", Double, "Compute internally with 64-bit floats");
  Cmd.add_option("-O,--opt", OptLevel, "LLVM optimization level")
      ->check(CLI::Range(0, 3));
  Cmd.add_option("-W", Warnings,
                 "-Wno-NAME turns warning NAME off, -WNAME back on; "
                 "-Wno-all turns every warning off, -Werror makes them "
                 "errors. Names: " +
                     warningNames())
      ->type_name("NAME")
      ->allow_extra_args(false)
      ->check(
          [](const std::string &Flag) { return WarningOptions().apply(Flag); });
  Cmd.add_flag("--Werror", Werror, "Report warnings as errors");
  // `run` has -w for --record: there, -Wno-all.
  if (!Cmd.get_option_no_throw("-w"))
    Cmd.add_flag("-w", NoWarnings, "Report no warnings (-Wno-all)");
}

CompileOptions CompileFlags::options() const {
  CompileOptions O;
  O.sampleRate = Rate;
  O.doublePrecision = Double;
  O.optLevel = OptLevel;
  for (const std::string &Flag : Warnings)
    O.warnings.apply(Flag); // checked by the option already
  if (Werror)
    O.warnings.AsErrors = true;
  if (NoWarnings)
    O.warnings.AllDisabled = true;
  // DSPJIT_CPU, DSPJIT_LLVM_ARGS and DSPJIT_PIPELINE, as before they were
  // options of the library.
  applyEnvironment(O);
  return O;
}

void printDiagnostics(const Compiler &C) {
  C.diagnostics().print(std::cerr, isatty(STDERR_FILENO));
}

std::shared_ptr<Kernel> compileScript(const CompileFlags &Flags,
                                      const std::string &Script, double Rate) {
  CompileOptions CO = Flags.options();
  CO.sampleRate = Rate;
  Compiler C(CO);
  std::shared_ptr<Kernel> K = C.compileFile(Script);
  printDiagnostics(C);
  return K;
}

bool applySets(Instance &I, const std::vector<std::string> &Sets,
               const char *Command) {
  return applySets([&](std::string_view Name,
                       float V) { return I.setParamImmediate(Name, V); },
                   Sets, Command);
}

bool applySets(const std::function<ParamUpdate(std::string_view, float)> &Set,
               const std::vector<std::string> &Sets, const char *Command) {
  for (const std::string &S : Sets) {
    size_t Eq = S.find('=');
    std::string Text = Eq == std::string::npos ? "" : S.substr(Eq + 1);
    char *End = nullptr;
    float V = std::strtof(Text.c_str(), &End);
    if (Eq == std::string::npos || Eq == 0 || Text.empty() || *End != '\0') {
      std::cerr << "dspjit " << Command
                << ": error: --set takes name=number, not '" << S << "'\n";
      return false;
    }
    ParamUpdate U = Set(S.substr(0, Eq), V);
    if (!U.stored()) {
      std::cerr << "dspjit " << Command << ": error: --set " << S.substr(0, Eq)
                << ": " << U.Message << "\n";
      return false;
    }
    if (U.Status == ParamUpdate::Clamped)
      std::cerr << "dspjit " << Command << ": warning: " << U.Message << "\n";
  }
  return true;
}

PhaseTimes medianTimes(const std::vector<PhaseTimes> &Times) {
  auto Median = [&](double PhaseTimes::*Field) {
    std::vector<double> V;
    for (const PhaseTimes &T : Times)
      V.push_back(T.*Field);
    if (V.empty())
      return 0.0;
    std::nth_element(V.begin(), V.begin() + V.size() / 2, V.end());
    return V[V.size() / 2];
  };
  PhaseTimes M;
  M.parse = Median(&PhaseTimes::parse);
  M.check = Median(&PhaseTimes::check);
  M.ir = Median(&PhaseTimes::ir);
  M.optimize = Median(&PhaseTimes::optimize);
  M.machineCode = Median(&PhaseTimes::machineCode);
  return M;
}

} // namespace dspjit::tools

int main(int argc, char **argv) {
  using namespace dspjit::tools;
  // The libraries name options ("option 'play'"); here they are flags.
  dspjit::setOptionSpelling(
      [](std::string_view Name) { return "--" + std::string(Name); });
  CLI::App App{
      "dspjit: audio effects written as .dsp scripts, compiled to native code "
      "by LLVM"};
  App.require_subcommand(1);
  App.set_version_flag("--version",
                       std::string("dspjit ") + dspjit::compilerVersion());
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
  Register(addRepair);
  Register(addPlot);
  Register(addTest);
  Register(addExport);
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
