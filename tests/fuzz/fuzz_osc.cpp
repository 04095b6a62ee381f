//===- tests/fuzz/fuzz_osc.cpp - Arbitrary datagrams sent to the OSC port ===//
//
// A libFuzzer target: the input is one UDP datagram sent to `dspjit run
// --osc`, byte for byte -- a message, a bundle, or anything at all. A real
// OscServer (session/Osc.h) on 127.0.0.1 handles it, exactly as its thread
// handles what it receives (OscServer::handlePacket; liblo decodes it),
// against a real ControlBus on an offline Host of a real compiled kernel
// (SurfaceHarness.h). Replies go to a UDP socket of the fuzzer's, which
// reads them back. The server, its host and the reply socket live for the
// whole process (stopping a server joins its thread, up to 0.1 s); before
// each input every parameter is reset to its default, so inputs do not
// depend on each other beyond the /events subscription, which lasts: every
// input then also publishes an event, forwarded to the fuzzer's socket.
//
// Invariants (SurfaceHarness.h): no crash, no hang; after the packet and a
// block, every parameter's target and smoothed value is finite and within
// its range; every reply datagram and every logged message is at most
// MaxReplyBytes long, and every reply is a well-formed OSC message.
//
// Built twice, like the others: as a libFuzzer binary (DSPJIT_FUZZ) and
// into dspjit_fuzz_replay.
//
//===----------------------------------------------------------------------===//
#include "FuzzHarness.h"
#include "SurfaceHarness.h"

#include "session/Osc.h"

#include <lo/lo.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace dspjit;
using namespace dspjit::fuzz;

namespace {

/// What lives for the whole process.
struct OscFixture {
  SurfaceTarget T;
  std::unique_ptr<session::OscServer> Server;
  int Replies = -1; ///< the fuzzer's socket: the packets' sender
  sockaddr_in From = {};
  std::vector<char> Buffer = std::vector<char>(65536); ///< one datagram

  OscFixture() {
    auto S =
        session::OscServer::open(T.bus(), 0, [](const std::string &M, bool) {
          checkReply("OSC message", M);
        });
    if (!S)
      fuzz::fail("OscServer::open: " + S.error());
    Server = std::move(*S);
    Replies = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    From.sin_family = AF_INET;
    From.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t Len = sizeof From;
    if (Replies < 0 ||
        ::bind(Replies, reinterpret_cast<sockaddr *>(&From), sizeof From) ||
        ::getsockname(Replies, reinterpret_cast<sockaddr *>(&From), &Len))
      fuzz::fail("cannot bind the fuzzer's reply socket");
  }

  /// Reads every reply waiting (the server sends before handlePacket
  /// returns, and loopback delivers at once).
  void drainReplies() {
    for (;;) {
      ssize_t Got = ::recv(Replies, Buffer.data(), Buffer.size(), MSG_DONTWAIT);
      if (Got < 0)
        return;
      std::string Reply(Buffer.data(), size_t(Got));
      checkReply("OSC reply", Reply);
      int Result = 0;
      lo_message M =
          lo_message_deserialise(Buffer.data(), size_t(Got), &Result);
      if (!M)
        fuzz::fail("a reply that is not an OSC message: " + shortened(Reply));
      lo_message_free(M);
    }
  }
};

} // namespace

extern "C" int dspjitFuzzOsc(const uint8_t *Data, size_t Size) {
  // Never freed: the server's thread and the bus outlive every input, and
  // nothing needs to run at exit.
  static OscFixture *F = new OscFixture;
  (void)F->T.bus().resetParams();
  F->T.runBlock();
  F->Server->handlePacket(reinterpret_cast<const char *>(Data), Size, &F->From,
                          sizeof F->From);
  F->drainReplies();
  F->T.runBlock();
  F->T.collect();
  std::string Packet(reinterpret_cast<const char *>(Data), Size);
  F->T.checkParams("an OSC packet of " + std::to_string(Size) + " bytes");
  // Events reach every /events subscriber, the fuzzer's socket included.
  F->T.bus().publish(session::event::Notice{session::event::Notice::Info,
                                            "fuzz: " + shortened(Packet, 64)});
  F->drainReplies();
  return 0;
}

#ifdef DSPJIT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  return dspjitFuzzOsc(Data, Size);
}
#endif
