//===- tools/export.cpp - `dspjit export lv2 FILE -o DIR` -----------------===//
//
// Writes a script as a plugin bundle that DAWs load (plugin/lv2/Lv2Bundle.h
// does the work). The library it copies is the one built with this program,
// or the one DSPJIT_LV2_LIBRARY names.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "plugin/lv2/Lv2Bundle.h"
#include "runtime/MessageCatalog.h"

#include <cstdlib>
#include <iostream>

namespace dspjit::tools {

Command addExport(CLI::App &App) {
  auto *Cmd = App.add_subcommand(
      "export", "Write a script as a plugin that DAWs load (format: lv2)");
  struct Opts {
    std::string Format, File, OutDir, Uri, Name;
  };
  auto O = std::make_shared<Opts>();
  Cmd->add_option("FORMAT", O->Format, "The plugin format: lv2")->required();
  Cmd->add_option("FILE", O->File, "The .dsp script")->required();
  Cmd->add_option("-o,--out-dir", O->OutDir,
                  "Directory to write the bundle NAME.lv2 into")
      ->required();
  Cmd->add_option("--uri", O->Uri,
                  "The plugin's URI (default: urn:dspjit:plugin:NAME)");
  Cmd->add_option("--name", O->Name,
                  "The plugin's name and the bundle's (default: the script's "
                  "file name without .dsp)");
  return [O] {
    auto Error = [](const std::string &Text) {
      std::cerr << "dspjit export: error: " << Text << "\n";
      return 1;
    };
    if (O->Format != "lv2")
      return Error(message<Msg::ExportUnknownFormat>(O->Format));
    plugin::Lv2ExportOptions E;
    E.Script = O->File;
    E.OutDir = O->OutDir;
    E.Uri = O->Uri;
    E.Name = O->Name;
    const char *Env = std::getenv("DSPJIT_LV2_LIBRARY");
    E.Library = Env && *Env ? Env : DSPJIT_LV2_LIBRARY;
    // Compiled here only to learn the ports, which do not depend on the
    // rate: the plugin compiles for the host's rate when instantiated.
    Compiler C(CompileOptions::fromEnvironment());
    auto R = plugin::exportLv2(C, E);
    printDiagnostics(C);
    if (!R) {
      if (R.error().empty())
        std::cerr << O->File << ": " << C.diagnostics().errorCount() << " error"
                  << (C.diagnostics().errorCount() == 1 ? "" : "s") << "\n";
      else
        Error(R.error());
      return 1;
    }
    const plugin::PortLayout &L = R->Layout;
    std::cout << message<Msg::ExportWrote>(
                     R->Bundle, L.AudioIns, L.AudioOuts, L.Params,
                     L.Params == 1 ? "" : "s", L.MeterLanes,
                     L.MeterLanes == 1 ? "" : "s",
                     L.HasLatency ? ", latency" : "", R->P.Uri)
              << "\n";
    return 0;
  };
}

} // namespace dspjit::tools
