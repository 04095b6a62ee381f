//===- tests/fuzz/ProgramGenerator.h - Random valid scripts from fuzzer bytes -*- C++ -*-===//
//
// Turns a string of bytes into a script that should compile: the bytes are
// the choices (libFuzzer's FuzzedDataProvider), the grammar and the width
// rules of dsl/LANGUAGE.md are the generator's. Byte-level mutations thus
// become program-level ones, and the fuzzer spends its time in code
// generation, the optimizer and the kernel instead of in the parser's error
// paths.
//
// What it writes: an `io`, parameters, constants, scalar and vector states,
// state arrays, delay lines and meters, functions with call-site state, an
// optional `block`, and a `process` of lets, assignments (plain and
// compound, to lanes and array elements), `if`/`else`, `for` with `break`,
// `unroll`, delay writes, taps and reads, calls of the standard library's
// filters and oscillators and of its own functions, every operator and
// most built-ins. Indices and delay positions come from arbitrary
// expressions (through a parameter, so that they are never constant), which
// exercises the run-time clamping of lanes, arrays and delays with
// out-of-range, infinite and NaN positions.
//
// Thread contract: a generator is used by one thread.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_FUZZ_PROGRAMGENERATOR_H
#define DSPJIT_TESTS_FUZZ_PROGRAMGENERATOR_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace dspjit::fuzz {

/// The script that `Data` describes. Any bytes give a script; an empty
/// input gives the smallest one.
std::string generateProgram(const uint8_t *Data, size_t Size);

} // namespace dspjit::fuzz

#endif
