//===- runtime/Messages.h - Helpers for messages to the user ----*- C++ -*-===//
//
// Parameter names, meter names and signal kinds are typed by hand on the
// command line. When one does not exist, the message should name the close
// one the user probably meant instead of only saying "unknown"; and numbers
// in messages should read as the user typed them ("0.5", not "0.500000").
//
// Thread contract: pure functions that allocate; not for the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_MESSAGES_H
#define DSPJIT_RUNTIME_MESSAGES_H

#include <string>
#include <string_view>
#include <vector>

namespace dspjit {

/// Edit distance (insertions, deletions, substitutions and swaps of two
/// adjacent characters), ignoring case.
unsigned editDistance(std::string_view A, std::string_view B);

/// The candidate closest to `Name` if it is close enough to be a plausible
/// typo (at most a third of the longer name's length, and at least 1), or an
/// empty string.
std::string closestName(std::string_view Name,
                        const std::vector<std::string> &Candidates);

/// "a, b, c": the candidates joined for a message.
std::string joinNames(const std::vector<std::string> &Names);

/// What a message quotes of its input: `Text` whole up to `Max` bytes;
/// longer, its first `Max` bytes, "..." and its length ("/param/xxx...
/// (60000 bytes)"), so that no message grows with what a surface was sent
/// (an OSC datagram holds 64 KiB).
std::string abbreviated(std::string_view Text, size_t Max = 200);

/// A number in the shortest form that reads back as the same value
/// ("0.5", "48000", "1e-05"), the one number formatter of every message
/// (the compiler's too). A double that is exactly a float reads back as
/// that float (0.1f widened prints "0.1"); zero prints "0", never "-0".
std::string formatNumber(double Value);
std::string formatNumber(float Value);

} // namespace dspjit

#endif
