//===- tests/plugin/lv2_export_test.cpp - Exported scripts in real LV2 hosts ===//
//
// `dspjit export lv2` on every example, then the LV2 toolchain Debian
// packages, run as child processes on the bundles: lv2_validate (the LV2
// schemas), lv2info (the ports a host sees), sordi (the units, which
// lv2info does not print) and lv2apply (a host that instantiates the plugin
// and runs it over a WAV), whose output must equal `dspjit render` of the
// same script with the same control values. No host is mocked; LV2_PATH is
// the test's bundle directory.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "plugin/core/PortLayout.h"
#include "runtime/AudioFile.h"
#include "tests/support/ChildProcess.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

const std::string Dspjit = DSPJIT_BINARY;
const fs::path Examples = fs::path(DSPJIT_SOURCE_DIR) / "examples";

struct Example {
  std::string Name;
  fs::path Path;
  std::unique_ptr<Kernel> K;
  plugin::PortLayout Layout;
};

/// Every example, compiled once to know its ports, and exported once into
/// one bundle directory for the whole suite.
class Lv2Export : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    Dir = fs::temp_directory_path() /
          ("dspjit-lv2-test-" + std::to_string(getpid()));
    fs::create_directories(Dir);
    setenv("LV2_PATH", Dir.c_str(), 1);
    setenv("DSPJIT_CACHE_DIR", (Dir / "cache").c_str(), 1);
    // The examples, and one with an `oversample` block (none of the
    // examples has one), whose plugin reports latency.
    std::vector<fs::path> Scripts;
    for (const auto &E : fs::directory_iterator(Examples))
      if (E.path().extension() == ".dsp")
        Scripts.push_back(E.path());
    fs::create_directories(Dir / "scripts");
    Scripts.push_back(Dir / "scripts" / "oversampled.dsp");
    std::ofstream(Scripts.back())
        << "io 1 -> 1;\n"
           "param drive = 4 in [1, 20];\n"
           "process {\n"
           "    let y = 0;\n"
           "    oversample 4 { y = tanh(drive * lowpass(in, 12000, 0.707)); }\n"
           "    out = y;\n"
           "}\n";
    for (const fs::path &Path : Scripts) {
      Compiler C;
      auto K = C.compileFile(Path.string());
      ASSERT_TRUE(K) << Path;
      Example X;
      X.Name = Path.stem().string();
      X.Path = Path;
      X.Layout =
          plugin::PortLayout::of(K->info(), K->info().latency_frames > 0);
      X.K = std::move(K);
      ChildResult R = runChild(
          Dspjit, {"export", "lv2", Path.string(), "-o", Dir.string()});
      ASSERT_EQ(R.Status, 0) << R.describe();
      All->push_back(std::move(X));
    }
    ASSERT_GE(All->size(), 18u);
  }
  static void TearDownTestSuite() {
    std::error_code EC;
    fs::remove_all(Dir, EC);
    All->clear();
  }
  static std::string uri(const std::string &Name) {
    return "urn:dspjit:plugin:" + Name;
  }

  static fs::path Dir;
  static std::vector<Example> *All;
};
fs::path Lv2Export::Dir;
std::vector<Example> *Lv2Export::All = new std::vector<Example>;

TEST_F(Lv2Export, EveryExampleBundleValidatesWithoutErrorsOrWarnings) {
  for (const Example &X : *All) {
    const fs::path B = Dir / (X.Name + ".lv2");
    ChildResult R =
        runChild("/usr/bin/lv2_validate", {(B / "manifest.ttl").string(),
                                           (B / (X.Name + ".ttl")).string()});
    EXPECT_EQ(R.Status, 0) << X.Name << "\n" << R.describe();
    const std::string All = R.Out + R.Err;
    EXPECT_NE(All.find("Found 0 errors"), std::string::npos) << X.Name << "\n"
                                                             << R.describe();
    EXPECT_EQ(All.find("warning"), std::string::npos) << X.Name << "\n" << All;
  }
}

/// lv2info's description of port `Index`: the lines from "Port N:" to the
/// next port.
std::string portText(const std::string &Info, size_t Index) {
  size_t At = Info.find("\tPort " + std::to_string(Index) + ":\n");
  if (At == std::string::npos)
    return "";
  size_t End = Info.find("\tPort " + std::to_string(Index + 1) + ":\n", At);
  return Info.substr(At, End == std::string::npos ? End : End - At);
}

std::string fixed6(float V) {
  char Buf[64];
  std::snprintf(Buf, sizeof Buf, "%f", V);
  return Buf;
}

