//===- tests/support/Threads.cpp - The threads of a process and their scheduling ===//
//
// See Threads.h. Fields of /proc/PID/task/TID/stat are counted as proc(5)
// counts them, from 1 for the pid; the command name in parentheses may
// hold spaces, so fields are read after its closing parenthesis.
//
//===----------------------------------------------------------------------===//
#include "tests/support/Threads.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace dspjit::test {

std::string policyName(int Policy) {
  switch (Policy) {
  case SCHED_OTHER: return "SCHED_OTHER";
  case SCHED_FIFO: return "SCHED_FIFO";
  case SCHED_RR: return "SCHED_RR";
  case SCHED_BATCH: return "SCHED_BATCH";
  case SCHED_IDLE: return "SCHED_IDLE";
  default: return "policy " + std::to_string(Policy);
  }
}

std::string ThreadInfo::scheduling() const {
  return policyName(Policy) +
         (realTime() ? " priority " + std::to_string(RtPriority) : "");
}

bool ThreadInfo::realTime() const {
  return Policy == SCHED_FIFO || Policy == SCHED_RR;
}

namespace {

std::string readText(const std::filesystem::path &P) {
  std::ifstream In(P);
  return {std::istreambuf_iterator<char>(In), {}};
}

/// Fills the fields of `T` that /proc/PID/task/TID/stat holds. False when
/// the thread is gone.
bool readStat(const std::filesystem::path &Dir, ThreadInfo &T) {
  std::string Text = readText(Dir / "stat");
  size_t Paren = Text.rfind(')');
  if (Paren == std::string::npos)
    return false;
  std::istringstream Fields(Text.substr(Paren + 2));
  std::string F;
  double Ticks = 0;
  // The first field after the name is field 3 (state).
  for (int I = 3; Fields >> F; ++I) {
    if (I == 14 || I == 15) // utime, stime
      Ticks += std::stod(F);
    else if (I == 40)
      T.RtPriority = std::stoi(F);
    else if (I == 41)
      T.Policy = std::stoi(F);
  }
  T.CpuSeconds = Ticks / double(sysconf(_SC_CLK_TCK));
  return true;
}

uint64_t statusNumber(const std::string &Status, const std::string &Key) {
  size_t P = Status.find("\n" + Key + ":");
  if (P == std::string::npos)
    return 0;
  return std::strtoull(Status.c_str() + P + Key.size() + 2, nullptr, 10);
}

} // namespace

std::vector<ThreadInfo> threadsOf(pid_t Pid) {
  std::vector<ThreadInfo> Threads;
  std::error_code E;
  std::filesystem::path Tasks =
      std::filesystem::path("/proc") / std::to_string(Pid) / "task";
  for (const auto &Entry : std::filesystem::directory_iterator(Tasks, E)) {
    ThreadInfo T;
    T.Tid = pid_t(std::atol(Entry.path().filename().c_str()));
    if (!readStat(Entry.path(), T))
      continue;
    T.Name = readText(Entry.path() / "comm");
    if (!T.Name.empty() && T.Name.back() == '\n')
      T.Name.pop_back();
    std::string Status = readText(Entry.path() / "status");
    T.VoluntarySwitches = statusNumber(Status, "voluntary_ctxt_switches");
    T.InvoluntarySwitches = statusNumber(Status, "nonvoluntary_ctxt_switches");
    Threads.push_back(std::move(T));
  }
  std::sort(
      Threads.begin(), Threads.end(),
      [](const ThreadInfo &A, const ThreadInfo &B) { return A.Tid < B.Tid; });
  return Threads;
}

const ThreadInfo *busiestSleeper(const std::vector<ThreadInfo> &Threads) {
  auto Most =
      std::max_element(Threads.begin(), Threads.end(),
                       [](const ThreadInfo &A, const ThreadInfo &B) {
                         return A.VoluntarySwitches < B.VoluntarySwitches;
                       });
  return Most == Threads.end() ? nullptr : &*Most;
}

const ThreadInfo *findThread(const std::vector<ThreadInfo> &Threads,
                             pid_t Tid) {
  for (const ThreadInfo &T : Threads)
    if (T.Tid == Tid)
      return &T;
  return nullptr;
}

std::string threadsJson(const std::vector<ThreadInfo> &Threads) {
  std::ostringstream J;
  J << "[";
  for (size_t I = 0; I < Threads.size(); ++I) {
    const ThreadInfo &T = Threads[I];
    char Cpu[32];
    std::snprintf(Cpu, sizeof Cpu, "%.3f", T.CpuSeconds);
    std::string Name;
    for (char C : T.Name) // comm is at most 15 bytes, no quotes expected
      if (C != '"' && C != '\\' && static_cast<unsigned char>(C) >= 0x20)
        Name += C;
    J << (I ? ", " : "") << "{\"tid\": " << T.Tid << ", \"name\": \"" << Name
      << "\", \"policy\": \"" << policyName(T.Policy)
      << "\", \"rt_priority\": " << T.RtPriority
      << ", \"voluntary_switches\": " << T.VoluntarySwitches
      << ", \"involuntary_switches\": " << T.InvoluntarySwitches
      << ", \"cpu_seconds\": " << Cpu << "}";
  }
  J << "]";
  return J.str();
}

} // namespace dspjit::test
