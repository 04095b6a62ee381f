//===- tests/plugin/JalvRig.h - A private JACK server and a recorder -*- C++ -*-===//
//
// What the tests of plugins in jalv share: a private jackd with the dummy
// driver (48 kHz, 64 frames) and a JACK probe recording the plugin's
// outputs, with LV2_PATH and the object cache pointed at the test's own
// directories. Thread contract: the test's thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_PLUGIN_JALVRIG_H
#define DSPJIT_TESTS_PLUGIN_JALVRIG_H

#include "tests/support/JackProbe.h"
#include "tests/support/JackServer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace dspjit::test {

struct JalvRig {
  std::unique_ptr<JackServer> Server;
  std::unique_ptr<JackProbe> Probe;

  /// Starts the server and a probe "recorder" with `RecordPorts` inputs.
  /// Call finishSetup() on Server once the test's own clients are open.
  void start(const std::string &Lv2Path, const std::filesystem::path &Cache,
             unsigned RecordPorts) {
    setenv("LV2_PATH", Lv2Path.c_str(), 1);
    setenv("DSPJIT_CACHE_DIR", Cache.c_str(), 1);
    auto S = JackServer::start({48000, 64});
    ASSERT_TRUE(S) << S.error();
    Server = std::move(*S);
    JackProbe::Options PO;
    PO.ClientName = "recorder";
    PO.RecordPorts = RecordPorts;
    PO.RecordCapacity = 48000 * 20;
    auto P = JackProbe::open(PO);
    ASSERT_TRUE(P) << P.error();
    Probe = std::move(*P);
  }
};

} // namespace dspjit::test

#endif
