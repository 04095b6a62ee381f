//===- tests/cli/bad_input_cli_test.cpp - dspjit on bad input, offline ----===//
//
// The rows of tests/BAD_INPUT.md that need no audio device: bad scripts,
// bad sound files, bad --set values, a disk that fills up, a render killed
// midway and WAV files with broken headers (`dspjit repair`), given to the
// real `dspjit` binary in a child process. Each test reads what a user
// reads: the exit status (non-zero, and never a crash), the message on
// standard error, and the files left behind (a render stopped by a full
// disk leaves a valid sound file holding what was written before).
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "runtime/Render.h"
#include "tests/support/ChildProcess.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

using namespace dspjit;
using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

const std::string Dspjit = DSPJIT_BINARY;
const std::string Examples = DSPJIT_SOURCE_DIR "/examples/";

float NaN() { return std::numeric_limits<float>::quiet_NaN(); }

class BadInputCli : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("dspjit-cli-test-" + std::to_string(getpid()));
    fs::create_directories(Dir);
  }
  void TearDown() override { fs::remove_all(Dir); }

  std::string path(const std::string &Name) const {
    return (Dir / Name).string();
  }

  std::string writeFile(const std::string &Name, const std::string &Bytes) {
    std::ofstream(path(Name), std::ios::binary) << Bytes;
    return path(Name);
  }

  /// Runs dspjit and expects it to refuse: a non-zero exit that is not a
  /// crash, and `Message` on standard error.
  ChildResult expectRefused(const std::vector<std::string> &Args,
                            const std::string &Message,
                            const ChildOptions &Options = {}) {
    ChildResult C = runChild(Dspjit, Args, Options);
    EXPECT_FALSE(C.TimedOut) << C.describe();
    EXPECT_NE(C.Status, 0) << C.describe();
    EXPECT_FALSE(C.crashed()) << C.describe();
    EXPECT_NE(C.Err.find(Message), std::string::npos)
        << "expected: " << Message << "\n"
        << C.describe();
    return C;
  }

  /// `dspjit check` refuses the script with `Message`; so do render (which
  /// then writes no file) and info, which read scripts the same way.
  void expectScriptRefused(const std::string &Script,
                           const std::string &Message) {
    expectRefused({"check", Script}, Message);
    expectRefused({"render", Script, path("never.wav"), "--duration", "10ms"},
                  Message);
    EXPECT_FALSE(fs::exists(path("never.wav")));
    expectRefused({"info", Script}, Message);
  }

  /// A stereo float WAV of `Frames` frames of a quiet ramp.
  std::string writeWav(const std::string &Name, uint64_t Frames,
                       unsigned Channels = 2, double Rate = 48000) {
    std::vector<float> S(Frames * Channels);
    for (size_t K = 0; K < S.size(); ++K)
      S[K] = float(K % 1000) / 2000.0f;
    auto W = writeAudioFile(path(Name), S.data(), Frames, Channels, Rate);
    EXPECT_TRUE(W) << W.error();
    return path(Name);
  }

  fs::path Dir;
};

std::string repeat(const std::string &S, size_t N) {
  std::string R;
  R.reserve(S.size() * N);
  for (size_t I = 0; I < N; ++I)
    R += S;
  return R;
}

//===-- Scripts -----------------------------------------------------------===//

TEST_F(BadInputCli, AMissingScriptIsNamed) {
  expectScriptRefused(path("nowhere.dsp"), "cannot read '" +
                                               path("nowhere.dsp") +
                                               "': no such file");
}

TEST_F(BadInputCli, BadLlvmOptionsInTheEnvironmentAreNamed) {
  ChildResult C =
      runChild("/usr/bin/env", {"DSPJIT_LLVM_ARGS=-no-such-option", Dspjit,
                                "check", Examples + "wire.dsp"});
  EXPECT_EQ(C.Status, 1) << C.describe();
  EXPECT_NE(
      C.Err.find(
          "DSPJIT_LLVM_ARGS='-no-such-option' is not valid: Unknown command "
          "line argument '-no-such-option'"),
      std::string::npos)
      << C.describe();
  EXPECT_EQ(C.Err.find("internal error"), std::string::npos) << C.describe();
  // Valid ones are taken, one of dspjit's defaults replaced included.
  C = runChild("/usr/bin/env",
               {"DSPJIT_LLVM_ARGS=-enable-misched -slp-threshold=0", Dspjit,
                "check", Examples + "wire.dsp"});
  EXPECT_EQ(C.Status, 0) << C.describe();
}

