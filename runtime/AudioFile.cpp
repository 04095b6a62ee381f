//===- runtime/AudioFile.cpp - Audio files in and out ---------------------===//
//
// libsndfile behind the small interface of AudioFile.h; the quantization of
// floats to integer PCM, with dither, done here rather than by libsndfile
// so that the dither and the clipping are ours to choose and to count; and
// what keeps a file being written readable if the process dies
// (WriteCadence): the writer opens the file itself, so that it has the
// descriptor to sync, and a FileSyncer thread syncs it.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"

#include "runtime/MessageCatalog.h"
#include "runtime/WavRepair.h"

#include <sndfile.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace dspjit {

const char *sampleFormatName(SampleFormat Format) {
  switch (Format) {
  case SampleFormat::Float32: return "float";
  case SampleFormat::Pcm16: return "16-bit";
  case SampleFormat::Pcm24: return "24-bit";
  case SampleFormat::Pcm32: return "32-bit";
  }
  return "?";
}

Result<SampleFormat> parseSampleFormat(std::string_view Text) {
  if (Text == "float" || Text == "f32" || Text == "32f")
    return SampleFormat::Float32;
  if (Text == "16" || Text == "pcm16" || Text == "16-bit")
    return SampleFormat::Pcm16;
  if (Text == "24" || Text == "pcm24" || Text == "24-bit")
    return SampleFormat::Pcm24;
  if (Text == "32" || Text == "pcm32" || Text == "32-bit")
    return SampleFormat::Pcm32;
  return fail(message<Msg::InvalidSampleFormat>(Text));
}

/// libsndfile's message without its "System error : " (or "Error : ") prefix
/// and final period, so it reads well after "cannot open 'x': ".
static std::string sndfileError(SNDFILE *File) {
  std::string Message = sf_strerror(File);
  for (const std::string Prefix : {"System error : ", "Error : "})
    if (Message.compare(0, Prefix.size(), Prefix) == 0)
      Message.erase(0, Prefix.size());
  while (!Message.empty() && (Message.back() == '.' || Message.back() == '\n'))
    Message.pop_back();
  return Message;
}

static SampleFormat closestFormat(int SfFormat) {
  switch (SfFormat & SF_FORMAT_SUBMASK) {
  case SF_FORMAT_PCM_S8:
  case SF_FORMAT_PCM_U8:
  case SF_FORMAT_PCM_16: return SampleFormat::Pcm16;
  case SF_FORMAT_PCM_24: return SampleFormat::Pcm24;
  case SF_FORMAT_PCM_32: return SampleFormat::Pcm32;
  default: return SampleFormat::Float32;
  }
}

//===-- Reading -----------------------------------------------------------===//

std::string formatSeconds(uint64_t Frames, double Rate) {
  char Text[32];
  std::snprintf(Text, sizeof Text, "%.2f", double(Frames) / Rate);
  return Text;
}

/// How many frames a WAV (RIFF, RF64 or Wave64) file's data chunk says it
/// holds when that is more than the file holds, which libsndfile quietly
/// cuts to the file's length; 0 otherwise. A RIFF size of 0xFFFFFFFF is
/// no claim: programs writing to a pipe put it there.
static uint64_t claimedWavFrames(const std::string &Path, int SfFormat) {
  int Container = SfFormat & SF_FORMAT_TYPEMASK;
  if (Container != SF_FORMAT_WAV && Container != SF_FORMAT_WAVEX &&
      Container != SF_FORMAT_RF64 && Container != SF_FORMAT_W64)
    return 0;
  auto Wav = inspectWav(Path);
  if (!Wav || Wav->BlockAlign == 0 || Wav->HeaderDataBytes <= Wav->DataBytes)
    return 0;
  if (Wav->Container == WavContainer::Riff &&
      Wav->HeaderDataBytes >= 0xFFFFFFF0u)
    return 0;
  return Wav->headerFrames();
}

