//===- tests/cli/script_test_cli_test.cpp - `dspjit test` as users run it -===//
//
// The `dspjit test` command in a child process, on scripts that each test
// writes with its `// test:` lines: a golden render that passes, one that
// differs (what the failure says: channel, frame, time, difference,
// tolerance), a missing golden file and `--update`, levels, expected
// compile errors that happen and that do not, malformed test lines (named
// by file and line), and the TAP and JUnit reports, read back. Rows of
// tests/BAD_INPUT.md name these tests.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/TempDir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

const std::string Dspjit = DSPJIT_BINARY;

/// A mono script that halves its input: an impulse becomes 0.5 at frame 0.
const std::string Half = "io 1 -> 1;\nprocess { out = in * 0.5; }\n";

class ScriptTestCli : public ::testing::Test {
protected:
  /// Writes `Dir/Name` with the test lines first, then the script.
  std::string script(const std::string &Name, const std::string &Tests,
                     const std::string &Body = Half) {
    std::ofstream(Dir.file(Name)) << Tests << Body;
    return Dir.file(Name);
  }

  ChildResult dspjit(const std::vector<std::string> &Args) {
    std::vector<std::string> All = {"test"};
    All.insert(All.end(), Args.begin(), Args.end());
    ChildResult C = runChild(Dspjit, All, {.TimeoutSeconds = 120});
    EXPECT_FALSE(C.crashed()) << C.describe();
    return C;
  }

  /// A mono float WAV: the render of Half on an impulse (4800 frames), then
  /// `Edit` applied.
  void golden(const std::string &Name,
              const std::function<void(std::vector<float> &)> &Edit) {
    std::vector<float> S(4800, 0.0f);
    S[0] = 0.5f;
    Edit(S);
    fs::create_directories(fs::path(Dir.file(Name)).parent_path());
    auto W = writeAudioFile(Dir.file(Name), S.data(), S.size(), 1, 48000);
    ASSERT_TRUE(W) << W.error();
  }

  static bool has(const ChildResult &C, const std::string &Text) {
    return (C.Out + C.Err).find(Text) != std::string::npos;
  }

  /// Runs `dspjit test S`, expects exit `Status` and every one of `Says`.
  void expectRun(const std::string &S, int Status,
                 const std::vector<std::string> &Says) {
    ChildResult C = dspjit({S});
    EXPECT_EQ(C.Status, Status) << C.describe();
    for (const std::string &Text : Says)
      EXPECT_TRUE(has(C, Text)) << "expected: " << Text << "\n" << C.describe();
  }

  TempDir Dir;
};

#define EXPECT_SAYS(C, Text)                                                   \
  EXPECT_TRUE(has(C, Text)) << "expected: " << (Text) << "\n" << (C).describe()

TEST_F(ScriptTestCli, AGoldenRenderThatMatchesPasses) {
  golden("golden/half.wav", [](std::vector<float> &) {});
  std::string S =
      script("half.dsp", "// test: impulse 0.1s -> golden/half.wav\n");
  ChildResult C = dspjit({S});
  EXPECT_EQ(C.Status, 0) << C.describe();
  EXPECT_SAYS(C, "PASS " + S + ":1: impulse 0.1s -> golden/half.wav");
  EXPECT_SAYS(C, "1 passed, 0 failed");
}

TEST_F(ScriptTestCli, AGoldenWithinItsToleranceMatchesAndOneOverItDoesNot) {
  golden("near.wav", [](std::vector<float> &S) { S[7] = 4e-7f; });
  std::string S =
      script("near.dsp", "// test: impulse 0.1s -> near.wav\n"
                         "// test: impulse 0.1s -> near.wav within 1e-7\n");
  ChildResult C = dspjit({S});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_SAYS(C, "PASS " + S + ":1:");
  EXPECT_SAYS(C, "FAIL " + S + ":2:");
  EXPECT_SAYS(C, "1 passed, 1 failed");
}