TEST_F(BadInputCli, ADirectoryIsNotAScript) {
  fs::create_directories(path("dir.dsp"));
  expectScriptRefused(path("dir.dsp"), "cannot read '" + path("dir.dsp") +
                                           "': it is a directory, not a file");
}

TEST_F(BadInputCli, AnEmptyScriptSaysWhatIsMissing) {
  std::string Script = writeFile("empty.dsp", "");
  expectScriptRefused(Script, "the script has no 'io' declaration");
  expectRefused({"check", Script}, "the script has no 'process' block");
}

TEST_F(BadInputCli, ABinaryFileGivesAtMostAHundredErrors) {
  // Every byte value, NULs and invalid UTF-8 included, in a pseudo-random
  // order: the lexer reports, the parser recovers, and the compiler stops
  // counting at its limit instead of printing thousands of lines.
  std::string Bytes;
  uint32_t X = 1;
  for (int I = 0; I < 200000; ++I) {
    X = X * 1664525u + 1013904223u;
    Bytes.push_back(char(X >> 24));
  }
  std::string Script = writeFile("binary.dsp", Bytes);
  ChildResult C = expectRefused({"check", Script}, "error: ");
  EXPECT_NE(C.Err.find("stopped after 100 errors"), std::string::npos)
      << C.Err.substr(0, 2000);
  EXPECT_LT(C.Err.size(), 100000u);
  // A real program's bytes too.
  expectRefused({"check", "/bin/true"}, "invalid UTF-8 byte");
}

TEST_F(BadInputCli, InvalidUtf8IsReportedByteByByte) {
  std::string Script = writeFile(
      "latin1.dsp", "io 1 -> 1;\n// caf\xe9\nprocess { out = in; }\n");
  ChildResult C =
      expectRefused({"check", Script}, "latin1.dsp:2:7: error: "
                                       "invalid UTF-8 byte 0xE9 in source");
}

TEST_F(BadInputCli, DeepNestingIsOneErrorNotACrash) {
  std::string Script = writeFile(
      "deep.dsp", "io 1 -> 1;\nprocess { out = " + repeat("(", 200000) + "in" +
                      repeat(")", 200000) + "; }\n");
  expectScriptRefused(Script, "nesting is too deep (the limit is 128 levels)");
  std::string Blocks = writeFile(
      "blocks.dsp", "io 1 -> 1;\nprocess { " + repeat("if in > 0 { ", 50000) +
                        repeat("}", 50000) + " out = in; }\n");
  expectRefused({"check", Blocks}, "nesting is too deep");
}

TEST_F(BadInputCli, ADeviceThatNeverEndsIsTooLargeNotAnEndlessRead) {
  // Read until memory ran out (std::bad_alloc, abort) before the fix.
  for (const char *Device : {"/dev/zero", "/dev/urandom"})
    expectRefused({"check", Device},
                  std::string("source file is too large (more "
                              "than 1048576 bytes; the limit "
                              "is 1048576)"));
}

TEST_F(BadInputCli, HugeLiteralsAreOutOfRange) {
  std::string Script = writeFile(
      "huge.dsp",
      "io 1 -> 1;\nconst a = 1e39;\nconst b = " + repeat("9", 5000) +
          ";\nconst c = 1e-99999;\nprocess { out = in * a * b * c; }\n");
  ChildResult C = expectRefused(
      {"check", Script}, "number '1e39' is out of range for a 32-bit float");
  EXPECT_NE(C.Err.find("huge.dsp:3:11: error: number '999"), std::string::npos)
      << C.Err.substr(0, 3000);
}

TEST_F(BadInputCli, ASourceOverOneMebibyteIsRefusedBeforeLexing) {
  std::string Script =
      writeFile("big.dsp", "io 1 -> 1;\nprocess { out = in; }\n" +
                               repeat("// padding\n", 100000));
  expectScriptRefused(Script, "source file is too large (1100033 bytes; the "
                              "limit is 1048576)");
}

