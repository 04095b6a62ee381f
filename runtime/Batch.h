//===- runtime/Batch.h - Many files through one kernel ------------*- C++ -*-===//
//
// `dspjit render SCRIPT IN... --out-dir DIR --jobs N`: a data set, a folder
// of clips, a night of stems through one compiled kernel. The kernel is
// compiled once; each file gets an instance of its own, so a file's output
// does not depend on which thread rendered it or on what it rendered before
// (`--jobs 4` is bit-identical to `--jobs 1`). A file that fails is
// reported and the others go on.
//
// This file holds what is not one render: the inputs a command line names
// (files, globs, list files), where their outputs go, the parameter values
// of each file from a CSV table, and the pool of threads that renders them.
//
// Thread contract: everything here allocates and does file I/O; none of it
// runs on an audio thread. runBatch calls its function on worker threads.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_BATCH_H
#define DSPJIT_RUNTIME_BATCH_H

#include "runtime/Result.h"
#include "runtime/dspjit_abi.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dspjit {

/// The inputs named on a command line, in order: a file as it is, a glob
/// ("clips/*.wav", sorted, and an error when it matches nothing), or
/// "@list.txt", a file of paths (and globs), one per line, '#' comments,
/// relative to the list's own directory. A file named twice is an error.
Result<std::vector<std::string>>
expandInputs(const std::vector<std::string> &Args);

/// Where each input's output goes: `Dir`/<the input's file name>, with its
/// extension replaced by `Extension` (".flac") when that is not empty.
/// Refuses two inputs whose outputs would have one name, and an output
/// that would overwrite its own input, and a `Dir` that is a file. Creates
/// nothing (makeOutputDir does, once everything else is checked).
Result<std::vector<std::string>>
outputPaths(const std::vector<std::string> &Inputs, const std::string &Dir,
            const std::string &Extension = "");

/// Creates the output directory (and its parents) if needed.
Result<void> makeOutputDir(const std::string &Dir);

/// Parameter values by input, from `--params-csv`: a header row whose
/// first column names the input files and whose other columns are
/// parameters of the kernel; then one row per input (matched by the path
/// as given, or by file name when that is unique), values in range.
struct ParamsTable {
  std::vector<std::string> Params; ///< the header's parameter columns
  /// Input path (as in `Inputs`) -> one value per column.
  std::map<std::string, std::vector<float>> Rows;
};

/// Reads `Path` for `Inputs`. Every input must have a row; a row for a
/// file that is not an input is an error (a typo would otherwise render
/// that file with the defaults, silently).
Result<ParamsTable> readParamsCsv(const std::string &Path,
                                  const std::vector<std::string> &Inputs,
                                  const DspjitKernel &Kernel);

/// What rendering one file did.
struct BatchFileResult {
  bool Ok = false;
  std::string Error;                 ///< why not, when !Ok
  std::vector<std::string> Warnings; ///< e.g. samples clipped
  double AudioSeconds = 0;           ///< of output written
  double ProcessSeconds = 0;
  double WallSeconds = 0; ///< the whole file: reading, processing, writing
};

struct BatchSummary {
  size_t Files = 0, Failed = 0;
  double AudioSeconds = 0, ProcessSeconds = 0;
  double WallSeconds = 0; ///< the whole batch
  unsigned Jobs = 0;
  /// Audio seconds per wall-clock second of the whole batch.
  double realTimeFactor() const;
  /// The exit status of a batch: 0, or how many files failed (at most
  /// 100, so that it never reads as a signal's 128 + N).
  int exitStatus() const;
};

/// Renders items 0 to Count - 1 with `RenderOne` on `Jobs` threads (0: one
/// per core; never more than Count), taking them in order. `Report` is
/// called as each finishes, one call at a time, from the thread that
/// rendered it. `Stop`, if given, is checked before each item is taken: an
/// interrupted batch leaves the rest untaken (counted as failed).
BatchSummary
runBatch(size_t Count, unsigned Jobs,
         const std::function<BatchFileResult(size_t)> &RenderOne,
         const std::function<void(size_t, const BatchFileResult &)> &Report,
         const std::function<bool()> &Stop = {});

} // namespace dspjit

#endif
