//===- runtime/MessageCatalog.h - Every message the host side prints -*- C++ -*-===//
//
// The compiler has one catalog of diagnostics (compiler/DiagnosticCatalog.def);
// the runtime and the session library have this one, for the same reasons:
// every message a user reads is declared once, under a stable id that tests
// can name, in one wording.
//
//   return fail(message<Msg::PlayNeedsInputs>(Script));
//
// Arguments are {0}, {1}... in the format; message<Id>(...) checks at compile
// time that it is given exactly as many as its format uses. Strings, numbers
// (formatNumber) and integers are accepted.
//
// Options. A library does not know which program embeds it, so a message
// about an option names it as {-play}, never as a command-line flag. By
// default that reads "option 'play'"; a program installs its own spelling
// once, before any other thread runs (tools/ spells it "--play"):
//
//   setOptionSpelling([](std::string_view Name) { return "--" +
//   std::string(Name); });
//
// Thread contract: message() allocates (not for the audio thread) and is
// safe on any other thread once the spelling is installed.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_MESSAGECATALOG_H
#define DSPJIT_RUNTIME_MESSAGECATALOG_H

#include "runtime/Messages.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace dspjit {

enum class Msg {
#define MSG(Id, Fmt) Id,
#include "runtime/MessageCatalog.def"
#undef MSG
};

namespace detail {
inline constexpr const char *MsgFormats[] = {
#define MSG(Id, Fmt) Fmt,
#include "runtime/MessageCatalog.def"
#undef MSG
};
inline constexpr const char *MsgNames[] = {
#define MSG(Id, Fmt) #Id,
#include "runtime/MessageCatalog.def"
#undef MSG
};

/// The number of arguments a format uses: one more than its highest {N}.
constexpr unsigned argumentCount(const char *Format) {
  unsigned Count = 0;
  for (const char *P = Format; *P; ++P)
    if (P[0] == '{' && P[1] >= '0' && P[1] <= '9' && P[2] == '}') {
      unsigned N = unsigned(P[1] - '0') + 1;
      Count = N > Count ? N : Count;
    }
  return Count;
}

inline std::string toText(std::string_view S) { return std::string(S); }
inline std::string toText(const char *S) { return S; }
inline std::string toText(const std::string &S) { return S; }
inline std::string toText(double V) { return formatNumber(V); }
inline std::string toText(float V) { return formatNumber(V); }
template <class T>
  requires std::is_integral_v<T>
std::string toText(T V) {
  return std::to_string(V);
}

std::string render(Msg Id, const std::string *Args, size_t Count);
} // namespace detail

/// The stable name of a message ("PlayNeedsInputs"), for tests.
inline const char *msgName(Msg Id) { return detail::MsgNames[size_t(Id)]; }
/// The format of a message, with its {N} and {-option} markers.
inline const char *msgFormat(Msg Id) { return detail::MsgFormats[size_t(Id)]; }

/// Message `Id` with its arguments, options spelled as installed.
template <Msg Id, class... Args> std::string message(const Args &...A) {
  static_assert(sizeof...(Args) ==
                    detail::argumentCount(detail::MsgFormats[size_t(Id)]),
                "wrong number of arguments for this message of "
                "runtime/MessageCatalog.def");
  const std::string Texts[sizeof...(Args) + 1] = {detail::toText(A)...};
  return detail::render(Id, Texts, sizeof...(Args));
}

/// How option `Name` (e.g. "play") is written in messages; the default is
/// "option 'play'". Thread: install before other threads use messages.
using OptionSpelling = std::string (*)(std::string_view Name);
void setOptionSpelling(OptionSpelling Spell);
/// Option `Name` as the installed spelling writes it.
std::string spellOption(std::string_view Name);

} // namespace dspjit

#endif