TEST_F(BadInputCli, EnormousLoopsAreRefused) {
  std::string One = writeFile(
      "loop.dsp", "io 1 -> 1;\nprocess { for i in 0..1e9 { out += in; } }\n");
  expectScriptRefused(One, "loop count 1e+09 is out of range (1 to 65536)");
  std::string Unroll = writeFile(
      "unroll.dsp",
      "io 1 -> 1;\nprocess { unroll i in 0..100000 { out += in; } }\n");
  expectRefused({"check", Unroll},
                "loop count 100000 is out of range (1 to 4096)");
  // Each loop within its limit, but nested they would run 2^48 times a frame.
  std::string Nested =
      writeFile("nested.dsp",
                "io 1 -> 1;\nstate s = 0;\nprocess {\n"
                "  for i in 0..65536 { for j in 0..65536 { for k in 0..65536 "
                "{ s = sin(s + in); } } }\n  out = s;\n}\n");
  expectScriptRefused(Nested, "nested.dsp:4:32: error: nested loops run their "
                              "body 4294967296 times, more than the limit of "
                              "65536");
  expectRefused({"check", Nested}, "nested.dsp: 1 error");
}

TEST_F(BadInputCli, InstancesOverTheMemoryLimitAreRefused) {
  const std::string Limit = "more than the limit of 268435456";
  std::string Delay =
      writeFile("delay.dsp", "io 2 -> 2;\ndelay d[600 s];\n"
                             "process { d.write(in); out = d.tap(1); }\n");
  // 600 s at 48 kHz is within the length limit, but its ring of 2^25
  // stereo frames takes the whole 256 MiB.
  expectScriptRefused(Delay,
                      "delay.dsp:2:7: error: the script needs 268435584 "
                      "bytes of memory, more than the limit of 268435456");
  std::string Longer =
      writeFile("longer.dsp", "io 1 -> 1;\ndelay d[2000 s];\n"
                              "process { d.write(in); out = d.tap(1); }\n");
  expectScriptRefused(Longer, "is out of range (1 to 67108864)");
  std::string Wide =
      writeFile("wide.dsp",
                "io 1 -> 1;\ndelay d[1048576];\n"
                "process { d.write(iota(256) * in); out = sum(d.tap(1)); }\n");
  expectScriptRefused(Wide, "wide.dsp:2:7: error: the script needs");
  expectRefused({"check", Wide}, Limit);
  std::string Array = writeFile(
      "array.dsp", "io 1 -> 1;\nstate a[16777216] = iota(8);\n"
                   "process { a[in] = a[in] + 1; out = sum(a[0]); }\n");
  expectScriptRefused(Array, "array.dsp:2:7: error: the script needs");
  expectRefused({"check", Array}, Limit);
}

TEST_F(BadInputCli, CallsOutsideTheWhitelistAreRefused) {
  for (const char *Fn : {"malloc", "system", "printf", "fopen", "dlopen"}) {
    std::string Script =
        writeFile("evil.dsp", std::string("io 1 -> 1;\nprocess { out = ") + Fn +
                                  "(in); }\n");
    expectScriptRefused(Script, std::string("unknown function '") + Fn + "'");
  }
}

//===-- Sound files -------------------------------------------------------===//

TEST_F(BadInputCli, AMissingInputFileIsNamed) {
  expectRefused(
      {"render", Examples + "wire.dsp", path("missing.wav"), path("out.wav")},
      "cannot open '" + path("missing.wav") + "'");
  EXPECT_FALSE(fs::exists(path("out.wav")));
}

TEST_F(BadInputCli, EmptyAndCorruptInputFilesAreRefused) {
  std::string Empty = writeFile("empty.wav", "");
  expectRefused({"render", Examples + "wire.dsp", Empty, path("out.wav")},
                "cannot open '" + Empty + "'");
  std::string Text = writeFile("text.wav", "this is not a sound file at all\n");
  expectRefused({"render", Examples + "wire.dsp", Text, path("out.wav")},
                "cannot open '" + Text + "'");
  // A real header followed by garbage where the format chunk should be.
  std::string Wav = writeWav("good.wav", 4800);
  std::ifstream In(Wav, std::ios::binary);
  std::string Bytes((std::istreambuf_iterator<char>(In)), {});
  for (size_t K = 12; K < 40; ++K)
    Bytes[K] = char(0xA5);
  std::string Corrupt = writeFile("corrupt.wav", Bytes);
  expectRefused({"render", Examples + "wire.dsp", Corrupt, path("out.wav")},
                "cannot open '" + Corrupt + "'");
  EXPECT_FALSE(fs::exists(path("out.wav")));
}

