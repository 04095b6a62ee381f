//===- session/Osc.h - Parameters and meters over OSC on localhost -*- C++ -*-===//
//
// Controllers (TouchOSC, Pure Data, a script) speak OSC. An OscServer is a
// surface of a session: it listens on a UDP port of 127.0.0.1 only -- a
// session is not controllable from the network -- and applies messages
// through the session's ControlBus:
//
//   /param/NAME f        set a parameter (i and d are accepted too)
//   /param/NAME          reply /param/NAME f with its target
//   /meters              reply /meter/NAME f... for every meter
//   /meter/NAME          reply /meter/NAME f... (one float per lane)
//   /quit                stop the session
//   /events              send the session's events to the sender from now
//                        on, as /event/KIND s TEXT (KIND: eventName(),
//                        e.g. /event/reloaded "reload 1: live in 9.8 ms...")
//
// Replies go to the sender's address and port. Messages are decoded with
// liblo; the socket and its thread are our own so that the server binds to
// the loopback interface only.
//
// Thread contract: create and destroy on the control thread. Messages are
// handled on the server's thread; a parameter reaches the audio thread as
// one relaxed atomic store (ControlBus::setParam). `Log` is called from the
// server's thread for bad messages and must be thread-safe. Refused
// messages are counted on the bus under the name "OSC".
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_OSC_H
#define DSPJIT_SESSION_OSC_H

#include "session/ControlBus.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

typedef void *lo_message; // as liblo's lo/lo_types.h declares it

namespace dspjit::session {

class OscServer {
public:
  using LogFn = std::function<void(const std::string &Message, bool IsError)>;
  /// Binds 127.0.0.1:Port (0: any free port; see port()).
  static Result<std::unique_ptr<OscServer>> open(ControlBus &Bus, unsigned Port,
                                                 LogFn Log);
  ~OscServer();
  OscServer(const OscServer &) = delete;
  OscServer &operator=(const OscServer &) = delete;

  unsigned port() const { return Port; }
  /// Messages handled and rejected so far. Thread: any.
  unsigned handled() const { return Handled.load(); }
  unsigned errors() const { return Errors.load(); }

  /// Handles one datagram as if it had arrived from `From` (a sockaddr of
  /// `FromLen` bytes, where replies and events go): what the server's
  /// thread does with each datagram it receives (an empty one is ignored),
  /// for tests and fuzzers that have the bytes. Thread: any but the audio
  /// thread, concurrently with the server's.
  void handlePacket(const char *Data, size_t Size, const void *From,
                    unsigned FromLen);

private:
  OscServer(ControlBus &Bus, int Socket, unsigned Port, LogFn Log)
      : Bus(Bus), Socket(Socket), Port(Port), Log(std::move(Log)) {}
  void serve();
  void handleParam(const std::string &Path, lo_message M, const Instance &Inst,
                   const void *From, unsigned FromLen);
  void subscribe(const void *From, unsigned FromLen);
  void bad(const std::string &Message);
  void forward(const Event &E);

  ControlBus &Bus;
  Subscription Events;
  std::mutex ListenersLock;
  std::vector<std::vector<char>> Listeners; ///< sockaddr bytes of /events
  int Socket;
  unsigned Port;
  LogFn Log;
  std::atomic<bool> Quit{false};
  std::atomic<unsigned> Handled{0}, Errors{0};
  std::thread Server;
};

} // namespace dspjit::session

#endif
