//===- compiler/ObjectCache.h - Compiled kernels kept on disk ---*- C++ -*-===//
//
// Compiling a kernel takes tens of milliseconds, most of it in LLVM's
// optimizer and code generator. Hot reload (returning to an earlier version
// of a script) and restarting a session compile sources that were compiled
// before, so the machine code is kept on disk, as relocatable objects that
// ORC links in a fraction of a millisecond.
//
// The key is a BLAKE3 hash of everything that determines the machine code:
//   - the text of every source the compile read (the script, its imports
//     and the standard library);
//   - the options (rate, precision, optimization level, std library);
//   - the target: triple, CPU and feature string of the TargetMachine;
//   - the compiler itself: dspjit's version and the GNU build ID of the
//     binary that holds the compiler, and LLVM's version and the build ID
//     of the library that holds LLVM, so any rebuild or upgrade misses.
//
// Files are written to a temporary name and renamed, so concurrent
// sessions never see half an object. The directory is pruned to its 512
// newest entries whenever an object is stored.
//
// Thread contract: any non-audio thread; instances may be used
// concurrently on the same directory (and by several processes).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_OBJECTCACHE_H
#define DSPJIT_COMPILER_OBJECTCACHE_H

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class MemoryBuffer;
class TargetMachine;
class StringRef;
} // namespace llvm

namespace dspjit {

struct CompileOptions;

class ObjectCache {
public:
  /// $DSPJIT_CACHE_DIR, else $XDG_CACHE_HOME/dspjit, else ~/.cache/dspjit.
  static std::string defaultDirectory();

  explicit ObjectCache(std::string Directory) : Dir(std::move(Directory)) {}

  /// The key of a compile (hex). `Sources` are the texts of every source
  /// read, in the order read.
  static std::string key(const std::vector<std::string> &Sources,
                         const CompileOptions &Options,
                         const llvm::TargetMachine &TM);

  /// The object stored under `Key`, or null.
  std::unique_ptr<llvm::MemoryBuffer> load(const std::string &Key) const;
  /// Stores an object; failures (a read-only disk) are silent: the cache is
  /// only ever an optimization.
  void store(const std::string &Key, llvm::StringRef Object) const;

  const std::string &directory() const { return Dir; }

private:
  std::string Dir;
};

} // namespace dspjit

#endif
