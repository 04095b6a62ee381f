//===- tests/support/EventLog.h - Waiting for a session's events ----------===//
//
// In-process tests of live sessions wait for what happened (typed events
// from the session's ControlBus), not for sentences on stderr. An EventLog
// subscribes to a bus, keeps every event, and lets a test wait for the
// first event of a kind (optionally matching a predicate) after a mark.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_EVENTLOG_H
#define DSPJIT_TESTS_SUPPORT_EVENTLOG_H

#include "session/ControlBus.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace dspjit::test {

class EventLog {
public:
  explicit EventLog(session::ControlBus &Bus)
      : Sub(Bus.subscribe([this](const session::Event &E) {
          std::lock_guard<std::mutex> Guard(Lock);
          Events.push_back(E);
          Changed.notify_all();
        })) {}

  /// The number of events so far: a mark for waitFor's `After`.
  size_t mark() const {
    std::lock_guard<std::mutex> Guard(Lock);
    return Events.size();
  }

  /// The first event of kind T at index `After` or later that satisfies
  /// `Match`, waiting up to `Seconds` for it.
  template <class T>
  std::optional<T> waitFor(double Seconds, size_t After = 0,
                           std::function<bool(const T &)> Match = {}) {
    std::unique_lock<std::mutex> Guard(Lock);
    auto Deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration<double>(Seconds);
    for (size_t I = After;;) {
      for (; I < Events.size(); ++I)
        if (const T *E = std::get_if<T>(&Events[I]); E && (!Match || Match(*E)))
          return *E;
      if (Changed.wait_until(Guard, Deadline) == std::cv_status::timeout &&
          I == Events.size())
        return std::nullopt;
    }
  }

  /// Every event of kind T so far.
  template <class T> std::vector<T> all() const {
    std::lock_guard<std::mutex> Guard(Lock);
    std::vector<T> Out;
    for (const session::Event &E : Events)
      if (const T *X = std::get_if<T>(&E))
        Out.push_back(*X);
    return Out;
  }

  /// Every event, described, one a line (for failure messages).
  std::string text() const {
    std::lock_guard<std::mutex> Guard(Lock);
    std::string Text;
    for (const session::Event &E : Events)
      Text += std::string(session::eventName(E)) + ": " + session::describe(E) +
              "\n";
    return Text;
  }

private:
  mutable std::mutex Lock;
  std::condition_variable Changed;
  std::vector<session::Event> Events;
  session::Subscription Sub;
};

} // namespace dspjit::test

#endif
