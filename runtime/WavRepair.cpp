//===- runtime/WavRepair.cpp - WAV headers put right after a crash --------===//
//
// See WavRepair.h. Reading gives a WavInspection and the list of size
// fields that are wrong (patches: an offset and its new little-endian
// bytes); repairing writes the patches with pwrite and syncs.
//
//===----------------------------------------------------------------------===//
#include "runtime/WavRepair.h"

#include "runtime/MessageCatalog.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <vector>

namespace dspjit {

const char *wavContainerName(WavContainer Container) {
  switch (Container) {
  case WavContainer::Riff: return "RIFF/WAVE";
  case WavContainer::Rf64: return "RF64";
  case WavContainer::Wave64: return "Wave64";
  }
  return "?";
}

namespace {

std::string errnoText(int Error) {
  return std::generic_category().message(Error);
}

/// A size field to rewrite: its offset and new value, 4 or 8 bytes wide.
struct Patch {
  uint64_t Offset;
  uint64_t Value;
  unsigned Width;
};

/// A file read at offsets (pread), its size known.
class FileReader {
public:
  explicit FileReader(int Fd, uint64_t Size) : Fd(Fd), Size(Size) {}
  uint64_t size() const { return Size; }
  /// Reads exactly N bytes at At, or fails.
  bool read(uint64_t At, void *To, size_t N) const {
    if (At > Size || N > Size - At)
      return false;
    auto *P = static_cast<unsigned char *>(To);
    while (N) {
      ssize_t Got = pread(Fd, P, N, off_t(At));
      if (Got <= 0)
        return false;
      P += Got, At += uint64_t(Got), N -= size_t(Got);
    }
    return true;
  }
  std::optional<uint64_t> le(uint64_t At, unsigned Width) const {
    unsigned char B[8];
    if (!read(At, B, Width))
      return std::nullopt;
    uint64_t V = 0;
    for (unsigned I = 0; I < Width; ++I)
      V |= uint64_t(B[I]) << (8 * I);
    return V;
  }
  bool isId(uint64_t At, const char *Id, size_t N = 4) const {
    char B[16];
    return N <= sizeof B && read(At, B, N) && std::memcmp(B, Id, N) == 0;
  }

private:
  int Fd;
  uint64_t Size;
};

/// Wave64's GUIDs: a chunk's name in their first four bytes, then one of
/// two tails (libsndfile's src/w64.c).
constexpr unsigned char RiffGuidTail[12] = {0x2E, 0x91, 0xCF, 0x11, 0xA5, 0xD6,
                                            0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00};
constexpr unsigned char ChunkGuidTail[12] = {
    0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A};

bool isGuid(const FileReader &F, uint64_t At, const char *Name,
            const unsigned char *Tail) {
  unsigned char B[16];
  return F.read(At, B, 16) && std::memcmp(B, Name, 4) == 0 &&
         std::memcmp(B + 4, Tail, 12) == 0;
}

/// The chunk layout of one container: header sizes and alignment.
struct Layout {
  WavContainer Container;
  uint64_t IdBytes;      ///< 4, or 16 for a Wave64 GUID
  unsigned SizeBytes;    ///< 4, or 8
  uint64_t HeaderBytes;  ///< id and size
  uint64_t Align;        ///< 2, or 8
  bool SizeCountsHeader; ///< Wave64's sizes include the chunk's header

