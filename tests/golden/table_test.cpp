//===- tests/golden/table_test.cpp - Tables against their definition ------===//
//
// Every table read (`t[k]`, `t.read(x)`, `t.wrap(x)`, linear and cubic) of a
// compiled script, at -O0 and at -O3, against the plain C++ model of
// Reference.cpp, at the positions where reads go wrong: below 0, at and past
// the last element, NaN and infinities, and around the wrap. Tables loaded
// from sound files written here (mono, stereo, resampled or not), and state
// arrays initialized per element.
//
// The tables hold values that floats represent exactly, so that the model
// and the kernel compute the same thing bit for bit: the comparison is
// exact.
//
//===----------------------------------------------------------------------===//
#include "Reference.h"

#include "compiler/Compiler.h"
#include "runtime/AudioFile.h"
#include "runtime/Instance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <unistd.h>

namespace dspjit::golden {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Kernel> compileText(const std::string &Name,
                                    const std::string &Source, unsigned Opt,
                                    double Rate = 48000) {
  CompileOptions O;
  O.optLevel = Opt;
  O.sampleRate = Rate;
  Compiler C(O);
  auto K = C.compileSource(Name, Source);
  if (!K) {
    std::ostringstream OS;
    C.diagnostics().print(OS);
    ADD_FAILURE() << "cannot compile at -O" << Opt << ":\n" << OS.str();
  }
  return K;
}

/// Runs a kernel over `In` (one frame per value of a mono input, or no
/// input) and returns its interleaved output.
std::vector<float> run(const Kernel &K, const std::vector<float> &In,
                       size_t Frames, double Rate = 48000) {
  auto I = Instance::create(K.info(), Rate);
  EXPECT_TRUE(bool(I)) << I.error();
  std::vector<float> Out(Frames * K.info().outputs);
  if (I)
    I->process(In.empty() ? nullptr : In.data(), Out.data(), Frames);
  return Out;
}

/// The positions every read is tried at, on a table of 16 elements.
std::vector<float> positions() {
  const float Inf = std::numeric_limits<float>::infinity();
  std::vector<float> X = {-3,     -0.5f,         -0.0f,  0,       0.25f,  0.5f,
                          1,      7.75f,         14,     14.5f,   14.9f,  15,
                          15.25f, 15.5f,         15.99f, 16,      16.5f,  17,
                          31.5f,  100,           -1,     -16.25f, -17.5f, 1e9f,
                          -1e9f,  std::nanf(""), Inf,    -Inf};
  for (int I = 0; I < 200; ++I) // a ramp through and around the table
    X.push_back(-20.0f + 0.2f * float(I));
  return X;
}

/// t[k] = k * k / 8 - k: exact in float, not periodic, not symmetric.
std::vector<float> squares() {
  std::vector<float> T;
  for (int I = 0; I < 16; ++I)
    T.push_back(float(I * I) / 8 - float(I));
  return T;
}

const char *const ReadsScript = R"(
io 1 -> 5;
table t[16] = i * i / 8 - i;
process {
    out = [t[in], t.read(in), t.read(in, cubic), t.wrap(in), t.wrap(in, cubic)];
}
)";

TEST(TableGolden, ReadsMatchTheDefinitionAtEveryPosition) {
  const std::vector<float> X = positions(), T = squares();
  for (unsigned Opt : {0u, 3u}) {
    SCOPED_TRACE("-O" + std::to_string(Opt));
    auto K = compileText("reads.dsp", ReadsScript, Opt);
    ASSERT_TRUE(K);
    std::vector<float> Out = run(*K, X, X.size());
    for (size_t F = 0; F < X.size(); ++F) {
      SCOPED_TRACE("x = " + std::to_string(X[F]));
      const float Want[5] = {
          tableElem(T, X[F]), tableRead(T, X[F], false, false),
          tableRead(T, X[F], true, false), tableRead(T, X[F], false, true),
          tableRead(T, X[F], true, true)};
      for (unsigned L = 0; L < 5; ++L)
        EXPECT_EQ(Out[F * 5 + L], Want[L]) << "output " << L;
    }
  }
}