TEST_F(ScriptTestCli, AFailingGoldenSaysWhereAndByHowMuch) {
  golden("golden/half.wav", [](std::vector<float> &S) {
    S[100] = 0.25f;
    S[2400] = -0.5f;
  });
  std::string S =
      script("half.dsp", "// test: impulse 0.1s -> golden/half.wav\n");
  ChildResult C = dspjit({S});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_SAYS(C, "FAIL " + S + ":1: impulse 0.1s -> golden/half.wav");
  EXPECT_SAYS(C, "first difference over the tolerance: channel 1, frame 100 "
                 "(0.002083 s): got 0, expected 0.25");
  EXPECT_SAYS(C, "largest difference 0.5 at channel 1, frame 2400 (0.05 s); "
                 "2 of 4800 samples differ by more than the tolerance 1e-06");
  EXPECT_SAYS(C, "0 passed, 1 failed");
}

TEST_F(ScriptTestCli, AGoldenOfAnotherLengthOrWidthFails) {
  std::vector<float> Stereo(2 * 4800, 0.0f);
  ASSERT_TRUE(
      writeAudioFile(Dir.file("stereo.wav"), Stereo.data(), 4800, 2, 48000));
  std::string S = script("shape.dsp", "// test: impulse 0.1s -> stereo.wav\n"
                                      "// test: impulse 0.2s -> half.wav\n");
  golden("half.wav", [](std::vector<float> &) {});
  ChildResult C = dspjit({S});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_SAYS(C, "the render has 1 channel but '" + Dir.file("stereo.wav") +
                     "' has 2");
  EXPECT_SAYS(C, "the render has 9600 frames (0.2 s) but '" +
                     Dir.file("half.wav") +
                     "' has 4800 (0.1 s); compared over the first 4800");
}

TEST_F(ScriptTestCli, AMissingGoldenSaysToRunWithUpdate) {
  std::string S = script("half.dsp", "// test: impulse 0.1s -> golden/x.wav\n");
  ChildResult C = dspjit({S});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_SAYS(C, "golden file '" + Dir.file("golden/x.wav") +
                     "' does not exist; run with --update to write it");
  EXPECT_FALSE(fs::exists(Dir.file("golden/x.wav")));
}

TEST_F(ScriptTestCli, UpdateWritesTheGoldenFileThenLeavesItAlone) {
  std::string S =
      script("half.dsp", "// test: sine:440 0.1s -> golden/sine.wav\n");
  ChildResult First = dspjit({"--update", S});
  EXPECT_EQ(First.Status, 0) << First.describe();
  EXPECT_SAYS(First, "WROTE " + S + ":1:");
  EXPECT_SAYS(First, "1 passed, 0 failed, 1 golden file written");
  auto G = readAudioFile(Dir.file("golden/sine.wav"));
  ASSERT_TRUE(G) << G.error();
  EXPECT_EQ(G->Channels, 1u);
  EXPECT_EQ(G->frames(), 4800u);
  EXPECT_EQ(G->Format, SampleFormat::Float32);
  EXPECT_FLOAT_EQ(G->Samples[12],
                  0.25f * float(std::sin(2 * M_PI * 440 * 12 / 48000.0)));
  auto Written = fs::last_write_time(Dir.file("golden/sine.wav"));

  // Unchanged samples: not rewritten. Then the test passes without it.
  ChildResult Again = dspjit({"--update", S});
  EXPECT_EQ(Again.Status, 0) << Again.describe();
  EXPECT_SAYS(Again, "PASS " + S + ":1:");
  EXPECT_EQ(fs::last_write_time(Dir.file("golden/sine.wav")), Written);
  ChildResult Check = dspjit({S});
  EXPECT_EQ(Check.Status, 0) << Check.describe();

  // A changed script: --update rewrites the file.
  script("half.dsp", "// test: sine:440 0.1s -> golden/sine.wav\n",
         "io 1 -> 1;\nprocess { out = in * 0.25; }\n");
  EXPECT_EQ(dspjit({S}).Status, 1);
  ChildResult Rewrite = dspjit({"--update", S});
  EXPECT_SAYS(Rewrite, "WROTE " + S + ":1:");
  EXPECT_EQ(dspjit({S}).Status, 0);
}