Result<std::unique_ptr<AudioFileReader>>
AudioFileReader::open(const std::string &Path) {
  SF_INFO Info = {};
  SNDFILE *File = sf_open(Path.c_str(), SFM_READ, &Info);
  if (!File)
    return fail(message<Msg::AudioFileCannotOpen>(Path, sndfileError(nullptr)));
  std::unique_ptr<AudioFileReader> R(new AudioFileReader());
  R->Path = Path;
  R->File = File;
  R->Channels = static_cast<unsigned>(Info.channels);
  R->Rate = Info.samplerate;
  R->Format = closestFormat(Info.format);
  R->Buffer.resize(size_t(ReadAheadFrames) * R->Channels);
  // SF_COUNT_MAX: a stream of unknown length (a FLAC without a count).
  if (Info.frames > 0 && Info.frames < SF_COUNT_MAX)
    R->Announced = static_cast<uint64_t>(Info.frames);
  // A header over no samples at all stays empty: it is refused as such, or
  // repaired (WavRepair.h), rather than read as a truncated file.
  if (R->Announced)
    R->Announced = std::max(R->Announced, claimedWavFrames(Path, Info.format));
  return R;
}

AudioFileReader::~AudioFileReader() {
  if (File)
    sf_close(static_cast<SNDFILE *>(File));
}

uint64_t AudioFileReader::read(float *Out, uint64_t Frames) {
  uint64_t Given = 0;
  while (Given < Frames) {
    if (BufferAt == BufferFrames) {
      // A render asks for 64 frames at a time; libsndfile would make a
      // read(2) of each: read ahead instead.
      if (Ended)
        break;
      BufferAt = 0;
      BufferFrames = fill(Buffer.data(), ReadAheadFrames);
      if (BufferFrames == 0)
        break;
    }
    uint64_t N = std::min(Frames - Given, BufferFrames - BufferAt);
    std::copy_n(Buffer.data() + BufferAt * Channels, N * Channels,
                Out + Given * Channels);
    BufferAt += N;
    Given += N;
  }
  return Given;
}

uint64_t AudioFileReader::fill(float *Out, uint64_t Frames) {
  auto *Sf = static_cast<SNDFILE *>(File);
  sf_count_t Got = sf_readf_float(Sf, Out, static_cast<sf_count_t>(Frames));
  if (Got > 0) {
    Done += static_cast<uint64_t>(Got);
    return static_cast<uint64_t>(Got);
  }
  // The end, or an error: the frame count in the header is not trusted to
  // be exact for every format, so reading goes on until libsndfile stops.
  Ended = true;
  if (sf_error(Sf) != SF_ERR_NO_ERROR)
    Error = sndfileError(Sf);
  return 0;
}

std::string AudioFileReader::problem() const {
  if (!Ended || BufferAt != BufferFrames)
    return "";
  if (Announced > Done)
    return message<Msg::AudioFileTruncated>(
        Path, formatSeconds(Done, Rate), formatSeconds(Announced, Rate),
        Error.empty() ? "" : " (" + Error + ")");
  if (!Error.empty())
    return message<Msg::AudioFileDamaged>(Path, formatSeconds(Done, Rate),
                                          Error);
  return "";
}

Result<AudioData> readAudioFile(const std::string &Path) {
  auto Reader = AudioFileReader::open(Path);
  if (!Reader)
    return fail(Reader.error());
  AudioFileReader &R = **Reader;
  AudioData Data;
  Data.Channels = R.channels();
  Data.SampleRate = R.sampleRate();
  Data.Format = R.format();
  const uint64_t Chunk = 65536;
  while (true) {
    size_t At = Data.Samples.size();
    Data.Samples.resize(At + Chunk * Data.Channels);
    uint64_t Got = R.read(Data.Samples.data() + At, Chunk);
    Data.Samples.resize(At + Got * Data.Channels);
    if (Got == 0)
      break;
  }
  if (!R.readError().empty())
    return fail(message<Msg::AudioFileCannotRead>(Path, R.readError()));
  return Data;
}

