//===- tests/support/PictureFiles.h - Are these SVG and PNG files sound? -*- C++ -*-===//
//
// The pictures of `dspjit plot` are SVG and PNG files that browsers and
// editors must open; the tests read them without an XML library or tool.
//
// xmlError() checks well-formedness: one root element, every tag closed in
// order, attribute values quoted, attributes not repeated in a tag,
// entities among XML's five or numeric, no stray '<' or '&'. It does not
// validate against the SVG schema. pngSize() reads a PNG's signature and
// the size in its IHDR chunk.
//
//   std::string Why = xmlError(Text);   // "" when well-formed
//   auto Size = pngSize(Bytes);         // {width, height}, none if no PNG
//
// Thread contract: a pure function.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_PICTUREFILES_H
#define DSPJIT_TESTS_SUPPORT_PICTUREFILES_H

#include <cctype>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace dspjit::test {

/// Why `Text` is not well-formed XML, or "" when it is.
inline std::string xmlError(const std::string &Text) {
  std::vector<std::string> Open;
  size_t Roots = 0, I = 0;
  const size_t N = Text.size();
  auto At = [&](size_t P) { return "at byte " + std::to_string(P) + ": "; };
  auto IsName = [](char C) {
    return std::isalnum(static_cast<unsigned char>(C)) || C == ':' ||
           C == '-' || C == '_' || C == '.';
  };
  auto Entity = [&](size_t P) -> bool { // Text[P] == '&'
    size_t Semi = Text.find(';', P);
    if (Semi == std::string::npos || Semi - P > 10)
      return false;
    std::string Name = Text.substr(P + 1, Semi - P - 1);
    static const std::set<std::string> Known = {"amp", "lt", "gt", "quot",
                                                "apos"};
    return Known.count(Name) ||
           (Name.size() > 1 && Name[0] == '#' &&
            Name.find_first_not_of("0123456789", 1) == std::string::npos) ||
           (Name.size() > 2 && Name[0] == '#' && Name[1] == 'x' &&
            Name.find_first_not_of("0123456789abcdefABCDEF", 2) ==
                std::string::npos);
  };
  while (I < N) {
    if (Text[I] == '&') {
      if (!Entity(I))
        return At(I) + "a bare '&'";
      ++I;
      continue;
    }
    if (Text[I] == '>')
      return At(I) + "a stray '>'";
    if (Text[I] != '<') {
      if (Open.empty() && !std::isspace(static_cast<unsigned char>(Text[I])))
        return At(I) + "text outside the root element";
      ++I;
      continue;
    }
    if (Text.compare(I, 5, "<?xml") == 0 || Text.compare(I, 2, "<?") == 0) {
      size_t End = Text.find("?>", I);
      if (End == std::string::npos)
        return At(I) + "an unclosed processing instruction";
      I = End + 2;
      continue;
    }
    if (Text.compare(I, 4, "<!--") == 0) {
      size_t End = Text.find("-->", I);
      if (End == std::string::npos)
        return At(I) + "an unclosed comment";
      I = End + 3;
      continue;
    }
    bool Closing = I + 1 < N && Text[I + 1] == '/';
    size_t P = I + (Closing ? 2 : 1), NameStart = P;
    while (P < N && IsName(Text[P]))
      ++P;
    std::string Name = Text.substr(NameStart, P - NameStart);
    if (Name.empty())
      return At(I) + "a '<' that starts no tag";
    std::set<std::string> Attributes;
    bool SelfClosing = false;
    for (;;) {
      while (P < N && std::isspace(static_cast<unsigned char>(Text[P])))
        ++P;
      if (P >= N)
        return At(I) + "an unclosed tag <" + Name;
      if (Text[P] == '>') {
        ++P;
        break;
      }
      if (Text.compare(P, 2, "/>") == 0 && !Closing) {
        SelfClosing = true;
        P += 2;
        break;
      }
      if (Closing)
        return At(P) + "attributes in the closing tag of " + Name;
      size_t AttrStart = P;
      while (P < N && IsName(Text[P]))
        ++P;
      std::string Attr = Text.substr(AttrStart, P - AttrStart);
      if (Attr.empty() || P >= N || Text[P] != '=')
        return At(P) + "an attribute without '=' in <" + Name;
      if (!Attributes.insert(Attr).second)
        return At(P) + "attribute " + Attr + " twice in <" + Name;
      ++P;
      if (P >= N || (Text[P] != '"' && Text[P] != '\''))
        return At(P) + "an unquoted value of " + Attr;
      char Quote = Text[P];
      size_t End = Text.find(Quote, P + 1);
      if (End == std::string::npos)
        return At(P) + "an unclosed value of " + Attr;
      for (size_t Q = P + 1; Q < End; ++Q) {
        if (Text[Q] == '<')
          return At(Q) + "a '<' in the value of " + Attr;
        if (Text[Q] == '&' && !Entity(Q))
          return At(Q) + "a bare '&' in the value of " + Attr;
      }
      P = End + 1;
    }
    if (Closing) {
      if (Open.empty() || Open.back() != Name)
        return At(I) + "</" + Name + "> closes " +
               (Open.empty() ? std::string("nothing")
                             : "<" + Open.back() + ">");
      Open.pop_back();
    } else {
      if (Open.empty() && ++Roots > 1)
        return At(I) + "a second root element <" + Name + ">";
      if (!SelfClosing)
        Open.push_back(Name);
    }
    I = P;
  }
  if (!Open.empty())
    return "<" + Open.back() + "> is never closed";
  if (Roots == 0)
    return "no root element";
  return "";
}

/// The width and height of a PNG, or none when `Bytes` does not start with
/// the PNG signature and an IHDR chunk.
inline std::optional<std::pair<uint32_t, uint32_t>>
pngSize(const std::string &Bytes) {
  if (Bytes.size() < 24 || Bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      Bytes.compare(12, 4, "IHDR") != 0)
    return std::nullopt;
  auto BigEndian = [&](size_t At) {
    uint32_t V = 0;
    for (size_t I = At; I < At + 4; ++I)
      V = V << 8 | uint8_t(Bytes[I]);
    return V;
  };
  return std::pair{BigEndian(16), BigEndian(20)};
}

} // namespace dspjit::test

#endif