TEST_F(BadInputCli, ATruncatedInputFileRendersWhatItHolds) {
  // A header that promises 48000 frames over 1000 frames of data: what is
  // there is rendered, nothing is invented, and the render says how much
  // of the file was missing and fails.
  std::string Wav = writeWav("full.wav", 48000);
  std::ifstream In(Wav, std::ios::binary);
  std::string Bytes((std::istreambuf_iterator<char>(In)), {});
  const size_t Header = Bytes.size() - 48000 * 2 * 4;
  std::string Truncated =
      writeFile("truncated.wav", Bytes.substr(0, Header + 1000 * 8));
  expectRefused({"render", Examples + "wire.dsp", Truncated, path("out.wav")},
                "dspjit render: error: " + Truncated +
                    " is truncated: read 0.02 s of the 1.00 s its header "
                    "announces; " +
                    path("out.wav") + " holds the render of what was read");
  auto Out = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Out) << Out.error();
  EXPECT_EQ(Out->frames(), 1000u);
  // A header with no data at all.
  std::string Hollow = writeFile("hollow.wav", Bytes.substr(0, Header));
  expectRefused({"render", Examples + "wire.dsp", Hollow, path("out2.wav")},
                Hollow + " holds no audio (0 frames)");
}

TEST_F(BadInputCli, AFlacCutShortRendersWhatItHoldsAndSaysSo) {
  std::vector<float> S(2 * 96000);
  for (size_t K = 0; K < S.size(); ++K)
    S[K] = float(std::sin(double(K) * 0.01) * 0.5 + (K * 7919 % 100) * 1e-3);
  ASSERT_TRUE(writeAudioFile(path("full.flac"), S.data(), 96000, 2, 48000,
                             SampleFormat::Pcm16));
  std::ifstream In(path("full.flac"), std::ios::binary);
  std::string Bytes((std::istreambuf_iterator<char>(In)), {});
  std::string Cut = writeFile("cut.flac", Bytes.substr(0, Bytes.size() / 2));
  ChildResult C =
      expectRefused({"render", Examples + "wire.dsp", Cut, path("out.wav")},
                    Cut + " is truncated: read ");
  EXPECT_NE(C.Err.find(" of the 2.00 s its header announces"),
            std::string::npos)
      << C.describe();
  auto Out = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Out) << Out.error();
  EXPECT_GT(Out->frames(), 0u);
  EXPECT_LT(Out->frames(), 96000u);
}

TEST_F(BadInputCli, ImpossibleFormatsAreRefusedBeforeWriting) {
  expectRefused({"render", Examples + "additive.dsp", path("out.ogg"),
                 "--format", "16", "--duration", "10ms"},
                "cannot write '" + path("out.ogg") +
                    "' with 16-bit samples: Ogg Vorbis is lossy");
  EXPECT_FALSE(fs::exists(path("out.ogg")));
  expectRefused({"render", Examples + "additive.dsp", path("out.flac"),
                 "--format", "32", "--duration", "10ms"},
                "cannot write '" + path("out.flac") +
                    "': 32-bit samples with 2 channels are not supported in "
                    "this file type");
  EXPECT_FALSE(fs::exists(path("out.flac")));
  expectRefused({"render", Examples + "additive.dsp", path("out.wav"),
                 "--format", "8", "--duration", "10ms"},
                "--format: invalid sample format '8'; expected float, 16, 24 "
                "or 32");
  EXPECT_FALSE(fs::exists(path("out.wav")));
}

TEST_F(BadInputCli, WrongChannelCountsAreRefused) {
  std::string Mono = writeWav("mono.wav", 480, 1);
  expectRefused({"render", Examples + "wire.dsp", Mono, path("out.wav")},
                Mono + " has 1 channel but " + Examples +
                    "wire.dsp expects 2 (io 2 -> 2)");
  std::string Six = writeWav("six.wav", 480, 6);
  expectRefused({"render", Examples + "wire.dsp", Six, path("out.wav")},
                Six + " has 6 channels but " + Examples +
                    "wire.dsp expects 2 (io 2 -> 2)");
}

// tools/render.cpp checks the input against the kernel (renderLength)
// before it creates the output file, so a mistyped command does not empty
// the previous render.
TEST_F(BadInputCli, ARefusedRenderLeavesAnExistingOutputAlone) {
  std::string Previous = writeWav("out.wav", 480);
  auto Before = readAudioFile(Previous);
  ASSERT_TRUE(Before) << Before.error();
  std::string Mono = writeWav("mono.wav", 480, 1);
  expectRefused({"render", Examples + "wire.dsp", Mono, Previous},
                "has 1 channel");
  auto After = readAudioFile(Previous);
  ASSERT_TRUE(After) << After.error();
  EXPECT_EQ(After->Samples, Before->Samples);
}