TEST_F(ScriptTestCli, LevelsAreCheckedInDecibels) {
  // A 0.5 sine halved: RMS 0.25 / sqrt(2) = -15.05 dB, peak 0.25 = -12.04 dB.
  std::string S = script("levels.dsp",
                         "// test: sine:440 0.5s -> rms -15.05 db within 0.01\n"
                         "// test: sine:440 0.5s -> peak -12.04 db\n"
                         "// test: silence -> silent\n"
                         "// test: noise 0.1s -> finite\n"
                         "// test: sine:440 0.5s -> rms -10 db within 0.1\n"
                         "// test: impulse -> silent\n");
  ChildResult C = dspjit({S});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_SAYS(C, "4 passed, 2 failed");
  EXPECT_SAYS(C, "FAIL " + S + ":5:");
  EXPECT_SAYS(C, "the RMS level is -15.051 dB, expected -10 dB within 0.1 dB "
                 "(off by -5.051 dB)");
  EXPECT_SAYS(C, "FAIL " + S + ":6:");
  EXPECT_SAYS(C, "not silent: the peak is -6.021 dB at channel 1, frame 0 (0 "
                 "s); silent is below -120 dB");
}

TEST_F(ScriptTestCli, NonFiniteOutputFailsEveryRenderTest) {
  expectRun(script("nan.dsp", "// test: impulse 0.01s -> finite\n",
                   "io 1 -> 1;\nprocess { out = 0 / (in - in); }\n"),
            1,
            {"480 non-finite samples (NaN or infinity) came out and were "
             "replaced by silence"});
}

const std::string Unknown = "io 1 -> 1;\nprocess { out = in * cutof; }\n";

TEST_F(ScriptTestCli, AnExpectedCompileErrorPasses) {
  std::string S =
      script("broken.dsp", "// test: error \"unknown name\"\n", Unknown);
  expectRun(S, 0, {"PASS " + S + ":1: error \"unknown name\""});
}

TEST_F(ScriptTestCli, AnExpectedCompileErrorFailsWhenTheScriptCompiles) {
  expectRun(script("fine.dsp", "// test: error \"unknown name\"\n"), 1,
            {"expected a compile error containing \"unknown name\", but "
             "the script compiled"});
}

TEST_F(ScriptTestCli, AnExpectedCompileErrorFailsOnAnotherError) {
  expectRun(
      script("other.dsp", "// test: error \"unknown function\"\n", Unknown), 1,
      {"no error contains \"unknown function\"; the errors were:",
       "unknown name 'cutof'"});
}

TEST_F(ScriptTestCli, MalformedTestLinesAreNamedByFileAndLine) {
  std::string S = script("bad.dsp", "// a comment\n"
                                    "// test: impulse 1s --sett x=1 -> a.wav\n"
                                    "// test: impulse 1s\n"
                                    "// test: impluse -> a.wav\n"
                                    "// test: impulse -> rms loud\n"
                                    "// test: impulse -> a.wav within -1\n"
                                    "// test: impulse -> finite extra\n"
                                    "// test: error unknown\n"
                                    "// test: impulse --set gain -> finite\n"
                                    "// test:\n");
  ChildResult C = dspjit({S});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_SAYS(C, S + ":2: error: unknown option '--sett'; a test takes --set, "
                     "--rate, --block, --midi and --midi-map");
  EXPECT_SAYS(C, S + ":3: error: no '->' before a check");
  EXPECT_SAYS(C, S + ":4: error: 'impluse' is neither a test signal nor a "
                     "sound file: invalid signal 'impluse' (did you mean "
                     "'impulse'?)");
  EXPECT_SAYS(C, S + ":5: error: rms takes a level in dB, e.g. 'rms -6 db "
                     "within 0.1', not 'loud'");
  EXPECT_SAYS(C, S + ":6: error: the tolerance '-1' is not a number of 0 or "
                     "more");
  EXPECT_SAYS(C, S + ":7: error: unexpected 'extra' after the check");
  EXPECT_SAYS(C, S + ":8: error: error takes one quoted text");
  EXPECT_SAYS(C, S + ":9: error: --set takes name=number, not 'gain'");
  EXPECT_SAYS(C, S + ":10: error: the test says nothing");
  EXPECT_SAYS(C, "0 passed, 9 failed");
}

