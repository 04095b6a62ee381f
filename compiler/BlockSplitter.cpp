//===- compiler/BlockSplitter.cpp - Bound the size of basic blocks --------===//
//
// See BlockSplitter.h.
//
//===----------------------------------------------------------------------===//
#include "compiler/BlockSplitter.h"

#include "llvm/IR/Function.h"
#include "llvm/IR/Instructions.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

#include <vector>

using namespace llvm;

namespace dspjit {

namespace {
/// Where counting may start in `BB`: after its phis and, in the entry
/// block, after its last alloca (an alloca moved out of the entry block
/// would allocate stack on every pass instead of once).
BasicBlock::iterator firstCuttable(BasicBlock &BB) {
  BasicBlock::iterator Start = BB.getFirstNonPHIIt();
  if (BB.isEntryBlock())
    for (auto I = Start; I != BB.end(); ++I)
      if (isa<AllocaInst>(*I))
        Start = std::next(I);
  return Start;
}
} // namespace

unsigned splitLongBlocks(Function &F, unsigned MaxInstructions) {
  if (MaxInstructions == 0)
    return 0;
  std::vector<BasicBlock *> Blocks;
  for (BasicBlock &BB : F)
    if (BB.size() > MaxInstructions)
      Blocks.push_back(&BB);
  unsigned Cuts = 0;
  for (BasicBlock *BB : Blocks) {
    unsigned Count = 0;
    for (auto I = firstCuttable(*BB); I != BB->end(); ++I) {
      if (++Count <= MaxInstructions || I->isTerminator())
        continue;
      BB = SplitBlock(BB, I, static_cast<DominatorTree *>(nullptr));
      I = BB->begin();
      Count = 1;
      ++Cuts;
    }
  }
  return Cuts;
}

} // namespace dspjit
