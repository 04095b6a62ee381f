//===- tests/unit/script_test_line_test.cpp - scripttest/ in-process ------===//
//
// The `// test:` grammar read into values (every field, the defaults, the
// paths resolved against the script), the lines that are not tests, and
// the comparisons behind golden and level checks. What `dspjit test`
// prints is tests/cli/script_test_cli_test.cpp's.
//
//===----------------------------------------------------------------------===//
#include "scripttest/Compare.h"
#include "scripttest/TestLine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace dspjit;
using namespace dspjit::scripttest;

namespace {

TestCase parsed(std::string_view Spec) {
  auto T = parseTestLine(Spec, "fx/echo.dsp", 7);
  EXPECT_TRUE(bool(T)) << T.error();
  return T ? *T : TestCase{};
}

std::string refused(std::string_view Spec) {
  auto T = parseTestLine(Spec, "fx/echo.dsp", 7);
  EXPECT_FALSE(bool(T)) << Spec;
  return T ? "" : T.error();
}

TEST(ScriptTestLine, ReadsEveryPartOfARenderTest) {
  TestCase T = parsed("  impulse 1s --set feedback=0.5 --set mix=1 --rate "
                      "44100 --block 37 -> golden/e.wav within 1e-5 ");
  EXPECT_EQ(T.Spec, "impulse 1s --set feedback=0.5 --set mix=1 --rate 44100 "
                    "--block 37 -> golden/e.wav within 1e-5");
  EXPECT_EQ(T.where(), "fx/echo.dsp:7");
  EXPECT_EQ(T.Signal.value_or(SignalSpec{}).Type, SignalSpec::Impulse);
  EXPECT_EQ(T.Length.value_or(Duration{}).frames(44100), 44100u);
  ASSERT_EQ(T.Sets.size(), 2u);
  EXPECT_EQ(T.Sets[0].first, "feedback");
  EXPECT_EQ(T.Sets[0].second, 0.5f);
  EXPECT_EQ(T.Rate, 44100);
  EXPECT_EQ(T.Block, 37u);
  EXPECT_EQ(T.Expect.Type, Check::Golden);
  EXPECT_EQ(T.Expect.File, "golden/e.wav");
  EXPECT_EQ(T.GoldenPath, "fx/golden/e.wav");
  EXPECT_EQ(T.Expect.Tolerance, 1e-5);
}

TEST(ScriptTestLine, DefaultsAndEitherOrder) {
  TestCase T = parsed("0.5s sine:440:0.25 -> out.wav");
  EXPECT_EQ(T.Signal.value_or(SignalSpec{}).Type, SignalSpec::Sine);
  EXPECT_EQ(T.Expect.Tolerance, Check::DefaultGoldenTolerance);
  EXPECT_EQ(T.Rate, 0);
  EXPECT_EQ(T.Block, 64u);

  TestCase None = parsed("-> finite");
  EXPECT_FALSE(None.Signal);
  EXPECT_FALSE(None.Length);
  EXPECT_EQ(None.Expect.Type, Check::Finite);

  TestCase File = parsed("../audio/drums.wav --midi song.mid --midi-map "
                         "cutoff=cc74 -> peak -1 dB within 0.5 db");
  EXPECT_EQ(File.InputFile, "audio/drums.wav");
  EXPECT_EQ(File.Midi, "fx/song.mid");
  EXPECT_EQ(File.MidiMaps, std::vector<std::string>{"cutoff=cc74"});
  EXPECT_EQ(File.Expect.Type, Check::Peak);
  EXPECT_EQ(File.Expect.Level, -1);
  EXPECT_EQ(File.Expect.Tolerance, 0.5);

  TestCase Rms = parsed("noise -> rms -4.77 db");
  EXPECT_EQ(Rms.Expect.Tolerance, Check::DefaultLevelToleranceDb);
  EXPECT_EQ(parsed("silence -> silent").Expect.Type, Check::Silent);

  // A comment after the test is not part of it.
  TestCase Commented = parsed("noise -> finite   // \"no NaN\"");
  EXPECT_EQ(Commented.Spec, "noise -> finite");
  EXPECT_EQ(parsed(R"(error "a // b" // c)").Expect.Text, "a // b");
}

TEST(ScriptTestLine, ErrorTestsTakeOneQuotedText) {
  TestCase T = parsed(R"(error "unknown \"name\" here")");
  EXPECT_EQ(T.Expect.Type, Check::CompileError);
  EXPECT_EQ(T.Expect.Text, "unknown \"name\" here");
  EXPECT_FALSE(T.rendered());
  EXPECT_NE(refused("error").find("error takes one quoted text"),
            std::string::npos);
  EXPECT_NE(refused(R"(error "a" "b")").find("error takes"), std::string::npos);
  EXPECT_EQ(refused(R"(error "open)"), "a quoted text is not closed");
}

TEST(ScriptTestLine, RefusesWhatIsNotATest) {
  EXPECT_NE(refused("impulse 1s 2s -> a.wav").find("two durations"),
            std::string::npos);
  EXPECT_NE(refused("impulse noise -> a.wav").find("two inputs"),
            std::string::npos);
  EXPECT_NE(refused("impulse --rate 10 -> a.wav").find("the rate '10'"),
            std::string::npos);
  EXPECT_NE(refused("impulse --block 1.5 -> a.wav").find("block size"),
            std::string::npos);
  EXPECT_NE(refused("impulse --set -> a.wav").find("needs a value"),
            std::string::npos);
  EXPECT_NE(refused("impulse --set =1 -> a.wav").find("name=number"),
            std::string::npos);
  EXPECT_NE(refused("impulse --midi-map x=cc74 -> a.wav").find("needs a MIDI"),
            std::string::npos);
  EXPECT_NE(refused("impulse --midi-map x=cc999 -> a.wav").find("'x=cc999'"),
            std::string::npos);
  EXPECT_NE(refused("impulse -> loud").find("unknown check 'loud'"),
            std::string::npos);
  EXPECT_NE(refused("impulse ->").find("nothing after '->'"),
            std::string::npos);
  EXPECT_NE(refused("impulse -> rms -6").find("rms takes a level in dB"),
            std::string::npos);
  EXPECT_NE(refused("impulse -> a.wav within").find("the tolerance ''"),
            std::string::npos);
}

TEST(ScriptTestLine, FindsTestCommentsAndOnlyThem) {
  ScriptTests S = parseScriptTests("// echo\n"
                                   "//test: impulse -> finite\n"
                                   "   //   test: noise -> finite\n"
                                   "io 1 -> 1; // test: not alone\n"
                                   "// tests: not a test\n"
                                   "// test: bogus\n",
                                   "echo.dsp");
  ASSERT_EQ(S.Tests.size(), 2u);
  EXPECT_EQ(S.Tests[0].Line, 2u);
  EXPECT_EQ(S.Tests[1].Line, 3u);
  ASSERT_EQ(S.Errors.size(), 1u);
  EXPECT_EQ(
      S.Errors[0].text().rfind("echo.dsp:6: error: 'bogus' is neither", 0), 0u);
}

Rendered mono(std::vector<float> S) { return {std::move(S), 1, 48000}; }

TEST(ScriptTestCompare, GoldenDifferencesAreFoundAndCounted) {
  AudioData Want{{0, 0.5f, 0, 0}, 1, 48000};
  EXPECT_TRUE(compareWithGolden(mono({0, 0.5f, 0, 0}), Want, 0, "g").passed());
  EXPECT_TRUE(sameAudio(mono({0, 0.5f, 0, 0}), Want));
  EXPECT_FALSE(sameAudio(mono({0, 0.5f, 0, 1e-9f}), Want));
  EXPECT_TRUE(
      compareWithGolden(mono({0, 0.5f, 0, 1e-9f}), Want, 1e-6, "g").passed());
  Verdict V = compareWithGolden(mono({0, 0.4f, 0, -1}), Want, 1e-6, "g");
  ASSERT_EQ(V.Lines.size(), 2u);
  EXPECT_EQ(V.Lines[0], "first difference over the tolerance: channel 1, "
                        "frame 1 (2.1e-05 s): got 0.400000006, expected 0.5");
  EXPECT_EQ(V.Lines[1].rfind("largest difference 1 at channel 1, frame 3", 0),
            0u);
  EXPECT_NE(V.Lines[1].find("2 of 4 samples"), std::string::npos);
  float NaN = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(compareWithGolden(mono({0, NaN, 0, 0}), Want, 1, "g").passed());
}

TEST(ScriptTestCompare, LevelsInDecibels) {
  Rendered Half = mono({0.5f, -0.5f, 0.5f, -0.5f});
  EXPECT_NEAR(rmsDb(Half), -6.0206, 1e-4);
  EXPECT_NEAR(peakDb(Half).Db, -6.0206, 1e-4);
  EXPECT_EQ(rmsDb(mono({0, 0})), -INFINITY);
  Check C;
  C.Type = Check::Rms;
  C.Level = -6;
  C.Tolerance = 0.1;
  EXPECT_TRUE(checkLevel(Half, C).passed());
  C.Tolerance = 0.01;
  EXPECT_FALSE(checkLevel(Half, C).passed());
  C.Type = Check::Silent;
  EXPECT_FALSE(checkLevel(Half, C).passed());
  EXPECT_TRUE(checkLevel(mono({1e-7f, 0}), C).passed());
}

} // namespace