TEST_F(ScriptTestCli, AScriptThatMustNotCompileIsNotRenderedToo) {
  std::string S = script("both.dsp",
                         "// test: impulse -> finite\n"
                         "// test: error \"unknown name\"\n",
                         "io 1 -> 1;\nprocess { out = in * cutof; }\n");
  ChildResult C = dspjit({S});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_SAYS(C, S + ":1: error: line 2 expects the script not to compile, so "
                     "it cannot be rendered too");
  EXPECT_SAYS(C, "1 passed, 1 failed");
}

TEST_F(ScriptTestCli, RenderOptionsReachTheRender) {
  // --set, --block and --rate: the gain script at -6 dB, in blocks of 7,
  // at 44.1 kHz (0.1 s is 4410 frames), and a sound file as the input.
  std::string Gain = "io 1 -> 1;\nparam gain = 0 in [-60, 12] db;\n"
                     "process { out = in * db2lin(gain); }\n";
  std::vector<float> In(441, 0.5f);
  std::string S = script(
      "gain.dsp",
      "// test: sine:440 0.1s --set gain=-6 --block 7 --rate 44100 -> "
      "golden/g.wav\n"
      "// test: sine:440 0.1s --set gain=-6 --rate 44100 -> golden/g.wav\n"
      "// test: in/half.wav --set gain=-6.0206 -> peak -12.041 db within "
      "0.001\n"
      "// test: impulse --set gian=1 -> finite\n",
      Gain);
  fs::create_directories(Dir.file("in"));
  ASSERT_TRUE(
      writeAudioFile(Dir.file("in/half.wav"), In.data(), In.size(), 1, 44100));
  ChildResult C = dspjit({"--update", S});
  EXPECT_SAYS(C, "3 passed, 1 failed, 1 golden file written");
  EXPECT_SAYS(C, "unknown parameter 'gian'; did you mean 'gain'?");
  auto G = readAudioFile(Dir.file("golden/g.wav"));
  ASSERT_TRUE(G) << G.error();
  EXPECT_EQ(G->SampleRate, 44100);
  EXPECT_EQ(G->frames(), 4410u);
}

TEST_F(ScriptTestCli, DirectoriesAreSearchedAndScriptsWithoutTestsNoted) {
  golden("golden/half.wav", [](std::vector<float> &) {});
  script("half.dsp", "// test: impulse 0.1s -> golden/half.wav\n");
  fs::create_directories(Dir.file("sub"));
  script("sub/plain.dsp", "");
  ChildResult C = dspjit({Dir.file("")});
  EXPECT_EQ(C.Status, 0) << C.describe();
  EXPECT_SAYS(C, "1 passed, 0 failed");
  EXPECT_SAYS(C, "note: " + Dir.file("sub/plain.dsp") + " has no test lines");

  ChildResult None = dspjit({Dir.file("sub/plain.dsp")});
  EXPECT_EQ(None.Status, 1) << None.describe();
  ChildResult Missing = dspjit({Dir.file("nowhere")});
  EXPECT_EQ(Missing.Status, 1) << Missing.describe();
  EXPECT_SAYS(Missing, "cannot read '" + Dir.file("nowhere") +
                           "': no such file or directory");
}

