//===- plugin/core/Payload.h - The script a plugin library carries -*- C++ -*-===//
//
// An exported plugin is one prebuilt shared library (the same file for every
// script and every plugin format's adapter) with the script written into it
// at export time. The library holds a fixed-size, initialized array that
// starts with a marker; `dspjit export` copies the library into the bundle
// and writes the payload over the array (after the marker), so that the
// library alone carries what it runs: no file beside it to lose or edit, and
// no C++ compiler needed to export. An empty payload (the library as built)
// is the live plugin, which loads a script named at run time.
//
// The payload is a list of records `KEY LENGTH\n` followed by LENGTH bytes:
//   uri     the plugin's URI
//   name    the plugin's name (the script's file name without .dsp)
//   main    the script's path relative to the bundle
//   source  a path relative to the bundle, a newline, and the file's text
//           (the script and each of its imports; not the standard library)
//   ports   the port layout exported (PortLayout::signature), checked at
//           instantiation against the kernel compiled for the host's rate
//
// Thread contract: any non-audio thread (everything here allocates).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_PLUGIN_CORE_PAYLOAD_H
#define DSPJIT_PLUGIN_CORE_PAYLOAD_H

#include "runtime/Result.h"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace dspjit::plugin {

/// The marker at the start of the array in the library; the payload's
/// length (8 decimal digits) and records follow it. As built, the length's
/// place holds PayloadUnwritten, so that the marker and it together occur
/// once in the library (the marker alone may also be among its constants).
inline constexpr std::string_view PayloadMarker = "dspjit-plugin-payload-v1:";
inline constexpr std::string_view PayloadUnwritten = "########";
/// Bytes of the array, marker included: the largest script (with its
/// imports) an exported library can carry.
inline constexpr std::size_t PayloadCapacity = 512 * 1024;

struct Payload {
  std::string Uri;
  std::string Name;
  std::string Main; ///< relative to the bundle
  /// Relative path -> text: the script and its imports.
  std::map<std::string, std::string> Sources;
  std::string Ports; ///< PortLayout::signature() at export

  bool empty() const { return Uri.empty(); }
  /// The records, without marker or length.
  std::string serialize() const;
  /// Parses records; fails on a malformed payload.
  static Result<Payload> parse(std::string_view Records);
};

/// The payload carried by `Array` (the library's own array: marker, length,
/// records). An empty Payload when nothing was written (the live plugin).
Result<Payload> readPayload(const char *Array, std::size_t Size);

/// Writes `P` into the bytes of a library (a copy of the plugin library read
/// whole): finds the one marker and writes the length and records after it.
/// `LibraryName` names it in messages.
/// Fails when the marker is missing or not unique, or the payload too large.
Result<void> writePayload(std::string &Library, const Payload &P,
                          const std::string &LibraryName);

} // namespace dspjit::plugin

#endif