TEST_F(BadInputCli, UnsupportedRatesAreRefused) {
  expectRefused(
      {"render", Examples + "wire.dsp", path("out.wav"), "--rate", "100"},
      "--rate: Value 100 not in range");
  expectRefused(
      {"render", Examples + "wire.dsp", path("out.wav"), "--rate", "fast"},
      "--rate");
}

TEST_F(BadInputCli, BadWebPanelFlagsAreRefusedBeforeAnythingOpens) {
  // No audio device is needed to hear about these: they come first.
  expectRefused({"run", Examples + "wire.dsp", "--web", "http"},
                "--web takes a TCP port from 0 to 65535");
  expectRefused({"run", Examples + "wire.dsp", "--web", "70000"},
                "not '70000'");
  expectRefused(
      {"run", Examples + "wire.dsp", "--web", "--web-bind", "somewhere"},
      "--web-bind: the web panel listens on an IP address such as "
      "127.0.0.1, not 'somewhere'");
}

TEST_F(BadInputCli, DurationsThatCannotBeCountedAreRefused) {
  for (const char *D : {"1e30", "99999999:00", "-1", "nan", "inf", "forever"})
    expectRefused(
        {"render", Examples + "wire.dsp", path("out.wav"), "--duration", D},
        std::string("--duration: "));
  expectRefused(
      {"render", Examples + "wire.dsp", path("out.wav"), "--duration", "1e30"},
      "duration '1e30' is longer than the limit of 1000000000 s");
}

TEST_F(BadInputCli, UnwritableOutputsAreRefused) {
  expectRefused({"render", Examples + "wire.dsp", path("no/such/dir/out.wav")},
                "cannot create '" + path("no/such/dir/out.wav") + "'");
  fs::create_directories(path("adir.wav"));
  expectRefused({"render", Examples + "wire.dsp", path("adir.wav")},
                "cannot create '" + path("adir.wav") + "'");
  expectRefused({"render", Examples + "wire.dsp", path("out.mp3")},
                "use the extension .wav");
}

//===-- A disk that fills up ----------------------------------------------===//

TEST_F(BadInputCli, ADiskThatFillsUpStopsTheRenderAndKeepsWhatWasWritten) {
  // The child may write files of at most 1 MiB: the render of 10 s of
  // stereo float (3.84 MB) fails part-way with EFBIG, as a full disk would.
  ChildOptions O;
  O.FileSizeLimit = 1 << 20;
  ChildResult C = expectRefused({"render", Examples + "additive.dsp",
                                 path("out.wav"), "--duration", "10s"},
                                "cannot write '" + path("out.wav") + "'", O);
  EXPECT_NE(C.Err.find("File too large"), std::string::npos) << C.Err;
  // The file is a valid WAV holding the frames written before the fault.
  auto Out = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Out) << Out.error();
  EXPECT_EQ(Out->Channels, 2u);
  EXPECT_GT(Out->frames(), 48000u);
  EXPECT_LE(Out->frames(), uint64_t(1 << 20) / 8);
  EXPECT_LE(fs::file_size(path("out.wav")), uint64_t(1 << 20));
  // Those frames are the render's own first frames.
  ChildResult Ref = runChild(Dspjit, {"render", Examples + "additive.dsp",
                                      path("ref.wav"), "--duration", "2s"});
  ASSERT_EQ(Ref.Status, 0) << Ref.describe();
  auto R = readAudioFile(path("ref.wav"));
  ASSERT_TRUE(R) << R.error();
  for (size_t K = 0; K < std::min(Out->Samples.size(), R->Samples.size()); ++K)
    ASSERT_EQ(Out->Samples[K], R->Samples[K]) << "sample " << K;
}

TEST_F(BadInputCli, ADiskThatIsFullFromTheStartIsRefused) {
  // A .wav name for /dev/full, where every write fails with ENOSPC.
  fs::create_symlink("/dev/full", path("full.wav"));
  expectRefused(
      {"render", Examples + "wire.dsp", path("full.wav"), "--duration", "10ms"},
      "cannot create '" + path("full.wav") + "': No space left on device");
}

//===-- Parameter values from --set ---------------------------------------===//

