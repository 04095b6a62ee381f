//===- tests/support/Udp.h - A free UDP port on the loopback --*- C++ -*-===//
//
// For tests that give `dspjit run --osc PORT` a port nobody listens on.
// The port is free when this returns; another process could take it before
// the child binds it, which the OSC tests would then report clearly.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_UDP_H
#define DSPJIT_TESTS_SUPPORT_UDP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace dspjit::test {

/// A UDP port of 127.0.0.1 that the kernel just handed out as free.
inline unsigned freeUdpPort() {
  int S = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in A = {};
  A.sin_family = AF_INET;
  A.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(S, reinterpret_cast<sockaddr *>(&A), sizeof A);
  socklen_t L = sizeof A;
  getsockname(S, reinterpret_cast<sockaddr *>(&A), &L);
  close(S);
  return ntohs(A.sin_port);
}

} // namespace dspjit::test

#endif
