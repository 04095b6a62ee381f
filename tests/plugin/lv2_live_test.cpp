//===- tests/plugin/lv2_live_test.cpp - The live plugin in jalv on JACK ---===//
//
// The live plugin (build/lv2/dspjit-live.lv2) in a real host: jalv, on a
// private JACK server with the dummy driver, loads it with a state that
// names a script; a JACK probe of the test's own records the plugin's
// output. The test saves the script edited, and the recording changes
// within the reload latency; then saves it broken, and the old version
// keeps playing while jalv prints the compiler's error through the LV2 log.
// No host is mocked.
//
//===----------------------------------------------------------------------===//
#include "tests/plugin/JalvRig.h"
#include "tests/support/ChildProcess.h"

#include <gtest/gtest.h>

#include <jack/jack.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

/// Writes `Text` to `Path` as editors do: a temporary file renamed over it.
void save(const fs::path &Path, const std::string &Text) {
  const fs::path Tmp = Path.string() + ".tmp";
  std::ofstream(Tmp) << Text;
  fs::rename(Tmp, Path);
}

/// Left: a level (`Left` of the parameter); right: a frame counter, state
/// that a reload carries over (`Right` of it).
std::string script(const char *Left, const char *Right) {
  return std::string("io 0 -> 2;\n"
                     "param level = 0.1 in [0, 1];\n"
                     "state n = 0;\n"
                     "process {\n"
                     "    n = n + 1;\n"
                     "    out = [") +
         Left + ", " + Right + "];\n}\n";
}

/// The median of the recording's `Channel` over frames [From, To) of the
/// recording. (Frames recorded, not JACK's frame time: the dummy driver may
/// fall behind the clock that jack_frame_time estimates from.)
float medianBetween(const JackProbe &P, uint64_t From, uint64_t To,
                    unsigned Channel = 0) {
  std::vector<float> V;
  for (uint64_t I = From; I < std::min(To, P.recordedFrames()); ++I)
    V.push_back(P.recorded(Channel)[I]);
  if (V.empty())
    return NAN;
  std::nth_element(V.begin(), V.begin() + V.size() / 2, V.end());
  return V[V.size() / 2];
}

TEST(Lv2Live, JalvReloadsTheScriptOnSaveAndKeepsTheLastGoodVersion) {
  const fs::path Dir = fs::temp_directory_path() /
                       ("dspjit-lv2-live-" + std::to_string(getpid()));
  fs::create_directories(Dir / "state");
  const fs::path Script = Dir / "gen.dsp";
  save(Script, script("level", "n / 1e6"));
  std::ofstream(Dir / "state" / "manifest.ttl")
      << "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
         "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
         "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
         "<state.ttl> a pset:Preset ; lv2:appliesTo <urn:dspjit:live> ;\n"
         "  rdfs:seeAlso <state.ttl> .\n";
  std::ofstream(Dir / "state" / "state.ttl")
      << "@prefix atom: <http://lv2plug.in/ns/ext/atom#> .\n"
         "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
         "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
         "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n"
         "<> a pset:Preset ;\n"
         "  lv2:appliesTo <urn:dspjit:live> ;\n"
         "  state:state [ <urn:dspjit:live#script> \""
      << Script.string() << "\"^^atom:Path ] .\n";
  JalvRig Rig;
  ASSERT_NO_FATAL_FAILURE(Rig.start(DSPJIT_LV2_DIR, Dir / "cache", 2));
  Rig.Server->finishSetup();
  JackProbe &P = *Rig.Probe;

  uint64_t Connected = 0, Edited = 0, Broken = 0, End = 0;
  std::string Failure;
  ChildOptions CO;
  CO.CloseStdin = false;
  CO.TimeoutSeconds = 40;
  CO.Actions = {
      {.AfterSeconds = 0.3,
       .Run =
           [&] {
             for (unsigned C = 0; C < 2; ++C)
               if (auto Ok = P.connect("dspjit-live-test:out_" +
                                           std::to_string(C + 1),
                                       P.recordPort(C));
                   !Ok)
                 Failure = Ok.error();
             Connected = P.recordedFrames();
           },
       .WaitFor = "saves reload it"},
      {.AfterSeconds = 1.0,
       .Run =
           [&] {
             Edited = P.recordedFrames();
             save(Script, script("2 * level", "-n / 1e6"));
           }},
      {.AfterSeconds = 0.5,
       .Run =
           [&] {
             Broken = P.recordedFrames();
             save(Script, script("2 * level +", "n"));
           },
       .WaitFor = "optimized"},
      {.AfterSeconds = 0.5,
       .Run = [&] { End = P.recordedFrames(); },
       .WaitFor = "does not compile"},
      {.AfterSeconds = 0.1, .Signal = SIGINT},
  };
  ChildResult J = runChild("/usr/bin/jalv",
                           {"-n", "dspjit-live-test", "-x", "-c", "knob_1=0.25",
                            "-l", (Dir / "state").string(), "urn:dspjit:live"},
                           CO);
  P.stop();
  Rig.Server->beginShutdown();
  EXPECT_FALSE(J.TimedOut) << J.describe();
  ASSERT_TRUE(Failure.empty()) << Failure;
  ASSERT_NE(End, 0u) << J.describe();

  // Knob 1 drives `level` over [0, 1]: 0.25, not the script's 0.1.
  EXPECT_NEAR(medianBetween(P, (Connected + Edited) / 2, Edited), 0.25f, 1e-4)
      << J.describe();
  // After the save: twice that, from the first block of the new version.
  uint64_t Changed = 0;
  for (uint64_t I = Edited; I < P.recordedFrames(); ++I)
    if (P.recorded(0)[I] > 0.4f) {
      Changed = I;
      break;
    }
  ASSERT_NE(Changed, 0u) << J.describe();
  const double LatencyMs = (Changed - Edited) / 48.0;
  std::printf("  the edit was heard %.1f ms after the save\n", LatencyMs);
  EXPECT_LT(LatencyMs, 1000);
  EXPECT_NEAR(medianBetween(P, Changed + 4800, Broken), 0.5f, 1e-4);
  // The counter carried over: after the crossfade (20 ms), the new version
  // counts on from where the old one was: -n / 1e6 with n at least the
  // count at the save plus the frames recorded since (from 0, it would be
  // the frames since the swap alone). 64 frames of slack for the cycle in
  // which the probe and the plugin may differ.
  const float Before = P.recorded(1)[Edited],
              After = P.recorded(1)[Changed + 4800];
  EXPECT_GT(Before, 0.0f);
  EXPECT_LE(After, -(Before + (Changed + 4800 - Edited - 64) / 1e6f));
  EXPECT_LT(P.recorded(1)[Broken], After);
  // The broken save: the last good version keeps playing, and the error is
  // in the host's log.
  EXPECT_NEAR(medianBetween(P, Broken, End), 0.5f, 1e-4);
  EXPECT_NE(J.Err.find("error: dspjit: reload 2:"), std::string::npos)
      << J.describe();
  EXPECT_NE(J.Err.find("expected an expression"), std::string::npos)
      << J.describe();
  std::error_code EC;
  fs::remove_all(Dir, EC);
}

} // namespace
