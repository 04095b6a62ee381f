//===- runtime/AudioFile.h - Whole audio files in and out -------*- C++ -*-===//
//
// Offline rendering reads an input file whole, runs a kernel over it and
// writes the result, ideally in the format the input came in (a 16-bit WAV
// in gives a 16-bit WAV out). Golden tests write reference renders as float
// WAV. This wraps libsndfile for exactly those needs, with messages that say
// which file failed and why.
//
// Samples are interleaved float32 in memory, nominally in [-1, 1]. When
// writing PCM, values outside that range clip instead of wrapping around.
//
// The container comes from the output path's extension: .wav, .aif/.aiff,
// .flac, .caf or .w64. FLAC cannot hold float samples: float becomes 24-bit.
//
// Thread contract: everything here does file I/O and allocates; none of it
// may run on the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_AUDIOFILE_H
#define DSPJIT_RUNTIME_AUDIOFILE_H

#include "runtime/Result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dspjit {

/// How samples are stored in a file.
enum class SampleFormat { Float32, Pcm16, Pcm24 };

/// "float", "16-bit" or "24-bit".
const char *sampleFormatName(SampleFormat Format);

/// Accepts "float" (or "f32", "32f"), "16" (or "pcm16", "16-bit"),
/// "24" (or "pcm24", "24-bit").
Result<SampleFormat> parseSampleFormat(std::string_view Text);

/// A whole file in memory.
struct AudioData {
  std::vector<float> Samples; ///< Interleaved, frames() * Channels values.
  unsigned Channels = 0;
  double SampleRate = 0;
  /// The closest format we can write back: 8/16-bit PCM -> Pcm16, 24-bit ->
  /// Pcm24, everything else (32-bit PCM, float, double, compressed) ->
  /// Float32.
  SampleFormat Format = SampleFormat::Float32;

  uint64_t frames() const { return Channels ? Samples.size() / Channels : 0; }
};

/// Reads a whole file. Fails with "cannot open 'x.wav': <reason>".
Result<AudioData> readAudioFile(const std::string &Path);

/// Writes Frames interleaved frames to Path, replacing any existing file.
Result<void> writeAudioFile(const std::string &Path, const float *Samples,
                            uint64_t Frames, unsigned Channels,
                            double SampleRate,
                            SampleFormat Format = SampleFormat::Float32);
inline Result<void> writeAudioFile(const std::string &Path,
                                   const AudioData &Data) {
  return writeAudioFile(Path, Data.Samples.data(), Data.frames(), Data.Channels,
                        Data.SampleRate, Data.Format);
}

/// Writes a file block by block, for renders too long to keep in memory.
/// The header is finalized by close() or, failing that, the destructor.
class AudioFileWriter {
public:
  static Result<AudioFileWriter>
  create(const std::string &Path, unsigned Channels, double SampleRate,
         SampleFormat Format = SampleFormat::Float32);

  AudioFileWriter(AudioFileWriter &&Other) noexcept;
  AudioFileWriter &operator=(AudioFileWriter &&Other) noexcept;
  AudioFileWriter(const AudioFileWriter &) = delete;
  AudioFileWriter &operator=(const AudioFileWriter &) = delete;
  ~AudioFileWriter();

  /// Appends Frames interleaved frames.
  Result<void> write(const float *Samples, uint64_t Frames);
  /// Finalizes the header and closes the file; reports a failed close.
  Result<void> close();

  uint64_t framesWritten() const { return Written; }
  const std::string &path() const { return Path; }

private:
  AudioFileWriter(std::string Path, void *File, unsigned Channels)
      : Path(std::move(Path)), File(File), Channels(Channels) {}

  std::string Path;
  void *File = nullptr; ///< SNDFILE*, kept opaque so callers need no sndfile.h
  unsigned Channels = 0;
  uint64_t Written = 0;
};

} // namespace dspjit

#endif
