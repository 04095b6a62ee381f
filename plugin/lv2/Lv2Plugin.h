//===- plugin/lv2/Lv2Plugin.h - The LV2 adapters of dspjit's plugin library -*- C++ -*-===//
//
// One shared library serves every LV2 plugin dspjit makes: an exported
// script (Lv2Effect.cpp, when the library carries a payload written by
// `dspjit export lv2`) or the live plugin (Lv2Live.cpp, the library as
// built). Lv2Plugin.cpp holds the payload's array and lv2_descriptor, which
// returns one or the other.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_PLUGIN_LV2_LV2PLUGIN_H
#define DSPJIT_PLUGIN_LV2_LV2PLUGIN_H

#include "plugin/core/Payload.h"

#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/urid/urid.h>

#include <string>

namespace dspjit::plugin {

/// The payload of this library (parsed once, on first use).
const Payload &libraryPayload();

/// The descriptor of an exported script's plugin.
const LV2_Descriptor *effectDescriptor();
/// The descriptor of the live plugin.
const LV2_Descriptor *liveDescriptor();
/// The live plugin's URI.
inline constexpr const char *LiveUri = "urn:dspjit:live";

/// A message to the host's log (LV2 log extension) when it has one, else
/// to stderr. Not for the audio thread.
void logMessage(const LV2_Feature *const *Features, const char *Type,
                const std::string &Text);

} // namespace dspjit::plugin

#endif
