//===- tests/unit/wav_repair_test.cpp - Unit tests of runtime/WavRepair ---===//
//
// Files with broken headers are made the way they break: a good file
// written by libsndfile (runtime/AudioFile), then its size fields zeroed
// (a writer killed before it closed the file), cut short in the middle of
// its samples (a copy that stopped), or left as a writer that is still
// open leaves it (what a kill leaves now). Repair must restore exactly the
// samples that are there, and the very bytes of the good file where it
// can. Wave64 comes from libsndfile too; RF64 beyond 4 GiB is built by
// hand, as no test writes 4 GiB.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "runtime/WavRepair.h"
#include "tests/support/TempDir.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace dspjit;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

std::string readBytes(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(In)), {});
}

void writeBytes(const std::string &Path, const std::string &Bytes) {
  std::ofstream(Path, std::ios::binary) << Bytes;
}

void putLe(std::string &Bytes, size_t At, uint64_t Value, unsigned Width) {
  for (unsigned I = 0; I < Width; ++I)
    Bytes[At + I] = char(Value >> (8 * I));
}

uint64_t getLe(const std::string &Bytes, size_t At, unsigned Width) {
  uint64_t V = 0;
  for (unsigned I = 0; I < Width; ++I)
    V |= uint64_t(static_cast<unsigned char>(Bytes[At + I])) << (8 * I);
  return V;
}

/// The offset of a RIFF chunk's size field ("data", "fact"), or 0.
size_t riffChunk(const std::string &Bytes, const char *Id) {
  for (size_t At = 12; At + 8 <= Bytes.size();) {
    if (Bytes.compare(At, 4, Id) == 0)
      return At + 4;
    uint64_t Size = getLe(Bytes, At + 4, 4);
    At += 8 + Size + (Size & 1);
  }
  return 0;
}

/// Frames of a ramp that differs at every sample, exact in float and in
/// 16-bit PCM.
std::vector<float> ramp(uint64_t Frames, unsigned Channels) {
  std::vector<float> S(Frames * Channels);
  for (size_t I = 0; I < S.size(); ++I)
    S[I] = float(int(I % 60000) - 30000) / 32768.0f;
  return S;
}

/// Writes a good file and returns its bytes.
std::string writeGood(const std::string &Path, uint64_t Frames,
                      unsigned Channels,
                      SampleFormat Format = SampleFormat::Float32) {
  std::vector<float> S = ramp(Frames, Channels);
  auto W = writeAudioFile(Path, S.data(), Frames, Channels, 48000, Format);
  EXPECT_TRUE(W) << W.error();
  return readBytes(Path);
}

/// Zeroes the RIFF, data and fact sizes of a RIFF/WAVE file.
std::string zeroSizes(std::string Bytes) {
  putLe(Bytes, 4, 0, 4);
  if (size_t Data = riffChunk(Bytes, "data"))
    putLe(Bytes, Data, 0, 4);
  if (size_t Fact = riffChunk(Bytes, "fact"))
    putLe(Bytes, Fact + 4, 0, 4);
  return Bytes;
}