TEST_F(BadInputCli, BadSetValuesAreRefusedAndOutOfRangeOnesClamped) {
  const std::string Gain = Examples + "gain.dsp";
  auto Render = [&](const std::string &Set) {
    return std::vector<std::string>{
        "render", Gain, path("out.wav"), "--duration", "10ms", "--set", Set};
  };
  expectRefused(Render("gain=loud"),
                "--set takes name=number, not 'gain=loud'");
  expectRefused(Render("gain="), "--set takes name=number, not 'gain='");
  expectRefused(Render("=3"), "--set takes name=number, not '=3'");
  expectRefused(Render("gain"), "--set takes name=number, not 'gain'");
  expectRefused(Render("gain=3dB"), "--set takes name=number, not 'gain=3dB'");
  expectRefused(Render("gian=3"),
                "unknown parameter 'gian'; did you mean 'gain'?");
  expectRefused(Render("gain=nan"),
                "cannot set 'gain' to nan: not a finite number");
  expectRefused(Render("gain=inf"),
                "cannot set 'gain' to inf: not a finite number");
  expectRefused(Render("gain=-1e999"), "not a finite number");
  ChildResult C = runChild(Dspjit, Render("gain=1e30"));
  EXPECT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Err.find("warning: 'gain' = 1e+30 is outside ["),
            std::string::npos)
      << C.Err;
}

//===-- Non-finite output -------------------------------------------------===//

TEST_F(BadInputCli, NonFiniteOutputIsSilencedAndCountedByRender) {
  std::string Script =
      writeFile("nan.dsp", "io 1 -> 1;\nprocess { out = in / (in - in); }\n");
  ChildResult C =
      runChild(Dspjit, {"render", Script, path("out.wav"), "--input",
                        "sine:440", "--duration", "100ms"});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(
      C.Err.find("warning: 4800 non-finite output samples (NaN or infinity) "
                 "were replaced by silence"),
      std::string::npos)
      << C.Err;
  auto Out = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Out) << Out.error();
  for (float S : Out->Samples)
    ASSERT_EQ(S, 0.0f);
}

TEST_F(BadInputCli, NonFiniteSamplesInAnInputFileAreSilencedAndCounted) {
  // A float WAV can hold NaN and infinities; none reaches the output file.
  std::vector<float> S = {0.25f, NaN(), INFINITY, -0.5f, -INFINITY, 0.125f};
  auto W = writeAudioFile(path("nan.wav"), S.data(), 3, 2, 48000);
  ASSERT_TRUE(W) << W.error();
  ChildResult C = runChild(Dspjit, {"render", Examples + "wire.dsp",
                                    path("nan.wav"), path("out.wav")});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Err.find("warning: 3 non-finite output samples"),
            std::string::npos)
      << C.Err;
  auto Out = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Out) << Out.error();
  EXPECT_EQ(Out->Samples, (std::vector<float>{0.25f, 0, 0, -0.5f, 0, 0.125f}));
}

//===-- Broken headers and `dspjit repair` --------------------------------===//

/// The offset of a RIFF chunk's size field ("data", "fact"), or 0.
size_t riffChunk(const std::string &Bytes, const char *Id) {
  for (size_t At = 12; At + 8 <= Bytes.size();) {
    uint32_t Size = 0;
    std::memcpy(&Size, Bytes.data() + At + 4, 4);
    if (Bytes.compare(At, 4, Id) == 0)
      return At + 4;
    At += 8 + Size + (Size & 1);
  }
  return 0;
}

/// A WAV as a writer killed before it closed it leaves it: the RIFF, data
/// and fact sizes 0, the samples all there.
std::string zeroSizes(std::string Bytes) {
  for (size_t At :
       {size_t(4), riffChunk(Bytes, "data"), riffChunk(Bytes, "fact") + 4})
    if (At >= 4)
      std::memset(&Bytes[At], 0, 4);
  return Bytes;
}

std::string readBytes(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(In)), {});
}

TEST_F(BadInputCli, ARecordingWithABrokenHeaderIsRepairedInPlace) {
  std::string Good = readBytes(writeWav("good.wav", 48000));
  std::string Broken = writeFile("broken.wav", zeroSizes(Good));
  ChildResult C = runChild(Dspjit, {"repair", Broken});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Out.find("repaired '" + Broken +
                       "': 1 s of audio (48000 frames), the header said 0"),
            std::string::npos)
      << C.describe();
  EXPECT_EQ(readBytes(Broken), Good);
  // Run again: nothing to repair, which is not an error.
  ChildResult Again = runChild(Dspjit, {"repair", Broken});
  EXPECT_EQ(Again.Status, 0) << Again.describe();
  EXPECT_NE(Again.Out.find("'" + Broken +
                           "' needs no repair: its header "
                           "says 1 s (48000 frames)"),
            std::string::npos)
      << Again.describe();
}

