//===- tests/reload/reload_live_test.cpp - Saving while a session plays ---===//
//
// Hot reload as a user meets it, through the session library in-process: a
// session plays a file through a script on a private jackd and records the
// output, while the test edits the script the ways editors do. The
// recording tells what was heard (tests/support/LiveSession.h); the events
// tell what the session did. The command line's own lines are checked by
// tests/reload/reload_cli_test.cpp.
//
// The stress test saves 200 times in 20 s, alternating two versions, and
// checks that every save is accounted for, nothing crashes, and the
// resident memory does not grow.
//
//===----------------------------------------------------------------------===//
#include "runtime/Messages.h"
#include "session/Console.h"
#include "tests/support/LiveSession.h"
#include "tests/support/Sanitizers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iostream>

using namespace dspjit;
using namespace dspjit::test;
namespace event = dspjit::session::event;
namespace fs = std::filesystem;

namespace {

class ReloadLive : public LiveSessionTest {};

/// Resident memory of this process, in kB.
long residentKb() {
  std::ifstream Status("/proc/self/status");
  std::string Line;
  while (std::getline(Status, Line))
    if (Line.rfind("VmRSS:", 0) == 0)
      return std::stol(Line.substr(6));
  return 0;
}

} // namespace

TEST_F(ReloadLive, EverySaveIsHeardOnceAndOnlyWhenTheCodeChanged) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.4);
  size_t Mark = Log->mark();
  writeInPlace("gain.dsp", gainScript("0.25"));
  ASSERT_TRUE(Log->waitFor<event::Optimized>(10, Mark)) << Log->text();
  playFor(*S, 0.4);
  Mark = Log->mark();
  writeByRename("gain.dsp", gainScript("1.5"));
  ASSERT_TRUE(Log->waitFor<event::Optimized>(10, Mark)) << Log->text();
  playFor(*S, 0.3);
  writeInPlace("gain.dsp", gainScript("1.5")); // the same text: nothing
  playFor(*S, 0.3);
  Mark = Log->mark();
  writeInPlace("gain.dsp", "// louder\n" + gainScript("1.5"));
  // A comment: compiled, found to be the same code, not swapped (a
  // crossfade of a signal with itself would swell by 3 dB).
  ASSERT_TRUE(Log->waitFor<event::ReloadUnchanged>(10, Mark)) << Log->text();
  playFor(*S, 0.3);
  event::Stopped End = S->stop();
  EXPECT_EQ(End.ExitStatus, 0) << Log->text();
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 0.25f, 1.5f})) << Log->text();
  EXPECT_EQ(Log->all<event::Reloaded>().size(), 2u) << Log->text();
  EXPECT_EQ(End.Reloads.Reloads, 2u);
  EXPECT_EQ(End.Reloads.Unchanged, 2u); // the same text, then the same code
  EXPECT_TRUE(Log->all<event::ReloadFailed>().empty()) << Log->text();
}

TEST_F(ReloadLive, ASavesWarningsArePublishedOnceAndWerrorRefusesIt) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  session::SessionOptions O = options();
  auto S = start(O);
  ASSERT_TRUE(S);
  playFor(*S, 0.3);
  size_t Mark = Log->mark();
  writeInPlace("gain.dsp", "param spare = 0 in [0, 1];\n" + gainScript("0.25"));
  ASSERT_TRUE(Log->waitFor<event::Optimized>(10, Mark)) << Log->text();
  // Two tiers compiled, the warning published once: with the quick one
  // (the optimized tier's event carries no diagnostics).
  auto Reloads = Log->all<event::Reloaded>();
  ASSERT_EQ(Reloads.size(), 1u) << Log->text();
  EXPECT_NE(Reloads[0].Diagnostics.find(
                "gain.dsp:1:7: warning: parameter 'spare' is never used "
                "[-Wunused-param]"),
            std::string::npos)
      << Log->text();
  S->stop();

  writeInPlace("gain.dsp", gainScript("0.5"));
  O = options();
  O.Compile.warnings.AsErrors = true;
  S = start(O);
  ASSERT_TRUE(S);
  playFor(*S, 0.3);
  Mark = Log->mark();
  writeInPlace("gain.dsp", "param spare = 0 in [0, 1];\n" + gainScript("2"));
  auto Failed = Log->waitFor<event::ReloadFailed>(10, Mark);
  ASSERT_TRUE(Failed) << Log->text();
  EXPECT_NE(Failed->Diagnostics.find("[-Werror=unused-param]"),
            std::string::npos)
      << Failed->Diagnostics;
  S->stop();
}