/// A path's extension, lower-case, without the dot ("" when it has none).
static std::string extensionOf(const std::string &Path) {
  std::string Extension;
  if (size_t Dot = Path.rfind('.');
      Dot != std::string::npos && Path.find('/', Dot) == std::string::npos)
    Extension = Path.substr(Dot + 1);
  std::transform(Extension.begin(), Extension.end(), Extension.begin(),
                 [](unsigned char C) { return std::tolower(C); });
  return Extension;
}

SampleFormat defaultFormatFor(const std::string &Path, SampleFormat Wanted) {
  return extensionOf(Path) == "ogg" ? SampleFormat::Float32 : Wanted;
}

/// The libsndfile format for a path's extension and a sample format.
static Result<int> fileFormat(const std::string &Path, SampleFormat Format) {
  std::string Extension = extensionOf(Path);
  int Container;
  if (Extension == "wav")
    Container = SF_FORMAT_RF64; // downgraded to RIFF below 4 GiB (create)
  else if (Extension == "aif" || Extension == "aiff")
    Container = SF_FORMAT_AIFF;
  else if (Extension == "flac")
    Container = SF_FORMAT_FLAC;
  else if (Extension == "ogg")
    Container = SF_FORMAT_OGG;
  else if (Extension == "caf")
    Container = SF_FORMAT_CAF;
  else if (Extension == "w64")
    Container = SF_FORMAT_W64;
  else
    return fail(message<Msg::UnknownFileType>(Path));

  if (Container == SF_FORMAT_OGG) {
    if (Format != SampleFormat::Float32)
      return fail(
          message<Msg::LossyTakesFloat>(Path, sampleFormatName(Format)));
    return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
  }
  if (Container == SF_FORMAT_FLAC && Format == SampleFormat::Float32)
    Format = SampleFormat::Pcm24;
  switch (Format) {
  case SampleFormat::Float32: return Container | SF_FORMAT_FLOAT;
  case SampleFormat::Pcm16: return Container | SF_FORMAT_PCM_16;
  case SampleFormat::Pcm24: return Container | SF_FORMAT_PCM_24;
  case SampleFormat::Pcm32: return Container | SF_FORMAT_PCM_32;
  }
  return Container | SF_FORMAT_FLOAT;
}

//===-- Quantizing --------------------------------------------------------===//

std::string ClipCount::text() const {
  char Text[96];
  std::snprintf(Text, sizeof Text, "%llu sample%s clipped (peak %+.1f dBFS)",
                static_cast<unsigned long long>(Samples),
                Samples == 1 ? "" : "s", 20 * std::log10(Peak));
  return Text;
}

/// Floats to integer PCM: scaled so that 1.0 is full scale, TPDF dither
/// added (Dither::Tpdf, 16 and 24 bits), rounded to the nearest step,
/// clipped to the format's range and counted when beyond full scale. The
/// result is left-aligned in 32 bits for sf_writef_int, which libsndfile
/// shifts down to the file's width exactly, so it rounds nothing again.
///
/// The dither comes from a xorshift generator with a fixed seed: the same
/// samples always become the same file.
class Quantizer {
public:
  Quantizer(SampleFormat Format, Dither D) {
    unsigned Bits = Format == SampleFormat::Pcm16   ? 16
                    : Format == SampleFormat::Pcm24 ? 24
                                                    : 32;
    Shift = 32 - Bits;
    Scale = std::ldexp(1.0, int(Bits) - 1);
    Dithered = D == Dither::Tpdf && Bits < 32;
  }

  /// Count interleaved samples, converted into a buffer of its own.
  const int *convert(const float *In, size_t Count) {
    if (Ints.size() < Count)
      Ints.resize(Count);
    const double Top = Scale - 1, Bottom = -Scale;
    for (size_t K = 0; K < Count; ++K) {
      double V = std::isfinite(In[K]) ? double(In[K]) : 0.0;
      if (std::fabs(V) > 1.0) {
        ++Clips.Samples;
        Clips.Peak = std::max(Clips.Peak, std::fabs(V));
      }
      double X = V * Scale;
      if (Dithered)
        X += uniform() - uniform();
      X = std::clamp(std::nearbyint(X), Bottom, Top);
      Ints[K] = int(int64_t(X) * (int64_t(1) << Shift));
    }
    return Ints.data();
  }

