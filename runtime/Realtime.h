//===- runtime/Realtime.h - Marking real-time code for RealtimeSanitizer -*- C++ -*-===//
//
// The audio thread must never allocate, lock, wait or do I/O. Clang's
// RealtimeSanitizer (RTSan, `-fsanitize=realtime`, clang 20 and later)
// checks that at run time: while a thread is inside a function marked
// `[[clang::nonblocking]]`, every call into libc that may block (malloc,
// free, pthread_mutex_lock, read, write, sleep...) is reported and stops
// the process. The mark covers everything the marked function calls, on
// that thread, including the JIT-compiled kernel: generated code reaches
// libc only through the math whitelist (compiler/Jit.cpp), and whatever it
// calls is intercepted like any other call of the thread.
//
// Configure with `-DDSPJIT_RTSAN=ON` and clang++-22 (CMakeLists.txt); in
// every other build the macros below expand to nothing and cost nothing.
//
//   DSPJIT_REALTIME      written after a function's parameter list (on its
//                        declaration; the definition inherits it), marks it
//                        as a real-time context:
//                          static int callback(...) DSPJIT_REALTIME;
//   RealtimeUnchecked    RAII: RTSan ignores the current scope, for code on
//                        the audio thread that is known to be safe but that
//                        RTSan cannot tell apart from unsafe code.
//   RealtimeFrame        a trampoline that marks a bare kernel.process as
//                        real-time (see below).
//
// Direct streams. runtime/PortAudio.h's Stream::open and `dspjit run
// --direct` hand kernel.process to PortAudio unwrapped: no frame of ours is
// on the audio thread's stack, so there is nothing to mark and RTSan checks
// nothing there. In RTSan builds only, Stream::open therefore puts a
// RealtimeFrame around the kernel (one extra indirect call), so that the
// live tests, which use Stream::open, are checked too. Release builds stay
// direct.
//
// Thread contract: everything here is for the audio thread, and itself
// allocates nothing, locks nothing and never waits.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_REALTIME_H
#define DSPJIT_RUNTIME_REALTIME_H

#include "runtime/dspjit_abi.h"

#if defined(__has_feature)
#if __has_feature(realtime_sanitizer)
#define DSPJIT_HAVE_RTSAN 1
#endif
#endif

#if defined(DSPJIT_HAVE_RTSAN)
#include <sanitizer/rtsan_interface.h>
#define DSPJIT_REALTIME [[clang::nonblocking]]
#else
#define DSPJIT_HAVE_RTSAN 0
#define DSPJIT_REALTIME
#endif

namespace dspjit {

/// True in builds where RealtimeSanitizer checks DSPJIT_REALTIME functions.
inline constexpr bool RealtimeChecked = DSPJIT_HAVE_RTSAN;

/// Suspends RTSan's checks on this thread for the current scope (a no-op
/// without RTSan). For audio-thread code that RTSan would flag although it
/// is safe; every use must say in a comment why it is safe.
/// Thread: the audio thread (any thread, in fact).
class RealtimeUnchecked {
public:
  RealtimeUnchecked() {
#if DSPJIT_HAVE_RTSAN
    __rtsan_disable();
#endif
  }
  ~RealtimeUnchecked() {
#if DSPJIT_HAVE_RTSAN
    __rtsan_enable();
#endif
  }
  RealtimeUnchecked(const RealtimeUnchecked &) = delete;
  RealtimeUnchecked &operator=(const RealtimeUnchecked &) = delete;
};

/// A kernel's process function and its instance, called through a
/// DSPJIT_REALTIME frame: `callback` has PaStreamCallback's signature and
/// takes a RealtimeFrame as its userData. The RealtimeFrame must stay at
/// the same address while a stream runs it.
struct RealtimeFrame {
  DspjitProcessFn Process = nullptr;
  void *Data = nullptr;

  /// Thread: the audio thread.
  static int callback(const void *Input, void *Output, unsigned long Frames,
                      const DspjitTimeInfo *Time, unsigned long Flags,
                      void *Self) DSPJIT_REALTIME {
    auto *F = static_cast<const RealtimeFrame *>(Self);
    return F->Process(Input, Output, Frames, Time, Flags, F->Data);
  }
};

} // namespace dspjit

#endif
