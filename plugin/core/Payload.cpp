//===- plugin/core/Payload.cpp - The script a plugin library carries ------===//
#include "plugin/core/Payload.h"

#include "runtime/MessageCatalog.h"

#include <cstdio>
#include <cstring>

namespace dspjit::plugin {

static void record(std::string &Out, std::string_view Key,
                   std::string_view Value) {
  Out += Key;
  Out += ' ';
  Out += std::to_string(Value.size());
  Out += '\n';
  Out += Value;
}

std::string Payload::serialize() const {
  std::string Out;
  record(Out, "uri", Uri);
  record(Out, "name", Name);
  record(Out, "main", Main);
  record(Out, "ports", Ports);
  for (const auto &[Path, Text] : Sources)
    record(Out, "source", Path + "\n" + Text);
  return Out;
}

Result<Payload> Payload::parse(std::string_view In) {
  Payload P;
  while (!In.empty()) {
    size_t Space = In.find(' '), Eol = In.find('\n');
    if (Space == std::string_view::npos || Eol == std::string_view::npos ||
        Space > Eol)
      return fail(message<Msg::PluginPayloadMalformed>());
    std::string_view Key = In.substr(0, Space);
    size_t Length = 0;
    for (char C : In.substr(Space + 1, Eol - Space - 1)) {
      if (C < '0' || C > '9')
        return fail(message<Msg::PluginPayloadMalformed>());
      Length = Length * 10 + size_t(C - '0');
    }
    In.remove_prefix(Eol + 1);
    if (Length > In.size())
      return fail(message<Msg::PluginPayloadMalformed>());
    std::string_view Value = In.substr(0, Length);
    In.remove_prefix(Length);
    if (Key == "uri")
      P.Uri = Value;
    else if (Key == "name")
      P.Name = Value;
    else if (Key == "main")
      P.Main = Value;
    else if (Key == "ports")
      P.Ports = Value;
    else if (Key == "source") {
      size_t Nl = Value.find('\n');
      if (Nl == std::string_view::npos)
        return fail(message<Msg::PluginPayloadMalformed>());
      P.Sources[std::string(Value.substr(0, Nl))] = Value.substr(Nl + 1);
    }
  }
  return P;
}

/// Digits of the length field after the marker.
static constexpr size_t LengthDigits = PayloadUnwritten.size();

Result<Payload> readPayload(const char *Array, size_t Size) {
  const size_t Head = PayloadMarker.size() + LengthDigits;
  if (Size < Head)
    return Payload{};
  size_t Length = 0;
  for (size_t I = 0; I < LengthDigits; ++I) {
    char C = Array[PayloadMarker.size() + I];
    if (C < '0' || C > '9')
      return Payload{}; // as built: nothing written
    Length = Length * 10 + size_t(C - '0');
  }
  if (Length > Size - Head)
    return fail(message<Msg::PluginPayloadMalformed>());
  return Payload::parse(std::string_view(Array + Head, Length));
}

Result<void> writePayload(std::string &Library, const Payload &P,
                          const std::string &LibraryName) {
  // Built at run time, so that this program's constants never hold it.
  const std::string Unwritten =
      std::string(PayloadMarker) + std::string(PayloadUnwritten);
  size_t At = Library.find(Unwritten);
  if (At == std::string::npos ||
      Library.find(Unwritten, At + 1) != std::string::npos)
    return fail(message<Msg::ExportNoPayloadArea>(LibraryName));
  std::string Records = P.serialize();
  const size_t Head = PayloadMarker.size() + LengthDigits;
  if (Records.size() > PayloadCapacity - Head)
    return fail(message<Msg::ExportPayloadTooLarge>(Records.size(),
                                                    PayloadCapacity - Head));
  if (At + PayloadCapacity > Library.size())
    return fail(message<Msg::ExportNoPayloadArea>(LibraryName));
  char Length[LengthDigits + 1];
  std::snprintf(Length, sizeof Length, "%08zu", Records.size());
  std::memcpy(&Library[At + PayloadMarker.size()], Length, LengthDigits);
  std::memcpy(&Library[At + Head], Records.data(), Records.size());
  return {};
}

} // namespace dspjit::plugin
