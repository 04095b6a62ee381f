//===- tests/unit/block_splitter_test.cpp - Long blocks are cut -----------===//
#include "compiler/BlockSplitter.h"

#include "llvm/IR/BasicBlock.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"

#include <gtest/gtest.h>

namespace dspjit {
namespace {

/// float f(float x) { float *p = alloca; a chain of N adds; return }
llvm::Function *chain(llvm::Module &M, unsigned N) {
  llvm::LLVMContext &Ctx = M.getContext();
  auto *FT = llvm::FunctionType::get(llvm::Type::getFloatTy(Ctx),
                                     {llvm::Type::getFloatTy(Ctx)}, false);
  auto *F = llvm::Function::Create(FT, llvm::Function::ExternalLinkage, "f", M);
  llvm::IRBuilder<> B(llvm::BasicBlock::Create(Ctx, "entry", F));
  llvm::Value *Slot = B.CreateAlloca(B.getFloatTy());
  llvm::Value *X = F->getArg(0);
  for (unsigned I = 0; I < N; ++I)
    X = B.CreateFAdd(X, llvm::ConstantFP::get(B.getFloatTy(), 1.0 + I));
  B.CreateStore(X, Slot);
  B.CreateRet(B.CreateLoad(B.getFloatTy(), Slot));
  return F;
}

TEST(BlockSplitter, ALongBlockBecomesAChainOfShortOnes) {
  llvm::LLVMContext Ctx;
  llvm::Module M("m", Ctx);
  llvm::Function *F = chain(M, 10000);
  EXPECT_EQ(splitLongBlocks(*F, 2000), 5u);
  EXPECT_FALSE(llvm::verifyFunction(*F, &llvm::errs()));
  for (llvm::BasicBlock &BB : *F)
    EXPECT_LE(BB.size(), 2002u); // a branch, and the entry block's alloca
  // The alloca stays in the entry block, where it is allocated once.
  for (llvm::BasicBlock &BB : *F)
    for (llvm::Instruction &I : BB)
      if (llvm::isa<llvm::AllocaInst>(I)) {
        EXPECT_TRUE(BB.isEntryBlock());
      }
}

TEST(BlockSplitter, AShortBlockIsLeftAlone) {
  llvm::LLVMContext Ctx;
  llvm::Module M("m", Ctx);
  llvm::Function *F = chain(M, 100);
  EXPECT_EQ(splitLongBlocks(*F), 0u);
  EXPECT_EQ(F->size(), 1u);
}

} // namespace
} // namespace dspjit
