//===- tools/Commands.h - The subcommands of `dspjit` ---------------------===//
//
// Each subcommand registers its options on the CLI11 app and returns the
// function that runs it. Errors go to stderr and give a non-zero exit.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TOOLS_COMMANDS_H
#define DSPJIT_TOOLS_COMMANDS_H

#include "compiler/Compiler.h"
#include "runtime/PortAudio.h"

#include <CLI/CLI.hpp>
#include <functional>

#include "runtime/Instance.h"

namespace dspjit::tools {

using Command = std::function<int()>;

Command addCheck(CLI::App &App);
Command addRender(CLI::App &App);
Command addEmit(CLI::App &App);
Command addInfo(CLI::App &App);
Command addRun(CLI::App &App);
Command addDevices(CLI::App &App);
Command addBench(CLI::App &App);
Command addRepair(CLI::App &App);
Command addPlot(CLI::App &App);
Command addTest(CLI::App &App);
Command addExport(CLI::App &App);

/// Options every compiling subcommand takes.
struct CompileFlags {
  double Rate = 48000;
  bool Double = false;
  unsigned OptLevel = 3;
  /// `-Wno-NAME`, `-WNAME`, `-Wno-all`, `-Werror`, in order.
  std::vector<std::string> Warnings;
  bool Werror = false;     // --Werror
  bool NoWarnings = false; // -w (where -w means nothing else)
  void add(CLI::App &Cmd, bool WithRate = true);
  CompileOptions options() const;
};

/// Prints a compiler's diagnostics to stderr (in color on a terminal).
void printDiagnostics(const Compiler &C);

/// Compiles `Script` at `Rate` with the command's flags and prints its
/// diagnostics; null when it does not compile.
std::shared_ptr<Kernel> compileScript(const CompileFlags &Flags,
                                      const std::string &Script, double Rate);

/// Applies `--set name=value` options before processing starts, without
/// smoothing. Warns about clamped values; on an error prints it as
/// "dspjit COMMAND: error: ..." and returns false.
bool applySets(Instance &I, const std::vector<std::string> &Sets,
               const char *Command);
/// The same through any setter (e.g. a Host's, which also remembers the
/// values as the user's across reloads).
bool applySets(const std::function<ParamUpdate(std::string_view, float)> &Set,
               const std::vector<std::string> &Sets, const char *Command);

/// The per-phase median of several compiles' times.
PhaseTimes medianTimes(const std::vector<PhaseTimes> &Times);

} // namespace dspjit::tools

#endif
