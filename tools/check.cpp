//===- tools/check.cpp - `dspjit check FILE [--time]` ---------------------===//
#include "tools/Commands.h"

#include <cstdio>
#include <iostream>

namespace dspjit::tools {

Command addCheck(CLI::App &App) {
  auto *Cmd = App.add_subcommand("check", "Compile a script and report every error");
  struct Opts {
    std::string File;
    bool Time = false;
    CompileFlags Flags;
  };
  auto O = std::make_shared<Opts>();
  Cmd->add_option("FILE", O->File, "The .dsp script")->required();
  Cmd->add_flag("--time", O->Time, "Print the time each compiler phase took");
  O->Flags.add(*Cmd);
  return [O] {
    Compiler C(O->Flags.options());
    // A check compiles all the way to machine code: what passes here runs.
    auto K = C.compileFile(O->File);
    printDiagnostics(C);
    if (!K) {
      std::cerr << O->File << ": " << C.diagnostics().errorCount() << " error"
                << (C.diagnostics().errorCount() == 1 ? "" : "s") << "\n";
      return 1;
    }
    const PhaseTimes &T = C.times();
    std::printf("%s: ok (io %u -> %u, %u slots, %llu bytes per instance)\n", O->File.c_str(),
                K->info().inputs, K->info().outputs, K->info().num_slots,
                (unsigned long long)K->info().instance_size);
    if (O->Time)
      std::printf("  parse %.2f ms, check %.2f ms, IR %.2f ms, optimize %.2f ms, "
                  "machine code %.2f ms, total %.2f ms\n",
                  T.parse * 1e3, T.check * 1e3, T.ir * 1e3, T.optimize * 1e3,
                  T.machineCode * 1e3, T.total() * 1e3);
    return 0;
  };
}

} // namespace dspjit::tools
