//===- session/WebPanel.h - A live session's controls in the browser -*- C++ -*-===//
//
// `dspjit run FILE --web` serves a page that controls the session: a slider
// per parameter, meters, a scope and a spectrum of the output, the
// session's health, each reload's line and a failed save's diagnostics.
// A WebPanel is one more surface on the session's ControlBus: it sees what
// the console and OSC see, and its controls are theirs.
//
// The server (Boost.Beast on one thread of its own) answers:
//
//   GET /, /panel.js, /panel.css   the page, built into the binary
//                                  (session/web/; no CDN, no network)
//   GET /ws?token=TOKEN            the WebSocket (session/WebProtocol.h)
//
// and nothing else (404). Safety, because any page the user visits may try
// to reach a server on localhost:
//   - it binds 127.0.0.1 unless told otherwise;
//   - the WebSocket, the only way to read or change the session, needs the
//     random 128-bit token printed in the panel's address, and an Origin
//     header naming the panel itself (http://127.0.0.1:PORT or
//     http://localhost:PORT); anything else is refused with 403;
//   - a message that is malformed, too long (web::MaxMessage) or binary is
//     dropped and counted, and a page that sends more than FloodLimit
//     messages a second has the rest dropped; a connection that stops
//     reading loses its meters and scopes first, and is closed when far
//     behind; at most MaxConnections at once.
//
// A second thread ticks 30 times a second: it drains the copy of the
// output that the audio thread leaves in the Host's monitor ring
// (HostOptions::MonitorSeconds; never touched by anything but memcpy on the
// audio thread), measures peak and RMS, takes a scope and an FFT of it
// (analysis/Fft.h), reads parameters, meters and timing through the bus,
// and sends them to every page. A parameter moved anywhere (console, OSC,
// another tab) shows within one tick. A third thread measures the script's
// frequency response (analysis/Response.h) when a parameter or the
// version changes, for the page's response view.
//
// Thread contract: open() and the destructor on the control thread; the
// rest is any thread but the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_WEBPANEL_H
#define DSPJIT_SESSION_WEBPANEL_H

#include "session/ControlBus.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace dspjit::session {

struct WebPanelOptions {
  /// The address to listen on; anything but loopback prints a warning.
  std::string Bind = "127.0.0.1";
  /// 0: any free port (see WebPanel::port()).
  unsigned Port = 0;
  /// The script, for the page's title.
  std::string Script;
  /// Ticks a second (meters, parameters, scope, spectrum, health).
  double TickHz = 30;
  /// The token; empty: a random one.
  std::string Token;
};

/// What the panel has done, for tests and the summary.
struct WebPanelStats {
  unsigned Connections = 0;   ///< WebSockets open now
  uint64_t Accepted = 0;      ///< WebSockets accepted so far
  uint64_t Refused = 0;       ///< upgrades refused (token, Origin)
  uint64_t NotFound = 0;      ///< requests for anything else
  uint64_t Handled = 0;       ///< commands run
  uint64_t Dropped = 0;       ///< malformed, too long, binary, refused
  uint64_t Flooded = 0;       ///< dropped for the rate limit
  uint64_t Ticks = 0;         ///< tick messages sent (to all pages)
  uint64_t SkippedFrames = 0; ///< messages skipped for slow pages
};

class WebPanel {
public:
  using LogFn = std::function<void(const std::string &Message, bool IsError)>;

  static constexpr unsigned MaxConnections = 32;
  static constexpr unsigned FloodLimit = 1000; ///< messages a second a page

  /// Checks the options without listening (a bad port or address), so
  /// that a program can refuse its flags before it opens anything.
  static Result<void> check(const WebPanelOptions &Options);
  /// Listens and starts its threads; pages that connect before the session
  /// starts are told it is waiting. `Log` (thread-safe) gets warnings and
  /// the refused messages.
  static Result<std::unique_ptr<WebPanel>>
  open(ControlBus &Bus, WebPanelOptions Options, LogFn Log);
  /// Closes every connection and joins the threads.
  ~WebPanel();
  WebPanel(const WebPanel &) = delete;
  WebPanel &operator=(const WebPanel &) = delete;

  unsigned port() const;
  const std::string &token() const;
  /// "http://127.0.0.1:PORT/#token=TOKEN"
  std::string url() const;
  WebPanelStats stats() const;

  struct Impl;

private:
  explicit WebPanel(std::unique_ptr<Impl> P);
  std::unique_ptr<Impl> P;
};

} // namespace dspjit::session

#endif
