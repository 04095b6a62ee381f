//===- compiler/ConstantFolder.h - Operations on constants, at compile time ===//
//
// Why this pass exists: kernels are specialized to their sample rate and to
// every constant argument of every call site, so most coefficients are known
// while checking (`time * sr`, `tan(pi * f / sr)`). Folding them here lets
// the checker use them where only constants may go (array sizes, delay
// lengths, loop bounds, lanes) and report errors between constants (a lane
// out of range) at the expression that has them.
//
// A folded result must be the value the generated code would compute at run
// time, bit for bit: this is a mirror of CodeGen (the order of sum()'s
// additions, clamp() of NaN). tests/unit/compiler_test.cpp compiles the same
// operations once folded and once at run time and compares.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_CONSTANTFOLDER_H
#define DSPJIT_COMPILER_CONSTANTFOLDER_H

#include "compiler/Program.h"

#include <optional>

namespace dspjit {

/// The arithmetic a fold uses. Inside `block`, `process` and functions it
/// is the kernel's (Float unless --double: every operand and every result
/// rounded to float, the float libm, and CodeGen's own tanh with fused
/// multiply-adds where the target has them, Fma), so that knowing an
/// operand at compile time never changes a sample. `const` declarations
/// and compile-time sizes and bounds are evaluated in double (Float false).
struct FoldArith {
  bool Float = false;
  bool Fma = false;
};

/// The lanes of a Unary, Binary, Select, Call, Lane or Concat node whose
/// operands are all constants, or nullopt when it cannot be folded (an
/// operand is not constant, or the node is of another kind). Reports width
/// mismatches and lanes out of range at the node, whatever the arguments of
/// the function it is in: between constants they hold for every call. After
/// an error the result is {0}.
std::optional<std::vector<double>>
foldConstants(const Node &N, DiagnosticEngine &Diags, FoldArith Arith = {});

/// sum(v) of constants, in the order the generated code adds lanes
/// (CodeGen's sumLanes): a halving tree.
double sumLanes(std::vector<double> Lanes, FoldArith Arith = {});
/// A built-in on one lane of constants, as the generated code computes it.
double evalBuiltin(Builtin F, double A, double B, double C,
                   FoldArith Arith = {});
/// A binary operator on one lane of constants; comparisons give 0 or 1.
double evalBinary(BinOp Op, double A, double B, FoldArith Arith = {});
/// `A * B + C` rounded once, as the kernel's fused multiply-add.
double evalFused(double A, double B, double C, FoldArith Arith = {});
/// Which operand of a sum or difference `N` fuses with it (the product on
/// the right first, then on the left), or -1: none, or the target has no
/// fused multiply-add (`Fma`). CodeGen asks the same question.
int fusedOperand(const Node &N, bool Fma);
/// CodeGen's inline float tanh (its fastTanh), the same operations in the
/// same order: Eigen's rational approximation.
float fastTanh(float X, bool Fma);

} // namespace dspjit

#endif