TEST_F(Lv2Export, Lv2infoListsThePortsWithTheScriptsNamesAndRanges) {
  for (const Example &X : *All) {
    ChildResult R = runChild("/usr/bin/lv2info", {uri(X.Name)});
    ASSERT_EQ(R.Status, 0) << R.describe();
    EXPECT_NE(R.Out.find("Name:              " + X.Name), std::string::npos);
    EXPECT_NE(R.Out.find(std::string("Has latency:       ") +
                         (X.Layout.HasLatency ? "yes" : "no")),
              std::string::npos)
        << X.Name;
    for (size_t I = 0; I < X.Layout.Ports.size(); ++I) {
      const plugin::PortSpec &P = X.Layout.Ports[I];
      const std::string T = portText(R.Out, I);
      ASSERT_FALSE(T.empty()) << X.Name << " port " << I << "\n" << R.Out;
      EXPECT_NE(T.find("Symbol:      " + P.Symbol + "\n"), std::string::npos)
          << T;
      EXPECT_NE(T.find("Name:        " + P.Name + "\n"), std::string::npos)
          << T;
      const bool Audio =
          P.K == plugin::PortSpec::AudioIn || P.K == plugin::PortSpec::AudioOut;
      EXPECT_NE(T.find(Audio                             ? "#AudioPort"
                       : P.K == plugin::PortSpec::MidiIn ? "#AtomPort"
                                                         : "#ControlPort"),
                std::string::npos)
          << T;
      if (P.K != plugin::PortSpec::ControlIn)
        continue;
      // The script's own name, default and range.
      const DspjitSlot &S = X.K->info().slots[P.Slot];
      EXPECT_EQ(P.Name, S.name);
      EXPECT_NE(T.find("Minimum:     " + fixed6(S.min)), std::string::npos)
          << T;
      EXPECT_NE(T.find("Maximum:     " + fixed6(S.max)), std::string::npos)
          << T;
      EXPECT_NE(T.find("Default:     " + fixed6(S.def)), std::string::npos)
          << T;
      EXPECT_EQ(T.find("#toggled") != std::string::npos, P.Toggled) << T;
      EXPECT_EQ(T.find("#integer") != std::string::npos, P.Integer) << T;
    }
  }
}

TEST_F(Lv2Export, SwitchesAndChoicesAreToggledAndInteger) {
  std::map<std::string, std::pair<bool, bool>> Seen;
  for (const Example &X : *All)
    for (const plugin::PortSpec &P : X.Layout.Ports)
      if (P.K == plugin::PortSpec::ControlIn)
        Seen[X.Name + "." + P.Symbol] = {P.Toggled, P.Integer};
  EXPECT_EQ(Seen["freeverb.freeze"], std::make_pair(true, false));
  EXPECT_EQ(Seen["biquad.mode"], std::make_pair(false, true));
  EXPECT_EQ(Seen["freeverb.wet"], std::make_pair(false, false));
}

