//===- tests/fuzz/fuzz_console.cpp - Arbitrary bytes typed on the console ===//
//
// A libFuzzer target: the input is what a user (or a pipe) sends to `dspjit
// run`'s standard input, byte for byte. A real Console (session/Console.h)
// takes it as its reader takes what it reads -- split into lines at '\n',
// over-long lines refused, control characters refused -- in reads of 4096
// bytes, and runs every line against a real ControlBus on an offline Host
// of a real compiled kernel (SurfaceHarness.h). After every reply one block
// runs through the Host's callback, so that what the command did reaches
// the kernel: values, resets of parameters and of state (a new version,
// crossfaded in).
//
// Invariants (SurfaceHarness.h): no crash, no hang; after every command
// and block, every parameter's target and smoothed value is finite and
// within its range; every reply is at most MaxReplyBytes long.
//
// Built twice, like the others: as a libFuzzer binary (DSPJIT_FUZZ) and
// into dspjit_fuzz_replay.
//
//===----------------------------------------------------------------------===//
#include "FuzzHarness.h"
#include "SurfaceHarness.h"

#include "session/Console.h"

#include <algorithm>
#include <cstdint>
#include <string>

using namespace dspjit;
using namespace dspjit::fuzz;

extern "C" int dspjitFuzzConsole(const uint8_t *Data, size_t Size) {
  SurfaceTarget T;
  std::string Last; // the last reply, for messages
  auto C =
      session::Console::start(T.bus(), -1, [&](const session::ConsoleLine &L) {
        if (!L.Reply)
          return;
        checkReply("console", L.Reply->Text);
        Last = L.Reply->Text;
        T.runBlock();
        T.checkParams("the console replied '" + Last + "'");
      });
  const char *Bytes = reinterpret_cast<const char *>(Data);
  for (size_t Done = 0; Done < Size;) {
    size_t N = std::min<size_t>(4096, Size - Done); // as read(2) returns it
    C->feed(Bytes + Done, N);
    Done += N;
  }
  C->endInput();
  T.runBlock();
  T.collect();
  T.checkParams("the end of input");
  return 0;
}

#ifdef DSPJIT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  return dspjitFuzzConsole(Data, Size);
}
#endif