TEST_F(BadInputCli, RepairWithAnOutputWritesARepairedCopy) {
  std::string Good = readBytes(writeWav("good.wav", 4800));
  std::string Broken = writeFile("broken.wav", zeroSizes(Good));
  ChildResult C = runChild(Dspjit, {"repair", Broken, "-o", path("fixed.wav")});
  ASSERT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Out.find("repaired '" + Broken + "' into '" + path("fixed.wav") +
                       "': 0.1 s of audio (4800 frames), the header said 0"),
            std::string::npos)
      << C.describe();
  EXPECT_EQ(readBytes(Broken), zeroSizes(Good));
  EXPECT_EQ(readBytes(path("fixed.wav")), Good);
}

TEST_F(BadInputCli, RepairRefusesWhatItCannotRepairAndSaysWhy) {
  expectRefused({"repair", path("missing.wav")},
                "cannot read '" + path("missing.wav") +
                    "': No such file or directory");
  fs::create_directories(path("adir.wav"));
  expectRefused({"repair", path("adir.wav")},
                "cannot read '" + path("adir.wav") + "': Is a directory");
  std::string Text = writeFile("text.wav", "this is not a sound file at all\n");
  expectRefused({"repair", Text}, "'" + Text + "' is not a WAV file");
  std::string Good = readBytes(writeWav("good.wav", 480));
  std::string NoFmt = Good;
  NoFmt.replace(NoFmt.find("fmt "), 4, "fmX ");
  expectRefused({"repair", writeFile("nofmt.wav", NoFmt)},
                "'" + path("nofmt.wav") + "' has no 'fmt ' chunk");
  std::string NoData =
      writeFile("nodata.wav", Good.substr(0, riffChunk(Good, "data") - 4));
  expectRefused({"repair", NoData}, "'" + NoData + "' has no 'data' chunk");
  EXPECT_EQ(readBytes(path("nofmt.wav")), NoFmt) << "a refused repair wrote";
}

TEST_F(BadInputCli, ARenderOfAFileWithABrokenHeaderSuggestsRepair) {
  std::string Good = readBytes(writeWav("good.wav", 48000));
  std::string Broken = writeFile("broken.wav", zeroSizes(Good));
  expectRefused({"render", Examples + "wire.dsp", Broken, path("out.wav")},
                "'" + Broken +
                    "' says it holds no audio, but 1 s (48000 frames) follow "
                    "its header: the program that wrote it may have been "
                    "killed; `dspjit repair " +
                    Broken + "` puts its header right");
  EXPECT_FALSE(fs::exists(path("out.wav")));
}

TEST_F(BadInputCli, ARenderKilledMidwayLeavesAReadableFile) {
  // SIGKILL a long render a second in: what it wrote is a valid file whose
  // header is at most a header interval behind its samples, and those are
  // the render's own first frames.
  ChildOptions O;
  O.Actions = {{1.0, "", SIGKILL}};
  ChildResult C = runChild(Dspjit,
                           {"render", Examples + "additive.dsp",
                            path("out.wav"), "--duration", "1:00:00", "-q"},
                           O);
  ASSERT_EQ(C.Status, 128 + SIGKILL) << C.describe();
  auto Out = readAudioFile(path("out.wav"));
  ASSERT_TRUE(Out) << Out.error();
  ASSERT_EQ(Out->Channels, 2u);
  std::string Header = readBytes(path("out.wav")).substr(0, 4096);
  const size_t Data = riffChunk(Header, "data");
  ASSERT_GT(Data, 0u);
  const uint64_t OnDisk = (fs::file_size(path("out.wav")) - Data - 4) / 8;
  std::cout << "[ killed   ] the render: " << Out->frames()
            << " frames readable, " << OnDisk << " on disk\n";
  EXPECT_GT(Out->frames(), 0u);
  // Rewritten every WriteCadence::HeaderSeconds of audio, the render
  // writing RenderSinkChunkFrames at a time.
  EXPECT_GE(Out->frames() + uint64_t(WriteCadence::HeaderSeconds * 48000) +
                RenderSinkChunkFrames,
            OnDisk)
      << "the header fell behind the samples";
  ChildResult Ref = runChild(Dspjit, {"render", Examples + "additive.dsp",
                                      path("ref.wav"), "--duration", "1s"});
  ASSERT_EQ(Ref.Status, 0) << Ref.describe();
  auto R = readAudioFile(path("ref.wav"));
  ASSERT_TRUE(R) << R.error();
  for (size_t K = 0; K < std::min(Out->Samples.size(), R->Samples.size()); ++K)
    ASSERT_EQ(Out->Samples[K], R->Samples[K]) << "sample " << K;
}

} // namespace

