//===- plugin/lv2/Lv2Live.cpp - The live plugin (not yet) -----------------===//
#include "plugin/lv2/Lv2Plugin.h"

namespace dspjit::plugin {
const LV2_Descriptor *liveDescriptor() { return nullptr; }
} // namespace dspjit::plugin
