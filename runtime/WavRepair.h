//===- runtime/WavRepair.h - WAV headers put right after a crash -*- C++ -*-===//
//
// A WAV file is a header that gives sizes, then the samples. A program
// killed while it wrote one -- dspjit before its files kept their headers
// up to date (runtime/AudioFile.h, WriteCadence), or any other program --
// leaves the samples on disk behind a header that says 0 frames, or fewer
// than are there, and readers see an empty or a short file. `dspjit
// repair` is this: it walks the chunks, finds 'fmt ' and 'data', and sets
// every size (RIFF, data, fact; RF64's ds64) to what the file holds,
// rounded down to whole frames. Only size fields are written and no sample
// moves, so a repair cut short can be run again.
//
// Containers: RIFF/WAVE, RF64 (sizes in its ds64 chunk) and Sony Wave64;
// samples in PCM, float, A-law or mu-law, plain or WAVE_FORMAT_EXTENSIBLE.
//
// Where the samples end: the data chunk is taken to run to the end of the
// file, unless what follows the size its header gives is a well-formed run
// of chunks up to the end of the file (a LIST after the samples, as some
// programs write them) or an ID3 tag; then that size is right.
//
// Thread contract: file I/O and allocation; not for the audio thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_WAVREPAIR_H
#define DSPJIT_RUNTIME_WAVREPAIR_H

#include "runtime/Result.h"

#include <cstdint>
#include <string>

namespace dspjit {

enum class WavContainer { Riff, Rf64, Wave64 };

/// "RIFF/WAVE", "RF64" or "Wave64".
const char *wavContainerName(WavContainer Container);

/// What a WAV file's header says about its samples and what the file holds.
struct WavInspection {
  WavContainer Container = WavContainer::Riff;
  unsigned Channels = 0;
  unsigned SampleRate = 0;
  unsigned BlockAlign = 0; ///< bytes per frame
  uint64_t FileBytes = 0;
  uint64_t DataOffset = 0;      ///< where the samples start
  uint64_t HeaderDataBytes = 0; ///< the size of the samples, as the header says
  uint64_t DataBytes = 0;       ///< the size they have: whole frames
  /// Every size in the header already agrees with DataBytes.
  bool HeaderRight = false;

  uint64_t headerFrames() const { return HeaderDataBytes / BlockAlign; }
  uint64_t frames() const { return DataBytes / BlockAlign; }
  double seconds() const { return double(frames()) / SampleRate; }
};

/// Reads the header of `Path` and what follows it, and works out what the
/// sizes should be. Fails with a message for a file that cannot be read,
/// is not a WAV file or has no 'fmt ' or 'data' chunk.
Result<WavInspection> inspectWav(const std::string &Path);

/// Puts the header's sizes right: in `Path` itself, or, with `OutPath`, in
/// a copy of it there (the original untouched). Returns what was found;
/// when it says HeaderRight, nothing needed to change and nothing was
/// written (nor copied). The changes are synced to the disk.
Result<WavInspection> repairWav(const std::string &Path,
                                const std::string &OutPath = {});

/// For a file that reads as empty: when it is a WAV file whose samples are
/// there behind a header that says 0 frames, the message that says so and
/// names `dspjit repair`; otherwise "".
std::string repairAdviceForEmpty(const std::string &Path);

} // namespace dspjit

#endif