/// Two passing tests and two failing ones, in two scripts: the first has
/// both; the second expects a compile error and gets another one.
class ScriptTestReports : public ScriptTestCli {
protected:
  void SetUp() override {
    golden("golden/half.wav", [](std::vector<float> &) {});
    A = script("a.dsp", "// test: impulse 0.1s -> golden/half.wav\n"
                        "// test: impulse 0.1s -> golden/none.wav\n"
                        "// test: sine:440 -> rms -15.05 db within 0.01\n");
    B = script("b.dsp", "// test: error \"unknown <name> & 'more'\"\n",
               Unknown);
  }
  std::string A, B;
};

TEST_F(ScriptTestReports, TapIsWellFormed) {
  ChildResult C = dspjit({"--tap", A, B});
  EXPECT_EQ(C.Status, 1) << C.describe();
  std::istringstream Lines(C.Out);
  std::string Line;
  ASSERT_TRUE(std::getline(Lines, Line));
  EXPECT_EQ(Line, "TAP version 13");
  std::regex Point(R"((ok|not ok) (\d+) - (.*))");
  unsigned Points = 0, NotOk = 0;
  bool InYaml = false;
  std::string Plan;
  while (std::getline(Lines, Line)) {
    std::smatch M;
    if (InYaml) {
      ASSERT_TRUE(Line.starts_with("  ")) << "YAML not indented: " << Line;
      InYaml = Line != "  ...";
      continue;
    }
    if (Line == "  ---") {
      InYaml = true;
      continue;
    }
    if (std::regex_match(Line, M, Point)) {
      EXPECT_EQ(std::stoul(M[2]), ++Points) << Line;
      NotOk += M[1] == "not ok";
      continue;
    }
    if (Line.starts_with("1..")) {
      Plan = Line;
      continue;
    }
    EXPECT_TRUE(Line.starts_with("#")) << "not TAP: " << Line;
  }
  EXPECT_FALSE(InYaml);
  EXPECT_EQ(Plan, "1.." + std::to_string(Points));
  EXPECT_EQ(Points, 4u);
  EXPECT_EQ(NotOk, 2u);
  EXPECT_NE(C.Out.find("not ok 2 - " + A + ":2:"), std::string::npos);
  EXPECT_NE(C.Out.find("  message: |\n    golden file '"), std::string::npos)
      << C.Out;
  EXPECT_NE(C.Out.find("# 2 passed, 2 failed"), std::string::npos) << C.Out;
}

/// A minimal XML reader: elements, attributes, text; checks nesting.
struct Element {
  std::string Name, Text;
  std::map<std::string, std::string> Attributes;
  std::vector<Element> Children;
};

std::string unescape(std::string S) {
  for (const auto &[From, To] :
       {std::pair<std::string, std::string>{"&lt;", "<"},
        {"&gt;", ">"},
        {"&quot;", "\""},
        {"&apos;", "'"},
        {"&amp;", "&"}}) {
    for (size_t I = S.find(From); I != std::string::npos;
         I = S.find(From, I + To.size()))
      S.replace(I, From.size(), To);
  }
  return S;
}

