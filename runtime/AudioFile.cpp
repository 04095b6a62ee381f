//===- runtime/AudioFile.cpp - Whole audio files in and out ---------------===//
//
// libsndfile behind the small interface of AudioFile.h, and what keeps a
// file being written readable if the process dies (WriteCadence): the
// writer opens the file itself, so that it has the descriptor to sync, and
// a FileSyncer thread syncs it.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"

#include "runtime/MessageCatalog.h"

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
#include <filesystem>
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
  return fail(message<Msg::InvalidSampleFormat>(Text));
}

/// libsndfile's message without its "System error : " prefix and final
/// period, so it reads well after "cannot open 'x': ".
static std::string sndfileError(SNDFILE *File) {
  std::string Message = sf_strerror(File);
  const std::string Prefix = "System error : ";
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
  default: return SampleFormat::Float32;
  }
}

Result<AudioData> readAudioFile(const std::string &Path) {
  SF_INFO Info = {};
  SNDFILE *File = sf_open(Path.c_str(), SFM_READ, &Info);
  if (!File)
    return fail(message<Msg::AudioFileCannotOpen>(Path, sndfileError(nullptr)));

  AudioData Data;
  Data.Channels = static_cast<unsigned>(Info.channels);
  Data.SampleRate = Info.samplerate;
  Data.Format = closestFormat(Info.format);

  // Read in chunks until the end: the frame count in the header is not
  // trusted to be exact for every format.
  const sf_count_t Chunk = 65536;
  std::vector<float> Block(static_cast<size_t>(Chunk) * Data.Channels);
  while (true) {
    sf_count_t Got = sf_readf_float(File, Block.data(), Chunk);
    if (Got <= 0)
      break;
    Data.Samples.insert(Data.Samples.end(), Block.begin(),
                        Block.begin() + Got * Data.Channels);
  }
  int Error = sf_error(File);
  std::string Message = Error ? sndfileError(File) : "";
  sf_close(File);
  if (Error)
    return fail(message<Msg::AudioFileCannotRead>(Path, Message));
  return Data;
}

/// The libsndfile format for a path's extension and a sample format.
static Result<int> fileFormat(const std::string &Path, SampleFormat Format) {
  std::string Extension;
  if (size_t Dot = Path.rfind('.');
      Dot != std::string::npos && Path.find('/', Dot) == std::string::npos)
    Extension = Path.substr(Dot + 1);
  std::transform(Extension.begin(), Extension.end(), Extension.begin(),
                 [](unsigned char C) { return std::tolower(C); });

  int Container;
  if (Extension == "wav")
    Container = SF_FORMAT_RF64; // downgraded to RIFF below 4 GiB (create)
  else if (Extension == "aif" || Extension == "aiff")
    Container = SF_FORMAT_AIFF;
  else if (Extension == "flac")
    Container = SF_FORMAT_FLAC;
  else if (Extension == "caf")
    Container = SF_FORMAT_CAF;
  else if (Extension == "w64")
    Container = SF_FORMAT_W64;
  else
    return fail(message<Msg::UnknownFileType>(Path));

  if (Container == SF_FORMAT_FLAC && Format == SampleFormat::Float32)
    Format = SampleFormat::Pcm24;
  switch (Format) {
  case SampleFormat::Float32: return Container | SF_FORMAT_FLOAT;
  case SampleFormat::Pcm16: return Container | SF_FORMAT_PCM_16;
  case SampleFormat::Pcm24: return Container | SF_FORMAT_PCM_24;
  }
  return Container | SF_FORMAT_FLOAT;
}

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
                                                CrashSafety Safety) {
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
  // Out-of-range floats clip to full scale instead of wrapping around.
  sf_command(File, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  if ((*Type & SF_FORMAT_TYPEMASK) == SF_FORMAT_RF64)
    sf_command(File, SFC_RF64_AUTO_DOWNGRADE, nullptr, SF_TRUE);
  std::unique_ptr<FileSyncer> Sync;
  if (Safety == CrashSafety::PowerCut)
    Sync = std::make_unique<FileSyncer>(Fd, directoryOf(Path));
  const auto HeaderFrames = static_cast<uint64_t>(
      std::max(1.0, std::round(WriteCadence::HeaderSeconds * SampleRate)));
  return AudioFileWriter(Path, File, Fd, Channels, HeaderFrames,
                         std::move(Sync));
}

AudioFileWriter::AudioFileWriter(std::string Path, void *File, int Fd,
                                 unsigned Channels, uint64_t HeaderFrames,
                                 std::unique_ptr<FileSyncer> Sync)
    : Path(std::move(Path)), File(File), Fd(Fd), Channels(Channels),
      HeaderFrames(HeaderFrames), Sync(std::move(Sync)) {}

AudioFileWriter::AudioFileWriter(AudioFileWriter &&Other) noexcept
    : Path(std::move(Other.Path)), File(std::exchange(Other.File, nullptr)),
      Fd(std::exchange(Other.Fd, -1)), Channels(Other.Channels),
      Written(Other.Written), HeaderFrames(Other.HeaderFrames),
      HeaderAt(Other.HeaderAt), Sync(std::move(Other.Sync)) {}

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
  }
  return *this;
}

AudioFileWriter::~AudioFileWriter() { (void)close(); }

Result<void> AudioFileWriter::write(const float *Samples, uint64_t Frames) {
  if (!File)
    return fail(message<Msg::AudioFileClosed>(Path));
  auto *Sf = static_cast<SNDFILE *>(File);
  sf_count_t Count =
      sf_writef_float(Sf, Samples, static_cast<sf_count_t>(Frames));
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
                            double SampleRate, SampleFormat Format) {
  // Written in one go: nothing is in progress long enough to need syncing.
  auto Writer = AudioFileWriter::create(Path, Channels, SampleRate, Format,
                                        CrashSafety::Kill);
  if (!Writer)
    return fail(Writer.error());
  if (auto Written = Writer->write(Samples, Frames); !Written)
    return Written;
  return Writer->close();
}

} // namespace dspjit
