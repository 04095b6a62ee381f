//===- tests/support/SharedJackServer.h - One jackd for a test suite ------===//
//
// Starting jackd takes a second and a half; a suite whose cases are clients
// of the same server (children running dspjit, probes, PortAudio) starts
// one for all of them. Cases that freeze or kill the server belong in a
// suite of their own.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_SHAREDJACKSERVER_H
#define DSPJIT_TESTS_SUPPORT_SHAREDJACKSERVER_H

#include "tests/support/JackServer.h"

#include <gtest/gtest.h>

#include <memory>

namespace dspjit::test {

class SharedJackServerTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    auto S = JackServer::start({48000, 64});
    ASSERT_TRUE(S) << S.error();
    Server = std::move(*S);
    Server->finishSetup(); // the cases open their own clients later
  }
  static void TearDownTestSuite() {
    if (Server)
      Server->beginShutdown();
    Server.reset();
  }
  void SetUp() override { ASSERT_TRUE(Server) << "no JACK server"; }

  static inline std::unique_ptr<JackServer> Server;
};

} // namespace dspjit::test

#endif
