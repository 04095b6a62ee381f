//===- runtime/Automation.cpp - Parameter values that move over time ------===//
#include "runtime/Automation.h"

#include "runtime/Instance.h"
#include "runtime/MessageCatalog.h"
#include "runtime/Messages.h"
#include "runtime/Signals.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

namespace dspjit {

float Automation::valueAt(uint64_t Frame) const {
  // The last breakpoint at or before Frame (the later of two at one frame:
  // a jump happens at its frame).
  auto After =
      std::upper_bound(Points.begin(), Points.end(), Frame,
                       [](uint64_t F, const Point &P) { return F < P.Frame; });
  if (After == Points.begin())
    return Points.front().Value;
  if (After == Points.end())
    return Points.back().Value;
  const Point &A = *(After - 1), &B = *After;
  double U = double(Frame - A.Frame) / double(B.Frame - A.Frame);
  if (Exponential)
    return float(double(A.Value) *
                 std::pow(double(B.Value) / double(A.Value), U));
  return float(double(A.Value) + (double(B.Value) - double(A.Value)) * U);
}

uint64_t Automation::holdsFor(uint64_t Frame) const {
  auto After =
      std::upper_bound(Points.begin(), Points.end(), Frame,
                       [](uint64_t F, const Point &P) { return F < P.Frame; });
  if (After == Points.end())
    return std::numeric_limits<uint64_t>::max();
  // Before the first breakpoint, or between two equal values: the value
  // holds until the next breakpoint (where a jump or a move may start).
  if (After == Points.begin() || (After - 1)->Value == After->Value)
    return After->Frame - Frame;
  return 1;
}

namespace {

std::optional<float> parseNumber(std::string_view Text) {
  std::string S(Text);
  char *End = nullptr;
  double V = std::strtod(S.c_str(), &End);
  if (S.empty() || End != S.c_str() + S.size() || !std::isfinite(V) ||
      std::fabs(V) > std::numeric_limits<float>::max())
    return std::nullopt;
  return float(V);
}

std::string_view trimmed(std::string_view S) {
  while (!S.empty() && std::isspace(static_cast<unsigned char>(S.front())))
    S.remove_prefix(1);
  while (!S.empty() && std::isspace(static_cast<unsigned char>(S.back())))
    S.remove_suffix(1);
  return S;
}

/// Adds a breakpoint after checking it against the parameter and the one
/// before it; `Where` names it in messages.
Result<void> addPoint(Automation &A, const DspjitSlot &Param, uint64_t Frame,
                      const std::string &TimeText, float Value,
                      const std::string &Where) {
  if (!A.Points.empty() && Frame < A.Points.back().Frame)
    return fail(message<Msg::AutomateBackwards>(
        Where, TimeText,
        formatNumber(double(A.Points.back().Frame)) + " frames"));
  if (Value < Param.min || Value > Param.max)
    return fail(message<Msg::AutomateOutOfRange>(
        Where, formatNumber(Value), A.Param, formatNumber(Param.min),
        formatNumber(Param.max)));
  if (A.Exponential && !(Value > 0))
    return fail(
        message<Msg::AutomateNotPositive>(Where, formatNumber(Value), A.Param));
  A.Points.push_back({Frame, Value});
  return {};
}

Result<void> parseRamp(Automation &A, const DspjitSlot &Param,
                       std::string_view List, const std::string &Spec,
                       double Rate) {
  while (!List.empty()) {
    size_t Comma = List.find(',');
    std::string Point(trimmed(List.substr(0, Comma)));
    List = Comma == std::string_view::npos ? std::string_view()
                                           : List.substr(Comma + 1);
    size_t At = Point.find('@');
    if (At == std::string::npos)
      return fail(message<Msg::AutomatePoint>(Point, Spec));
    auto Value = parseNumber(Point.substr(0, At));
    if (!Value)
      return fail(message<Msg::AutomateValue>(Point.substr(0, At), Spec));
    std::string TimeText = Point.substr(At + 1);
    auto Time = parseDuration(TimeText);
    if (!Time)
      return fail(message<Msg::AutomateTime>(TimeText, Spec, Time.error()));
    if (auto Added = addPoint(A, Param, Time->frames(Rate), TimeText, *Value,
                              "'" + Point + "'");
        !Added)
      return Added;
  }
  if (A.Points.empty())
    return fail(message<Msg::AutomateSyntax>(Spec));
  return {};
}

/// Rows of "time,value"; a time is a number of seconds or a duration. A
/// first row that is not numbers is a header; '#' starts a comment.
Result<void> parseCsv(Automation &A, const DspjitSlot &Param,
                      const std::string &Path, double Rate) {
  std::ifstream In(Path);
  if (!In)
    return fail(message<Msg::AutomateCannotRead>(Path, std::strerror(errno)));
  std::string Line;
  for (unsigned Number = 1; std::getline(In, Line); ++Number) {
    std::string_view Row =
        trimmed(std::string_view(Line).substr(0, Line.find('#')));
    if (Row.empty())
      continue;
    size_t Comma = Row.find(',');
    std::string TimeText(trimmed(Row.substr(0, Comma)));
    std::optional<float> Value;
    if (Comma != std::string_view::npos)
      Value = parseNumber(trimmed(Row.substr(Comma + 1)));
    std::optional<uint64_t> Frame;
    if (auto Seconds = parseNumber(TimeText); Seconds && *Seconds >= 0)
      Frame = uint64_t(std::llround(double(*Seconds) * Rate));
    else if (auto D = parseDuration(TimeText))
      Frame = D->frames(Rate);
    if (!Frame || !Value) {
      if (A.Points.empty() && Number == 1 && !Frame)
        continue; // a header
      return fail(message<Msg::AutomateCsvRow>(Path, Number, std::string(Row)));
    }
    if (auto Added = addPoint(A, Param, *Frame, TimeText, *Value,
                              Path + ":" + std::to_string(Number));
        !Added)
      return Added;
  }
  if (In.bad())
    return fail(message<Msg::AutomateCannotRead>(Path, std::strerror(errno)));
  if (A.Points.empty())
    return fail(message<Msg::AutomateNoPoints>(Path));
  return {};
}

} // namespace

Result<Automation> parseAutomation(std::string_view Spec,
                                   const DspjitKernel &Kernel, double Rate) {
  const std::string Whole(Spec);
  size_t Eq = Spec.find('=');
  if (Eq == std::string_view::npos || Eq == 0 || Eq + 1 == Spec.size())
    return fail(message<Msg::AutomateSyntax>(Whole));
  Automation A;
  A.Param = std::string(Spec.substr(0, Eq));
  auto Param = requireSlot(Kernel, A.Param, DSPJIT_SLOT_PARAM);
  if (!Param)
    return fail(Param.error());
  A.Exponential = (*Param)->unit && std::strcmp((*Param)->unit, "hz") == 0;
  std::string_view Curve = Spec.substr(Eq + 1);
  constexpr std::string_view Ramp = "ramp:";
  Result<void> Parsed =
      Curve.starts_with(Ramp)
          ? parseRamp(A, **Param, Curve.substr(Ramp.size()), Whole, Rate)
      : Curve.ends_with(".csv")
          ? parseCsv(A, **Param, std::string(Curve), Rate)
          : Result<void>(fail(message<Msg::AutomateSyntax>(Whole)));
  if (!Parsed)
    return fail(Parsed.error());
  return A;
}

AutomationPlayer::AutomationPlayer(std::vector<Automation> Curves, Setter Set)
    : Curves(std::move(Curves)), Set(std::move(Set)) {
  for (const Automation &A : this->Curves)
    Last.push_back(A.valueAt(0));
}

uint64_t AutomationPlayer::apply(uint64_t Frame) {
  uint64_t Holds = std::numeric_limits<uint64_t>::max();
  for (size_t I = 0; I < Curves.size(); ++I) {
    float V = Curves[I].valueAt(Frame);
    if (V != Last[I]) {
      Set(Curves[I].Param, V);
      Last[I] = V;
    }
    Holds = std::min(Holds, Curves[I].holdsFor(Frame));
  }
  return Holds;
}

} // namespace dspjit