TEST(TableGolden, BoundariesAreTheDocumentedValues) {
  // The definition itself, independently of the model's code.
  auto K = compileText("reads.dsp", ReadsScript, 3);
  ASSERT_TRUE(K);
  const std::vector<float> T = squares();
  std::vector<float> X = {-5, 15, 40, std::nanf(""), 15.5f, 7.5f};
  std::vector<float> Out = run(*K, X, X.size());
  auto At = [&](size_t F, unsigned L) { return Out[F * 5 + L]; };
  for (unsigned L : {0u, 1u, 2u}) {
    EXPECT_EQ(At(0, L), T[0]) << "below 0 reads element 0";
    EXPECT_EQ(At(1, L), T[15]) << "len - 1 reads the last element";
    EXPECT_EQ(At(2, L), T[15]) << "past the end reads the last element";
    EXPECT_EQ(At(3, L), T[0]) << "NaN reads element 0";
  }
  EXPECT_EQ(At(3, 3), T[0]) << "wrap: NaN reads element 0";
  EXPECT_EQ(At(4, 3), T[15] + 0.5f * (T[0] - T[15]))
      << "wrap(len - 0.5) is halfway between the last and the first";
  EXPECT_EQ(At(5, 1), T[7] + 0.5f * (T[8] - T[7]));
}

TEST(TableGolden, PerLanePositionsAndWideTables) {
  const char *Script = R"(
io 1 -> 6;
table m[16] = i * i / 8 - i;
table s[16] = [i, 0.5 * i * i];
process {
    let a = m.read([in, in + 0.5]);     // width 2: one lane per position
    let b = s.read(in);                 // width 2: the stereo element
    let c = s.wrap([in, in + 3], cubic); // lane j at position j
    out = [a, b, c];
}
)";
  std::vector<float> M = squares(), S0, S1;
  for (int I = 0; I < 16; ++I) {
    S0.push_back(float(I));
    S1.push_back(0.5f * float(I) * float(I));
  }
  const std::vector<float> X = positions();
  for (unsigned Opt : {0u, 3u}) {
    SCOPED_TRACE("-O" + std::to_string(Opt));
    auto K = compileText("lanes.dsp", Script, Opt);
    ASSERT_TRUE(K);
    std::vector<float> Out = run(*K, X, X.size());
    for (size_t F = 0; F < X.size(); ++F) {
      SCOPED_TRACE("x = " + std::to_string(X[F]));
      const float Want[6] = {tableRead(M, X[F], false, false),
                             tableRead(M, X[F] + 0.5f, false, false),
                             tableRead(S0, X[F], false, false),
                             tableRead(S1, X[F], false, false),
                             tableRead(S0, X[F], true, true),
                             tableRead(S1, X[F] + 3, true, true)};
      for (unsigned L = 0; L < 6; ++L)
        EXPECT_EQ(Out[F * 6 + L], Want[L]) << "output " << L;
    }
  }
}

TEST(TableGolden, LenIsAConstantAndExpressionsUseTheKernelsRounding) {
  const char *Script = R"(
io 0 -> 2;
table sine[1024] = sin(tau * i / 1024);
delay d[sine.len];
process {
    state k = 0;
    let acc = 0;
    unroll j in 0..sine.len / 256 { acc += sine[j * 256 + 1]; }
    d.write(acc);
    out = [sine[k], d.tap(sine.len)];
    k += 1;
}
)";
  auto K = compileText("len.dsp", Script, 3);
  ASSERT_TRUE(K);
  std::vector<float> Out = run(*K, {}, 1100);
  for (size_t F = 0; F < 1024; ++F)
    // In the kernel's arithmetic, as run-time code computes it: each
    // operation rounded to float, and the float sin.
    EXPECT_EQ(Out[2 * F], std::sin(float(2 * M_PI) * float(F) / 1024.0f))
        << "element " << F;
  EXPECT_EQ(Out[2 * 1050], Out[2 * 1023]) << "k past the end: the last";
}

TEST(TableGolden, StateArraysStartPerElement) {
  const char *Script = R"(
io 1 -> 3;
state ramp[8] = i / 8;
state pairs[4] = [i, -2 * i];
process {
    out = [ramp[in], pairs[in]];
    ramp[in] = ramp[in] + 1;
}
)";
  for (unsigned Opt : {0u, 3u}) {
    auto K = compileText("state.dsp", Script, Opt);
    ASSERT_TRUE(K);
    std::vector<float> X = {0, 1, 2, 3, 7, 9, 1};
    std::vector<float> Out = run(*K, X, X.size());
    const float Ramp[] = {0, 0.125f, 0.25f, 0.375f, 0.875f, 1.875f, 1.125f};
    for (size_t F = 0; F < X.size(); ++F) {
      EXPECT_EQ(Out[3 * F], Ramp[F]) << "frame " << F;
      float P = std::min(X[F], 3.0f);
      EXPECT_EQ(Out[3 * F + 1], P);
      EXPECT_EQ(Out[3 * F + 2], -2 * P);
    }
  }
}