TEST_F(BadInputCli, ABadAutomationIsRefusedBeforeWriting) {
  std::string Filter = writeFile(
      "filter.dsp", "io 1 -> 1;\nparam cutoff = 1000 in [20, 20000] hz;\n"
                    "param q = 1 in [0.5, 10];\n"
                    "param shift = 0 in [0, 100] hz;\n"
                    "process { out = onepole(in, cutoff + shift) * q; }\n");
  auto Refused = [&](std::vector<std::string> Automate,
                     const std::string &Expected) {
    std::vector<std::string> Args = {"render", Filter, path("out.wav")};
    for (const std::string &A : Automate) {
      Args.push_back("--automate");
      Args.push_back(A);
    }
    expectRefused(Args, Expected);
  };
  Refused({"cutof=ramp:200@0s"},
          "unknown parameter 'cutof'; did you mean 'cutoff'?");
  Refused({"cutoff"}, "'cutoff' is not NAME=ramp:VALUE@TIME");
  Refused({"cutoff=ramp:200@0s,30000@1s"},
          "'30000@1s': 30000 is outside the range of 'cutoff' [20, 20000]");
  Refused({"cutoff=ramp:200@2s,300@1s"}, "comes before the one before it");
  Refused({"shift=ramp:0@0s,100@1s"},
          "'0@0s': 0 for 'shift' (hz) moves exponentially, so its values "
          "must be above 0");
  Refused({"q=" + path("missing.csv")}, "cannot read '" + path("missing.csv"));
  Refused({"q=" + writeFile("q.csv", "time,value\n0,1\n1 2\n")},
          "q.csv:3: '1 2' is not TIME,VALUE");
  Refused({"q=ramp:1@0s", "q=ramp:2@0s"}, "'q' is automated twice");
  std::vector<std::string> Both = {"render",     Filter, path("out.wav"),
                                   "--set",      "q=2",  "--automate",
                                   "q=ramp:1@0s"};
  expectRefused(Both, "'q' has both --set and --automate");
  EXPECT_FALSE(fs::exists(path("out.wav")));
  // And a good curve renders.
  ChildResult C =
      runChild(Dspjit, {"render", Filter, path("out.wav"), "--automate",
                        "cutoff=ramp:200@0s,2000@0.5s", "--duration", "1s"});
  EXPECT_EQ(C.Status, 0) << C.describe();
}

TEST_F(BadInputCli, ARenderWithABadMidiFileOrMappingIsRefusedBeforeWriting) {
  std::string Synth =
      writeFile("synth.dsp", "io 0 -> 1;\nvoices 4;\n"
                             "param cutoff = 1000 in [20, "
                             "20000] hz;\nprocess { out = "
                             "voicemix(note.gate) * cutoff; }\n");
  // Not a MIDI file at all, and one cut short in its track.
  std::string NotMidi = writeFile("notes.mid", "RIFF....WAVEfmt ");
  expectRefused({"render", Synth, path("out.wav"), "--midi", NotMidi}, NotMidi);
  std::string Cut = writeFile(
      "cut.mid",
      std::string("MThd\0\0\0\6\0\0\0\1\1\xe0MTrk\0\0\0\x10\0\x90", 22));
  expectRefused({"render", Synth, path("out.wav"), "--midi", Cut}, Cut);
  expectRefused(
      {"render", Synth, path("out.wav"), "--midi", path("missing.mid")},
      "missing.mid");
  // A mapping to a parameter the script does not have, with a suggestion.
  std::string Song = writeFile(
      "song.mid",
      std::string("MThd\0\0\0\6\0\0\0\1\1\xe0MTrk\0\0\0\x0c\0\x90\x3c\x64"
                  "\x60\x80\x3c\0\0\xff\x2f\0",
                  34));
  expectRefused({"render", Synth, path("out.wav"), "--midi", Song, "--midi-map",
                 "cutof=cc74"},
                "unknown parameter 'cutof'; did you mean 'cutoff'?");
  expectRefused({"render", Synth, path("out.wav"), "--midi-map", "cutoff=cc74"},
                "--midi-map needs a MIDI file");
  EXPECT_FALSE(fs::exists(path("out.wav")));
  // And the good file renders.
  ChildResult C = runChild(Dspjit, {"render", Synth, path("out.wav"), "--midi",
                                    Song, "--midi-map", "cutoff=cc74"});
  EXPECT_EQ(C.Status, 0) << C.describe();
  EXPECT_NE(C.Out.find("1 notes on 4 voices"), std::string::npos)
      << C.describe();
}
