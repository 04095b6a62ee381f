//===- compiler/Widths.h - Width inference --------------------------------===//
//
// Every value has a width (1 for a scalar, N for a vector) known at compile
// time. Elaboration leaves the widths of locals, states, delays and meters
// open: a state initialised with the scalar 0 takes the width of the vector
// assigned to it, a delay the width of what is written, a function result
// the width of what it returns. This pass settles them by iterating to a
// fixed point (widths only grow, from 1 to N, so it ends quickly), then
// reports every mismatch naming both widths.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_WIDTHS_H
#define DSPJIT_COMPILER_WIDTHS_H

#include "compiler/Program.h"

namespace dspjit {

/// Sets the Width of every local, slot and node of `P`; reports mismatches.
void inferWidths(Program &P, DiagnosticEngine &Diags);

/// The same for a list of ops outside P's block and process: the body of a
/// function that nothing calls, whose parameters are marked UnknownWidth.
/// Only mismatches that hold whatever the arguments' widths are reported.
void inferWidthsOf(Program &P, OpList &Ops, DiagnosticEngine &Diags);

} // namespace dspjit

#endif
