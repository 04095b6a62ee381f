//===- session/FileWatcher.h - Noticing that a script was saved -*- C++ -*-===//
//
// Hot reload starts here. Editors save in odd ways: in place (truncate and
// write), to a temporary file renamed over the original (most IDEs, `sed
// -i`), or vim's dance of renaming the original away, writing a new file
// and deleting the backup. A watcher of the file itself loses track after a
// rename, so this one watches the *directories* of the files with inotify
// and filters by name, and it reports a save only once the burst of events
// is over:
//
//   - a save is a close after writing (IN_CLOSE_WRITE), a rename onto the
//     name (IN_MOVED_TO), a removal or rename away (IN_DELETE,
//     IN_MOVED_FROM) or a change of permissions (IN_ATTRIB); a write still
//     in progress (IN_MODIFY) is not, so a half-written file is never read;
//   - events closer together than the settle time (3 ms) are one burst, and
//     a burst that leaves a file missing that existed before waits up to
//     100 ms for it to come back (vim), so each save is reported once.
//
// Whether the content changed is the caller's business (hash it): touching
// a file or saving it unchanged is reported like any save.
//
// Thread contract: one thread (the reload thread) uses a FileWatcher.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SESSION_FILEWATCHER_H
#define DSPJIT_SESSION_FILEWATCHER_H

#include "runtime/Result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace dspjit::session {

class FileWatcher {
public:
  static Result<std::unique_ptr<FileWatcher>> open();
  ~FileWatcher();
  FileWatcher(const FileWatcher &) = delete;
  FileWatcher &operator=(const FileWatcher &) = delete;

  /// Watches exactly these files (their directories must exist).
  Result<void> watch(const std::vector<std::string> &Paths);

  /// Waits up to `TimeoutMs` for a save of a watched file and returns the
  /// monotonic time in nanoseconds of the burst's first event, or 0 when
  /// none came.
  uint64_t wait(int TimeoutMs);

  /// A save is waiting to be read (wait(0) would report it). Does not
  /// consume it.
  bool pendingSave();

private:
  FileWatcher(int Fd) : Fd(Fd) {}
  /// Reads the events available now; true when one of them is a save.
  bool drain();
  /// Remembers which watched files exist now.
  void noteExisting();

  int Fd;
  std::map<int, std::string> Dirs;                    ///< descriptor -> dir
  std::map<std::string, std::set<std::string>> Names; ///< dir -> file names
  std::vector<std::string> Files;
  std::set<std::string> Existing; ///< watched files that existed last time
  uint64_t PendingSince = 0; ///< a save seen by pendingSave(), not reported
};

} // namespace dspjit::session

#endif