  ClipCount Clips;

private:
  /// Uniform in [0, 1), 24 bits of it.
  double uniform() {
    State ^= State << 13;
    State ^= State >> 7;
    State ^= State << 17;
    return double(State >> 40) * 0x1p-24;
  }

  unsigned Shift = 0;
  double Scale = 1;
  bool Dithered = false;
  uint64_t State = 0x9E3779B97F4A7C15ull;
  std::vector<int> Ints;
};

//===-- Syncing to the disk -----------------------------------------------===//

/// Calls fdatasync on a file every WriteCadence::SyncSeconds while it has
/// been written to since, on a thread of its own, so that the writing
/// thread never waits for the disk. The first pass also syncs the file's
/// directory, so that the new file's name survives a power cut too.
///
/// Thread contract: markDirty() and error() from the writing thread;
/// finish() (and the destructor) from the thread that closes the file,
/// before it closes the descriptor.
class FileSyncer {
public:
  FileSyncer(int Fd, std::string Directory)
      : Fd(Fd), Directory(std::move(Directory)), Thread([this] { loop(); }) {}
  ~FileSyncer() { (void)finish(); }
  FileSyncer(const FileSyncer &) = delete;
  FileSyncer &operator=(const FileSyncer &) = delete;

  void markDirty() { Dirty.store(true, std::memory_order_relaxed); }

  /// The first failed sync's reason, or "".
  std::string error() {
    if (!Failed.load(std::memory_order_acquire))
      return "";
    std::lock_guard<std::mutex> Guard(Lock);
    return Error;
  }

  /// Stops the thread and syncs once more; the first failure's reason, or
  /// "". Idempotent.
  std::string finish() {
    {
      std::lock_guard<std::mutex> Guard(Lock);
      Stop = true;
    }
    Wake.notify_one();
    if (Thread.joinable()) {
      Thread.join();
      syncNow();
    }
    return error();
  }

private:
  void loop() {
    const auto Period =
        std::chrono::duration<double>(WriteCadence::SyncSeconds);
    syncDirectory();
    std::unique_lock<std::mutex> Guard(Lock);
    while (!Stop) {
      Wake.wait_for(Guard, Period, [this] { return Stop; });
      if (Stop)
        break;
      Guard.unlock();
      syncNow();
      Guard.lock();
    }
  }

  void syncNow() {
    if (!Dirty.exchange(false, std::memory_order_relaxed))
      return;
    // EINVAL: a descriptor that cannot be synced (a device such as
    // /dev/null); there is nothing to keep.
    if (fdatasync(Fd) != 0 && errno != EINVAL)
      setError(std::generic_category().message(errno));
  }