TEST_F(ReloadLive, ABrokenSaveKeepsTheMusicPlayingAndTheNextGoodOneIsHeard) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.4);
  size_t Mark = Log->mark();
  writeInPlace("gain.dsp", gainScript("0.5 *"));
  auto Failed = Log->waitFor<event::ReloadFailed>(10, Mark);
  ASSERT_TRUE(Failed) << Log->text();
  // The diagnostics, with line, column and caret, then the verdict.
  EXPECT_NE(Failed->Diagnostics.find("gain.dsp:2:"), std::string::npos)
      << Failed->Diagnostics;
  EXPECT_NE(Failed->Diagnostics.find("^"), std::string::npos);
  EXPECT_NE(
      session::describe(*Failed).find("the last good version keeps playing"),
      std::string::npos);
  playFor(*S, 0.4);
  Mark = Log->mark();
  writeInPlace("gain.dsp", gainScript("2"));
  ASSERT_TRUE(Log->waitFor<event::Optimized>(10, Mark)) << Log->text();
  playFor(*S, 0.4);
  event::Stopped End = S->stop();
  EXPECT_EQ(End.ExitStatus, 0) << Log->text();
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 2.0f})) << Log->text();
  EXPECT_EQ(End.Reloads.text().rfind("reloads: 1 (1 failed)", 0), 0u)
      << End.Reloads.text();
}

TEST_F(ReloadLive, ADeletedScriptKeepsPlayingUntilItComesBack) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.4);
  fs::remove(path("gain.dsp"));
  ASSERT_TRUE(Log->waitFor<event::ScriptGone>(10)) << Log->text();
  playFor(*S, 0.4);
  writeInPlace("gain.dsp", gainScript("0.75"));
  ASSERT_TRUE(Log->waitFor<event::ScriptBack>(10)) << Log->text();
  ASSERT_TRUE(Log->waitFor<event::Optimized>(10)) << Log->text();
  playFor(*S, 0.4);
  EXPECT_EQ(S->stop().ExitStatus, 0) << Log->text();
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 0.75f})) << Log->text();
}

TEST_F(ReloadLive, AnIoChangeIsRefusedWithAdviceAndTheOldVersionPlays) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.4);
  writeInPlace("gain.dsp", "io 2 -> 1;\nprocess { out = in[0]; }\n");
  auto Failed = Log->waitFor<event::ReloadFailed>(10);
  ASSERT_TRUE(Failed) << Log->text();
  EXPECT_NE(Failed->Reason.find("io 2 -> 1"), std::string::npos)
      << Failed->Reason;
  EXPECT_NE(session::describe(*Failed).find("keeps playing"),
            std::string::npos);
  playFor(*S, 0.4);
  EXPECT_EQ(S->stop().ExitStatus, 0) << Log->text();
  EXPECT_EQ(heard(), std::vector<float>{0.5f}) << Log->text();
}

TEST_F(ReloadLive, StateThatWentNonFiniteIsResetFromTheConsole) {
  // `boom` drives the state to infinity; sin(inf) is NaN, replaced by
  // silence. Setting boom back to 0 does not heal the state; `reset state`
  // does.
  writeInPlace("gain.dsp", R"(io 2 -> 2;
param boom = 0 in [0, 1] nosmooth;
state s = 0.5;
process { s = s * (1 + boom * 1e30); out = in * sin(s); }
)");
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.4);
  EXPECT_EQ(session::runCommand(S->bus(), "set boom 1").Status,
            session::CommandReply::Ok);
  ASSERT_TRUE(Log->waitFor<event::NonFinite>(5)) << Log->text();
  playFor(*S, 0.3);
  EXPECT_TRUE(S->bus().setParam("boom", 0).stored());
  playFor(*S, 0.4);
  session::CommandReply R = session::runCommand(S->bus(), "reset state");
  EXPECT_NE(R.Text.find("state and delays start again"), std::string::npos)
      << R.Text;
  playFor(*S, 0.4);
  event::Stopped End = S->stop();
  EXPECT_EQ(End.ExitStatus, 0) << Log->text();
  EXPECT_EQ(heard(), (std::vector<float>{std::sin(0.5f), 0.0f, std::sin(0.5f)}))
      << Log->text();
  EXPECT_GT(End.Summary.NonfiniteSamples, 0u);
  EXPECT_NE(End.Summary.text().find("non-finite"), std::string::npos);
}

