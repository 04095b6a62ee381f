//===- compiler/BlockSplitter.h - Bound the size of basic blocks -*- C++ -*-===//
//
// LLVM selects machine instructions one basic block at a time, building a
// SelectionDAG of the whole block (at -O0 too: FastISel gives up on vector
// operations and hands the rest of the block to SelectionDAG). Its time
// grows faster than the block: a script that unrolls 4096 copies of
// `sin(acc) + tanh(acc)` is one block of about 100,000 instructions and
// took 9 s at -O0 and 35 s at -O3, nearly all of it in instruction
// selection, against a few milliseconds for ordinary scripts.
//
// The last pass before code generation therefore cuts every block longer
// than a bound into a chain of blocks joined by unconditional branches.
// The cut changes no value and no order; it only limits what instruction
// selection sees at once. Ordinary kernels have no block that long and are
// unchanged.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_BLOCKSPLITTER_H
#define DSPJIT_COMPILER_BLOCKSPLITTER_H

namespace llvm {
class Function;
}

namespace dspjit {

/// The longest block (in IR instructions) that code generation gets.
constexpr unsigned MaxBlockInstructions = 2000;

/// Splits every basic block of `F` longer than `MaxInstructions` into
/// blocks of at most that many instructions. Returns the number of cuts.
unsigned splitLongBlocks(llvm::Function &F,
                         unsigned MaxInstructions = MaxBlockInstructions);

} // namespace dspjit

#endif
