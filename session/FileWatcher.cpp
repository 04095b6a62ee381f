//===- session/FileWatcher.cpp - Noticing that a script was saved ---------===//
//
// See FileWatcher.h.
//
//===----------------------------------------------------------------------===//
#include "session/FileWatcher.h"

#include "runtime/MessageCatalog.h"
#include "runtime/Stats.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace dspjit::session {

namespace {
constexpr uint32_t SaveEvents =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB;
constexpr int SettleMs = 3;
constexpr int MissingGraceMs = 100;
} // namespace

Result<std::unique_ptr<FileWatcher>> FileWatcher::open() {
  int Fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (Fd < 0)
    return fail(message<Msg::CannotWatchFiles>(std::strerror(errno)));
  return std::unique_ptr<FileWatcher>(new FileWatcher(Fd));
}

FileWatcher::~FileWatcher() { close(Fd); }

Result<void> FileWatcher::watch(const std::vector<std::string> &Paths) {
  std::map<std::string, std::set<std::string>> Wanted;
  for (const std::string &P : Paths) {
    fs::path Abs = fs::absolute(P).lexically_normal();
    Wanted[Abs.parent_path().string()].insert(Abs.filename().string());
  }
  // Drop directories no longer needed, add new ones.
  for (auto It = Dirs.begin(); It != Dirs.end();) {
    if (!Wanted.count(It->second)) {
      inotify_rm_watch(Fd, It->first);
      It = Dirs.erase(It);
    } else {
      ++It;
    }
  }
  for (const auto &[Dir, _] : Wanted) {
    bool Known = false;
    for (const auto &[W, D] : Dirs)
      Known |= D == Dir;
    if (Known)
      continue;
    int W = inotify_add_watch(Fd, Dir.c_str(), SaveEvents | IN_ONLYDIR);
    if (W < 0) {
      // An import in a directory that does not exist (yet): the compile
      // reports it; nothing to watch there.
      if (Dir ==
          fs::absolute(Paths.front()).lexically_normal().parent_path().string())
        return fail(
            message<Msg::CannotWatchDirectory>(Dir, std::strerror(errno)));
      continue;
    }
    Dirs[W] = Dir;
  }
  Names = std::move(Wanted);
  Files.clear();
  for (const auto &[Dir, Set] : Names)
    for (const std::string &N : Set)
      Files.push_back((fs::path(Dir) / N).string());
  noteExisting();
  return {};
}

bool FileWatcher::drain() {
  alignas(inotify_event) char Buffer[16384];
  bool Save = false;
  for (;;) {
    ssize_t N = read(Fd, Buffer, sizeof Buffer);
    if (N <= 0)
      return Save;
    for (char *P = Buffer; P < Buffer + N;) {
      auto *E = reinterpret_cast<inotify_event *>(P);
      P += sizeof(inotify_event) + E->len;
      auto Dir = Dirs.find(E->wd);
      if (Dir == Dirs.end() || !E->len || !(E->mask & SaveEvents))
        continue;
      auto Set = Names.find(Dir->second);
      Save |= Set != Names.end() && Set->second.count(E->name);
    }
  }
}

void FileWatcher::noteExisting() {
  Existing.clear();
  std::error_code EC;
  for (const std::string &F : Files)
    if (fs::exists(F, EC))
      Existing.insert(F);
}

bool FileWatcher::pendingSave() {
  if (!PendingSince && drain())
    PendingSince = monotonicNanoseconds();
  return PendingSince != 0;
}

uint64_t FileWatcher::wait(int TimeoutMs) {
  uint64_t First = PendingSince;
  PendingSince = 0;
  pollfd P{Fd, POLLIN, 0};
  if (!First) {
    // Wait for the first save.
    uint64_t Deadline = monotonicNanoseconds() + uint64_t(TimeoutMs) * 1000000;
    for (;;) {
      int Left = int((Deadline - std::min(Deadline, monotonicNanoseconds())) /
                     1000000);
      if (poll(&P, 1, Left) > 0 && drain()) {
        First = monotonicNanoseconds();
        break;
      }
      if (monotonicNanoseconds() >= Deadline)
        return 0;
    }
  }
  // Let the burst settle: no event for SettleMs; then, if a watched file is
  // missing, give it a moment to come back.
  auto Settle = [&] {
    while (poll(&P, 1, SettleMs) > 0)
      drain();
  };
  Settle();
  for (int Waited = 0; Waited < MissingGraceMs; Waited += SettleMs) {
    bool Missing = false;
    std::error_code EC;
    for (const std::string &F : Existing)
      Missing |= !fs::exists(F, EC);
    if (!Missing)
      break;
    if (poll(&P, 1, SettleMs) > 0)
      Settle();
  }
  noteExisting();
  return First;
}

} // namespace dspjit::session
