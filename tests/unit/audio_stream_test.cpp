//===- tests/unit/audio_stream_test.cpp - Files read and written in blocks -===//
//
// What `dspjit render` needs of sound files beyond whole reads and writes:
// a reader that goes block by block and says when a file ends before its
// header said it would; a resampler (libsoxr, real) whose quality is
// measured; the writer's own quantization to integer PCM, with TPDF dither
// whose noise level is measured against theory and clipping that is
// counted; and the file types it writes. Every file is made here, with the
// real libsndfile.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"
#include "runtime/AudioSource.h"
#include "runtime/Resampler.h"
#include "tests/support/TempDir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numbers>
#include <vector>

using namespace dspjit;
namespace fs = std::filesystem;
using test::TempDir;

namespace {

/// `Frames` frames of a sine of `Hz` at `Rate`, `Amplitude` peak, on
/// every one of `Channels` channels.
std::vector<float> sine(double Hz, double Rate, uint64_t Frames,
                        double Amplitude = 0.5, unsigned Channels = 1) {
  std::vector<float> S(Frames * Channels);
  for (uint64_t F = 0; F < Frames; ++F)
    for (unsigned C = 0; C < Channels; ++C)
      S[F * Channels + C] = float(
          Amplitude * std::sin(2 * std::numbers::pi * Hz * double(F) / Rate));
  return S;
}

/// Everything a source gives, read `Block` frames at a time.
std::vector<float> readAll(AudioSource &Source, uint64_t Block = 1000) {
  std::vector<float> All;
  std::vector<float> Buffer(Block * Source.channels());
  while (uint64_t Got = Source.read(Buffer.data(), Block))
    All.insert(All.end(), Buffer.begin(),
               Buffer.begin() + Got * Source.channels());
  return All;
}

//===-- Reading block by block --------------------------------------------===//

TEST(AudioFileReader, ReadsInBlocksWhatAWholeReadGives) {
  TempDir Dir;
  std::vector<float> S = sine(440, 48000, 10007, 0.5, 2);
  ASSERT_TRUE(writeAudioFile(Dir.file("s.wav"), S.data(), 10007, 2, 48000));
  auto Reader = AudioFileReader::open(Dir.file("s.wav"));
  ASSERT_TRUE(Reader) << Reader.error();
  EXPECT_EQ((*Reader)->channels(), 2u);
  EXPECT_EQ((*Reader)->sampleRate(), 48000);
  EXPECT_EQ((*Reader)->expectedFrames(), 10007u);
  EXPECT_EQ(readAll(**Reader, 64), S);
  EXPECT_EQ((*Reader)->framesRead(), 10007u);
  EXPECT_EQ((*Reader)->problem(), "");
  EXPECT_EQ((*Reader)->read(S.data(), 10), 0u); // after the end: nothing
}

TEST(AudioFileReader, AWavCutShortSaysHowMuchItRead) {
  // The data chunk claims 1 s; the file holds 1000 frames of it.
  TempDir Dir;
  std::string Path = Dir.file("cut.wav");
  std::vector<float> S = sine(440, 48000, 48000, 0.5, 2);
  ASSERT_TRUE(writeAudioFile(Path, S.data(), 48000, 2, 48000));
  fs::resize_file(Path, fs::file_size(Path) - (48000 - 1000) * 8);
  auto Reader = AudioFileReader::open(Path);
  ASSERT_TRUE(Reader) << Reader.error();
  EXPECT_EQ((*Reader)->expectedFrames(), 48000u);
  std::vector<float> Got = readAll(**Reader);
  ASSERT_EQ(Got.size(), 2000u);
  EXPECT_TRUE(std::equal(Got.begin(), Got.end(), S.begin()));
  EXPECT_EQ((*Reader)->problem(), Path + " is truncated: read 0.02 s of the "
                                         "1.00 s its header announces");
  // libsndfile itself reads it without a word.
  auto Whole = readAudioFile(Path);
  ASSERT_TRUE(Whole) << Whole.error();
  EXPECT_EQ(Whole->frames(), 1000u);
}

TEST(AudioFileReader, AFlacCutShortSaysHowMuchItRead) {
  TempDir Dir;
  std::string Path = Dir.file("cut.flac");
  std::vector<float> S = sine(440, 48000, 5 * 48000, 0.5, 2);
  for (size_t K = 0; K < S.size(); ++K) // something to compress poorly
    S[K] += float(((K * 7919) % 1000) / 1000.0 * 0.1);
  ASSERT_TRUE(
      writeAudioFile(Path, S.data(), 5 * 48000, 2, 48000, SampleFormat::Pcm16));
  fs::resize_file(Path, fs::file_size(Path) * 8 / 10);
  auto Reader = AudioFileReader::open(Path);
  ASSERT_TRUE(Reader) << Reader.error();
  EXPECT_EQ((*Reader)->expectedFrames(), 5u * 48000);
  std::vector<float> Got = readAll(**Reader);
  EXPECT_GT(Got.size(), 0u);
  EXPECT_LT(Got.size(), S.size());
  std::string Problem = (*Reader)->problem();
  EXPECT_EQ(Problem.rfind(Path + " is truncated: read ", 0), 0u) << Problem;
  EXPECT_NE(Problem.find(" of the 5.00 s its header announces"),
            std::string::npos)
      << Problem;
}

TEST(AudioFileReader, AFileReadToItsEndHasNoProblem) {
  TempDir Dir;
  std::vector<float> S = sine(440, 48000, 4800);
  for (const char *Name : {"x.flac", "x.aiff", "x.caf", "x.w64", "x.ogg"}) {
    ASSERT_TRUE(writeAudioFile(Dir.file(Name), S.data(), 4800, 1, 48000))
        << Name;
    auto Reader = AudioFileReader::open(Dir.file(Name));
    ASSERT_TRUE(Reader) << Name << ": " << Reader.error();
    std::vector<float> Got = readAll(**Reader, 333);
    EXPECT_EQ(Got.size(), 4800u) << Name;
    EXPECT_EQ((*Reader)->problem(), "") << Name;
  }
}

//===-- Resampling --------------------------------------------------------===//

/// The SNR in dB of `Got` against `Ideal`, over [Skip, size - Skip).
double snrDb(const std::vector<float> &Got, const std::vector<float> &Ideal,
             size_t Skip) {
  double Signal = 0, Noise = 0;
  for (size_t K = Skip; K + Skip < Ideal.size(); ++K) {
    Signal += double(Ideal[K]) * Ideal[K];
    Noise += (double(Got[K]) - Ideal[K]) * (double(Got[K]) - Ideal[K]);
  }
  return 10 * std::log10(Signal / Noise);
}

TEST(Resampler, ASineThrough441To48To441KeepsOver100dB) {
  // 2 s of a 1 kHz sine at 44.1 kHz, to 48 kHz and back, each way in the
  // blocks a render reads. The edges (50 ms, many times the filter's
  // length) are left out: a sine that starts abruptly is not band-limited.
  const uint64_t Frames = 2 * 44100;
  std::vector<float> At441 = sine(1000, 44100, Frames);
  MemorySource In(At441.data(), Frames, 1, 44100);
  auto Up = ResamplingSource::create(In, 48000);
  ASSERT_TRUE(Up) << Up.error();
  EXPECT_EQ((*Up)->expectedFrames(), 96000u);
  std::vector<float> At48 = readAll(**Up, 64);
  ASSERT_EQ(At48.size(), 96000u);
  const double UpSnr = snrDb(At48, sine(1000, 48000, 96000), 2400);

  MemorySource Middle(At48.data(), 96000, 1, 48000);
  auto Down = ResamplingSource::create(Middle, 44100);
  ASSERT_TRUE(Down) << Down.error();
  std::vector<float> Back = readAll(**Down, 100);
  ASSERT_EQ(Back.size(), Frames);
  const double RoundTripSnr = snrDb(Back, At441, 2205);
  std::cout << "[ measured ] 1 kHz sine, SNR 44.1 -> 48 kHz: " << UpSnr
            << " dB; 44.1 -> 48 -> 44.1 kHz: " << RoundTripSnr << " dB\n";
  EXPECT_GE(UpSnr, 100);
  EXPECT_GE(RoundTripSnr, 100);
}

TEST(Resampler, KeepsTheChannelsApartAndPassesTheProblemOn) {
  // Left a sine, right silence: nothing leaks from one to the other.
  std::vector<float> Stereo(2 * 44100);
  std::vector<float> Left = sine(1000, 44100, 44100);
  for (size_t F = 0; F < 44100; ++F)
    Stereo[2 * F] = Left[F];
  MemorySource In(Stereo.data(), 44100, 2, 44100);
  auto Up = ResamplingSource::create(In, 96000);
  ASSERT_TRUE(Up) << Up.error();
  EXPECT_EQ((*Up)->channels(), 2u);
  std::vector<float> Out = readAll(**Up);
  ASSERT_EQ(Out.size(), 2u * 96000);
  double LeftPeak = 0, RightPeak = 0;
  for (size_t F = 0; F < 96000; ++F) {
    LeftPeak = std::max(LeftPeak, double(std::fabs(Out[2 * F])));
    RightPeak = std::max(RightPeak, double(std::fabs(Out[2 * F + 1])));
  }
  EXPECT_NEAR(LeftPeak, 0.5, 0.01);
  EXPECT_EQ(RightPeak, 0);
  EXPECT_EQ((*Up)->problem(), "");
}

//===-- Quantizing, dither and clipping -----------------------------------===//

/// Writes `S` (mono, 48 kHz) in `Format` and reads it back.
std::vector<float> roundTrip(const TempDir &Dir, const std::string &Name,
                             const std::vector<float> &S, SampleFormat Format,
                             Dither D) {
  std::string Path = Dir.file(Name);
  auto W = writeAudioFile(Path, S.data(), S.size(), 1, 48000, Format, D);
  EXPECT_TRUE(W) << W.error();
  auto R = readAudioFile(Path);
  EXPECT_TRUE(R) << R.error();
  return R ? R->Samples : std::vector<float>();
}

TEST(Dither, TpdfNoiseIsHalfAStepRmsAndKeepsASignalBelowOneStep) {
  // A sine of a third of a step: rounded plainly, it vanishes; dithered,
  // it survives in the noise, and the error is TPDF's +-1 step noise
  // (step^2/6) plus the rounding's (step^2/12): step/2 RMS, whatever the
  // signal.
  TempDir Dir;
  for (auto [Format, Bits] : {std::pair{SampleFormat::Pcm16, 16},
                              std::pair{SampleFormat::Pcm24, 24}}) {
    const double Step = std::ldexp(1.0, 1 - Bits);
    std::vector<float> S = sine(997, 48000, 4 * 48000, Step / 3);
    std::vector<float> Plain =
        roundTrip(Dir, "plain.wav", S, Format, Dither::None);
    std::vector<float> Dithered =
        roundTrip(Dir, "dithered.wav", S, Format, Dither::Tpdf);
    ASSERT_EQ(Dithered.size(), S.size());
    EXPECT_TRUE(std::all_of(Plain.begin(), Plain.end(),
                            [](float X) { return X == 0; }));
    double Noise = 0, Projection = 0, Power = 0;
    for (size_t K = 0; K < S.size(); ++K) {
      double E = double(Dithered[K]) - S[K];
      Noise += E * E;
      Projection += double(Dithered[K]) * S[K];
      Power += double(S[K]) * S[K];
      ASSERT_LE(std::fabs(E), 1.5 * Step + 1e-12) << K;
    }
    const double RmsSteps = std::sqrt(Noise / double(S.size())) / Step;
    std::cout << "[ measured ] " << Bits << "-bit TPDF dither: noise "
              << RmsSteps << " steps RMS (theory 0.5), "
              << 20 * std::log10(RmsSteps * Step) << " dBFS\n";
    EXPECT_NEAR(RmsSteps, 0.5, 0.01);
    EXPECT_NEAR(Projection / Power, 1.0, 0.05); // the signal is still there
  }
}

TEST(Dither, IsSeededSoThatRendersAreReproducible) {
  TempDir Dir;
  std::vector<float> S = sine(440, 48000, 48000, 0.25);
  std::vector<float> A =
      roundTrip(Dir, "a.wav", S, SampleFormat::Pcm16, Dither::Tpdf);
  std::vector<float> B =
      roundTrip(Dir, "b.wav", S, SampleFormat::Pcm16, Dither::Tpdf);
  EXPECT_EQ(A, B);
  EXPECT_NE(A, roundTrip(Dir, "c.wav", S, SampleFormat::Pcm16, Dither::None));
}

TEST(Dither, FloatAnd32BitAreNeverDithered) {
  TempDir Dir;
  std::vector<float> S = sine(440, 48000, 4800, 1e-5);
  EXPECT_EQ(roundTrip(Dir, "f.wav", S, SampleFormat::Float32, Dither::Tpdf), S);
  std::vector<float> Int32 =
      roundTrip(Dir, "i.wav", S, SampleFormat::Pcm32, Dither::Tpdf);
  ASSERT_EQ(Int32.size(), S.size());
  for (size_t K = 0; K < S.size(); ++K)
    ASSERT_NEAR(Int32[K], S[K], std::ldexp(1.0, -31)) << K;
}

TEST(Dither, SixteenBitsWithoutDitherRoundToTheNearestStep) {
  TempDir Dir;
  const double Step = 1.0 / 32768;
  std::vector<float> S = {float(0.4 * Step), float(0.6 * Step),
                          float(-0.6 * Step), float(100.5 * Step + 1e-9)};
  std::vector<float> Got =
      roundTrip(Dir, "r.wav", S, SampleFormat::Pcm16, Dither::None);
  EXPECT_EQ(Got, (std::vector<float>{0, float(Step), float(-Step),
                                     float(101 * Step)}));
}

TEST(Dither, ClippingIsCountedWithItsPeak) {
  TempDir Dir;
  auto W = AudioFileWriter::create(Dir.file("loud.wav"), 1, 48000,
                                   SampleFormat::Pcm16, CrashSafety::Kill,
                                   Dither::Tpdf);
  ASSERT_TRUE(W) << W.error();
  // Full scale itself is not a clip; 1.5 and -2 are.
  std::vector<float> Loud = {1.0f, 1.5f, -2.0f, 0.5f, -1.0f};
  ASSERT_TRUE(W->write(Loud.data(), Loud.size()));
  ClipCount Clips = W->clipped();
  EXPECT_EQ(Clips.Samples, 2u);
  EXPECT_EQ(Clips.Peak, 2.0);
  EXPECT_EQ(Clips.text(), "2 samples clipped (peak +6.0 dBFS)");
  ASSERT_TRUE(W->close());
  auto R = readAudioFile(Dir.file("loud.wav"));
  ASSERT_TRUE(R) << R.error();
  EXPECT_EQ(R->Samples[1], 32767.0f / 32768);
  EXPECT_EQ(R->Samples[2], -1.0f);

  auto F = AudioFileWriter::create(Dir.file("loud-float.wav"), 1, 48000);
  ASSERT_TRUE(F) << F.error();
  ASSERT_TRUE(F->write(Loud.data(), Loud.size()));
  EXPECT_EQ(F->clipped().Samples, 0u); // float keeps them
}

//===-- File types --------------------------------------------------------===//

TEST(AudioFile, ThirtyTwoBitIntegersRoundTrip) {
  TempDir Dir;
  EXPECT_EQ(*parseSampleFormat("32"), SampleFormat::Pcm32);
  EXPECT_EQ(std::string(sampleFormatName(SampleFormat::Pcm32)), "32-bit");
  std::vector<float> S = sine(440, 48000, 480, 0.9);
  std::vector<float> Got =
      roundTrip(Dir, "p32.wav", S, SampleFormat::Pcm32, Dither::None);
  EXPECT_EQ(Got, S); // floats' 24 bits fit in 32-bit integers
  EXPECT_EQ(readAudioFile(Dir.file("p32.wav"))->Format, SampleFormat::Pcm32);
}

TEST(AudioFile, OggVorbisIsLossyFloatOnly) {
  TempDir Dir;
  std::vector<float> S = sine(1000, 48000, 48000, 0.5);
  ASSERT_TRUE(writeAudioFile(Dir.file("x.ogg"), S.data(), 48000, 1, 48000));
  auto R = readAudioFile(Dir.file("x.ogg"));
  ASSERT_TRUE(R) << R.error();
  EXPECT_EQ(R->frames(), 48000u);
  // Lossy, but close: within -40 dB of the original in the middle.
  EXPECT_GT(snrDb(R->Samples, S, 4800), 40);

  auto Sixteen = writeAudioFile(Dir.file("y.ogg"), S.data(), 48000, 1, 48000,
                                SampleFormat::Pcm16);
  ASSERT_FALSE(Sixteen);
  EXPECT_EQ(Sixteen.error(),
            "cannot write '" + Dir.file("y.ogg") +
                "' with 16-bit samples: Ogg Vorbis is lossy and stores no "
                "integer samples; write it as float (the default for .ogg) "
                "or choose a lossless type (.flac, .wav)");
  EXPECT_EQ(defaultFormatFor("out.OGG", SampleFormat::Pcm16),
            SampleFormat::Float32);
  EXPECT_EQ(defaultFormatFor("out.wav", SampleFormat::Pcm16),
            SampleFormat::Pcm16);
}

TEST(AudioFile, EveryTypeTakesEveryIntegerFormatItCanHold) {
  TempDir Dir;
  std::vector<float> S = sine(440, 48000, 480, 0.5, 2);
  for (const char *Type : {"wav", "aiff", "caf", "w64", "flac"})
    for (SampleFormat Format : {SampleFormat::Pcm16, SampleFormat::Pcm24,
                                SampleFormat::Pcm32, SampleFormat::Float32}) {
      std::string Path =
          Dir.file(std::string("t-") + sampleFormatName(Format) + "." + Type);
      auto W = writeAudioFile(Path, S.data(), 480, 2, 48000, Format);
      if (std::string(Type) == "flac" && Format == SampleFormat::Pcm32) {
        // FLAC holds at most 24 bits.
        ASSERT_FALSE(W) << Path;
        EXPECT_NE(W.error().find("32-bit samples"), std::string::npos);
        continue;
      }
      ASSERT_TRUE(W) << Path << ": " << W.error();
      auto R = readAudioFile(Path);
      ASSERT_TRUE(R) << Path << ": " << R.error();
      EXPECT_EQ(R->frames(), 480u) << Path;
      SampleFormat Expected =
          std::string(Type) == "flac" && Format == SampleFormat::Float32
              ? SampleFormat::Pcm24
              : Format;
      EXPECT_EQ(R->Format, Expected) << Path;
    }
}

} // namespace
