//===- session/Osc.cpp - Parameters and meters over OSC on localhost ------===//
#include "session/Osc.h"

#include "runtime/MessageCatalog.h"

#include <lo/lo.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace dspjit::session {

Result<std::unique_ptr<OscServer>> OscServer::open(ControlBus &Bus,
                                                   unsigned Port, LogFn Log) {
  if (Port > 65535)
    return fail(message<Msg::OscBadPort>(Port));
  int S = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (S < 0)
    return fail(message<Msg::OscCannotCreateSocket>(std::strerror(errno)));
  sockaddr_in Addr = {};
  Addr.sin_family = AF_INET;
  Addr.sin_port = htons(uint16_t(Port));
  Addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(S, reinterpret_cast<sockaddr *>(&Addr), sizeof Addr) != 0) {
    int E = errno;
    ::close(S);
    return fail(message<Msg::OscCannotListen>(Port, std::strerror(E)));
  }
  socklen_t Len = sizeof Addr;
  ::getsockname(S, reinterpret_cast<sockaddr *>(&Addr), &Len);
  std::unique_ptr<OscServer> O(
      new OscServer(Bus, S, ntohs(Addr.sin_port), std::move(Log)));
  OscServer *Self = O.get();
  Bus.attachSurface(message<Msg::OscSurface>());
  O->Events = Bus.subscribe([Self](const Event &E) { Self->forward(E); });
  O->Server = std::thread([Self] { Self->serve(); });
  return O;
}

OscServer::~OscServer() {
  Events.reset();
  Quit.store(true);
  if (Server.joinable())
    Server.join();
  ::close(Socket);
}

void OscServer::serve() {
  std::vector<char> Buffer(65536);
  while (!Quit.load()) {
    pollfd P = {Socket, POLLIN, 0};
    if (::poll(&P, 1, 100) <= 0)
      continue;
    sockaddr_storage From = {};
    socklen_t FromLen = sizeof From;
    ssize_t Got = ::recvfrom(Socket, Buffer.data(), Buffer.size(), 0,
                             reinterpret_cast<sockaddr *>(&From), &FromLen);
    if (Got >= 0)
      handlePacket(Buffer.data(), size_t(Got), &From, FromLen);
  }
}

/// Sends `Path` with float arguments (or one string) back to the sender.
static void reply(int Socket, const char *Path, const std::vector<float> &Args,
                  const void *To, unsigned ToLen, const char *Text = nullptr) {
  lo_message M = lo_message_new();
  for (float V : Args)
    lo_message_add_float(M, V);
  if (Text)
    lo_message_add_string(M, Text);
  size_t Size = 0;
  void *Data = lo_message_serialise(M, Path, nullptr, &Size);
  if (Data) {
    ::sendto(Socket, Data, Size, 0, static_cast<const sockaddr *>(To), ToLen);
    std::free(Data);
  }
  lo_message_free(M);
}

void OscServer::bad(const std::string &Message) {
  ++Errors;
  Bus.countError(message<Msg::OscSurface>());
  if (Log)
    Log(message<Msg::OscLogLine>(Message), true);
}

void OscServer::forward(const Event &E) {
  std::lock_guard<std::mutex> Guard(ListenersLock);
  if (Listeners.empty())
    return;
  std::string Path = std::string("/event/") + eventName(E);
  std::string Text = describe(E);
  for (const std::vector<char> &To : Listeners)
    reply(Socket, Path.c_str(), {}, To.data(), unsigned(To.size()),
          Text.c_str());
}

/// /param/NAME with no argument (a query) or one number.
void OscServer::handleParam(const std::string &Path, lo_message M,
                            const Instance &Inst, const void *From,
                            unsigned FromLen) {
  const std::string Name = Path.substr(7);
  const char *Types = lo_message_get_types(M);
  lo_arg **Argv = lo_message_get_argv(M);
  int Argc = lo_message_get_argc(M);
  if (Argc == 0) {
    auto V = Inst.param(Name);
    if (!V)
      return bad(V.error());
    return reply(Socket, Path.c_str(), {*V}, From, FromLen);
  }
  if (Argc != 1 || (Types[0] != 'f' && Types[0] != 'i' && Types[0] != 'd'))
    return bad(
        message<Msg::OscTakesOneNumber>(abbreviated(Path), abbreviated(Types)));
  double V = Types[0] == 'f'   ? double(Argv[0]->f)
             : Types[0] == 'i' ? double(Argv[0]->i)
                               : Argv[0]->d;
  // A finite double beyond float's range has no float value (the
  // conversion would be undefined), so it is not clamped either.
  if (std::isfinite(V) && std::fabs(V) > std::numeric_limits<float>::max())
    return bad(message<Msg::OscOutOfRange>(abbreviated(Path), V));
  ParamUpdate U = Bus.setParam(Name, float(V));
  if (!U.stored())
    return bad(U.Message);
  ++Handled;
  if (U.Status == ParamUpdate::Clamped && Log)
    Log(message<Msg::OscLogLine>(U.Message), false);
}

/// /events: the sender receives every event from now on.
void OscServer::subscribe(const void *From, unsigned FromLen) {
  std::lock_guard<std::mutex> Guard(ListenersLock);
  const char *Bytes = static_cast<const char *>(From);
  std::vector<char> Address(Bytes, Bytes + FromLen);
  if (std::find(Listeners.begin(), Listeners.end(), Address) == Listeners.end())
    Listeners.push_back(std::move(Address));
}

void OscServer::handlePacket(const char *Data, size_t Size, const void *From,
                             unsigned FromLen) {
  if (Size == 0) // an empty datagram says nothing
    return;
  int Result = 0;
  lo_message M =
      lo_message_deserialise(const_cast<char *>(Data), Size, &Result);
  if (!M) {
    if (Size >= 8 && std::memcmp(Data, "#bundle", 8) == 0)
      return bad(message<Msg::OscBundle>());
    return bad(message<Msg::OscNotAMessage>(Size));
  }
  std::string Path = lo_get_path(const_cast<char *>(Data), ssize_t(Size));
  // One version for the whole message, kept alive across a reload.
  std::shared_ptr<Instance> Inst = Bus.instance();
  if (!Inst) {
    bad(message<Msg::SessionStopped>());
  } else if (Path.rfind("/param/", 0) == 0) {
    handleParam(Path, M, *Inst, From, FromLen);
  } else if (Path == "/meters") {
    const DspjitKernel &K = Inst->kernel();
    for (uint32_t S = 0; S < K.num_slots; ++S)
      if (K.slots[S].kind == DSPJIT_SLOT_METER)
        reply(Socket, ("/meter/" + std::string(K.slots[S].name)).c_str(),
              *Inst->meter(K.slots[S].name), From, FromLen);
    ++Handled;
  } else if (Path.rfind("/meter/", 0) == 0) {
    if (auto V = Bus.meter(Path.substr(7)); !V) {
      bad(V.error());
    } else {
      reply(Socket, Path.c_str(), *V, From, FromLen);
      ++Handled;
    }
  } else if (Path == "/quit") {
    Bus.requestStop();
    ++Handled;
  } else if (Path == "/events") {
    subscribe(From, FromLen);
    ++Handled;
  } else {
    bad(message<Msg::OscUnknownAddress>(abbreviated(Path)));
  }
  lo_message_free(M);
}

} // namespace dspjit::session
