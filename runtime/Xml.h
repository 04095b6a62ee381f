//===- runtime/Xml.h - Text inside XML documents ----------------*- C++ -*-===//
//
// dspjit writes XML by hand in two places, SVG pictures (analysis/Canvas)
// and JUnit reports (scripttest/Report); both put user text in it (titles,
// script paths, test lines, compiler messages).
//
// Thread contract: a pure function (allocates).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_XML_H
#define DSPJIT_RUNTIME_XML_H

#include <string>
#include <string_view>

namespace dspjit {

/// Text as XML character data or an attribute value: the five special
/// characters as entities, and the control characters XML 1.0 cannot hold
/// (all but tab, newline and carriage return) left out.
std::string escapeXml(std::string_view Text);

} // namespace dspjit

#endif
