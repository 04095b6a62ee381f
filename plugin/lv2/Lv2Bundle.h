//===- plugin/lv2/Lv2Bundle.h - Writing an exported script's LV2 bundle -*- C++ -*-===//
//
// `dspjit export lv2` (tools/export.cpp) in library form: compiles the
// script once to learn its ports (plugin/core/PortLayout.h), then writes
//
//   DIR/NAME.lv2/manifest.ttl   the plugin's URI and where its files are
//   DIR/NAME.lv2/NAME.ttl       the ports: names, defaults, ranges, units
//   DIR/NAME.lv2/NAME.so        dspjit's plugin library with the script
//                               written into it (plugin/core/Payload.h)
//
// and copies the sound files of the script's tables next to the library,
// at their paths relative to the script.
//
// Thread contract: any non-audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_PLUGIN_LV2_LV2BUNDLE_H
#define DSPJIT_PLUGIN_LV2_LV2BUNDLE_H

#include "compiler/Compiler.h"
#include "plugin/core/Payload.h"
#include "plugin/core/PortLayout.h"
#include "runtime/Result.h"

#include <string>

namespace dspjit::plugin {

struct Lv2ExportOptions {
  std::string Script;
  std::string OutDir;
  /// Empty: urn:dspjit:plugin:NAME.
  std::string Uri;
  /// Empty: the script's file name without .dsp.
  std::string Name;
  /// The plugin library to copy (dspjit_lv2.so).
  std::string Library;
};

struct Lv2ExportResult {
  std::string Bundle; ///< DIR/NAME.lv2
  Payload P;
  PortLayout Layout;
};

/// The URI a script's plugin gets by default: urn:dspjit:plugin:NAME, stable
/// across edits of the script (a DAW's session names plugins by URI).
std::string defaultPluginUri(const std::string &Name);

/// The plugin's Turtle: its ports as `Layout` describes them.
std::string pluginTurtle(const std::string &Uri, const std::string &Name,
                         const PortLayout &Layout, bool Generator);
/// The bundle's manifest.
std::string manifestTurtle(const std::string &Uri, const std::string &Binary,
                           const std::string &Ttl);

/// Writes the bundle. `C` compiles the script (its diagnostics are the
/// caller's to print); a script that does not compile fails with an empty
/// message after filling C's diagnostics.
Result<Lv2ExportResult> exportLv2(Compiler &C, const Lv2ExportOptions &O);

} // namespace dspjit::plugin

#endif
