//===- plugin/lv2/Lv2Plugin.cpp - The library's entry point and payload ---===//
#include "plugin/lv2/Lv2Plugin.h"

#include <cstdio>
#include <cstring>

namespace {
/// The array `dspjit export` writes the script into (plugin/core/Payload.h).
/// Not const: the compiler must not assume it holds what it was built with.
__attribute__((used)) char PayloadArray[dspjit::plugin::PayloadCapacity] =
    "dspjit-plugin-payload-v1:########";
static_assert(sizeof("dspjit-plugin-payload-v1:") - 1 ==
              dspjit::plugin::PayloadMarker.size());
static_assert(sizeof("########") - 1 ==
              dspjit::plugin::PayloadUnwritten.size());
} // namespace

namespace dspjit::plugin {

const Payload &libraryPayload() {
  static const Payload P = [] {
    const char *Array = PayloadArray;
    // Hide the array's initializer from the optimizer: the bytes read are
    // those of the file, which the export rewrote.
    asm volatile("" : "+r"(Array));
    auto R = readPayload(Array, PayloadCapacity);
    if (!R) {
      std::fprintf(stderr, "dspjit: %s\n", R.error().c_str());
      return Payload{};
    }
    return *R;
  }();
  return P;
}

void logMessage(const LV2_Feature *const *Features, const char *Type,
                const std::string &Text) {
  const LV2_Log_Log *Log = nullptr;
  const LV2_URID_Map *Map = nullptr;
  for (int I = 0; Features && Features[I]; ++I) {
    if (!std::strcmp(Features[I]->URI, LV2_LOG__log))
      Log = static_cast<const LV2_Log_Log *>(Features[I]->data);
    else if (!std::strcmp(Features[I]->URI, LV2_URID__map))
      Map = static_cast<const LV2_URID_Map *>(Features[I]->data);
  }
  if (Log && Map) {
    Log->printf(Log->handle, Map->map(Map->handle, Type), "dspjit: %s\n",
                Text.c_str());
    return;
  }
  std::fprintf(stderr, "dspjit: %s\n", Text.c_str());
}

} // namespace dspjit::plugin

extern "C" LV2_SYMBOL_EXPORT const LV2_Descriptor *
lv2_descriptor(uint32_t Index) {
  using namespace dspjit::plugin;
  if (Index != 0)
    return nullptr;
  return libraryPayload().empty() ? liveDescriptor() : effectDescriptor();
}
