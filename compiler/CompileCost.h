//===- compiler/CompileCost.h - What a program will cost to compile -*- C++ -*-===//
//
// Why this pass exists: a legal script can take minutes to compile. `unroll`
// copies its body up to 4096 times and calls are inlined, so nine lines
// (4096 copies of `sin(acc) + tanh(acc)`) became 100,000 IR instructions
// that took 9 s at -O0 and 35 s at -O3, while the live session waited. The
// checker therefore estimates, from the checked program, the IR that code
// generation will emit (each node and op weighted by what it becomes:
// a lane of a libm call, a vector chunk of arithmetic, an interpolated
// delay read), and
//
//   - refuses a program over MaxCompileCost, at the construct that made it
//     large (the outermost `unroll` or call the most cost came from);
//   - compiles a program over MaxOptimizeCost at -O0 whatever the level
//     asked for, with a warning (the optimizer's SROA, SLP and InstCombine
//     and the register allocator grow faster than the program: 58,000
//     units of nested stateful calls took 7 s at -O3, 0.5 s at -O0), and
//     the live session keeps its -O0 code instead of waiting for an
//     optimized tier.
//
// The bounds come from timing a family of generated heavy programs on the
// 2-core CI machine (tests/unit/compile_cost_test.cpp, and the table in
// dsl/LANGUAGE.md): every accepted program compiles at -O0 in under 2 s.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_COMPILECOST_H
#define DSPJIT_COMPILER_COMPILECOST_H

#include "compiler/CheckReporter.h"
#include "compiler/Program.h"

#include <cstdint>

namespace dspjit {

/// Past this estimate the program is refused (dsl/LANGUAGE.md, limits).
constexpr uint64_t MaxCompileCost = 80000;
/// Past this one the program is compiled at -O0, and a live session does
/// not replace its -O0 code with an optimized tier.
constexpr uint64_t MaxOptimizeCost = 20000;

struct CompileCost {
  uint64_t Total = 0;
  /// The construct most of it came from (Op::Origin), and its share.
  SourceLoc Largest;
  uint32_t LargestLength = 0;
  unsigned LargestCopies = 0; ///< an unroll's count, 0 for a call
  uint64_t LargestCost = 0;
};

/// Estimates what code generation of `P` will emit, in IR instructions.
CompileCost estimateCompileCost(const Program &P);

/// Sets P.CompileCost and reports a program over MaxCompileCost, at
/// `Fallback` when no construct stands out.
void checkCompileCost(Program &P, CheckReporter &R, SourceLoc Fallback,
                      uint32_t FallbackLength);

} // namespace dspjit

#endif
