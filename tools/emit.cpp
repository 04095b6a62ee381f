//===- tools/emit.cpp - `dspjit emit FILE --emit=KIND` --------------------===//
//
// Shows what each phase of the compiler made of a script.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include <iostream>
#include <map>

namespace dspjit::tools {

Command addEmit(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "emit", "Print what a compiler phase made of a script");
  struct Opts {
    std::string File;
    std::string Kind = "llvm-opt";
    CompileFlags Flags;
  };
  auto O = std::make_shared<Opts>();
  Cmd->add_option("FILE", O->File, "The .dsp script")->required();
  std::map<std::string, EmitKind> Kinds = {
      {"tokens", EmitKind::Tokens},    {"ast", EmitKind::Ast},
      {"checked", EmitKind::Checked},  {"llvm", EmitKind::Llvm},
      {"llvm-opt", EmitKind::LlvmOpt}, {"asm", EmitKind::Asm}};
  Cmd->add_option("--emit", O->Kind,
                  "tokens, ast, checked (the checked program: inlined, folded, "
                  "with its instance layout), llvm, llvm-opt (default) or asm");
  O->Flags.add(*Cmd);
  return [O, Kinds] {
    auto It = Kinds.find(O->Kind);
    if (It == Kinds.end()) {
      std::cerr
          << "dspjit emit: error: --emit=" << O->Kind
          << " is not a phase; use tokens, ast, checked, llvm, llvm-opt or asm\n";
      return 1;
    }
    Compiler C(O->Flags.options());
    std::string Out = C.emitFile(O->File, It->second);
    printDiagnostics(C);
    if (C.diagnostics().hasErrors())
      return 1;
    std::cout << Out;
    return 0;
  };
}

} // namespace dspjit::tools