TEST(WavRepair, ZeroedSizesAreRestoredToTheGoodFilesBytes) {
  TempDir Dir;
  for (auto [Channels, Format, Frames] :
       {std::tuple{2u, SampleFormat::Float32, uint64_t(48000)},
        std::tuple{1u, SampleFormat::Pcm16, uint64_t(12345)},
        std::tuple{1u, SampleFormat::Pcm24, uint64_t(777)},
        std::tuple{3u, SampleFormat::Pcm24, uint64_t(1001)}}) {
    SCOPED_TRACE(std::to_string(Channels) + " channels, " +
                 sampleFormatName(Format));
    std::string Good =
        writeGood(Dir.file("good.wav"), Frames, Channels, Format);
    // RF64 downgraded: a plain RIFF/WAVE file under 4 GiB.
    EXPECT_EQ(Good.substr(0, 4), "RIFF");
    std::string Path = Dir.file("broken.wav");
    writeBytes(Path, zeroSizes(Good));

    auto Before = inspectWav(Path);
    ASSERT_TRUE(Before) << Before.error();
    EXPECT_FALSE(Before->HeaderRight);
    EXPECT_EQ(Before->headerFrames(), 0u);
    EXPECT_EQ(Before->frames(), Frames);

    auto R = repairWav(Path);
    ASSERT_TRUE(R) << R.error();
    EXPECT_EQ(R->frames(), Frames);
    EXPECT_EQ(readBytes(Path), Good) << "not the bytes of the good file";
    auto Read = readAudioFile(Path);
    ASSERT_TRUE(Read) << Read.error();
    EXPECT_EQ(Read->frames(), Frames);
    EXPECT_EQ(Read->Samples, readAudioFile(Dir.file("good.wav"))->Samples);

    auto Again = repairWav(Path);
    ASSERT_TRUE(Again) << Again.error();
    EXPECT_TRUE(Again->HeaderRight);
  }
}

TEST(WavRepair, AFileCutShortKeepsItsWholeFrames) {
  TempDir Dir;
  const uint64_t Frames = 1000;
  std::string Good = writeGood(Dir.file("good.wav"), Frames, 2);
  const size_t Header = Good.size() - Frames * 8;
  // 500 frames and half of the next one.
  std::string Path = Dir.file("cut.wav");
  writeBytes(Path, Good.substr(0, Header + 500 * 8 + 4));

  auto R = repairWav(Path);
  ASSERT_TRUE(R) << R.error();
  EXPECT_EQ(R->headerFrames(), Frames);
  EXPECT_EQ(R->frames(), 500u);
  auto Read = readAudioFile(Path);
  ASSERT_TRUE(Read) << Read.error();
  std::vector<float> Expected = ramp(Frames, 2);
  Expected.resize(500 * 2);
  EXPECT_EQ(Read->Samples, Expected);
  std::string Bytes = readBytes(Path);
  EXPECT_EQ(getLe(Bytes, riffChunk(Bytes, "data"), 4), 500u * 8);
  EXPECT_EQ(getLe(Bytes, 4, 4), Header + 500 * 8 - 8);
  EXPECT_TRUE(inspectWav(Path)->HeaderRight);
}

TEST(WavRepair, AWriterThatIsStillOpenHasAHeaderAtMostAnIntervalBehind) {
  // What a kill leaves: the file as an open writer has it now.
  TempDir Dir;
  const auto Interval = uint64_t(WriteCadence::HeaderSeconds * 48000);
  const uint64_t Frames = 7 * Interval + 1000;
  std::vector<float> S = ramp(Frames, 2);
  auto W = AudioFileWriter::create(Dir.file("open.wav"), 2, 48000);
  ASSERT_TRUE(W) << W.error();
  for (uint64_t Done = 0; Done < Frames; Done += 64)
    ASSERT_TRUE(
        W->write(S.data() + 2 * Done, std::min<uint64_t>(64, Frames - Done)));
  fs::copy_file(Dir.file("open.wav"), Dir.file("killed.wav"));

  auto Seen = readAudioFile(Dir.file("killed.wav"));
  ASSERT_TRUE(Seen) << Seen.error();
  EXPECT_GE(Seen->frames(), Frames - Interval) << "the header fell behind";
  EXPECT_LT(Seen->frames(), Frames);
  auto I = inspectWav(Dir.file("killed.wav"));
  ASSERT_TRUE(I) << I.error();
  EXPECT_EQ(I->headerFrames(), Seen->frames());
  EXPECT_EQ(I->frames(), Frames);

  // Repair recovers the rest.
  ASSERT_TRUE(repairWav(Dir.file("killed.wav")));
  auto Read = readAudioFile(Dir.file("killed.wav"));
  ASSERT_TRUE(Read) << Read.error();
  EXPECT_EQ(Read->Samples, S);
  ASSERT_TRUE(W->close());
  EXPECT_TRUE(inspectWav(Dir.file("open.wav"))->HeaderRight);
}

