//===- tests/support/ChildProcess.cpp - The dspjit binary as a child ------===//
#include "tests/support/ChildProcess.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

namespace dspjit::test {

std::string ChildResult::describe() const {
  return "exit " + std::to_string(Status) + (TimedOut ? " (timed out)" : "") +
         "\nstdout:\n" + Out + "\nstderr:\n" + Err;
}

ChildResult runChild(const std::string &Program,
                     const std::vector<std::string> &Args,
                     const ChildOptions &Options) {
  ChildResult C;
  int In[2], Out[2], Err[2];
  if (pipe(In) != 0 || pipe(Out) != 0 || pipe(Err) != 0) {
    C.Err = "pipe failed";
    return C;
  }
  if (Options.StderrIsATerminal) {
    // The child's stderr is the terminal's slave side; we read the master.
    close(Err[0]);
    close(Err[1]);
    winsize Size = {24, 120, 0, 0};
    if (openpty(&Err[0], &Err[1], nullptr, nullptr, &Size) != 0) {
      C.Err = "openpty failed";
      return C;
    }
  }
  auto Start = std::chrono::steady_clock::now();
  pid_t Pid = fork();
  if (Pid == 0) {
    dup2(In[0], 0);
    dup2(Out[1], 1);
    dup2(Err[1], 2);
    for (int Fd : {In[0], In[1], Out[0], Out[1], Err[0], Err[1]})
      close(Fd);
    if (Options.FileSizeLimit) {
      signal(SIGXFSZ, SIG_IGN); // a write past the limit fails with EFBIG
      rlimit Limit = {rlim_t(Options.FileSizeLimit),
                      rlim_t(Options.FileSizeLimit)};
      setrlimit(RLIMIT_FSIZE, &Limit);
    }
    std::vector<char *> Argv;
    Argv.push_back(const_cast<char *>(Program.c_str()));
    for (const std::string &A : Args)
      Argv.push_back(const_cast<char *>(A.c_str()));
    Argv.push_back(nullptr);
    execv(Program.c_str(), Argv.data());
    _exit(127);
  }
  close(In[0]);
  close(Out[1]);
  close(Err[1]);
  if (Options.OnStart)
    Options.OnStart(int(Pid));
  // A child that exits early must not kill the test with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  const std::vector<ChildAction> &Actions = Options.Actions;
  if (Actions.empty() && Options.CloseStdin) {
    close(In[1]);
    In[1] = -1;
  }
  size_t Next = 0;
  double Seen = -1; // when Actions[Next].WaitFor appeared
  int Open = 2;
  auto Elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         Start)
        .count();
  };
  while (Open > 0) {
    bool Due = false;
    if (Next < Actions.size()) {
      const ChildAction &A = Actions[Next];
      if (A.WaitFor.empty())
        Due = Elapsed() >= A.AfterSeconds;
      else {
        if (Seen < 0 && C.Err.find(A.WaitFor) != std::string::npos)
          Seen = Elapsed();
        Due = Seen >= 0 && Elapsed() >= Seen + A.AfterSeconds;
      }
    }
    if (Due) {
      Seen = -1;
      const ChildAction &A = Actions[Next++];
      if (!A.StdinText.empty() && In[1] >= 0)
        (void)!write(In[1], A.StdinText.data(), A.StdinText.size());
      if (A.Signal)
        kill(Pid, A.Signal);
      if (A.Run)
        A.Run();
      if (Next == Actions.size() && Options.CloseStdin && In[1] >= 0) {
        close(In[1]);
        In[1] = -1;
      }
    }
    if (Elapsed() > Options.TimeoutSeconds && !C.TimedOut) {
      C.TimedOut = true;
      kill(Pid, SIGKILL);
    }
    pollfd P[2] = {{Out[0], POLLIN, 0}, {Err[0], POLLIN, 0}};
    poll(P, 2, 20);
    for (int I = 0; I < 2; ++I) {
      // A terminal's master reads EIO (POLLERR) once the child is gone.
      if (P[I].fd < 0 || !(P[I].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      char Buffer[4096];
      ssize_t N = read(P[I].fd, Buffer, sizeof Buffer);
      int &Fd = I == 0 ? Out[0] : Err[0];
      if (N <= 0) {
        close(Fd);
        Fd = -1;
        --Open;
        continue;
      }
      (I == 0 ? C.Out : C.Err).append(Buffer, size_t(N));
    }
  }
  if (In[1] >= 0)
    close(In[1]);
  int Status = 0;
  rusage Usage = {};
  wait4(Pid, &Status, 0, &Usage);
  C.MaxResidentKiB = Usage.ru_maxrss;
  C.Seconds = Elapsed();
  C.Status = WIFEXITED(Status) ? WEXITSTATUS(Status) : 128 + WTERMSIG(Status);
  return C;
}

} // namespace dspjit::test
