//===- compiler/TableFiles.cpp - Sound files as tables --------------------===//
#include "compiler/TableFiles.h"
#include "runtime/AudioFile.h"

#include <soxr.h>

#include <filesystem>

namespace dspjit {

/// Converts interleaved float frames from one rate to another with libsoxr
/// (its high-quality recipe), or says why it cannot.
static Result<std::vector<float>> resample(const std::vector<float> &In,
                                           unsigned Channels, double From,
                                           double To) {
  size_t InFrames = In.size() / Channels;
  size_t OutFrames = size_t(double(InFrames) * To / From + 0.5);
  std::vector<float> Out(std::max<size_t>(OutFrames, 1) * Channels);
  soxr_io_spec_t Io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t Quality = soxr_quality_spec(SOXR_HQ, 0);
  size_t Done = 0;
  soxr_error_t Error =
      soxr_oneshot(From, To, Channels, In.data(), InFrames, nullptr, Out.data(),
                   OutFrames, &Done, &Io, &Quality, nullptr);
  if (Error)
    return fail(std::string("cannot resample it: ") + Error);
  Out.resize(Done * Channels);
  return Out;
}

TableFileResult loadTableFile(const std::string &Path, bool Resample,
                              double Rate, unsigned MaxChannels,
                              uint64_t MaxBytes, unsigned ElemBytes) {
  TableFileResult R;
  auto Refuse = [&](TableFileProblem Problem, std::string Why = "") {
    R.Problem = Problem;
    R.Why = std::move(Why);
    return R;
  };
  std::error_code EC;
  if (!std::filesystem::exists(Path, EC))
    return Refuse(TableFileProblem::Unreadable, "no such file");
  if (std::filesystem::is_directory(Path, EC))
    return Refuse(TableFileProblem::Unreadable,
                  "it is a directory, not a file");
  // Uncompressed formats hold at most 8 bytes per value (64-bit floats):
  // a file whose values could not fit is refused before it is read.
  if (auto Bytes = std::filesystem::file_size(Path, EC);
      !EC && Bytes / 8 * ElemBytes > MaxBytes + (1 << 20)) {
    R.Bytes = Bytes;
    return Refuse(TableFileProblem::TooLarge);
  }
  Result<AudioData> Audio = readAudioFile(Path);
  if (!Audio) {
    // The reason alone: the declaration's message names the file as the
    // script wrote it.
    std::string Why = Audio.error();
    if (size_t At = Why.find("': "); At != std::string::npos)
      Why = Why.substr(At + 3);
    return Refuse(TableFileProblem::Unreadable, Why);
  }
  if (Audio->Channels > MaxChannels) {
    R.File.Channels = Audio->Channels;
    return Refuse(TableFileProblem::TooManyChannels);
  }
  if (Audio->frames() == 0)
    return Refuse(TableFileProblem::Empty);
  R.File.FileRate = Audio->SampleRate;
  std::vector<float> Samples = std::move(Audio->Samples);
  if (Resample && Audio->SampleRate != Rate) {
    auto Converted =
        resample(Samples, Audio->Channels, Audio->SampleRate, Rate);
    if (!Converted)
      return Refuse(TableFileProblem::Unreadable, Converted.error());
    Samples = std::move(*Converted);
    R.File.Resampled = true;
    if (Samples.empty())
      return Refuse(TableFileProblem::Empty);
  }
  R.File.Channels = Audio->Channels;
  R.File.Frames = Samples.size() / Audio->Channels;
  R.Bytes = uint64_t(Samples.size()) * ElemBytes;
  if (R.Bytes > MaxBytes)
    return Refuse(TableFileProblem::TooLarge);
  R.File.Data.assign(Samples.begin(), Samples.end());
  return R;
}

} // namespace dspjit