  void syncDirectory() {
    int D = open(Directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (D < 0)
      return;
    (void)fsync(D); // best effort: some file systems cannot sync directories
    ::close(D);
  }

  void setError(std::string Message) {
    std::lock_guard<std::mutex> Guard(Lock);
    if (Error.empty())
      Error = std::move(Message);
    Failed.store(true, std::memory_order_release);
  }

  const int Fd;
  const std::string Directory;
  std::atomic<bool> Dirty{true};   ///< a new file: its creation to sync
  std::atomic<bool> Failed{false}; ///< Error is set
  std::mutex Lock;                 ///< Stop and Error
  std::condition_variable Wake;
  bool Stop = false;
  std::string Error;
  std::thread Thread; ///< last: starts once the rest is set
};

//===-- Writing -----------------------------------------------------------===//

/// The directory a new file at `Path` is named in.
static std::string directoryOf(const std::string &Path) {
  std::filesystem::path Parent = std::filesystem::path(Path).parent_path();
  return Parent.empty() ? "." : Parent.string();
}

Result<AudioFileWriter> AudioFileWriter::create(const std::string &Path,
                                                unsigned Channels,
                                                double SampleRate,
                                                SampleFormat Format,
                                                CrashSafety Safety, Dither D) {
  if (Channels == 0)
    return fail(message<Msg::NoChannelsToWrite>(Path));
  if (!(SampleRate > 0) || SampleRate != std::floor(SampleRate) ||
      SampleRate > 1e7)
    return fail(message<Msg::RateNotWholeHz>(Path, SampleRate));
  auto Type = fileFormat(Path, Format);
  if (!Type)
    return fail(Type.error());

  SF_INFO Info = {};
  Info.channels = static_cast<int>(Channels);
  Info.samplerate = static_cast<int>(SampleRate);
  Info.format = *Type;
  if (!sf_format_check(&Info))
    return fail(message<Msg::SampleFormatUnsupported>(
        Path, sampleFormatName(Format), Channels));
  // Opened here rather than by sf_open, as sf_open would (same flags and
  // mode), to keep the descriptor for fdatasync.
  int Fd = open(Path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                S_IRUSR | S_IWUSR | S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH);
  if (Fd < 0)
    return fail(message<Msg::AudioFileCannotCreate>(
        Path, std::generic_category().message(errno)));
  // On failure libsndfile closes the descriptor; on success it is ours.
  SNDFILE *File = sf_open_fd(Fd, SFM_WRITE, &Info, /*close_desc=*/SF_FALSE);
  if (!File)
    return fail(
        message<Msg::AudioFileCannotCreate>(Path, sndfileError(nullptr)));
  // Out-of-range floats clip to full scale instead of wrapping around (the
  // Quantizer clips what it converts; this is for anything else).
  sf_command(File, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  if ((*Type & SF_FORMAT_TYPEMASK) == SF_FORMAT_RF64)
    sf_command(File, SFC_RF64_AUTO_DOWNGRADE, nullptr, SF_TRUE);
  if ((*Type & SF_FORMAT_SUBMASK) == SF_FORMAT_VORBIS) {
    // Quality 0.7 of 1 (about 200 kb/s in stereo), above libsndfile's 0.4:
    // a render is a master, not a preview.
    double Compression = 0.3;
    sf_command(File, SFC_SET_COMPRESSION_LEVEL, &Compression,
               sizeof Compression);
  }
  std::unique_ptr<Quantizer> Quantize;
  switch (*Type & SF_FORMAT_SUBMASK) {
  case SF_FORMAT_PCM_16:
    Quantize = std::make_unique<Quantizer>(SampleFormat::Pcm16, D);
    break;
  case SF_FORMAT_PCM_24:
    Quantize = std::make_unique<Quantizer>(SampleFormat::Pcm24, D);
    break;
  case SF_FORMAT_PCM_32:
    Quantize = std::make_unique<Quantizer>(SampleFormat::Pcm32, D);
    break;
  default: break;
  }
  std::unique_ptr<FileSyncer> Sync;
  if (Safety == CrashSafety::PowerCut)
    Sync = std::make_unique<FileSyncer>(Fd, directoryOf(Path));
  // An Ogg stream has no sizes to rewrite: pages follow one another, each
  // readable as it is written (and libsndfile's header update breaks it).
  const auto HeaderFrames =
      (*Type & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG
          ? std::numeric_limits<uint64_t>::max()
          : static_cast<uint64_t>(std::max(
                1.0, std::round(WriteCadence::HeaderSeconds * SampleRate)));
  return AudioFileWriter(Path, File, Fd, Channels, HeaderFrames,
                         std::move(Sync), std::move(Quantize));
}

AudioFileWriter::AudioFileWriter(std::string Path, void *File, int Fd,
                                 unsigned Channels, uint64_t HeaderFrames,
                                 std::unique_ptr<FileSyncer> Sync,
                                 std::unique_ptr<Quantizer> Quantize)
    : Path(std::move(Path)), File(File), Fd(Fd), Channels(Channels),
      HeaderFrames(HeaderFrames), Sync(std::move(Sync)),
      Quantize(std::move(Quantize)) {}

AudioFileWriter::AudioFileWriter(AudioFileWriter &&Other) noexcept
    : Path(std::move(Other.Path)), File(std::exchange(Other.File, nullptr)),
      Fd(std::exchange(Other.Fd, -1)), Channels(Other.Channels),
      Written(Other.Written), HeaderFrames(Other.HeaderFrames),
      HeaderAt(Other.HeaderAt), Sync(std::move(Other.Sync)),
      Quantize(std::move(Other.Quantize)) {}

AudioFileWriter &AudioFileWriter::operator=(AudioFileWriter &&Other) noexcept {
  if (this != &Other) {
    (void)close();
    Path = std::move(Other.Path);
    File = std::exchange(Other.File, nullptr);
    Fd = std::exchange(Other.Fd, -1);
    Channels = Other.Channels;
    Written = Other.Written;
    HeaderFrames = Other.HeaderFrames;
    HeaderAt = Other.HeaderAt;
    Sync = std::move(Other.Sync);
    Quantize = std::move(Other.Quantize);
  }
  return *this;
}

AudioFileWriter::~AudioFileWriter() { (void)close(); }

Result<void> AudioFileWriter::write(const float *Samples, uint64_t Frames) {
  if (!File)
    return fail(message<Msg::AudioFileClosed>(Path));
  auto *Sf = static_cast<SNDFILE *>(File);
  sf_count_t Count =
      Quantize
          ? sf_writef_int(Sf, Quantize->convert(Samples, Frames * Channels),
                          static_cast<sf_count_t>(Frames))
          : sf_writef_float(Sf, Samples, static_cast<sf_count_t>(Frames));
  if (Count > 0)
    Written += static_cast<uint64_t>(Count);
  if (Count != static_cast<sf_count_t>(Frames))
    return fail(message<Msg::AudioFileCannotWrite>(Path, sndfileError(Sf)));
  if (Written - HeaderAt >= HeaderFrames) {
    sf_command(Sf, SFC_UPDATE_HEADER_NOW, nullptr, 0);
    HeaderAt = Written;
    if (sf_error(Sf) != SF_ERR_NO_ERROR)
      return fail(message<Msg::AudioFileCannotWrite>(Path, sndfileError(Sf)));
  }
  if (Sync) {
    Sync->markDirty();
    if (std::string Error = Sync->error(); !Error.empty())
      return fail(message<Msg::AudioFileCannotSync>(Path, Error));
  }
  return {};
}

ClipCount AudioFileWriter::clipped() const {
  return Quantize ? Quantize->Clips : ClipCount();
}

Result<void> AudioFileWriter::close() {
  if (!File)
    return {};
  auto *Sf = static_cast<SNDFILE *>(std::exchange(File, nullptr));
  int Error = sf_close(Sf); // the final header, through Fd
  std::string SyncError;
  if (Sync) {
    Sync->markDirty();
    SyncError = Sync->finish();
    Sync.reset();
  }
  int Closed = ::close(std::exchange(Fd, -1));
  const int CloseErrno = errno;
  if (Error != 0)
    return fail(
        message<Msg::AudioFileCannotFinish>(Path, sf_error_number(Error)));
  if (!SyncError.empty())
    return fail(message<Msg::AudioFileCannotSync>(Path, SyncError));
  if (Closed != 0)
    return fail(message<Msg::AudioFileCannotFinish>(
        Path, std::generic_category().message(CloseErrno)));
  return {};
}

Result<void> writeAudioFile(const std::string &Path, const float *Samples,
                            uint64_t Frames, unsigned Channels,
                            double SampleRate, SampleFormat Format, Dither D) {
  // Written in one go: nothing is in progress long enough to need syncing.
  auto Writer = AudioFileWriter::create(Path, Channels, SampleRate, Format,
                                        CrashSafety::Kill, D);
  if (!Writer)
    return fail(Writer.error());
  if (auto Written = Writer->write(Samples, Frames); !Written)
    return Written;
  return Writer->close();
}

} // namespace dspjit
