//===- compiler/Convolutions.h - `convolve` call sites to plans -----------===//
//
// Why this pass exists: `convolve(x, ir)` is exact linear convolution with a
// table (dsl/LANGUAGE.md, "convolve"), computed by the runtime
// (runtime/Convolver.h) on a state block in the instance. The elaborator
// makes one Convolution per call site (Elaborator::convolve, in
// Convolutions.cpp with this pass); width inference settles its lanes
// (convolutionWidth); this pass, after widths and before the instance
// layout, prepares each call's plan: the response's partitions and their
// spectra, compiled into the kernel as constant data, and the size of the
// state the layout reserves.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_CONVOLUTIONS_H
#define DSPJIT_COMPILER_CONVOLUTIONS_H

#include "compiler/Program.h"

namespace dspjit {

/// The width of `convolve(x, ir)` (N.Fn == Builtin::Convolve) from its
/// input's width, recording the lanes in P.Convolutions. `Fits` is false
/// when the response's lanes fit none of the forms (width inference reports
/// it as ConvolveLanes). Called by width inference.
unsigned convolutionWidth(Program &P, const Node &N, bool &Fits);

/// Prepares the plan of every convolution (Convolution::Plan, StateBytes).
void prepareConvolutions(Program &P);

} // namespace dspjit

#endif
