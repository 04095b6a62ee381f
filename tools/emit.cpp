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
  auto *Cmd = App.add_subcommand("emit", "Print what a compiler phase made of a script");
  struct Opts {
    std::string File;
    EmitKind Kind = EmitKind::LlvmOpt;
    CompileFlags Flags;
  };
  auto O = std::make_shared<Opts>();
  Cmd->add_option("FILE", O->File, "The .dsp script")->required();
  std::map<std::string, EmitKind> Kinds = {{"tokens", EmitKind::Tokens},
                                           {"ast", EmitKind::Ast},
                                           {"llvm", EmitKind::Llvm},
                                           {"llvm-opt", EmitKind::LlvmOpt},
                                           {"asm", EmitKind::Asm}};
  Cmd->add_option("--emit", O->Kind, "tokens, ast, llvm, llvm-opt (default) or asm")
      ->transform(CLI::CheckedTransformer(Kinds, CLI::ignore_case));
  O->Flags.add(*Cmd);
  return [O] {
    Compiler C(O->Flags.options());
    std::string Out = C.emitFile(O->File, O->Kind);
    printDiagnostics(C);
    if (C.diagnostics().hasErrors())
      return 1;
    std::cout << Out;
    return 0;
  };
}

} // namespace dspjit::tools
