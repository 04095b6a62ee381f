//===- runtime/AudioFile.cpp - Whole audio files in and out ---------------===//
//
// libsndfile behind the small interface of AudioFile.h.
//
//===----------------------------------------------------------------------===//
#include "runtime/AudioFile.h"

#include "runtime/MessageCatalog.h"

#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <cmath>
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
    Container = SF_FORMAT_WAV;
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

Result<AudioFileWriter> AudioFileWriter::create(const std::string &Path,
                                                unsigned Channels,
                                                double SampleRate,
                                                SampleFormat Format) {
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
  SNDFILE *File = sf_open(Path.c_str(), SFM_WRITE, &Info);
  if (!File)
    return fail(
        message<Msg::AudioFileCannotCreate>(Path, sndfileError(nullptr)));
  // Out-of-range floats clip to full scale instead of wrapping around.
  sf_command(File, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  return AudioFileWriter(Path, File, Channels);
}

AudioFileWriter::AudioFileWriter(AudioFileWriter &&Other) noexcept
    : Path(std::move(Other.Path)), File(std::exchange(Other.File, nullptr)),
      Channels(Other.Channels), Written(Other.Written) {}

AudioFileWriter &AudioFileWriter::operator=(AudioFileWriter &&Other) noexcept {
  if (this != &Other) {
    (void)close();
    Path = std::move(Other.Path);
    File = std::exchange(Other.File, nullptr);
    Channels = Other.Channels;
    Written = Other.Written;
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
  return {};
}

Result<void> AudioFileWriter::close() {
  if (!File)
    return {};
  auto *Sf = static_cast<SNDFILE *>(std::exchange(File, nullptr));
  if (int Error = sf_close(Sf); Error != 0)
    return fail(
        message<Msg::AudioFileCannotFinish>(Path, sf_error_number(Error)));
  return {};
}

Result<void> writeAudioFile(const std::string &Path, const float *Samples,
                            uint64_t Frames, unsigned Channels,
                            double SampleRate, SampleFormat Format) {
  auto Writer = AudioFileWriter::create(Path, Channels, SampleRate, Format);
  if (!Writer)
    return fail(Writer.error());
  if (auto Written = Writer->write(Samples, Frames); !Written)
    return Written;
  return Writer->close();
}

} // namespace dspjit