bool parseElement(const std::string &X, size_t &At, Element &E) {
  static const std::regex Attr(R"re(\s*([\w:-]+)="([^"<]*)")re");
  if (X[At] != '<')
    return false;
  size_t End = X.find('>', At);
  if (End == std::string::npos)
    return false;
  std::string Tag = X.substr(At + 1, End - At - 1);
  bool SelfClosing = !Tag.empty() && Tag.back() == '/';
  if (SelfClosing)
    Tag.pop_back();
  size_t NameEnd = Tag.find_first_of(" \t\n");
  E.Name = Tag.substr(0, NameEnd);
  std::string Rest = NameEnd == std::string::npos ? "" : Tag.substr(NameEnd);
  for (std::sregex_iterator I(Rest.begin(), Rest.end(), Attr), Done; I != Done;
       ++I)
    E.Attributes[(*I)[1]] = unescape((*I)[2]);
  At = End + 1;
  if (SelfClosing)
    return true;
  while (At < X.size()) {
    if (X.compare(At, 2, "</") == 0) {
      size_t Close = X.find('>', At);
      if (X.substr(At + 2, Close - At - 2) != E.Name)
        return false;
      At = Close + 1;
      return true;
    }
    if (X[At] == '<') {
      Element Child;
      if (!parseElement(X, At, Child))
        return false;
      E.Children.push_back(std::move(Child));
      continue;
    }
    size_t Next = X.find('<', At);
    if (Next == std::string::npos)
      return false;
    E.Text += unescape(X.substr(At, Next - At));
    At = Next;
  }
  return false;
}

TEST_F(ScriptTestReports, JUnitIsWellFormed) {
  ChildResult C = dspjit({"--junit", Dir.file("report.xml"), A, B});
  EXPECT_EQ(C.Status, 1) << C.describe();
  std::ifstream In(Dir.file("report.xml"));
  std::string X((std::istreambuf_iterator<char>(In)),
                std::istreambuf_iterator<char>());
  const std::string Decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  ASSERT_TRUE(X.starts_with(Decl)) << X;
  size_t At = Decl.size();
  Element Root;
  ASSERT_TRUE(parseElement(X, At, Root)) << "malformed at " << At << ":\n" << X;
  EXPECT_EQ(X.find_first_not_of(" \n", At), std::string::npos);
  EXPECT_EQ(Root.Name, "testsuites");
  EXPECT_EQ(Root.Attributes["tests"], "4");
  EXPECT_EQ(Root.Attributes["failures"], "2");
  ASSERT_EQ(Root.Children.size(), 2u);
  unsigned Cases = 0, Failures = 0;
  for (const Element &Suite : Root.Children) {
    EXPECT_EQ(Suite.Name, "testsuite");
    for (const Element &Case : Suite.Children) {
      EXPECT_EQ(Case.Name, "testcase");
      EXPECT_EQ(Case.Attributes.at("classname"), Suite.Attributes.at("name"));
      ++Cases;
      for (const Element &F : Case.Children)
        Failures += F.Name == "failure";
    }
  }
  EXPECT_EQ(Cases, 4u);
  for (const Element &Suite : Root.Children)
    for (const Element &Case : Suite.Children)
      for (const Element &F : Case.Children)
        EXPECT_EQ(F.Attributes.at("message").find('\n'), std::string::npos);
  EXPECT_EQ(Failures, 2u);
  const Element &Error = Root.Children[1].Children[0];
  EXPECT_EQ(Error.Attributes.at("name"),
            "line 1: error \"unknown <name> & 'more'\"");
  ASSERT_EQ(Error.Children.size(), 1u);
  EXPECT_EQ(Error.Children[0].Attributes.at("message"),
            "no error contains \"unknown <name> & 'more'\"; the errors were:");
  // The whole report, the compiler's caret lines too, is the failure's text.
  EXPECT_NE(Error.Children[0].Text.find("unknown name 'cutof'\n"),
            std::string::npos);
}

TEST(ScriptTestExamples, EveryExampleHasATest) {
  for (const auto &E :
       fs::directory_iterator(std::string(DSPJIT_SOURCE_DIR) + "/examples")) {
    if (E.path().extension() != ".dsp")
      continue;
    std::ifstream In(E.path());
    std::string Text((std::istreambuf_iterator<char>(In)),
                     std::istreambuf_iterator<char>());
    EXPECT_NE(Text.find("// test: "), std::string::npos)
        << E.path() << " has no '// test:' line";
  }
}

} // namespace