TEST(WavRepair, ChunksAfterTheSamplesAreLeftAlone) {
  TempDir Dir;
  std::string Good = writeGood(Dir.file("good.wav"), 100, 2);
  std::string List =
      std::string("LIST") + std::string("\x0a\0\0\0", 4) + "INFOabcdef";
  std::string Bytes = Good + List;
  putLe(Bytes, 4, Bytes.size() - 8, 4);
  writeBytes(Dir.file("list.wav"), Bytes);
  auto R = repairWav(Dir.file("list.wav"));
  ASSERT_TRUE(R) << R.error();
  EXPECT_TRUE(R->HeaderRight);
  EXPECT_EQ(R->frames(), 100u);
  EXPECT_EQ(readBytes(Dir.file("list.wav")), Bytes);
}

TEST(WavRepair, Wave64SizesAreRestored) {
  TempDir Dir;
  std::string Good = writeGood(Dir.file("good.w64"), 4800, 2);
  std::string Broken = Good;
  putLe(Broken, 16, 0, 8); // the riff size
  size_t Data = Broken.find("data");
  ASSERT_NE(Data, std::string::npos);
  putLe(Broken, Data + 16, 0, 8);
  writeBytes(Dir.file("broken.w64"), Broken);
  auto R = repairWav(Dir.file("broken.w64"));
  ASSERT_TRUE(R) << R.error();
  EXPECT_EQ(R->Container, WavContainer::Wave64);
  EXPECT_EQ(R->frames(), 4800u);
  EXPECT_EQ(readBytes(Dir.file("broken.w64")), Good);
}

/// An RF64 file of `Frames` stereo float frames, built by hand, with the
/// sizes of its ds64 chunk given.
std::string rf64(uint64_t Frames, uint64_t Riff, uint64_t Data,
                 uint64_t Samples) {
  std::string B = "RF64" + std::string(4, '\xff') + "WAVE";
  B += "ds64" + std::string("\x1c\0\0\0", 4) + std::string(28, '\0');
  putLe(B, 20, Riff, 8);
  putLe(B, 28, Data, 8);
  putLe(B, 36, Samples, 8);
  std::string Fmt(24, '\0');
  Fmt.replace(0, 8, "fmt \x10\0\0\0", 8);
  putLe(Fmt, 8, 3, 2);          // IEEE float
  putLe(Fmt, 10, 2, 2);         // channels
  putLe(Fmt, 12, 48000, 4);     // rate
  putLe(Fmt, 16, 48000 * 8, 4); // bytes per second
  putLe(Fmt, 20, 8, 2);         // block align
  putLe(Fmt, 22, 32, 2);        // bits
  B += Fmt + "data" + std::string(4, '\xff');
  std::vector<float> S = ramp(Frames, 2);
  B.append(reinterpret_cast<const char *>(S.data()), S.size() * 4);
  return B;
}

TEST(WavRepair, Rf64SizesAreRestoredInItsDs64Chunk) {
  TempDir Dir;
  const uint64_t Frames = 3000;
  std::string Good = rf64(Frames, 0, 0, 0);
  const uint64_t Riff = Good.size() - 8;
  Good = rf64(Frames, Riff, Frames * 8, Frames);
  auto Read = readAudioFile([&] {
    writeBytes(Dir.file("good.wav"), Good);
    return Dir.file("good.wav");
  }());
  ASSERT_TRUE(Read) << Read.error();
  ASSERT_EQ(Read->frames(), Frames) << "the hand-made RF64 is not valid";
  EXPECT_TRUE(inspectWav(Dir.file("good.wav"))->HeaderRight);

  writeBytes(Dir.file("broken.wav"), rf64(Frames, 0, 0, 0));
  auto R = repairWav(Dir.file("broken.wav"));
  ASSERT_TRUE(R) << R.error();
  EXPECT_EQ(R->Container, WavContainer::Rf64);
  EXPECT_EQ(R->headerFrames(), 0u);
  EXPECT_EQ(readBytes(Dir.file("broken.wav")), Good);
}

