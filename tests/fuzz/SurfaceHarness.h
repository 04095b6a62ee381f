//===- tests/fuzz/SurfaceHarness.h - A live session's controls without a device -*- C++ -*-===//
//
// What the surface fuzzers (fuzz_console.cpp, fuzz_osc.cpp) share: a real
// compiled kernel, a Host of it with no stream (Host::openOffline) whose
// callback the fuzzer drives itself, block by block, as the audio thread
// would, and a real ControlBus on that Host: everything a command or a
// packet reaches, down to the instance's memory, with no audio device.
//
// The kernel is SurfaceScript, compiled once per process: parameters with
// every kind of range (decibels, a switch without smoothing, a slow
// frequency, an all-negative range, a tiny one, and one as wide as float
// allows), meters of one and of four lanes, state and a delay.
//
// The invariants every surface input must keep:
//   - every parameter's target, and the smoothed value the kernel uses, is
//     finite and inside the parameter's declared range, in the version
//     playing, after every command and every block;
//   - every reply and every logged message is at most MaxReplyBytes long;
//   - the output stays finite, and nothing crashes or hangs (libFuzzer's
//     -timeout).
// A broken invariant aborts with a message (fail(), FuzzHarness.h), which
// libFuzzer reports as a crash with its input.
//
// Thread contract: one thread, the fuzzer's (the OSC server's own thread
// idles: nothing is sent to its socket).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_FUZZ_SURFACEHARNESS_H
#define DSPJIT_TESTS_FUZZ_SURFACEHARNESS_H

#include "runtime/Host.h"
#include "session/ControlBus.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace dspjit::fuzz {

/// The script the surfaces are fuzzed against.
extern const char *const SurfaceScript;

/// The longest reply or message a surface may give. The console takes lines
/// of at most Console::MaxLine (1024) bytes, so what it echoes is bounded
/// by them; the longest reply that is no echo is `params` or `stats` (under
/// 1 KiB for SurfaceScript). A datagram holds up to 64 KiB, so OSC may not
/// echo all it was sent.
constexpr std::size_t MaxReplyBytes = 4096;

/// Frames of one block of runBlock(), and the crossfade of the Host's
/// reloads (`reset state`): a block ends every fade, so a version is picked
/// up at the next one, as within a few callbacks live.
constexpr unsigned long SurfaceBlock = 256;
constexpr double SurfaceCrossfadeSeconds = 0.004; // 192 frames

/// A Host of the surface kernel with no stream, and a bus on it.
class SurfaceTarget {
public:
  /// A fresh Host and bus (the kernel is compiled on the first call).
  SurfaceTarget();
  ~SurfaceTarget();

  session::ControlBus &bus() { return *Bus; }
  Host &host() { return *H; }

  /// One block through Host::callback, as the audio thread runs it: new
  /// versions are picked up, parameters move toward their targets. Fails
  /// on a non-finite output sample.
  void runBlock();
  /// Fails unless every parameter of the version playing has a finite
  /// target and smoothed value within its range. `After` names what came
  /// before, for the message.
  void checkParams(const std::string &After) const;
  /// Frees versions the audio thread let go of (as the session does).
  void collect() { H->collect(); }

private:
  std::unique_ptr<Host> H;
  std::unique_ptr<session::ControlBus> Bus;
  std::vector<float> In, Out;
};

/// Fails when `Text` (a reply or message of `Surface`) is longer than
/// MaxReplyBytes.
void checkReply(const char *Surface, const std::string &Text);

/// At most `Max` bytes of `Text`, for messages.
std::string shortened(const std::string &Text, std::size_t Max = 200);

} // namespace dspjit::fuzz

#endif
