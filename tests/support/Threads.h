//===- tests/support/Threads.h - The threads of a process and their scheduling -*- C++ -*-===//
//
// A soak that claims real-time figures has to show that the callback really
// ran at real-time priority, and a test cannot ask PortAudio or libjack
// which thread that was. It can read what the kernel says of every thread
// of the process, though: /proc/PID/task/TID/stat (scheduling policy and
// real-time priority, CPU time) and .../status (context switches). The
// thread that runs a JACK client's process callback sleeps once per cycle,
// so it is the one whose voluntary context switches keep pace with the
// callbacks (750 a second at 64 frames and 48 kHz); no other thread of
// dspjit wakes that often.
//
// Thread contract: any thread; each call reads /proc.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_THREADS_H
#define DSPJIT_TESTS_SUPPORT_THREADS_H

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace dspjit::test {

/// One thread as /proc shows it.
struct ThreadInfo {
  pid_t Tid = 0;
  std::string Name;   ///< comm: the program's name unless the thread set one
  int Policy = 0;     ///< SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_IDLE, ...
  int RtPriority = 0; ///< 1 to 99 under SCHED_FIFO and SCHED_RR, else 0
  uint64_t VoluntarySwitches = 0, InvoluntarySwitches = 0;
  double CpuSeconds = 0; ///< user + system

  /// "SCHED_FIFO priority 9", "SCHED_OTHER", ...
  std::string scheduling() const;
  bool realTime() const;
};

/// "SCHED_FIFO", "SCHED_OTHER", ... ("policy N" for others).
std::string policyName(int Policy);

/// Every thread of `Pid` (empty when it is gone), in tid order.
std::vector<ThreadInfo> threadsOf(pid_t Pid);

/// The thread of `Threads` that slept most often (most voluntary context
/// switches): in a process with a JACK client, its process thread. Null
/// for an empty list.
const ThreadInfo *busiestSleeper(const std::vector<ThreadInfo> &Threads);

/// The same thread (by tid) in a list, or null.
const ThreadInfo *findThread(const std::vector<ThreadInfo> &Threads, pid_t Tid);

/// The threads as JSON: [{"tid": .., "name": "..", "policy": "SCHED_FIFO",
/// "rt_priority": .., "voluntary_switches": .., ...}, ...].
std::string threadsJson(const std::vector<ThreadInfo> &Threads);

} // namespace dspjit::test

#endif
