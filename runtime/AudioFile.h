//===- runtime/AudioFile.h - Audio files in and out -------------*- C++ -*-===//
//
// Offline rendering reads an input file block by block (AudioFileReader),
// runs a kernel over it and writes the result block by block
// (AudioFileWriter), ideally in the format the input came in (a 16-bit WAV
// in gives a 16-bit WAV out). Golden tests and tables read and write whole
// files. This wraps libsndfile for exactly those needs, with messages that
// say which file failed and why.
//
// Samples are interleaved float32 in memory, nominally in [-1, 1]. When
// writing integer PCM, the writer quantizes them itself: with TPDF dither
// when asked (Dither::Tpdf, for 16 and 24 bits), rounded to the nearest
// step, and clipped at full scale instead of wrapping around, counting the
// samples it clipped.
//
// The container comes from the output path's extension: .wav, .aif/.aiff,
// .flac, .ogg (Ogg Vorbis), .caf or .w64. FLAC cannot hold float samples:
// float becomes 24-bit. Ogg Vorbis is lossy and takes floats only.
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

#include "runtime/AudioSource.h"
#include "runtime/Result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dspjit {

/// How samples are stored in a file. Pcm32 is 32-bit integer PCM.
enum class SampleFormat { Float32, Pcm16, Pcm24, Pcm32 };

/// "float", "16-bit", "24-bit" or "32-bit".
const char *sampleFormatName(SampleFormat Format);

/// Accepts "float" (or "f32", "32f"), "16" (or "pcm16", "16-bit"),
/// "24" (or "pcm24", "24-bit"), "32" (or "pcm32", "32-bit": integers).
Result<SampleFormat> parseSampleFormat(std::string_view Text);

/// `Frames` at `Rate` as seconds to the hundredth ("12.34"), for how much
/// of a file was read or rendered.
std::string formatSeconds(uint64_t Frames, double Rate);

/// The format to write to `Path` when none was asked for and `Wanted` is
/// the input's: float for Ogg Vorbis (lossy: it has no integer formats),
/// `Wanted` otherwise.
SampleFormat defaultFormatFor(const std::string &Path, SampleFormat Wanted);

/// What the writer adds before it rounds floats to integer PCM.
enum class Dither {
  None, ///< plain rounding to the nearest step
  /// Triangular (TPDF) noise of +-1 step peak, for 16 and 24 bits only
  /// (32-bit integers hold every float exactly enough; float, FLAC's
  /// conversion of it and Ogg Vorbis are never dithered). The noise is
  /// seeded: the same render gives the same file. Its level is
  /// step/sqrt(6) RMS, the rounding's step/sqrt(12) more: step/2 in all.
  Tpdf,
};

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

/// Reads a whole file. Fails with "cannot open 'x.wav': <reason>", and
/// with "cannot read ..." when libsndfile meets damage on the way.
Result<AudioData> readAudioFile(const std::string &Path);

/// Reads a file block by block, as a render's input (AudioSource). A file
/// that ends before its header said it would (a WAV whose data chunk
/// claims more than the file holds, a FLAC cut short) or that libsndfile
/// cannot decode to its end gives what could be read, then says so in
/// problem(): "in.wav is truncated: read 1.23 s of the 5.00 s its header
/// announces".
class AudioFileReader final : public AudioSource {
public:
  /// Fails with "cannot open 'x.wav': <reason>".
  static Result<std::unique_ptr<AudioFileReader>> open(const std::string &Path);
  ~AudioFileReader() override;
  AudioFileReader(const AudioFileReader &) = delete;
  AudioFileReader &operator=(const AudioFileReader &) = delete;

  unsigned channels() const override { return Channels; }
  double sampleRate() const override { return Rate; }
  /// What the header announces (for a WAV, its data chunk's own size, which
  /// libsndfile quietly cuts to the file's).
  uint64_t expectedFrames() const override { return Announced; }
  uint64_t read(float *Out, uint64_t Frames) override;
  std::string problem() const override;

  /// The closest format we can write back (as AudioData::Format).
  SampleFormat format() const { return Format; }
  /// Frames read from the file so far (some may wait in the read-ahead).
  uint64_t framesRead() const { return Done; }
  const std::string &path() const { return Path; }
  /// libsndfile's reason when it stopped on an error, else "".
  const std::string &readError() const { return Error; }

private:
  AudioFileReader() = default;
  /// Reads from the file itself; notes the end and any error.
  uint64_t fill(float *Out, uint64_t Frames);

  /// Frames read from the file at a time.
  static constexpr uint64_t ReadAheadFrames = 8192;

  std::string Path;
  void *File = nullptr; ///< SNDFILE*
  unsigned Channels = 0;
  double Rate = 0;
  SampleFormat Format = SampleFormat::Float32;
  uint64_t Announced = 0;
  uint64_t Done = 0;
  bool Ended = false;
  std::string Error;
  std::vector<float> Buffer; ///< the read-ahead
  uint64_t BufferAt = 0, BufferFrames = 0;
};

/// Writes Frames interleaved frames to Path, replacing any existing file.
/// Without dither: what is written back reads back as it was.
Result<void> writeAudioFile(const std::string &Path, const float *Samples,
                            uint64_t Frames, unsigned Channels,
                            double SampleRate,
                            SampleFormat Format = SampleFormat::Float32,
                            Dither D = Dither::None);
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
class Quantizer;

/// What writing to integer PCM clipped.
struct ClipCount {
  uint64_t Samples = 0; ///< samples beyond full scale, set to it
  double Peak = 0;      ///< the largest magnitude among them (1 = full scale)

  /// "1234 samples clipped (peak +2.3 dBFS)".
  std::string text() const;
};

/// Writes a file block by block, for renders too long to keep in memory and
/// for live recordings. The header is finalized by close() or, failing
/// that, the destructor; until then it is kept up to date as WriteCadence
/// says.
class AudioFileWriter {
public:
  /// Refuses a format the file type cannot hold (16-bit in an .ogg).
  static Result<AudioFileWriter>
  create(const std::string &Path, unsigned Channels, double SampleRate,
         SampleFormat Format = SampleFormat::Float32,
         CrashSafety Safety = CrashSafety::PowerCut, Dither D = Dither::None);

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
  /// What was clipped so far (always nothing for float and Ogg Vorbis).
  ClipCount clipped() const;

private:
  AudioFileWriter(std::string Path, void *File, int Fd, unsigned Channels,
                  uint64_t HeaderFrames, std::unique_ptr<FileSyncer> Sync,
                  std::unique_ptr<Quantizer> Quantize);

  std::string Path;
  void *File = nullptr; ///< SNDFILE*, kept opaque so callers need no sndfile.h
  int Fd = -1;          ///< ours: libsndfile writes through it, never closes it
  unsigned Channels = 0;
  uint64_t Written = 0;
  uint64_t HeaderFrames = 0; ///< WriteCadence::HeaderSeconds in frames
  uint64_t HeaderAt = 0;     ///< Written when the header was last rewritten
  std::unique_ptr<FileSyncer> Sync;    ///< CrashSafety::PowerCut only
  std::unique_ptr<Quantizer> Quantize; ///< integer PCM only
};

} // namespace dspjit

#endif
