//===- runtime/Messages.cpp - Helpers for messages to the user ------------===//
//
// Edit distance over short names, number formatting and what a message
// quotes of a long input; see Messages.h.
//
//===----------------------------------------------------------------------===//
#include "runtime/Messages.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace dspjit {

static char lower(char C) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(C)));
}

unsigned editDistance(std::string_view A, std::string_view B) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions
  // ("gian" -> "gain" is one edit). Names are short; a full table is fine.
  const size_t Columns = B.size() + 1;
  std::vector<unsigned> D((A.size() + 1) * Columns);
  auto At = [&](size_t I, size_t J) -> unsigned & {
    return D[I * Columns + J];
  };
  for (size_t I = 0; I <= A.size(); ++I)
    At(I, 0) = static_cast<unsigned>(I);
  for (size_t J = 0; J <= B.size(); ++J)
    At(0, J) = static_cast<unsigned>(J);
  for (size_t I = 1; I <= A.size(); ++I)
    for (size_t J = 1; J <= B.size(); ++J) {
      unsigned Cost = lower(A[I - 1]) != lower(B[J - 1]);
      At(I, J) = std::min(
          {At(I - 1, J) + 1, At(I, J - 1) + 1, At(I - 1, J - 1) + Cost});
      if (I > 1 && J > 1 && lower(A[I - 1]) == lower(B[J - 2]) &&
          lower(A[I - 2]) == lower(B[J - 1]))
        At(I, J) = std::min(At(I, J), At(I - 2, J - 2) + 1);
    }
  return At(A.size(), B.size());
}

std::string closestName(std::string_view Name,
                        const std::vector<std::string> &Candidates) {
  std::string Best;
  unsigned BestDistance = ~0u;
  for (const std::string &Candidate : Candidates) {
    unsigned Distance = editDistance(Name, Candidate);
    size_t Longer = std::max(Name.size(), Candidate.size());
    unsigned Allowed = std::max<unsigned>(1, static_cast<unsigned>(Longer / 3));
    if (Distance <= Allowed && Distance < BestDistance) {
      Best = Candidate;
      BestDistance = Distance;
    }
  }
  return Best;
}

std::string joinNames(const std::vector<std::string> &Names) {
  std::string Joined;
  for (const std::string &Name : Names) {
    if (!Joined.empty())
      Joined += ", ";
    Joined += Name;
  }
  return Joined;
}

template <class T> static std::string shortest(T Value) {
  char Buffer[64];
  auto [End, Error] = std::to_chars(Buffer, Buffer + sizeof(Buffer), Value);
  if (Error != std::errc())
    return "?";
  return std::string(Buffer, End);
}

std::string formatNumber(double Value) {
  if (Value == 0)
    return "0"; // and not "-0"
  // Whole numbers below ten million as a person writes them: "100000",
  // not "1e+05"; larger ones in the shortest form ("1e+09").
  if (std::fabs(Value) < 1e7 && Value == std::trunc(Value))
    return std::to_string(static_cast<long long>(Value));
  // Most numbers in messages were floats once (a script's literals, a
  // parameter's range): 0.1f widened reads "0.1", not 0.10000000149011612.
  if (float F = float(Value); double(F) == Value)
    return shortest(F);
  return shortest(Value);
}
std::string formatNumber(float Value) { return formatNumber(double(Value)); }

} // namespace dspjit

//===-- The message catalog (MessageCatalog.h) ----------------------------===//

#include "runtime/MessageCatalog.h"

namespace dspjit {

static std::string defaultSpelling(std::string_view Name) {
  return "option '" + std::string(Name) + "'";
}

static OptionSpelling Spelling = &defaultSpelling;

void setOptionSpelling(OptionSpelling Spell) {
  Spelling = Spell ? Spell : &defaultSpelling;
}

std::string spellOption(std::string_view Name) { return Spelling(Name); }

std::string abbreviated(std::string_view Text, size_t Max) {
  if (Text.size() <= Max)
    return std::string(Text);
  return message<Msg::Abbreviated>(Text.substr(0, Max), Text.size());
}

std::string detail::render(Msg Id, const std::string *Args, size_t Count) {
  std::string_view Format = MsgFormats[size_t(Id)];
  std::string Text;
  for (size_t I = 0; I < Format.size(); ++I) {
    if (Format[I] == '{' && I + 2 < Format.size() && Format[I + 2] == '}' &&
        Format[I + 1] >= '0' && Format[I + 1] <= '9') {
      size_t N = size_t(Format[I + 1] - '0');
      Text += N < Count ? Args[N] : std::string("?");
      I += 2;
      continue;
    }
    if (Format[I] == '{' && I + 1 < Format.size() && Format[I + 1] == '-') {
      size_t Close = Format.find('}', I);
      if (Close != std::string_view::npos) {
        Text += spellOption(Format.substr(I + 2, Close - I - 2));
        I = Close;
        continue;
      }
    }
    Text += Format[I];
  }
  return Text;
}

} // namespace dspjit
