//===- runtime/Xml.cpp - Text inside XML documents ------------------------===//
#include "runtime/Xml.h"

namespace dspjit {

std::string escapeXml(std::string_view Text) {
  std::string S;
  for (char Ch : Text)
    switch (Ch) {
    case '&': S += "&amp;"; break;
    case '<': S += "&lt;"; break;
    case '>': S += "&gt;"; break;
    case '"': S += "&quot;"; break;
    case '\'': S += "&apos;"; break;
    default:
      if (static_cast<unsigned char>(Ch) >= 0x20 || Ch == '\t' || Ch == '\n' ||
          Ch == '\r')
        S += Ch;
    }
  return S;
}

} // namespace dspjit