TEST_F(ReloadLive, TwoHundredReloadsInTwentySeconds) {
  // Alternating versions (after the first two compiles, from the cache),
  // one save every 100 ms.
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.3);
  long RssAfterWarmUp = 0;
  for (int I = 0; I < 200; ++I) {
    writeInPlace("gain.dsp", gainScript(I % 2 ? "0.5" : "0.25"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (I == 19)
      RssAfterWarmUp = residentKb();
  }
  playFor(*S, 0.8);
  long RssAtEnd = residentKb();
  event::Stopped End = S->stop();
  ASSERT_EQ(End.ExitStatus, 0) << Log->text();
  // Every save was heard (or superseded by the next before its compile
  // finished, which publishes nothing): none failed, none crashed.
  EXPECT_GE(End.Reloads.Reloads, 190u) << Log->text();
  EXPECT_LE(End.Reloads.Reloads, 200u);
  EXPECT_EQ(End.Reloads.Failed, 0u) << Log->text();
  EXPECT_EQ(Log->all<event::Reloaded>().size(), End.Reloads.Reloads);
  // Memory: what the first 20 reloads settled at, give or take 4 MiB
  // (recorded only under ASan, whose quarantine grows VmRSS without a leak).
  EXPECT_GT(RssAfterWarmUp, 0);
  if (!UnderAsan) {
    EXPECT_LT(RssAtEnd - RssAfterWarmUp, 4096)
        << "VmRSS after 20 reloads " << RssAfterWarmUp << " kB, at the end "
        << RssAtEnd << " kB";
  }
  std::cout << "[ reloads ] " << End.Reloads.Reloads << "; VmRSS "
            << RssAfterWarmUp << " kB after 20, " << RssAtEnd
            << " kB after 200; " << End.Reloads.text() << "\n"
            << std::flush;
}

namespace {
/// A stereo gain of `Gain` behind a heavy but legal body: `Body` repeated
/// `Copies` times by an unroll, its result multiplied by 0 (so the
/// recording still tells the gain), about a second to compile at -O0.
std::string heavyGainScript(const std::string &Gain, const std::string &Decls,
                            const std::string &Body, unsigned Copies,
                            const std::string &Tail = "") {
  return "io 2 -> 2;\n" + Decls +
         "process {\n  let acc = in;\n  unroll i in 0.." +
         std::to_string(Copies) + " { " + Body + " }\n  " + Tail +
         "\n  out = in * " + Gain + " + 0 * acc;\n}\n";
}

struct HeavyProgram {
  const char *Name;
  std::string Decls, Body;
  unsigned Copies;
  std::string Tail;
};

const HeavyProgram HeavyPrograms[] = {
    {"sin+tanh", "", "acc = sin(acc * 1.0001 + i) + tanh(acc);", 1600, ""},
    {"nested-state",
     "fn lp(x) { state s = 0; s = s + 0.1 * (x - s); return s; }\n",
     "unroll j in 0..40 { acc = lp(acc) + 0.001 * j; }", 40, ""},
    {"reads", "delay d[8192];\n", "acc = acc + 0.001 * d.read(i + 1.5);", 2000,
     "d.write(in);"},
};
} // namespace

TEST_F(ReloadLive, TheFixSavedAfterAHeavySaveGoesLiveWithoutWaitingForIt) {
  // Issue 11: a heavy save, then the user's fix 150 ms later, for each of
  // a family of heavy programs. The fix is live within its own compile
  // time plus 100 ms of its save; the heavy version is never heard, and
  // the fix's reload line says it was skipped.
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.3);
  std::vector<float> Expected = {0.5f};
  float Gain = 0.5f;
  for (const HeavyProgram &P : HeavyPrograms) {
    SCOPED_TRACE(P.Name);
    writeInPlace("gain.dsp",
                 heavyGainScript("0.75", P.Decls, P.Body, P.Copies, P.Tail));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    Gain *= 2;
    Expected.push_back(Gain);
    size_t Mark = Log->mark();
    writeInPlace("gain.dsp", gainScript(formatNumber(Gain)));
    auto Fix = Log->waitFor<event::Reloaded>(10, Mark);
    ASSERT_TRUE(Fix) << Log->text();
    EXPECT_EQ(Fix->Skipped, 1u) << Log->text();
    EXPECT_LT(Fix->LatencyMs, Fix->CompileMs + 100) << Log->text();
    std::cout << "[ fix after " << P.Name << " ] live in " << Fix->LatencyMs
              << " ms, compile " << Fix->CompileMs << " ms\n"
              << std::flush;
    EXPECT_NE(session::describe(*Fix).find("1 older save skipped"),
              std::string::npos)
        << session::describe(*Fix);
    // Long enough for the heavy compile to finish and be dropped.
    ASSERT_TRUE(Log->waitFor<event::Optimized>(10, Mark)) << Log->text();
    playFor(*S, 1.5);
  }
  event::Stopped End = S->stop();
  EXPECT_EQ(End.ExitStatus, 0) << Log->text();
  EXPECT_EQ(heard(), Expected) << Log->text();
  EXPECT_EQ(End.Reloads.Skipped, 3u);
  EXPECT_EQ(End.Reloads.Failed, 0u) << Log->text();
}

