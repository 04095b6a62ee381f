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
// A .wav is written as RF64 with libsndfile's automatic downgrade: a plain
// RIFF/WAVE file (with a JUNK chunk held in reserve and a
// WAVE_FORMAT_EXTENSIBLE 'fmt ') while it is under 4 GiB, RF64 beyond, where
// a RIFF header's 32-bit sizes would wrap (three hours of stereo float).
//
// Files being written survive the death of the process: see WriteCadence.
//
// Thread contract: everything here does file I/O and allocates; none of it
// may run on the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_AUDIOFILE_H
#define DSPJIT_RUNTIME_AUDIOFILE_H

#include "runtime/Result.h"

#include <cstdint>
#include <memory>
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

/// How a file that is being written stays readable when the process dies
/// before it is closed: killed (SIGKILL, the OOM killer, a crash), where the
/// kernel keeps every byte written to the file, or by a power cut, where
/// the disk keeps what was synced to it. Every cadence is here.
///
/// Without this, libsndfile writes the header once, with sizes of 0, at
/// the start, and the real sizes only when the file is closed: a killed
/// recording held all its samples behind a header that said 0 frames (only
/// libsndfile's own reader guesses the size of such a WAV; AIFF and CAF
/// read as empty), and a power cut could leave any of it unwritten.
struct WriteCadence {
  /// The header's sizes are rewritten (SFC_UPDATE_HEADER_NOW: a seek, a
  /// write of about 100 bytes and a seek back) each time this much more
  /// audio is in the file. A reader believes the header, so after a kill it
  /// misses at most this much of what is on disk. Explicit rather than
  /// libsndfile's SFC_SET_UPDATE_HEADER_AUTO, which rewrites the header
  /// after every write: a render writes every 64-frame block, 750 times a
  /// second of audio. At this cadence a render, 200 times faster than real
  /// time to the disk here, rewrites it 4000 times a second, at no
  /// measurable cost (600 s of wire.dsp, eight runs each: 2.77 s against
  /// 2.73 s without).
  static constexpr double HeaderSeconds = 0.05;
  /// fdatasync(2) this often (wall clock), on a thread of the writer's own:
  /// a power cut loses at most this, plus a header interval, plus the
  /// disk's own time to sync. Not on the writing thread: fdatasync takes
  /// 50 ms here and up to 300 ms under load (measured), while writes to the
  /// page cache go on meanwhile in well under a millisecond.
  static constexpr double SyncSeconds = 0.25;
  /// A live recording's writer thread (runtime/Host.cpp) looks at its ring
  /// this often when it found it empty, and then writes everything on it:
  /// what a kill loses from the ring is about this much.
  static constexpr unsigned WriterWakeMs = 20;
};

/// What an AudioFileWriter does so that its file survives the process.
enum class CrashSafety {
  /// The header kept up to date (WriteCadence::HeaderSeconds): survives a
  /// kill. For files written in one go.
  Kill,
  /// That, and the file synced to the disk (WriteCadence::SyncSeconds) by a
  /// thread of its own, and once more when it is closed: survives a power
  /// cut. For recordings and renders.
  PowerCut,
};

class FileSyncer;

/// Writes a file block by block, for renders too long to keep in memory and
/// for live recordings. The header is finalized by close() or, failing
/// that, the destructor; until then it is kept up to date as WriteCadence
/// says.
class AudioFileWriter {
public:
  static Result<AudioFileWriter>
  create(const std::string &Path, unsigned Channels, double SampleRate,
         SampleFormat Format = SampleFormat::Float32,
         CrashSafety Safety = CrashSafety::PowerCut);

  AudioFileWriter(AudioFileWriter &&Other) noexcept;
  AudioFileWriter &operator=(AudioFileWriter &&Other) noexcept;
  AudioFileWriter(const AudioFileWriter &) = delete;
  AudioFileWriter &operator=(const AudioFileWriter &) = delete;
  ~AudioFileWriter();

  /// Appends Frames interleaved frames; rewrites the header when another
  /// WriteCadence::HeaderSeconds are in. Fails when the samples, the
  /// header or (with CrashSafety::PowerCut) a sync could not be written.
  Result<void> write(const float *Samples, uint64_t Frames);
  /// Finalizes the header, syncs (CrashSafety::PowerCut) and closes the
  /// file; reports a failed close.
  Result<void> close();

  uint64_t framesWritten() const { return Written; }
  const std::string &path() const { return Path; }

private:
  AudioFileWriter(std::string Path, void *File, int Fd, unsigned Channels,
                  uint64_t HeaderFrames, std::unique_ptr<FileSyncer> Sync);

  std::string Path;
  void *File = nullptr; ///< SNDFILE*, kept opaque so callers need no sndfile.h
  int Fd = -1;          ///< ours: libsndfile writes through it, never closes it
  unsigned Channels = 0;
  uint64_t Written = 0;
  uint64_t HeaderFrames = 0; ///< WriteCadence::HeaderSeconds in frames
  uint64_t HeaderAt = 0;     ///< Written when the header was last rewritten
  std::unique_ptr<FileSyncer> Sync; ///< CrashSafety::PowerCut only
};

} // namespace dspjit

#endif
