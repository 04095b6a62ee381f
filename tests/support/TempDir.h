//===- tests/support/TempDir.h - A directory for one test's files -*- C++ -*-===//
//
// Tests that write files (sound files, MIDI files, repaired copies) write
// them into a fresh directory of their own under the system's temporary
// directory, named by the process and a counter so that tests running in
// parallel never share one, and removed with everything in it when the
// test ends, whether it passed or not.
//
// Thread contract: one test's object; not shared between threads.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_TEMPDIR_H
#define DSPJIT_TESTS_SUPPORT_TEMPDIR_H

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace dspjit::test {

/// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
public:
  TempDir() {
    Path = std::filesystem::temp_directory_path() /
           ("dspjit-test-" + std::to_string(getpid()) + "-" +
            std::to_string(Counter++));
    std::filesystem::create_directories(Path);
  }
  ~TempDir() {
    std::error_code EC;
    std::filesystem::remove_all(Path, EC);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  /// The path of `Name` in the directory.
  std::string file(const std::string &Name) const { return Path / Name; }

private:
  static inline int Counter = 0;
  std::filesystem::path Path;
};

} // namespace dspjit::test

#endif
