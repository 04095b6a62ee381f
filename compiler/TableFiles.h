//===- compiler/TableFiles.h - Sound files as tables ------------*- C++ -*-===//
//
// Why this exists: `table kick = file "kick.wav";` makes a sound file part
// of a script, as read-only data compiled into the kernel. Reading it (with
// libsndfile, runtime/AudioFile.h) and, when the script asks with
// `resample`, converting it to the stream's rate (with libsoxr, not a
// resampler of our own) is one job, apart from the elaborator that decides
// what the declaration means.
//
// Thread contract: file I/O and allocation; the compiling thread only.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_TABLEFILES_H
#define DSPJIT_COMPILER_TABLEFILES_H

#include "runtime/Result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dspjit {

/// A sound file's frames, one element per frame, its channels as lanes.
struct TableFileData {
  std::vector<double> Data; ///< Frames x Channels, interleaved
  unsigned Channels = 0;
  uint64_t Frames = 0;
  double FileRate = 0;
  bool Resampled = false; ///< converted to the stream's rate
};

/// Why a table file cannot be used, for the catalog's messages.
enum class TableFileProblem {
  None,
  Unreadable,
  Empty,
  TooManyChannels,
  TooLarge
};

struct TableFileResult {
  TableFileProblem Problem = TableFileProblem::None;
  std::string Why;    ///< Unreadable: libsndfile's or libsoxr's reason
  uint64_t Bytes = 0; ///< TooLarge: the data's size (or the file's)
  TableFileData File;
};

/// Reads `Path` whole; with `Resample`, converts it to `Rate` when its own
/// rate differs (libsoxr, high quality). A file of more than
/// `MaxChannels` channels, or whose data takes more than `MaxBytes` at
/// `ElemBytes` per value, is refused without being kept.
TableFileResult loadTableFile(const std::string &Path, bool Resample,
                              double Rate, unsigned MaxChannels,
                              uint64_t MaxBytes, unsigned ElemBytes);

} // namespace dspjit

#endif