// --- Sound files ----------------------------------------------------------

class TableFiles : public testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("dspjit-tables-" + std::to_string(::getpid()) + "-" +
           testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(Dir);
  }
  void TearDown() override { fs::remove_all(Dir); }
  std::string write(const std::string &Name, const std::vector<float> &S,
                    unsigned Channels, double Rate) {
    std::string Path = (Dir / Name).string();
    auto W =
        writeAudioFile(Path, S.data(), S.size() / Channels, Channels, Rate);
    EXPECT_TRUE(bool(W)) << W.error();
    return Path;
  }
  std::string script(const std::string &Text) {
    std::string Path = (Dir / "t.dsp").string();
    std::ofstream(Path) << Text;
    return Path;
  }
  fs::path Dir;
};

std::unique_ptr<Kernel> compilePath(const std::string &Path, unsigned Opt) {
  CompileOptions O;
  O.optLevel = Opt;
  Compiler C(O);
  auto K = C.compileFile(Path);
  if (!K) {
    std::ostringstream OS;
    C.diagnostics().print(OS);
    ADD_FAILURE() << OS.str();
  }
  return K;
}

TEST_F(TableFiles, MonoAndStereoFilesAreElementsAndLanes) {
  std::vector<float> Mono = {0.5f, -0.25f, 0.125f, 1, -1, 0.75f};
  std::vector<float> Stereo = {0.1f, -0.1f, 0.2f, -0.2f, 0.3f, -0.3f};
  write("mono.wav", Mono, 1, 48000);
  fs::create_directories(Dir / "sub");
  write("sub/stereo.wav", Stereo, 2, 48000);
  std::string Path = script(R"(
io 1 -> 4;
table m = file "mono.wav";
table s = file "sub/stereo.wav";
process { out = [m[in], s[in], m.len + 10 * s.len]; }
)");
  for (unsigned Opt : {0u, 3u}) {
    auto K = compilePath(Path, Opt);
    ASSERT_TRUE(K);
    std::vector<float> X = {0, 1, 2, 3, 5, 9, -1};
    std::vector<float> Out = run(*K, X, X.size());
    for (size_t F = 0; F < X.size(); ++F) {
      size_t M = size_t(std::clamp(X[F], 0.0f, 5.0f));
      size_t S = size_t(std::clamp(X[F], 0.0f, 2.0f));
      EXPECT_EQ(Out[4 * F], Mono[M]);
      EXPECT_EQ(Out[4 * F + 1], Stereo[2 * S]);
      EXPECT_EQ(Out[4 * F + 2], Stereo[2 * S + 1]);
      EXPECT_EQ(Out[4 * F + 3], 6 + 10 * 3);
    }
  }
}

TEST_F(TableFiles, ResampleOnlyWhenAsked) {
  // 0.1 s of a 100 Hz sine at 24 kHz, read at 48 kHz.
  std::vector<float> Sine;
  for (int F = 0; F < 2400; ++F)
    Sine.push_back(float(0.5 * std::sin(2 * M_PI * 100 * F / 24000.0)));
  write("slow.wav", Sine, 1, 24000);
  std::string Path = script(R"(
io 1 -> 3;
table raw = file "slow.wav";
table fit = file "slow.wav" resample;
process { out = [raw.len, fit.len, fit.read(in)]; }
)");
  auto K = compilePath(Path, 3);
  ASSERT_TRUE(K);
  std::vector<float> X;
  for (int F = 1000; F < 3800; F += 7)
    X.push_back(float(F) + 0.5f);
  std::vector<float> Out = run(*K, X, X.size());
  EXPECT_EQ(Out[0], 2400) << "not resampled: the file's own frames";
  EXPECT_EQ(Out[1], 4800) << "resampled to 48 kHz: twice the frames";
  for (size_t F = 0; F < X.size(); ++F) // away from the ends' filter edges
    EXPECT_NEAR(Out[3 * F + 2], 0.5 * std::sin(2 * M_PI * 100 * X[F] / 48000),
                2e-3)
        << "at " << X[F];
}

} // namespace
} // namespace dspjit::golden
