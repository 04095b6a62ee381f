//===- tools/check.cpp - `dspjit check FILE [--time]` ---------------------===//
#include "tools/Commands.h"

#include "compiler/CompileCost.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace dspjit::tools {

Command addCheck(CLI::App &App) {
  auto *Cmd =
      App.add_subcommand("check", "Compile a script and report every error");
  struct Opts {
    std::string File;
    bool Time = false;
    unsigned Repeat = 1;
    CompileFlags Flags;
  };
  auto O = std::make_shared<Opts>();
  Cmd->add_option("FILE", O->File, "The .dsp script")->required();
  Cmd->add_flag("--time", O->Time, "Print the time each compiler phase took");
  Cmd->add_option(
         "--repeat", O->Repeat,
         "Compile N times in this process and print the times of the first "
         "compile and the median of the others (implies --time)")
      ->check(CLI::Range(1, 1000));
  O->Flags.add(*Cmd);
  return [O] {
    Compiler C(O->Flags.options());
    // A check compiles all the way to machine code: what passes here runs.
    auto K = C.compileFile(O->File);
    PhaseTimes First = C.times();
    std::vector<PhaseTimes> Warm;
    for (unsigned I = 1; K && I < O->Repeat; ++I) {
      K.reset();
      K = C.compileFile(O->File);
      Warm.push_back(C.times());
    }
    printDiagnostics(C);
    if (!K) {
      std::cerr << O->File << ": " << C.diagnostics().errorCount() << " error"
                << (C.diagnostics().errorCount() == 1 ? "" : "s") << "\n";
      return 1;
    }
    auto Print = [](const char *Label, const PhaseTimes &T) {
      std::printf(
          "  %sparse %.2f ms, check %.2f ms, IR %.2f ms, optimize %.2f ms, "
          "machine code %.2f ms, total %.2f ms\n",
          Label, T.parse * 1e3, T.check * 1e3, T.ir * 1e3, T.optimize * 1e3,
          T.machineCode * 1e3, T.total() * 1e3);
    };
    std::printf("%s: ok (io %u -> %u, %u slots, %llu bytes per instance)\n",
                O->File.c_str(), K->info().inputs, K->info().outputs,
                K->info().num_slots,
                (unsigned long long)K->info().instance_size);
    if (O->Time || O->Repeat > 1)
      std::printf("  compile cost %llu (refused past %llu; not optimized past "
                  "%llu)\n",
                  (unsigned long long)C.compileCost(),
                  (unsigned long long)MaxCompileCost,
                  (unsigned long long)MaxOptimizeCost);
    if (Warm.empty()) {
      if (O->Time)
        Print("", C.times());
      return 0;
    }
    // The first compile also pays for LLVM's one-time set-up; report it apart.
    Print("first compile:  ", First);
    PhaseTimes M = medianTimes(Warm);
    char Label[64];
    std::snprintf(Label, sizeof Label, "median of %zu:  ", Warm.size());
    Print(Label, M);
    return 0;
  };
}

} // namespace dspjit::tools