  uint64_t padded(uint64_t N) const { return (N + Align - 1) / Align * Align; }
};

constexpr Layout RiffLayout = {WavContainer::Riff, 4, 4, 8, 2, false};
constexpr Layout Rf64Layout = {WavContainer::Rf64, 4, 4, 8, 2, false};
constexpr Layout Wave64Layout = {WavContainer::Wave64, 16, 8, 24, 8, true};

bool printable(const unsigned char *Id) {
  for (int I = 0; I < 4; ++I)
    if (Id[I] < 0x20 || Id[I] > 0x7E)
      return false;
  return true;
}

/// True when [At, End) is a run of well-formed chunks that ends exactly at
/// End (the last one's pad byte may be missing).
bool chunksTile(const FileReader &F, const Layout &L, uint64_t At,
                uint64_t End) {
  while (At < End) {
    if (End - At < L.HeaderBytes)
      return false;
    unsigned char Id[4];
    if (!F.read(At, Id, 4) || !printable(Id))
      return false;
    auto Size = F.le(At + L.IdBytes, L.SizeBytes);
    if (!Size)
      return false;
    uint64_t Body =
        L.SizeCountsHeader ? *Size - std::min(*Size, L.HeaderBytes) : *Size;
    if (L.SizeCountsHeader && *Size < L.HeaderBytes)
      return false;
    if (Body > End - At - L.HeaderBytes)
      return false;
    uint64_t Next = At + L.HeaderBytes + L.padded(Body);
    if (Next > End)
      return At + L.HeaderBytes + Body == End;
    At = Next;
  }
  return true;
}

/// What a file needs: what inspectWav reports, and the patches.
struct Diagnosis {
  WavInspection I;
  std::vector<Patch> Patches;
};

/// The format tags whose frames are BlockAlign bytes each: PCM, IEEE
/// float, A-law, mu-law, and WAVE_FORMAT_EXTENSIBLE (its subformat one of
/// them, as every writer of it we know uses).
bool framesAreBlocks(unsigned Tag) {
  return Tag == 1 || Tag == 3 || Tag == 6 || Tag == 7 || Tag == 0xFFFE;
}

/// Walks the chunks of a RIFF, RF64 or Wave64 file up to its data chunk and
/// works out the sizes it should have.
Result<Diagnosis> diagnose(const FileReader &F, const std::string &Path) {
  Diagnosis D;
  WavInspection &I = D.I;
  I.FileBytes = F.size();
  const Layout *L = nullptr;
  uint64_t At = 0;
  if (F.isId(0, "RIFF") && F.isId(8, "WAVE"))
    L = &RiffLayout, At = 12;
  else if (F.isId(0, "RF64") && F.isId(8, "WAVE"))
    L = &Rf64Layout, At = 12;
  else if (isGuid(F, 0, "riff", RiffGuidTail) &&
           isGuid(F, 24, "wave", ChunkGuidTail))
    L = &Wave64Layout, At = 40;
  else
    return fail(message<Msg::RepairNotWav>(Path));
  I.Container = L->Container;
  auto isChunk = [&](uint64_t Where, const char *Name) {
    return L->IdBytes == 16 ? isGuid(F, Where, Name, ChunkGuidTail)
                            : F.isId(Where, Name);
  };

  // The chunks before the samples.
  std::optional<uint64_t> Ds64, Fact;
  uint64_t Ds64Data = 0, DataChunk = 0;
  unsigned Tag = 0;
  bool HaveFmt = false, HaveData = false;
  while (At + L->HeaderBytes <= I.FileBytes) {
    std::optional<uint64_t> SizeField = F.le(At + L->IdBytes, L->SizeBytes);
    if (!SizeField)
      break;
    const uint64_t Size = *SizeField;
    uint64_t Body =
        L->SizeCountsHeader ? Size - std::min(Size, L->HeaderBytes) : Size;
    const uint64_t Start = At + L->HeaderBytes;
    if (L->Container == WavContainer::Rf64 && isChunk(At, "ds64") &&
        Body >= 24) {
      Ds64 = Start;
      Ds64Data = F.le(Start + 8, 8).value_or(0);
    } else if (isChunk(At, "fmt ") && !HaveFmt) {
      auto T = F.le(Start, 2), C = F.le(Start + 2, 2), R = F.le(Start + 4, 4),
           B = F.le(Start + 12, 2);
      if (Body < 14 || !T || !C || !R || !B)
        return fail(message<Msg::RepairNoFmt>(Path));
      Tag = unsigned(*T);
      I.Channels = unsigned(*C);
      I.SampleRate = unsigned(*R);
      I.BlockAlign = unsigned(*B);
      HaveFmt = true;
    } else if (isChunk(At, "fact") && Body >= 4) {
      Fact = Start;
    } else if (isChunk(At, "data")) {
      DataChunk = At;
      I.DataOffset = Start;
      I.HeaderDataBytes = Body;
      HaveData = true;
      break;
    }
    uint64_t Next = Start + L->padded(Body);
    if (Next <= At || Next > I.FileBytes)
      break; // a chunk that runs past the end: nothing after it
    At = Next;
  }
  if (!HaveData)
    return fail(message<Msg::RepairNoData>(Path));
  if (!HaveFmt)
    return fail(message<Msg::RepairNoFmt>(Path));
  if (I.Channels == 0 || I.BlockAlign == 0 || I.SampleRate == 0)
    return fail(message<Msg::RepairBadFmt>(Path, I.Channels, I.BlockAlign,
                                           I.SampleRate));
  if (!framesAreBlocks(Tag))
    return fail(message<Msg::RepairUnsupportedFormat>(Path, Tag));
  if (L->Container == WavContainer::Rf64) {
    if (!Ds64)
      return fail(message<Msg::RepairNoDs64>(Path));
    if (I.HeaderDataBytes == 0xFFFFFFFF)
      I.HeaderDataBytes = Ds64Data;
  }

  // Where the samples end (see WavRepair.h).
  const uint64_t Available = I.FileBytes - I.DataOffset;
  const uint64_t Whole = Available / I.BlockAlign * I.BlockAlign;
  uint64_t RiffEnd = 0;
  if (I.HeaderDataBytes <= Available) {
    const uint64_t Next = I.DataOffset + L->padded(I.HeaderDataBytes);
    if (Next >= I.FileBytes && Available - I.HeaderDataBytes < I.BlockAlign) {
      RiffEnd = I.FileBytes;
    } else if (Next < I.FileBytes && chunksTile(F, *L, Next, I.FileBytes)) {
      RiffEnd = I.FileBytes;
    } else if (Next < I.FileBytes &&
               (F.isId(Next, "ID3", 3) || F.isId(Next, "TAG", 3))) {
      RiffEnd = Next; // a tag after the RIFF chunk, not samples
    }
  }
  if (RiffEnd) {
    I.DataBytes = I.HeaderDataBytes / I.BlockAlign * I.BlockAlign;
    if (I.DataBytes != I.HeaderDataBytes) // a partial frame the header counts
      RiffEnd = std::min(RiffEnd, I.DataOffset + L->padded(I.HeaderDataBytes));
  } else {
    I.DataBytes = Whole;
    RiffEnd = std::min(I.FileBytes, I.DataOffset + L->padded(Whole));
  }
  const uint64_t Frames = I.frames();

  // The sizes the header should have.
  auto Want = [&](uint64_t Offset, unsigned Width, uint64_t Value) {
    if (F.le(Offset, Width) != Value)
      D.Patches.push_back({Offset, Value, Width});
  };
  const uint64_t Max32 = 0xFFFFFFFF;
  switch (L->Container) {
  case WavContainer::Riff:
    if (RiffEnd - 8 > Max32)
      return fail(message<Msg::RepairTooLarge>(Path, I.DataBytes));
    Want(4, 4, RiffEnd - 8);
    Want(DataChunk + 4, 4, I.DataBytes);
    if (Fact)
      Want(*Fact, 4, std::min(Frames, Max32));
    break;
  case WavContainer::Rf64:
    Want(4, 4, Max32);
    Want(DataChunk + 4, 4, Max32);
    Want(*Ds64, 8, RiffEnd - 8);
    Want(*Ds64 + 8, 8, I.DataBytes);
    Want(*Ds64 + 16, 8, Frames);
    if (Fact)
      Want(*Fact, 4, std::min(Frames, Max32));
    break;
  case WavContainer::Wave64:
    Want(16, 8, RiffEnd);
    Want(DataChunk + 16, 8, I.DataBytes + L->HeaderBytes);
    if (Fact)
      Want(*Fact, 8, Frames);
    break;
  }
  I.HeaderRight = D.Patches.empty();
  return D;
}

/// Opens `Path` and diagnoses it.
Result<Diagnosis> diagnoseFile(const std::string &Path) {
  int Fd = open(Path.c_str(), O_RDONLY | O_CLOEXEC);
  if (Fd < 0)
    return fail(message<Msg::RepairCannotRead>(Path, errnoText(errno)));
  struct stat St;
  if (fstat(Fd, &St) != 0) {
    int Error = errno;
    close(Fd);
    return fail(message<Msg::RepairCannotRead>(Path, errnoText(Error)));
  }
  if (!S_ISREG(St.st_mode)) {
    close(Fd);
    return fail(message<Msg::RepairCannotRead>(
        Path, S_ISDIR(St.st_mode) ? errnoText(EISDIR)
                                  : message<Msg::RepairNotAFile>()));
  }
  auto D = diagnose(FileReader(Fd, uint64_t(St.st_size)), Path);
  close(Fd);
  return D;
}

/// Writes the patches into `Path` and syncs it.
Result<void> applyPatches(const std::string &Path,
                          const std::vector<Patch> &Patches) {
  int Fd = open(Path.c_str(), O_WRONLY | O_CLOEXEC);
  if (Fd < 0)
    return fail(message<Msg::RepairCannotWrite>(Path, errnoText(errno)));
  for (const Patch &P : Patches) {
    unsigned char B[8];
    for (unsigned K = 0; K < P.Width; ++K)
      B[K] = static_cast<unsigned char>(P.Value >> (8 * K));
    if (pwrite(Fd, B, P.Width, off_t(P.Offset)) != ssize_t(P.Width)) {
      int Error = errno;
      close(Fd);
      return fail(message<Msg::RepairCannotWrite>(Path, errnoText(Error)));
    }
  }
  int Synced = fsync(Fd), Error = errno;
  if (close(Fd) != 0 && Synced == 0)
    Synced = -1, Error = errno;
  if (Synced != 0)
    return fail(message<Msg::RepairCannotWrite>(Path, errnoText(Error)));
  return {};
}

} // namespace

Result<WavInspection> inspectWav(const std::string &Path) {
  auto D = diagnoseFile(Path);
  if (!D)
    return fail(D.error());
  return D->I;
}

Result<WavInspection> repairWav(const std::string &Path,
                                const std::string &OutPath) {
  auto D = diagnoseFile(Path);
  if (!D)
    return fail(D.error());
  if (D->I.HeaderRight)
    return D->I;
  std::string Target = Path;
  if (!OutPath.empty()) {
    std::error_code Error;
    if (!std::filesystem::equivalent(Path, OutPath, Error)) {
      std::filesystem::copy_file(
          Path, OutPath, std::filesystem::copy_options::overwrite_existing,
          Error);
      if (Error)
        return fail(
            message<Msg::RepairCannotCopy>(Path, OutPath, Error.message()));
    }
    Target = OutPath;
  }
  if (auto Written = applyPatches(Target, D->Patches); !Written)
    return fail(Written.error());
  return D->I;
}

std::string repairAdviceForEmpty(const std::string &Path) {
  auto D = diagnoseFile(Path);
  if (!D || D->I.HeaderRight || D->I.frames() == 0)
    return "";
  return message<Msg::InputNeedsRepair>(
      Path, std::round(D->I.seconds() * 100) / 100, D->I.frames());
}

} // namespace dspjit