TEST_F(Lv2Export, UnitsAreTheScriptsUnits) {
  const std::map<std::string, std::string> Units = {
      {"hz", "hz"}, {"s", "s"}, {"ms", "ms"}, {"db", "db"}, {"%", "pc"}};
  unsigned Checked = 0;
  for (const Example &X : *All) {
    const fs::path Ttl = Dir / (X.Name + ".lv2") / (X.Name + ".ttl");
    ChildResult R = runChild("/usr/bin/sordi", {Ttl.string()});
    ASSERT_EQ(R.Status, 0) << R.describe();
    // Blank node of each port -> its symbol and unit.
    std::map<std::string, std::string> Symbol, Unit;
    std::istringstream Lines(R.Out);
    std::string Line;
    std::regex Sym(
        R"re(^(_:\S+) <http://lv2plug.in/ns/lv2core#symbol> "([^"]*)")re");
    std::regex U(
        R"re(^(_:\S+) <http://lv2plug.in/ns/extensions/units#unit> <http://lv2plug.in/ns/extensions/units#(\w+)>)re");
    std::smatch M;
    while (std::getline(Lines, Line)) {
      if (std::regex_search(Line, M, Sym))
        Symbol[M[1]] = M[2];
      else if (std::regex_search(Line, M, U))
        Unit[M[1]] = M[2];
    }
    std::map<std::string, std::string> UnitOf;
    for (const auto &[Node, S] : Symbol)
      UnitOf[S] = Unit.count(Node) ? Unit[Node] : "";
    for (const plugin::PortSpec &P : X.Layout.Ports) {
      if (P.K != plugin::PortSpec::ControlIn)
        continue;
      const std::string Want = P.Unit.empty() ? "" : Units.at(P.Unit);
      EXPECT_EQ(UnitOf[P.Symbol], Want) << X.Name << "." << P.Symbol;
      Checked += !Want.empty();
    }
  }
  EXPECT_GE(Checked, 20u);
}

/// Half-scale noise, `Channels` channels, 0.5 s at 48 kHz.
std::string writeNoise(const fs::path &Dir, unsigned Channels) {
  const std::string Path =
      (Dir / ("noise" + std::to_string(Channels) + ".wav"));
  std::mt19937 Gen(7);
  std::uniform_real_distribution<float> D(-0.5f, 0.5f);
  std::vector<float> S(24000 * Channels);
  for (float &X : S)
    X = D(Gen);
  auto Ok = writeAudioFile(Path, S.data(), 24000, Channels, 48000);
  EXPECT_TRUE(Ok) << Ok.error();
  return Path;
}

/// A control value 30% into the parameter's range, whole for switches and
/// choices: not the default, so that `-c` is seen to reach the kernel.
float controlValue(const plugin::PortSpec &P) {
  float V = P.Min + 0.3f * (P.Max - P.Min);
  return P.Toggled ? 1.0f : P.Integer ? std::round(V) : V;
}

TEST_F(Lv2Export, Lv2applyEqualsRenderForEveryExampleWithInputs) {
  unsigned Compared = 0;
  for (const Example &X : *All) {
    if (X.Layout.AudioIns == 0)
      continue;
    const std::string In = writeNoise(Dir, X.Layout.AudioIns);
    const std::string Plugged = (Dir / (X.Name + "-lv2apply.wav")).string();
    const std::string Rendered = (Dir / (X.Name + "-render.wav")).string();
    std::vector<std::string> Apply = {"-i", In, "-o", Plugged};
    std::vector<std::string> Render = {"render", X.Path.string(), In, Rendered};
    for (const plugin::PortSpec &P : X.Layout.Ports) {
      if (P.K != plugin::PortSpec::ControlIn)
        continue;
      char V[64];
      std::snprintf(V, sizeof V, "%.9g", controlValue(P));
      Apply.insert(Apply.end(), {"-c", P.Symbol, V});
      Render.insert(Render.end(), {"--set", P.Symbol + "=" + V});
    }
    Apply.push_back(uri(X.Name));
    ChildResult A =
        runChild("/usr/bin/lv2apply", Apply, {.TimeoutSeconds = 120});
    ASSERT_EQ(A.Status, 0) << X.Name << "\n" << A.describe();
    ChildResult R = runChild(Dspjit, Render, {.TimeoutSeconds = 120});
    ASSERT_EQ(R.Status, 0) << X.Name << "\n" << R.describe();
    auto PA = readAudioFile(Plugged), PR = readAudioFile(Rendered);
    ASSERT_TRUE(PA && PR);
    ASSERT_EQ(PA->Channels, PR->Channels) << X.Name;
    ASSERT_EQ(PA->frames(), PR->frames()) << X.Name;
    double Worst = 0, Peak = 0;
    for (size_t I = 0; I < PA->Samples.size(); ++I) {
      Worst =
          std::max(Worst, double(std::fabs(PA->Samples[I] - PR->Samples[I])));
      Peak = std::max(Peak, double(std::fabs(PR->Samples[I])));
    }
    std::printf("  %-14s lv2apply vs render: largest difference %g (peak %g)\n",
                X.Name.c_str(), Worst, Peak);
    EXPECT_LE(Worst, 1e-6) << X.Name;
    ++Compared;
  }
  EXPECT_GE(Compared, 12u);
}

/// "compiled for 48000 Hz in 12.3 ms" from the plugin's log line.
double compileMs(const std::string &Err, bool &Cached) {
  std::smatch M;
  std::regex R(
      R"(compiled for 48000 Hz in ([0-9.]+) ms( \(from the object cache\))?)");
  if (!std::regex_search(Err, M, R))
    return -1;
  Cached = M[2].matched;
  return std::stod(M[1]);
}

TEST_F(Lv2Export, TheSecondInstantiationLinksCachedCode) {
  setenv("DSPJIT_PLUGIN_TIMES", "1", 1);
  setenv("DSPJIT_CACHE_DIR", (Dir / "fresh-cache").c_str(), 1);
  const std::string In = writeNoise(Dir, 2);
  bool Cached[2] = {};
  double Ms[2];
  for (int I = 0; I < 2; ++I) {
    ChildResult A =
        runChild("/usr/bin/lv2apply",
                 {"-i", In, "-o", (Dir / "fv.wav").string(), uri("freeverb")});
    ASSERT_EQ(A.Status, 0) << A.describe();
    Ms[I] = compileMs(A.Err, Cached[I]);
    ASSERT_GE(Ms[I], 0) << A.describe();
  }
  unsetenv("DSPJIT_PLUGIN_TIMES");
  setenv("DSPJIT_CACHE_DIR", (Dir / "cache").c_str(), 1);
  std::printf("  freeverb instantiate: %.1f ms cold, %.1f ms from the cache\n",
              Ms[0], Ms[1]);
  EXPECT_FALSE(Cached[0]);
  EXPECT_TRUE(Cached[1]);
  EXPECT_LT(Ms[1], Ms[0]);
}

TEST_F(Lv2Export, OversampledScriptsReportTheirLatency) {
  bool Any = false;
  for (const Example &X : *All) {
    if (!X.Layout.HasLatency)
      continue;
    Any = true;
    ChildResult R = runChild("/usr/bin/lv2info", {uri(X.Name)});
    EXPECT_NE(R.Out.find("Has latency:       yes"), std::string::npos) << R.Out;
    EXPECT_NE(R.Out.find("#reportsLatency"), std::string::npos) << R.Out;
  }
  EXPECT_TRUE(Any) << "oversampled.dsp reports no latency";
}

} // namespace
