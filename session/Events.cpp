//===- session/Events.cpp - What happens in a live session, as text -------===//
//
// The one rendering of events for people, from the message catalog; the
// command line prints it, other surfaces may use it or their own.
//
//===----------------------------------------------------------------------===//
#include "session/Events.h"

#include "runtime/MessageCatalog.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dspjit::session {

static std::string ms(double Value) {
  char Text[32];
  std::snprintf(Text, sizeof Text, "%.1f ms", Value);
  return Text;
}

static const char *plural(uint64_t N) { return N == 1 ? "" : "s"; }

std::string ReloadStats::text() const {
  std::string Text = message<Msg::ReloadsCount>(Reloads);
  if (Failed)
    Text += message<Msg::ReloadsFailedCount>(Failed);
  if (LatencyMs.empty())
    return Text;
  std::vector<double> L = LatencyMs;
  std::sort(L.begin(), L.end());
  auto At = [&](double Q) {
    return L[std::min(L.size() - 1, size_t(std::ceil(Q * double(L.size()))) -
                                        (Q > 0 ? 1 : 0))];
  };
  return Text +
         message<Msg::ReloadLatencies>(ms(At(0.5)), ms(At(0.99)), ms(L.back()));
}

namespace {
/// describe() for each kind of event.
struct Describe {
  std::string operator()(const event::Started &E) const {
    return message<Msg::StartedLine>(E.Script, E.Description);
  }
  std::string operator()(const event::Reloaded &E) const {
    std::string Skipped =
        E.Skipped ? message<Msg::SkippedSaves>(E.Skipped, plural(E.Skipped))
                  : std::string();
    return message<Msg::ReloadedLine>(
        E.Number, ms(E.LatencyMs), ms(E.CompileMs),
        E.Cached ? message<Msg::FromTheCache>() : std::string(),
        E.QuickTier ? message<Msg::QuickTierFirst>() : std::string(), Skipped,
        E.Report.text());
  }
  std::string operator()(const event::Optimized &E) const {
    return message<Msg::OptimizedLine>(
        E.Number, E.OptLevel, ms(E.SinceSaveMs), ms(E.CompileMs),
        E.Cached ? message<Msg::FromTheCache>() : std::string());
  }
  std::string operator()(const event::ReloadUnchanged &E) const {
    return message<Msg::ReloadUnchangedLine>(E.Number);
  }
  std::string operator()(const event::ReloadFailed &E) const {
    return message<Msg::ReloadFailedLine>(E.Number, E.Reason);
  }
  std::string operator()(const event::ScriptGone &E) const {
    return message<Msg::ScriptIsGone>(E.Script);
  }
  std::string operator()(const event::ScriptBack &E) const {
    return message<Msg::ScriptIsBack>(E.Script);
  }
  std::string operator()(const event::ScriptUnreadable &E) const {
    return message<Msg::ScriptIsUnreadable>(E.Script, E.Reason);
  }
  std::string operator()(const event::Xrun &E) const {
    return message<Msg::XrunLine>(E.New, plural(E.New), E.Total,
                                  xrunKindName(E.Kind));
  }
  std::string operator()(const event::NonFinite &E) const {
    return message<Msg::NonFiniteLine>(E.New, plural(E.New), E.Total);
  }
  std::string operator()(const event::Stalled &E) const {
    return message<Msg::StalledLine>(E.WallSeconds, E.Frames, E.Expected);
  }
  std::string operator()(const event::Notice &E) const { return E.Text; }
  std::string operator()(const event::MidiLearn &E) const {
    return message<Msg::MidiLearning>(E.Param);
  }
  std::string operator()(const event::Stopping &E) const { return E.Why; }
  std::string operator()(const event::Stopped &E) const { return E.Why; }
};

struct Name {
  const char *operator()(const event::Started &) const { return "started"; }
  const char *operator()(const event::Reloaded &) const { return "reloaded"; }
  const char *operator()(const event::Optimized &) const { return "optimized"; }
  const char *operator()(const event::ReloadUnchanged &) const {
    return "unchanged";
  }
  const char *operator()(const event::ReloadFailed &) const {
    return "reload_failed";
  }
  const char *operator()(const event::ScriptGone &) const { return "gone"; }
  const char *operator()(const event::ScriptBack &) const { return "back"; }
  const char *operator()(const event::ScriptUnreadable &) const {
    return "unreadable";
  }
  const char *operator()(const event::Xrun &) const { return "xrun"; }
  const char *operator()(const event::NonFinite &) const { return "nonfinite"; }
  const char *operator()(const event::Stalled &) const { return "stalled"; }
  const char *operator()(const event::Notice &) const { return "notice"; }
  const char *operator()(const event::MidiLearn &) const {
    return "midi_learn";
  }
  const char *operator()(const event::Stopping &) const { return "stopping"; }
  const char *operator()(const event::Stopped &) const { return "stopped"; }
};
} // namespace

std::string describe(const Event &E) { return std::visit(Describe{}, E); }

const char *eventName(const Event &E) { return std::visit(Name{}, E); }

bool isError(const Event &E) {
  if (const auto *N = std::get_if<event::Notice>(&E))
    return N->Severity == event::Notice::Error;
  if (const auto *S = std::get_if<event::Stopped>(&E))
    return S->ExitStatus != 0;
  return std::holds_alternative<event::ReloadFailed>(E) ||
         std::holds_alternative<event::Stalled>(E) ||
         std::holds_alternative<event::ScriptUnreadable>(E);
}

} // namespace dspjit::session
