//===- runtime/Osc.h - Parameters and meters over OSC on localhost -*- C++ -*-===//
//
// Controllers (TouchOSC, Pure Data, a script) speak OSC. An OscServer
// listens on a UDP port of 127.0.0.1 only -- a session is not controllable
// from the network -- and applies messages to a Host:
//
//   /param/NAME f        set a parameter (i and d are accepted too)
//   /param/NAME          reply /param/NAME f with its target
//   /meters              reply /meter/NAME f... for every meter
//   /meter/NAME          reply /meter/NAME f... (one float per lane)
//   /quit                stop the session
//
// Replies go to the sender's address and port. Messages are decoded with
// liblo; the socket and its thread are our own so that the server binds to
// the loopback interface only.
//
// Thread contract: create and destroy on the control thread. Messages are
// handled on the server's thread; a parameter reaches the audio thread as
// one relaxed atomic store (Host::setParam). `Log` is called from the
// server's thread for bad messages and must be thread-safe.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_OSC_H
#define DSPJIT_RUNTIME_OSC_H

#include "runtime/Host.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace dspjit {

class OscServer {
public:
  using LogFn = std::function<void(const std::string &Message, bool IsError)>;
  /// Binds 127.0.0.1:Port (0: any free port; see port()).
  static Result<std::unique_ptr<OscServer>> open(Host &H, unsigned Port,
                                                 LogFn Log);
  ~OscServer();
  OscServer(const OscServer &) = delete;
  OscServer &operator=(const OscServer &) = delete;

  unsigned port() const { return Port; }
  /// Messages handled and rejected so far. Thread: any.
  unsigned handled() const { return Handled.load(); }
  unsigned errors() const { return Errors.load(); }

private:
  OscServer(Host &H, int Socket, unsigned Port, LogFn Log)
      : H(H), Socket(Socket), Port(Port), Log(std::move(Log)) {}
  void serve();
  void handle(const char *Data, size_t Size, const void *From,
              unsigned FromLen);

  Host &H;
  int Socket;
  unsigned Port;
  LogFn Log;
  std::atomic<bool> Quit{false};
  std::atomic<unsigned> Handled{0}, Errors{0};
  std::thread Server;
};

} // namespace dspjit

#endif