TEST_F(ReloadLive, TheBombOfIssue11IsRefusedAtOnceAndTheFixGoesLive) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.3);
  size_t Mark = Log->mark();
  const auto Saved = std::chrono::steady_clock::now();
  writeInPlace("gain.dsp",
               heavyGainScript("0.75", "",
                               "acc = sin(acc * 1.0001 + i) + tanh(acc);",
                               4096));
  auto Failed = Log->waitFor<event::ReloadFailed>(10, Mark);
  ASSERT_TRUE(Failed) << Log->text();
  EXPECT_LT(std::chrono::steady_clock::now() - Saved, std::chrono::seconds(1));
  EXPECT_NE(Failed->Diagnostics.find("would take too long to compile"),
            std::string::npos)
      << Failed->Diagnostics;
  Mark = Log->mark();
  writeInPlace("gain.dsp", gainScript("2"));
  ASSERT_TRUE(Log->waitFor<event::Optimized>(10, Mark)) << Log->text();
  playFor(*S, 0.3);
  event::Stopped End = S->stop();
  EXPECT_EQ(End.ExitStatus, 0) << Log->text();
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 2.0f})) << Log->text();
}

TEST_F(ReloadLive, ALargeSaveStaysAtO0WithANotice) {
  writeInPlace("gain.dsp", gainScript("0.5"));
  auto S = start(options());
  ASSERT_TRUE(S);
  playFor(*S, 0.3);
  size_t Mark = Log->mark();
  const HeavyProgram &P = HeavyPrograms[1]; // past MaxOptimizeCost
  writeInPlace("gain.dsp", heavyGainScript("0.75", P.Decls, P.Body, P.Copies));
  ASSERT_TRUE(Log->waitFor<event::Reloaded>(10, Mark)) << Log->text();
  auto Notice = Log->waitFor<event::Notice>(10, Mark);
  ASSERT_TRUE(Notice) << Log->text();
  EXPECT_NE(Notice->Text.find("stays at -O0"), std::string::npos)
      << Notice->Text;
  playFor(*S, 0.3);
  event::Stopped End = S->stop();
  EXPECT_EQ(End.ExitStatus, 0) << Log->text();
  EXPECT_TRUE(Log->all<event::Optimized>().empty()) << Log->text();
  EXPECT_EQ(heard(), (std::vector<float>{0.5f, 0.75f})) << Log->text();
}