TEST(WavRepair, ACopyLeavesTheOriginalAsItWas) {
  TempDir Dir;
  std::string Broken = zeroSizes(writeGood(Dir.file("good.wav"), 480, 2));
  writeBytes(Dir.file("broken.wav"), Broken);
  auto R = repairWav(Dir.file("broken.wav"), Dir.file("fixed.wav"));
  ASSERT_TRUE(R) << R.error();
  EXPECT_EQ(readBytes(Dir.file("broken.wav")), Broken);
  EXPECT_EQ(readBytes(Dir.file("fixed.wav")), readBytes(Dir.file("good.wav")));
  // Nothing to repair: no copy is made.
  auto Right = repairWav(Dir.file("good.wav"), Dir.file("copy.wav"));
  ASSERT_TRUE(Right) << Right.error();
  EXPECT_TRUE(Right->HeaderRight);
  EXPECT_FALSE(fs::exists(Dir.file("copy.wav")));
}

TEST(WavRepair, WhatCannotBeRepairedSaysWhy) {
  TempDir Dir;
  auto Missing = repairWav(Dir.file("missing.wav"));
  ASSERT_FALSE(Missing);
  EXPECT_EQ(Missing.error(), "cannot read '" + Dir.file("missing.wav") +
                                 "': No such file or directory");
  auto ADirectory = repairWav(Dir.file(""));
  ASSERT_FALSE(ADirectory);
  EXPECT_NE(ADirectory.error().find("Is a directory"), std::string::npos);

  writeBytes(Dir.file("text.wav"), "this is not a sound file at all");
  auto Text = repairWav(Dir.file("text.wav"));
  ASSERT_FALSE(Text);
  EXPECT_NE(Text.error().find("is not a WAV file"), std::string::npos);

  std::string Good = writeGood(Dir.file("good.wav"), 100, 2);
  // The fmt chunk renamed: no fmt before the samples.
  std::string NoFmt = Good;
  NoFmt.replace(NoFmt.find("fmt "), 4, "fmX ");
  writeBytes(Dir.file("nofmt.wav"), NoFmt);
  auto F = repairWav(Dir.file("nofmt.wav"));
  ASSERT_FALSE(F);
  EXPECT_NE(F.error().find("has no 'fmt ' chunk"), std::string::npos)
      << F.error();
  // The header alone, without its data chunk.
  writeBytes(Dir.file("nodata.wav"),
             Good.substr(0, riffChunk(Good, "data") - 4));
  auto D = repairWav(Dir.file("nodata.wav"));
  ASSERT_FALSE(D);
  EXPECT_NE(D.error().find("has no 'data' chunk"), std::string::npos)
      << D.error();
  // Nothing was written to any of them.
  EXPECT_EQ(readBytes(Dir.file("nofmt.wav")), NoFmt);
}

TEST(WavRepair, AnEmptyLookingRecordingGetsAdvice) {
  TempDir Dir;
  std::string Good = writeGood(Dir.file("good.wav"), 4800, 2);
  writeBytes(Dir.file("broken.wav"), zeroSizes(Good));
  EXPECT_EQ(readAudioFile(Dir.file("broken.wav"))->frames(), 0u)
      << "libsndfile guesses the size of this one";
  EXPECT_EQ(repairAdviceForEmpty(Dir.file("broken.wav")),
            "'" + Dir.file("broken.wav") +
                "' says it holds no audio, but 0.1 s (4800 frames) follow its "
                "header: the program that wrote it may have been killed; "
                "`dspjit repair " +
                Dir.file("broken.wav") + "` puts its header right");
  EXPECT_EQ(repairAdviceForEmpty(Dir.file("good.wav")), "");
  // A header with no samples after it is empty, not broken.
  writeBytes(Dir.file("hollow.wav"), Good.substr(0, Good.size() - 4800 * 8));
  EXPECT_EQ(repairAdviceForEmpty(Dir.file("hollow.wav")), "");
}

} // namespace
