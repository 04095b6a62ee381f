//===- compiler/ObjectCache.cpp - Compiled kernels kept on disk -----------===//
//
// See ObjectCache.h.
//
//===----------------------------------------------------------------------===//
#include "compiler/ObjectCache.h"

#include "compiler/Compiler.h"
#include "compiler/Optimizer.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace dspjit {

namespace {

/// The GNU build ID of the loaded object (executable or shared library)
/// that contains `Address`, as raw bytes; empty when it has none.
std::string buildIdOf(const void *Address) {
  Dl_info Info;
  if (!dladdr(Address, &Info) || !Info.dli_fbase)
    return "";
  struct Search {
    const void *Base;
    std::string Id;
  } S{Info.dli_fbase, ""};
  dl_iterate_phdr(
      [](dl_phdr_info *Obj, size_t, void *Data) {
        auto &S = *static_cast<Search *>(Data);
        // The object whose first loadable segment is at the base dladdr gave.
        const ElfW(Phdr) *First = nullptr;
        for (int I = 0; I < Obj->dlpi_phnum && !First; ++I)
          if (Obj->dlpi_phdr[I].p_type == PT_LOAD)
            First = &Obj->dlpi_phdr[I];
        if (!First ||
            reinterpret_cast<const void *>(Obj->dlpi_addr + First->p_vaddr -
                                           First->p_offset) != S.Base)
          return 0;
        for (int I = 0; I < Obj->dlpi_phnum; ++I) {
          const ElfW(Phdr) &P = Obj->dlpi_phdr[I];
          if (P.p_type != PT_NOTE)
            continue;
          auto *Note =
              reinterpret_cast<const char *>(Obj->dlpi_addr + P.p_vaddr);
          auto *End = Note + P.p_memsz;
          while (Note + sizeof(ElfW(Nhdr)) <= End) {
            auto *N = reinterpret_cast<const ElfW(Nhdr) *>(Note);
            const char *Name = Note + sizeof(ElfW(Nhdr));
            const char *Desc = Name + ((N->n_namesz + 3) & ~3u);
            if (N->n_type == NT_GNU_BUILD_ID && N->n_namesz == 4 &&
                std::memcmp(Name, "GNU", 4) == 0) {
              S.Id.assign(Desc, N->n_descsz);
              return 1;
            }
            Note = Desc + ((N->n_descsz + 3) & ~3u);
          }
        }
        return 1;
      },
      &S);
  return S.Id;
}

/// What identifies the compiler: computed once per process.
const std::string &compilerIdentity() {
  static const std::string Identity = [] {
    std::string Id = std::string("dspjit ") + compilerVersion() + "\n";
    Id += buildIdOf(reinterpret_cast<const void *>(&compilerVersion)) + "\n";
    Id += std::string("LLVM ") + LLVM_VERSION_STRING + "\n";
    Id += buildIdOf(reinterpret_cast<const void *>(&llvm::sys::getHostCPUName));
    return Id;
  }();
  return Identity;
}

} // namespace

std::string ObjectCache::defaultDirectory() {
  if (const char *D = std::getenv("DSPJIT_CACHE_DIR"); D && *D)
    return D;
  if (const char *X = std::getenv("XDG_CACHE_HOME"); X && *X)
    return (fs::path(X) / "dspjit").string();
  if (const char *H = std::getenv("HOME"); H && *H)
    return (fs::path(H) / ".cache" / "dspjit").string();
  return "";
}

std::string ObjectCache::key(const std::vector<std::string> &Sources,
                             const CompileOptions &O,
                             const llvm::TargetMachine &TM) {
  llvm::BLAKE3 Hash;
  auto Add = [&](llvm::StringRef Text) {
    // Length-prefixed, so that no two sequences of strings collide.
    uint64_t N = Text.size();
    Hash.update(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(&N),
                                        sizeof N));
    Hash.update(Text);
  };
  Add(compilerIdentity());
  Add(TM.getTargetTriple().str());
  Add(TM.getTargetCPU());
  Add(TM.getTargetFeatureString());
  std::string Options;
  llvm::raw_string_ostream OS(Options);
  OS << "rate=" << llvm::format("%.17g", O.sampleRate)
     << " double=" << O.doublePrecision << " O=" << O.optLevel
     << " std=" << O.useStdLib;
  Add(OS.str());
  Add(O.llvmArgs);
  Add(O.pipeline);
  for (const std::string &S : Sources)
    Add(S);
  auto Result = Hash.final();
  std::string Hex;
  for (uint8_t B : Result) {
    static const char Digits[] = "0123456789abcdef";
    Hex += Digits[B >> 4];
    Hex += Digits[B & 15];
  }
  return Hex;
}

std::unique_ptr<llvm::MemoryBuffer>
ObjectCache::load(const std::string &Key) const {
  if (Dir.empty())
    return nullptr;
  auto Buffer =
      llvm::MemoryBuffer::getFile((fs::path(Dir) / (Key + ".o")).string(),
                                  /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!Buffer)
    return nullptr;
  return std::move(*Buffer);
}

void ObjectCache::store(const std::string &Key, llvm::StringRef Object) const {
  if (Dir.empty())
    return;
  std::error_code EC;
  fs::create_directories(Dir, EC);
  static std::atomic<unsigned> Counter{0};
  fs::path Final = fs::path(Dir) / (Key + ".o");
  fs::path Temp = fs::path(Dir) / (Key + ".tmp." + std::to_string(getpid()) +
                                   "." + std::to_string(Counter++));
  {
    std::ofstream Out(Temp, std::ios::binary);
    Out.write(Object.data(), std::streamsize(Object.size()));
    if (!Out) {
      fs::remove(Temp, EC);
      return;
    }
  }
  fs::rename(Temp, Final, EC);
  if (EC) {
    fs::remove(Temp, EC);
    return;
  }
  // Keep the newest 512.
  constexpr size_t Keep = 512;
  std::vector<std::pair<fs::file_time_type, fs::path>> Entries;
  for (const auto &E : fs::directory_iterator(Dir, EC))
    if (E.path().extension() == ".o")
      Entries.push_back({E.last_write_time(EC), E.path()});
  if (Entries.size() <= Keep)
    return;
  std::sort(Entries.begin(), Entries.end(),
            [](const auto &A, const auto &B) { return A.first > B.first; });
  for (size_t I = Keep; I < Entries.size(); ++I)
    fs::remove(Entries[I].second, EC);
}

} // namespace dspjit
