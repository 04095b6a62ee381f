//===- compiler/CodeGen.cpp - Checked program to LLVM IR ------------------===//
#include "compiler/CodeGen.h"
#include "compiler/ConstantFolder.h"
#include "compiler/Optimizer.h"
#include "runtime/dspjit_abi.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace llvm;

namespace dspjit {

StructType *slotStructType(LLVMContext &Ctx) {
  if (auto *T = StructType::getTypeByName(Ctx, "dspjit.slot"))
    return T;
  Type *I32 = Type::getInt32Ty(Ctx), *F32 = Type::getFloatTy(Ctx);
  Type *Ptr = PointerType::getUnqual(Ctx);
  return StructType::create(Ctx,
                            {Ptr, I32, I32, I32, I32, I32, I32, I32, I32, F32,
                             F32, F32, F32, Ptr, I32},
                            "dspjit.slot");
}

StructType *kernelStructType(LLVMContext &Ctx) {
  if (auto *T = StructType::getTypeByName(Ctx, "dspjit.kernel"))
    return T;
  Type *I32 = Type::getInt32Ty(Ctx), *I64 = Type::getInt64Ty(Ctx);
  Type *Ptr = PointerType::getUnqual(Ctx);
  return StructType::create(Ctx,
                            {I32, I32, I32, I32, I32, I64, I64,
                             Type::getDoubleTy(Ctx), Ptr, Ptr, Ptr,
                             Type::getDoubleTy(Ctx)},
                            "dspjit.kernel");
}

namespace {

class Generator {
public:
  Generator(const Program &P, LLVMContext &Ctx, const std::string &Cpu,
            unsigned OptLevel)
      : P(P), OptLevel(OptLevel), Ctx(Ctx),
        M(std::make_unique<Module>("dspjit", Ctx)), B(Ctx),
        CpuName(targetCpuName(Cpu)), Fma(targetHasFma(Cpu)),
        VectorIsa(targetHasAvx2(Cpu) ? 'd' : 'b') {
    M->setTargetTriple(sys::getProcessTriple());
    FT = P.DoublePrecision ? Type::getDoubleTy(Ctx) : Type::getFloatTy(Ctx);
    F32 = Type::getFloatTy(Ctx);
    I32 = Type::getInt32Ty(Ctx);
    I64 = Type::getInt64Ty(Ctx);
    PtrTy = PointerType::getUnqual(Ctx);
    ElemSize = P.DoublePrecision ? 8 : 4;
  }

  std::unique_ptr<Module> run() {
    emitTables();
    emitConvolutionPlans();
    Function *Process = emitProcess();
    Function *Init = emitInit();
    emitDescriptor(Process, Init);
    return std::move(M);
  }

private:
  // --- Types and small helpers --------------------------------------------
  Type *vecTy(unsigned W) {
    return W == 1 ? FT : static_cast<Type *>(FixedVectorType::get(FT, W));
  }
  unsigned widthOf(Value *V) {
    if (auto *VT = dyn_cast<FixedVectorType>(V->getType()))
      return VT->getNumElements();
    return 1;
  }
  /// Widens a scalar to W lanes; a value of width W is returned as it is.
  Value *splat(Value *V, unsigned W) {
    if (W == 1 || widthOf(V) == W)
      return V;
    return B.CreateVectorSplat(W, V);
  }
  Constant *fconst(double V) { return ConstantFP::get(FT, V); }
  Value *bool2f(Value *Cond) {
    return B.CreateUIToFP(
        Cond, Cond->getType()->isVectorTy()
                  ? static_cast<Type *>(FixedVectorType::get(FT, widthOf(Cond)))
                  : FT);
  }
  Value *instPtr(uint64_t Offset) {
    return B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), Inst, Offset);
  }
  Align elemAlign() { return Align(ElemSize); }

  /// Lane `I` of V (V may be a scalar).
  Value *lane(Value *V, unsigned I) {
    return V->getType()->isVectorTy() ? B.CreateExtractElement(V, B.getInt32(I))
                                      : V;
  }
  /// sum(v), in the order dsl/LANGUAGE.md defines and at every optimization
  /// level the same: a halving tree. With H the largest power of two below
  /// the width N, lanes [H, N) are added to lanes [0, N - H), then the
  /// first H lanes are summed alike. Each level is one vector add, so a
  /// 64-lane sum is 6 dependent adds instead of a chain of 63 (and LLVM's
  /// ordered reduction of 64 lanes cost a third of additive.dsp's code
  /// generation); its rounding error grows with log2(N), not N. Missing
  /// lanes are -0.0, the one exact identity of IEEE addition.
  Value *sumLanes(Value *V) {
    unsigned N = widthOf(V);
    if (N == 1)
      return V;
    Value *Pad = ConstantVector::getSplat(ElementCount::getFixed(N),
                                          ConstantFP::getNegativeZero(FT));
    while (N > 2) {
      unsigned H = unsigned(PowerOf2Ceil(N) / 2);
      SmallVector<int, 64> Lo, Hi;
      for (unsigned I = 0; I < H; ++I) {
        Lo.push_back(int(I));
        Hi.push_back(int(I + H < N ? I + H : widthOf(V))); // Pad's lane 0
      }
      Value *HiLanes = B.CreateShuffleVector(V, Pad, Hi);
      V = B.CreateFAdd(B.CreateShuffleVector(V, Lo), HiLanes);
      Pad = ConstantVector::getSplat(ElementCount::getFixed(H),
                                     ConstantFP::getNegativeZero(FT));
      N = H;
    }
    return B.CreateFAdd(lane(V, 0), lane(V, 1));
  }
  /// Builds a value from scalar lanes.
  Value *fromLanes(const std::vector<Value *> &Lanes) {
    if (Lanes.size() == 1)
      return Lanes[0];
    Value *V = PoisonValue::get(vecTy(unsigned(Lanes.size())));
    for (unsigned I = 0; I < Lanes.size(); ++I)
      V = B.CreateInsertElement(V, Lanes[I], B.getInt32(I));
    return V;
  }

  /// Converts a float index to an integer in [Lo, Hi]; NaN maps to Lo.
  Value *clampIndex(Value *X, double Lo, double Hi) {
    Value *C =
        B.CreateMaxNum(X, ConstantFP::get(X->getType(), Lo)); // NaN -> Lo
    C = B.CreateMinNum(C, ConstantFP::get(X->getType(), Hi));
    return B.CreateFPToSI(
        C, X->getType()->isVectorTy()
               ? static_cast<Type *>(FixedVectorType::get(I32, widthOf(X)))
               : I32);
  }

  // --- The process function -------------------------------------------------
  Function *emitProcess() {
    // int dspjit_process(const void *in, void *out, unsigned long frames,
    //                    const PaStreamCallbackTimeInfo *, unsigned long flags,
    //                    void *user)
    auto *FnTy =
        FunctionType::get(I32, {PtrTy, PtrTy, I64, PtrTy, I64, PtrTy}, false);
    Function *F =
        Function::Create(FnTy, Function::ExternalLinkage, "dspjit_process", *M);
    F->addParamAttr(0, Attribute::NoAlias);
    F->addParamAttr(1, Attribute::NoAlias);
    F->addParamAttr(5, Attribute::NoAlias);
    F->addFnAttr(Attribute::NoUnwind);
    F->addFnAttr(Attribute::NoRecurse);
    F->addFnAttr("target-cpu", CpuName);
    // It runs with denormals flushed (MXCSR, below) and says so, so that
    // the optimizer's constant folding flushes them too: without this, -O3
    // folded `log(softclip(1e-40))` to -91.7 where the running code (and
    // -O0) computes log(0), i.e. silence (found by fuzz_programs).
    if (Triple(M->getTargetTriple()).isX86())
      F->addFnAttr("denormal-fp-math", "preserve-sign,preserve-sign");
    InPtr = F->getArg(0);
    OutPtr = F->getArg(1);
    Value *Frames = F->getArg(2);
    Inst = F->getArg(5);

    BasicBlock *Entry = BasicBlock::Create(Ctx, "entry", F);
    B.SetInsertPoint(Entry);
    EntryBlock = Entry;

    // Denormals flushed for the callback's duration (x86: MXCSR FTZ|DAZ).
    Value *SavedCsr = nullptr;
    bool X86 = Triple(M->getTargetTriple()).isX86();
    if (X86) {
      SavedCsr = createAlloca(I32, "mxcsr.saved");
      Value *NewCsr = createAlloca(I32, "mxcsr.new");
      B.CreateIntrinsic(Intrinsic::x86_sse_stmxcsr, {}, {SavedCsr});
      Value *Old = B.CreateLoad(I32, SavedCsr);
      B.CreateStore(B.CreateOr(Old, B.getInt32(0x8040)), NewCsr);
      B.CreateIntrinsic(Intrinsic::x86_sse_ldmxcsr, {}, {NewCsr});
    }

    // Locals live in allocas that SROA/mem2reg turn into registers.
    for (const Local &L : P.Locals)
      LocalSlots.push_back(createAlloca(vecTy(L.Width), L.Name));
    loadSlots();
    FramesF = B.CreateUIToFP(Frames, FT);
    OutVar = P.Outputs ? createAlloca(vecTy(P.Outputs), "out") : nullptr;
    NonFinite = createAlloca(I64, "nonfinite");
    if (P.Outputs) {
      GuardSum = createAlloca(FixedVectorOrScalar(F32, P.Outputs), "guard.sum");
      B.CreateStore(Constant::getNullValue(GuardSum->getAllocatedType()),
                    GuardSum);
    }
    B.CreateStore(B.getInt64(0), NonFinite);
    if (P.Inputs) {
      // Without input (a null pointer) every frame reads the same frame of
      // zeros: no branch in the frame loop, and no copy of the loop for
      // the optimizer to unswitch it into (which doubled code generation).
      Type *InTy = FixedVectorOrScalar(F32, P.Inputs);
      AllocaInst *Zeros = createAlloca(InTy, "in.zeros");
      B.CreateStore(Constant::getNullValue(InTy), Zeros);
      Value *HasInput = B.CreateICmpNE(
          InPtr, ConstantPointerNull::get(cast<PointerType>(PtrTy)));
      InBase = B.CreateSelect(HasInput, InPtr, Zeros, "in.base");
      InStride = B.CreateSelect(HasInput, B.getInt64(P.Inputs), B.getInt64(0),
                                "in.stride");
    }

    // `out` reads 0 in `block`, as at the start of every frame; left
    // unset, a read of it there was undefined (and -O3 made it NaN).
    if (OutVar)
      B.CreateStore(Constant::getNullValue(vecTy(P.Outputs)), OutVar);
    genOps(P.Block);

    // The frame loop. Optimized, it comes in two versions behind one test
    // per callback: when every smoothed parameter already sits exactly on
    // its target, smoothing would change nothing this block, so the
    // settled version skips it and reads each parameter's target, which is
    // the same for every frame: what is computed from parameters alone
    // (a filter's coefficients, `db2lin(gain)`, `sr / freq`) is then
    // loop-invariant, and the optimizer computes it once per block. Both
    // versions compute the same values, bit for bit: a smoother whose value
    // equals its target lands on the target at once (smoothParams). -O0
    // (the quick tier of a reload) keeps only the moving version.
    BasicBlock *Done = BasicBlock::Create(Ctx, "frames.done", F);
    if (Value *Settled = OptLevel > 0 ? paramsSettled() : nullptr) {
      BasicBlock *Still = BasicBlock::Create(Ctx, "settled", F);
      BasicBlock *Moving = BasicBlock::Create(Ctx, "moving", F);
      B.CreateCondBr(Settled, Still, Moving);
      B.SetInsertPoint(Still);
      for (size_t I = 0; I < P.Slots.size(); ++I)
        if (isSmoothed(P.Slots[I])) // +0 and -0 compare equal: the target
          B.CreateStore(ParamTargets[I], SlotVars[I]);
      emitFrameLoop(Frames, /*Smooth=*/false, "settled");
      B.CreateBr(Done);
      B.SetInsertPoint(Moving);
    }
    emitFrameLoop(Frames, /*Smooth=*/true, "frame");
    B.CreateBr(Done);

    B.SetInsertPoint(Done);
    guardOutput(Frames);
    storeSlots(Frames);
    if (X86)
      B.CreateIntrinsic(Intrinsic::x86_sse_ldmxcsr, {}, {SavedCsr});
    B.CreateRet(B.getInt32(0)); // paContinue
    return F;
  }

  /// The frame loop, from the current block; the builder is left in its
  /// exit. `Smooth`: the parameters' smoothers step at every frame.
  void emitFrameLoop(Value *Frames, bool Smooth, const Twine &Name) {
    Function *F = B.GetInsertBlock()->getParent();
    BasicBlock *Header = BasicBlock::Create(Ctx, Name + ".header", F);
    BasicBlock *Body = BasicBlock::Create(Ctx, Name + ".body", F);
    BasicBlock *Exit = BasicBlock::Create(Ctx, Name + ".exit", F);
    BasicBlock *Pre = B.GetInsertBlock();
    B.CreateBr(Header);
    B.SetInsertPoint(Header);
    PHINode *Frame = B.CreatePHI(I64, 2, Name);
    Frame->addIncoming(B.getInt64(0), Pre);
    B.CreateCondBr(B.CreateICmpULT(Frame, Frames), Body, Exit);

    B.SetInsertPoint(Body);
    if (Smooth)
      smoothParams();
    loadInput(Frame);
    if (OutVar)
      B.CreateStore(Constant::getNullValue(vecTy(P.Outputs)), OutVar);
    genOps(P.Process);
    // note.trigger is 1 in a note's first frame only.
    for (size_t I = 0; I < P.Slots.size(); ++I)
      if (isTrigger(P.Slots[I]))
        B.CreateStore(Constant::getNullValue(vecTy(P.Slots[I].Width)),
                      SlotVars[I]);
    storeOutput(Frame);
    Value *Next = B.CreateAdd(Frame, B.getInt64(1), Name + ".next", true, true);
    Frame->addIncoming(Next, B.GetInsertBlock());
    BranchInst *Back = B.CreateBr(Header);
    // Two versions are not unrolled: the moving one runs only while a
    // parameter glides, and unrolled copies of the settled one (4 and a
    // remainder loop) cost a small kernel 35% more compile for 3 to 7
    // instructions a frame (lowpass 12.2 instead of 8.4, Faust's 66).
    if (OptLevel > 0 && paramsSmoothed())
      Back->setMetadata(LLVMContext::MD_loop, noUnroll());
    B.SetInsertPoint(Exit);
  }

  bool paramsSmoothed() const {
    return std::any_of(P.Slots.begin(), P.Slots.end(), isSmoothed);
  }

  /// Loop metadata that keeps LoopUnroll away from a loop.
  MDNode *noUnroll() {
    MDNode *Disable =
        MDNode::get(Ctx, MDString::get(Ctx, "llvm.loop.unroll.disable"));
    MDNode *Id = MDNode::getDistinct(Ctx, {nullptr, Disable});
    Id->replaceOperandWith(0, Id); // a loop ID refers to itself
    return Id;
  }

  static bool isTrigger(const Slot &S) {
    return S.K == Slot::Note && S.Name == "note.trigger";
  }

  static bool isSmoothed(const Slot &S) {
    return S.K == Slot::Param && S.SmoothSeconds > 0;
  }

  /// True when every smoothed parameter's value equals its target (a NaN
  /// target is the value itself, which never equals itself: moving); null
  /// when the script has no smoothed parameter.
  Value *paramsSettled() {
    Value *All = nullptr;
    for (size_t I = 0; I < P.Slots.size(); ++I) {
      if (!isSmoothed(P.Slots[I]))
        continue;
      Value *Eq = B.CreateFCmpOEQ(ParamCurrents[I], ParamTargets[I]);
      All = All ? B.CreateAnd(All, Eq) : Eq;
    }
    return All;
  }

  /// Allocas go first in the entry block, where mem2reg finds them.
  AllocaInst *createAlloca(Type *T, const Twine &Name) {
    IRBuilder<> AB(EntryBlock, EntryBlock->getFirstInsertionPt());
    return AB.CreateAlloca(T, nullptr, Name);
  }

  /// Loads everything the frame loop reads or writes into registers.
  void loadSlots() {
    SlotVars.assign(P.Slots.size(), nullptr);
    ParamTargets.assign(P.Slots.size(), nullptr);
    ParamCurrents.assign(P.Slots.size(), nullptr);
    for (size_t I = 0; I < P.Slots.size(); ++I) {
      const Slot &S = P.Slots[I];
      switch (S.K) {
      case Slot::Param: {
        SlotVars[I] = createAlloca(FT, S.Name);
        Value *Cur =
            B.CreateFPExt(B.CreateLoad(F32, instPtr(S.ValueOffset)), FT);
        Value *Raw =
            B.CreateFPExt(B.CreateLoad(F32, instPtr(S.Offset),
                                       /*volatile: host writes it*/ true),
                          FT);
        // A NaN target keeps the current value; others are clamped.
        Value *IsNaN = B.CreateFCmpUNO(Raw, Raw);
        Value *Clamped =
            B.CreateMinNum(B.CreateMaxNum(Raw, fconst(S.Min)), fconst(S.Max));
        Value *Target = B.CreateSelect(IsNaN, Cur, Clamped, S.Name + ".target");
        ParamTargets[I] = Target;
        ParamCurrents[I] = Cur;
        B.CreateStore(S.SmoothSeconds > 0 ? Cur : Target, SlotVars[I]);
        break;
      }
      case Slot::Meter:
      case Slot::Note: {
        SlotVars[I] = createAlloca(vecTy(S.Width), S.Name);
        // voice.peak starts from 0 at every callback: the peak of this one.
        if (S.VoicePeak) {
          B.CreateStore(Constant::getNullValue(vecTy(S.Width)), SlotVars[I]);
          break;
        }
        Value *V = B.CreateAlignedLoad(FixedVectorOrScalar(F32, S.Width),
                                       instPtr(S.Offset), Align(4),
                                       /*volatile: host writes notes*/
                                       S.K == Slot::Note);
        B.CreateStore(convert(V, vecTy(S.Width)), SlotVars[I]);
        break;
      }
      case Slot::State:
        if (S.IsArray)
          break;
        SlotVars[I] = createAlloca(vecTy(S.Width), S.Name);
        B.CreateStore(
            B.CreateAlignedLoad(vecTy(S.Width), instPtr(S.Offset), elemAlign()),
            SlotVars[I]);
        break;
      case Slot::Delay:
        SlotVars[I] = createAlloca(I32, S.Name + ".pos");
        B.CreateStore(B.CreateLoad(I32, instPtr(S.ValueOffset)), SlotVars[I]);
        break;
      }
    }
  }

  Type *FixedVectorOrScalar(Type *T, unsigned W) {
    return W == 1 ? T : static_cast<Type *>(FixedVectorType::get(T, W));
  }
  /// Converts between float and double (scalars or vectors alike).
  Value *convert(Value *V, Type *To) {
    if (V->getType() == To)
      return V;
    return V->getType()->getScalarSizeInBits() < To->getScalarSizeInBits()
               ? B.CreateFPExt(V, To)
               : B.CreateFPTrunc(V, To);
  }

  void storeSlots(Value *Frames) {
    for (size_t I = 0; I < P.Slots.size(); ++I) {
      const Slot &S = P.Slots[I];
      if (!SlotVars[I])
        continue;
      Value *V = B.CreateLoad(SlotVars[I]->getAllocatedType(), SlotVars[I]);
      switch (S.K) {
      case Slot::Param:
        B.CreateStore(convert(V, F32), instPtr(S.ValueOffset));
        break;
      case Slot::Meter:
        B.CreateAlignedStore(convert(V, FixedVectorOrScalar(F32, S.Width)),
                             instPtr(S.Offset), Align(4));
        break;
      case Slot::Note:
        // Only note.trigger changes (to 0 after the first frame); the host
        // owns the others.
        if (isTrigger(S))
          B.CreateAlignedStore(convert(V, FixedVectorOrScalar(F32, S.Width)),
                               instPtr(S.Offset), Align(4));
        break;
      case Slot::State:
        B.CreateAlignedStore(V, instPtr(S.Offset), elemAlign());
        break;
      case Slot::Delay: B.CreateStore(V, instPtr(S.ValueOffset)); break;
      }
    }
    auto Bump = [&](size_t Offset, Value *By) {
      Value *Ptr = instPtr(Offset);
      B.CreateStore(B.CreateAdd(B.CreateLoad(I64, Ptr), By), Ptr);
    };
    Bump(offsetof(DspjitInstanceHeader, frames_processed), Frames);
    Bump(offsetof(DspjitInstanceHeader, callbacks), B.getInt64(1));
    Bump(offsetof(DspjitInstanceHeader, nonfinite_samples),
         B.CreateLoad(I64, NonFinite));
  }

  /// One-pole smoothing toward each parameter's target: 99% of a step in
  /// the parameter's smoothing time, then the target itself, exactly
  /// (LANGUAGE.md section 11). A float one-pole alone never gets there:
  /// once `c * (target - value)` is below half an ulp of the value the
  /// value stops (`bits` raised from 6 to 8 stayed at 7.9999752). So the
  /// step is at least `c * E`, E = (max - min) / 256: the last E of the way
  /// is a straight line that takes T / 4.6, and a step that would overshoot
  /// or not change the value lands on the target. Every step is reached
  /// within (ln 256 + 1) / 4.6 = 1.42 T; mirrored by tests/golden's
  /// Processor and tested by tests/unit (compiler_test, Smoothed*).
  void smoothParams() {
    for (size_t I = 0; I < P.Slots.size(); ++I) {
      const Slot &S = P.Slots[I];
      if (!isSmoothed(S))
        continue;
      // 4.6 ~ ln(100): 99% of a step in the smoothing time (dsl/LANGUAGE.md).
      double Coef = 1 - std::exp(-4.6 / (S.SmoothSeconds * P.SampleRate));
      double Tail = (double(S.Max) - double(S.Min)) / 256;
      Value *Cur = B.CreateLoad(FT, SlotVars[I]);
      Value *Target = ParamTargets[I];
      Value *Gap = B.CreateFSub(Target, Cur);
      Value *Dist = B.CreateUnaryIntrinsic(Intrinsic::fabs, Gap);
      Value *Step =
          B.CreateFMul(fconst(Coef), B.CreateMaxNum(Dist, fconst(Tail)));
      Value *Next = B.CreateFAdd(
          Cur, B.CreateBinaryIntrinsic(Intrinsic::copysign, Step, Gap));
      // The value lives in the instance as a float between callbacks, so
      // in double precision it is a float after every frame too: the same
      // at every block size.
      if (!FT->isFloatTy())
        Next = B.CreateFPExt(B.CreateFPTrunc(Next, F32), FT);
      Value *Lands = B.CreateOr(B.CreateFCmpOLE(Dist, fconst(Coef * Tail)),
                                B.CreateFCmpOEQ(Next, Cur));
      Next = B.CreateSelect(Lands, Target, Next);
      // A range wider than the largest float (-3e38 to 3e38) has steps
      // that are not floats: target - current overflows to infinity, and
      // the value would become infinite, then NaN for good. Such a step
      // jumps to the end of the range instead. Narrower ranges (every
      // range in practice) never leave it, and pay nothing.
      if (FT->isFloatTy() && double(S.Max) - double(S.Min) >
                                 double(std::numeric_limits<float>::max()))
        Next =
            B.CreateMinNum(B.CreateMaxNum(Next, fconst(S.Min)), fconst(S.Max));
      B.CreateStore(Next, SlotVars[I]);
    }
  }

  void loadInput(Value *Frame) {
    if (!P.Inputs) {
      InputVec = Constant::getNullValue(vecTy(1));
      return;
    }
    Type *InTy = FixedVectorOrScalar(F32, P.Inputs);
    Value *Ptr = B.CreateInBoundsGEP(F32, InBase, B.CreateMul(Frame, InStride));
    InputVec = convert(B.CreateAlignedLoad(InTy, Ptr, Align(4), "in"),
                       vecTy(P.Inputs));
  }

  /// Stores the frame's output as it is, and adds it to a running sum of
  /// the block's frames: a sum that holds a NaN or an infinity is NaN or
  /// infinite from then on, so a finite sum at the end proves every
  /// sample finite. One add per frame, on all channels at once; a sum that
  /// overflows with finite samples only costs guardOutput a needless look.
  void storeOutput(Value *Frame) {
    if (!P.Outputs)
      return;
    Type *OutTy = FixedVectorOrScalar(F32, P.Outputs);
    Value *V = convert(B.CreateLoad(vecTy(P.Outputs), OutVar), OutTy);
    Value *Ptr = B.CreateInBoundsGEP(F32, OutPtr,
                                     B.CreateMul(Frame, B.getInt64(P.Outputs)));
    B.CreateAlignedStore(V, Ptr, Align(4));
    B.CreateStore(B.CreateFAdd(B.CreateLoad(OutTy, GuardSum), V), GuardSum);
  }

  /// After the frames, NaN and infinity in the block's output become
  /// silence, counted in `nonfinite_samples`, before the buffer goes to the
  /// device. Nothing is wrong nearly always, and storeOutput's sum says
  /// so; only when it is not finite is dspjit_silence_nonfinite called. The
  /// same code at every optimization level.
  void guardOutput(Value *Frames) {
    if (!P.Outputs)
      return;
    Function *F = B.GetInsertBlock()->getParent();
    // The largest magnitude among the sum's lanes, as bits: non-finite
    // exactly when at least 0x7f800000 (the exponent all ones).
    Type *SumTy = GuardSum->getAllocatedType();
    Type *BitsTy = FixedVectorOrScalar(I32, P.Outputs);
    Value *Max =
        B.CreateAnd(B.CreateBitCast(B.CreateLoad(SumTy, GuardSum), BitsTy),
                    ConstantInt::get(BitsTy, 0x7fffffff));
    if (P.Outputs > 1)
      Max = B.CreateUnaryIntrinsic(Intrinsic::vector_reduce_umax, Max);
    BasicBlock *Clean = B.GetInsertBlock();
    BasicBlock *Fix = BasicBlock::Create(Ctx, "guard.fix", F);
    BasicBlock *Join = BasicBlock::Create(Ctx, "guard.done", F);
    B.CreateCondBr(B.CreateICmpUGE(Max, B.getInt32(0x7f800000)), Fix, Join,
                   MDBuilder(Ctx).createBranchWeights(1, 1 << 20));
    B.SetInsertPoint(Fix);
    Value *Count = B.CreateCall(
        emitSilencer(),
        {OutPtr, B.CreateMul(Frames, B.getInt64(P.Outputs), "samples")});
    B.CreateBr(Join);
    B.SetInsertPoint(Join);
    PHINode *N = B.CreatePHI(I64, 2, "nonfinite");
    N->addIncoming(B.getInt64(0), Clean);
    N->addIncoming(Count, Fix);
    B.CreateStore(N, NonFinite);
  }

  /// i64 dspjit_silence_nonfinite(float *out, i64 samples): replaces each
  /// NaN and infinity by 0 and returns how many. A function of the module's
  /// own (not a call out of it), cold and never optimized: it runs only
  /// when something went wrong, and a loop costs the optimizer and the
  /// instruction selector more than the kernel's own small frame loop.
  Function *emitSilencer() {
    auto *FnTy = FunctionType::get(I64, {PtrTy, I64}, false);
    Function *F = Function::Create(FnTy, Function::InternalLinkage,
                                   "dspjit_silence_nonfinite", *M);
    F->addFnAttr(Attribute::NoUnwind);
    F->addFnAttr(Attribute::Cold);
    F->addFnAttr(Attribute::NoInline);
    F->addFnAttr(Attribute::OptimizeNone);
    F->addFnAttr("target-cpu", CpuName);
    IRBuilder<> FB(BasicBlock::Create(Ctx, "entry", F));
    BasicBlock *Entry = FB.GetInsertBlock();
    BasicBlock *Header = BasicBlock::Create(Ctx, "header", F);
    BasicBlock *Body = BasicBlock::Create(Ctx, "body", F);
    BasicBlock *Exit = BasicBlock::Create(Ctx, "exit", F);
    FB.CreateBr(Header);
    FB.SetInsertPoint(Header);
    PHINode *I = FB.CreatePHI(I64, 2, "i");
    PHINode *Count = FB.CreatePHI(I64, 2, "count");
    I->addIncoming(FB.getInt64(0), Entry);
    Count->addIncoming(FB.getInt64(0), Entry);
    FB.CreateCondBr(FB.CreateICmpULT(I, F->getArg(1)), Body, Exit);
    FB.SetInsertPoint(Body);
    Value *Ptr = FB.CreateInBoundsGEP(I32, F->getArg(0), I);
    Value *Bits = FB.CreateAlignedLoad(I32, Ptr, Align(4));
    Value *Bad = FB.CreateICmpUGE(FB.CreateAnd(Bits, FB.getInt32(0x7fffffff)),
                                  FB.getInt32(0x7f800000));
    FB.CreateAlignedStore(FB.CreateSelect(Bad, FB.getInt32(0), Bits), Ptr,
                          Align(4));
    I->addIncoming(FB.CreateAdd(I, FB.getInt64(1)), Body);
    Count->addIncoming(FB.CreateAdd(Count, FB.CreateZExt(Bad, I64)), Body);
    FB.CreateBr(Header);
    FB.SetInsertPoint(Exit);
    FB.CreateRet(Count);
    return F;
  }

  // --- Statements
  // -------------------------------------------------------------
  void genOps(const OpList &Ops) {
    for (const OpPtr &O : Ops)
      genOp(*O);
  }

  /// After a branch away (break, return), code that follows is unreachable
  /// but still needs a block to go in.
  void startDeadBlock() {
    B.SetInsertPoint(
        BasicBlock::Create(Ctx, "dead", B.GetInsertBlock()->getParent()));
  }

  Value *targetVar(const Op &O) {
    switch (O.Target) {
    case Op::LocalTarget: return LocalSlots[size_t(O.Id)];
    case Op::SlotTarget: return SlotVars[size_t(O.Id)];
    case Op::OutTarget: return OutVar;
    }
    return nullptr;
  }

  void genOp(const Op &O) {
    switch (O.K) {
    case Op::SetLocal: {
      AllocaInst *A = LocalSlots[size_t(O.Id)];
      B.CreateStore(splat(gen(*O.Value), P.Locals[size_t(O.Id)].Width), A);
      return;
    }
    case Op::SetSlot:
      B.CreateStore(splat(gen(*O.Value), P.Slots[size_t(O.Id)].Width),
                    SlotVars[size_t(O.Id)]);
      return;
    case Op::SetOut:
      B.CreateStore(splat(gen(*O.Value), P.Outputs), OutVar);
      return;
    case Op::SetElem: {
      const Slot &S = P.Slots[size_t(O.Id)];
      Value *Ptr = elemPtr(S, gen(*O.Index));
      B.CreateAlignedStore(splat(gen(*O.Value), S.Width), Ptr, elemAlign());
      return;
    }
    case Op::SetLane: {
      auto *Var = cast<AllocaInst>(targetVar(O));
      Value *V = gen(*O.Value);
      Type *T = Var->getAllocatedType();
      if (!T->isVectorTy()) {
        B.CreateStore(V, Var);
        return;
      }
      unsigned W = widthOf(Constant::getNullValue(T));
      Value *Idx = clampIndex(gen(*O.Index), 0, W - 1);
      B.CreateStore(B.CreateInsertElement(B.CreateLoad(T, Var), V, Idx), Var);
      return;
    }
    case Op::DelayWrite: {
      const Slot &S = P.Slots[size_t(O.Id)];
      Value *Pos = B.CreateLoad(I32, SlotVars[size_t(O.Id)]);
      Value *Ptr = delayPtr(S, Pos);
      B.CreateAlignedStore(splat(gen(*O.Value), S.Width), Ptr, elemAlign());
      B.CreateStore(B.CreateAnd(B.CreateAdd(Pos, B.getInt32(1)),
                                B.getInt32(S.Capacity - 1)),
                    SlotVars[size_t(O.Id)]);
      return;
    }
    case Op::If: {
      Function *F = B.GetInsertBlock()->getParent();
      Value *Cond = B.CreateFCmpUNE(gen(*O.Value), fconst(0));
      BasicBlock *Then = BasicBlock::Create(Ctx, "if.then", F);
      BasicBlock *Else = BasicBlock::Create(Ctx, "if.else", F);
      BasicBlock *Join = BasicBlock::Create(Ctx, "if.end", F);
      B.CreateCondBr(Cond, Then, Else);
      B.SetInsertPoint(Then);
      genOps(O.Body);
      B.CreateBr(Join);
      B.SetInsertPoint(Else);
      genOps(O.Else);
      B.CreateBr(Join);
      B.SetInsertPoint(Join);
      return;
    }
    case Op::Loop: {
      Function *F = B.GetInsertBlock()->getParent();
      AllocaInst *Counter = createAlloca(I32, "loop.i");
      B.CreateStore(B.getInt32(0), Counter);
      BasicBlock *Header = BasicBlock::Create(Ctx, "loop.header", F);
      BasicBlock *Body = BasicBlock::Create(Ctx, "loop.body", F);
      BasicBlock *Exit = BasicBlock::Create(Ctx, "loop.exit", F);
      B.CreateBr(Header);
      B.SetInsertPoint(Header);
      Value *I = B.CreateLoad(I32, Counter);
      B.CreateCondBr(B.CreateICmpULT(I, B.getInt32(O.Count)), Body, Exit);
      B.SetInsertPoint(Body);
      B.CreateStore(B.CreateFAdd(fconst(O.From), B.CreateUIToFP(I, FT)),
                    LocalSlots[size_t(O.Id)]);
      LoopExits.push_back(Exit);
      genOps(O.Body);
      LoopExits.pop_back();
      Value *Next = B.CreateAdd(B.CreateLoad(I32, Counter), B.getInt32(1));
      B.CreateStore(Next, Counter);
      B.CreateBr(Header);
      B.SetInsertPoint(Exit);
      return;
    }
    case Op::Break:
      B.CreateBr(LoopExits.back());
      startDeadBlock();
      return;
    case Op::Inline: {
      AllocaInst *Result = LocalSlots[size_t(O.Id)];
      B.CreateStore(Constant::getNullValue(Result->getAllocatedType()), Result);
      BasicBlock *Exit = BasicBlock::Create(Ctx, "inline.end",
                                            B.GetInsertBlock()->getParent());
      InlineExits.push_back({Exit, Result});
      // Loops of the caller are not visible to `break` in the callee.
      std::vector<BasicBlock *> SavedLoops;
      std::swap(SavedLoops, LoopExits);
      genOps(O.Body);
      std::swap(SavedLoops, LoopExits);
      InlineExits.pop_back();
      B.CreateBr(Exit);
      B.SetInsertPoint(Exit);
      return;
    }
    case Op::Return: {
      auto [Exit, Result] = InlineExits.back();
      unsigned W = widthOf(Constant::getNullValue(Result->getAllocatedType()));
      B.CreateStore(splat(gen(*O.Value), W), Result);
      B.CreateBr(Exit);
      startDeadBlock();
      return;
    }
    }
  }

  Value *elemPtr(const Slot &S, Value *Index) {
    Value *I = B.CreateZExt(clampIndex(Index, 0, double(S.Count - 1)), I64);
    Value *Off = B.CreateMul(I, B.getInt64(uint64_t(S.Width) * ElemSize));
    return B.CreateInBoundsGEP(B.getInt8Ty(), instPtr(S.Offset), Off);
  }

  /// The address of frame `Pos` (already masked) of a delay line.
  Value *delayPtr(const Slot &S, Value *Pos) {
    Value *Off = B.CreateMul(B.CreateZExt(Pos, I64),
                             B.getInt64(uint64_t(S.Width) * ElemSize));
    return B.CreateInBoundsGEP(B.getInt8Ty(), instPtr(S.Offset), Off);
  }

  /// The frame written `Back` writes ago (an i32, at least 1), lanes [First,
  /// First + Count) of it.
  Value *delayLoad(const Slot &S, Value *Back, unsigned Lane, unsigned Count) {
    Value *Pos = B.CreateLoad(I32, SlotVars[size_t(&S - P.Slots.data())]);
    Value *Idx =
        B.CreateAnd(B.CreateSub(Pos, Back), B.getInt32(S.Capacity - 1));
    Value *Ptr = delayPtr(S, Idx);
    if (Lane)
      Ptr = B.CreateConstInBoundsGEP1_64(FT, Ptr, Lane);
    return B.CreateAlignedLoad(vecTy(Count), Ptr, elemAlign());
  }

  /// `tap(n)` or `read(t)`: one position for every lane, one per lane, or,
  /// on a line of width 1, one lane per position (multi-tap).
  Value *genDelayRead(const Node &N) {
    const Slot &S = P.Slots[size_t(N.Id)];
    Value *Arg = gen(*N.Args[0]);
    bool PerLane = widthOf(Arg) > 1;
    bool MultiTap = PerLane && S.Width == 1;
    auto ReadAt = [&](Value *T, unsigned Lane, unsigned Count) -> Value * {
      // Clamp in float first (NaN -> 1), then split into whole and fraction.
      Value *C = B.CreateMinNum(B.CreateMaxNum(T, fconst(1)),
                                fconst(double(S.Length)));
      if (N.K == Node::Tap)
        return delayLoad(S, B.CreateFPToUI(C, I32), Lane, Count);
      Value *Whole = B.CreateFPToUI(C, I32);
      Value *Frac = B.CreateFSub(C, B.CreateUIToFP(Whole, FT));
      Value *A = delayLoad(S, Whole, Lane, Count);
      Value *Bv = delayLoad(S, B.CreateAdd(Whole, B.getInt32(1)), Lane, Count);
      return B.CreateFAdd(
          A, B.CreateFMul(splat(Frac, Count), B.CreateFSub(Bv, A)));
    };
    if (!PerLane)
      return ReadAt(Arg, 0, S.Width);
    std::vector<Value *> Lanes;
    for (unsigned I = 0; I < widthOf(Arg); ++I)
      Lanes.push_back(ReadAt(lane(Arg, I), MultiTap ? 0 : I, 1));
    return fromLanes(Lanes);
  }

  // --- Tables -----------------------------------------------------------
  /// Read-only data, in the kernel's precision: each table is a private
  /// constant array, element after element (dsl/LANGUAGE.md, "Tables").
  Constant *constantData(const std::vector<double> &V) {
    if (P.DoublePrecision)
      return ConstantDataArray::get(Ctx, ArrayRef<double>(V));
    std::vector<float> F(V.begin(), V.end()); // round to nearest, as fconst
    return ConstantDataArray::get(Ctx, ArrayRef<float>(F));
  }
  [[gnu::noinline]] GlobalVariable *constantArray(const std::vector<double> &V,
                                                  const Twine &Name) {
    auto *G =
        new GlobalVariable(*M, ArrayType::get(FT, V.size()), true,
                           GlobalValue::PrivateLinkage, constantData(V), Name);
    G->setAlignment(Align(InstanceAlign));
    G->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    return G;
  }
  void emitTables() {
    for (const Table &T : P.Tables)
      TableVars.push_back(constantArray(T.Data, "table." + T.Name));
  }

  // --- Convolutions ----------------------------------------------------
  /// Each `convolve` call's plan (runtime/Convolver.h), constant data on a
  /// cache line of its own, as the runtime expects.
  void emitConvolutionPlans() {
    for (const Convolution &C : P.Convolutions) {
      Constant *Data = ConstantDataArray::get(Ctx, ArrayRef<uint8_t>(C.Plan));
      const std::string Name =
          "convolve.plan." + std::to_string(ConvolutionPlans.size());
      auto *G =
          cast<GlobalVariable>(M->getOrInsertGlobal(Name, Data->getType()));
      G->setInitializer(Data);
      G->setConstant(true);
      G->setLinkage(GlobalValue::PrivateLinkage);
      G->setAlignment(Align(InstanceAlign));
      ConvolutionPlans.push_back(G);
    }
  }

  /// dspjit_convolve_init or dspjit_convolve_frame (runtime/dspjit_abi.h),
  /// which the JIT resolves from its whitelist.
  FunctionCallee convolveFn(const char *Name, unsigned Params) {
    FunctionCallee Fn = M->getOrInsertFunction(
        Name, FunctionType::get(B.getVoidTy(),
                                std::vector<Type *>(Params, PtrTy), false));
    if (auto *F = dyn_cast<Function>(Fn.getCallee()))
      F->setDoesNotThrow();
    return Fn;
  }

  /// `convolve(x, ir)`: the input's lanes through a float array to the
  /// runtime, one frame, and the output's lanes back.
  Value *genConvolve(const Node &N) {
    const Convolution &C = P.Convolutions[size_t(N.Id)];
    Value *X = gen(*N.Args[0]);
    AllocaInst *In = createAlloca(ArrayType::get(F32, C.InLanes), "conv.in");
    AllocaInst *Out = createAlloca(ArrayType::get(F32, C.OutLanes), "conv.out");
    for (unsigned I = 0; I < C.InLanes; ++I)
      B.CreateStore(convert(lane(X, widthOf(X) == 1 ? 0 : I), F32),
                    B.CreateConstInBoundsGEP1_32(F32, In, I));
    B.CreateCall(convolveFn("dspjit_convolve_frame", 4),
                 {ConvolutionPlans[size_t(N.Id)], instPtr(C.Offset), In, Out});
    std::vector<Value *> Lanes;
    for (unsigned I = 0; I < C.OutLanes; ++I)
      Lanes.push_back(convert(
          B.CreateLoad(F32, B.CreateConstInBoundsGEP1_32(F32, Out, I)), FT));
    return fromLanes(Lanes);
  }

  /// Lanes [Lane, Lane + Count) of element `Index` (an i32 in range).
  Value *tableLoad(int Id, Value *Index, unsigned Lane, unsigned Count) {
    const Table &T = P.Tables[size_t(Id)];
    Value *Off =
        B.CreateAdd(B.CreateMul(B.CreateZExt(Index, I64), B.getInt64(T.Width)),
                    B.getInt64(Lane));
    Value *Ptr = B.CreateInBoundsGEP(FT, TableVars[size_t(Id)], Off);
    return B.CreateAlignedLoad(vecTy(Count), Ptr, elemAlign());
  }

  /// A position clamped to [0, len - 1] (NaN -> 0): the float, and the
  /// element it starts in. The integer is clamped again, for lengths that
  /// a float does not hold exactly.
  std::pair<Value *, Value *> clampedPosition(const Table &T, Value *X) {
    Value *C = B.CreateMinNum(B.CreateMaxNum(X, fconst(0)),
                              fconst(double(T.Count - 1)));
    Value *I = B.CreateFPToSI(C, I32);
    I = B.CreateSelect(B.CreateICmpUGT(I, B.getInt32(T.Count - 1)),
                       B.getInt32(T.Count - 1), I);
    return {C, I};
  }

  /// A position taken modulo len, in [0, len) (NaN and infinities -> 0).
  std::pair<Value *, Value *> wrappedPosition(const Table &T, Value *X) {
    Value *L = fconst(double(T.Count));
    Value *W =
        B.CreateFSub(X, B.CreateFMul(B.CreateUnaryIntrinsic(Intrinsic::floor,
                                                            B.CreateFDiv(X, L)),
                                     L));
    W = B.CreateMaxNum(W, fconst(0)); // NaN -> 0
    W = B.CreateSelect(B.CreateFCmpOLT(W, L), W, fconst(0));
    Value *I = B.CreateFPToSI(W, I32);
    I = B.CreateSelect(B.CreateICmpUGT(I, B.getInt32(T.Count - 1)),
                       B.getInt32(T.Count - 1), I);
    return {W, I};
  }

  /// The element `Step` (-1, 1 or 2) after element I: clamped to the
  /// table's ends, or around them.
  Value *neighbour(const Table &T, Value *I, int Step, bool Wrap) {
    Value *Last = B.getInt32(T.Count - 1);
    if (!Wrap) {
      if (Step < 0)
        return B.CreateSelect(B.CreateICmpEQ(I, B.getInt32(0)), I,
                              B.CreateSub(I, B.getInt32(1)));
      Value *J = B.CreateAdd(I, B.getInt32(unsigned(Step)));
      return B.CreateSelect(B.CreateICmpUGT(J, Last), Last, J);
    }
    if (Step < 0)
      return B.CreateSelect(B.CreateICmpEQ(I, B.getInt32(0)), Last,
                            B.CreateSub(I, B.getInt32(1)));
    Value *J = I;
    for (int S = 0; S < Step; ++S)
      J = B.CreateSelect(B.CreateICmpEQ(J, Last), B.getInt32(0),
                         B.CreateAdd(J, B.getInt32(1)));
    return J;
  }

  /// Interpolated read of lanes [Lane, Lane + Count) at position X.
  Value *tableInterpolate(const Node &N, Value *X, unsigned Lane,
                          unsigned Count) {
    const Table &T = P.Tables[size_t(N.Id)];
    auto [Pos, I1] = N.Wrap ? wrappedPosition(T, X) : clampedPosition(T, X);
    Value *Frac = splat(B.CreateFSub(Pos, B.CreateSIToFP(I1, FT)), Count);
    Value *P1 = tableLoad(N.Id, I1, Lane, Count);
    Value *P2 = tableLoad(N.Id, neighbour(T, I1, 1, N.Wrap), Lane, Count);
    if (!N.Cubic)
      return B.CreateFAdd(P1, B.CreateFMul(Frac, B.CreateFSub(P2, P1)));
    // Catmull-Rom, in the order dsl/LANGUAGE.md gives (Horner in t).
    Value *P0 = tableLoad(N.Id, neighbour(T, I1, -1, N.Wrap), Lane, Count);
    Value *P3 = tableLoad(N.Id, neighbour(T, I1, 2, N.Wrap), Lane, Count);
    auto K = [&](double V) { return splat(fconst(V), Count); };
    Value *C1 = B.CreateFMul(K(0.5), B.CreateFSub(P2, P0));
    Value *C2 =
        B.CreateFSub(B.CreateFAdd(B.CreateFSub(P0, B.CreateFMul(K(2.5), P1)),
                                  B.CreateFMul(K(2), P2)),
                     B.CreateFMul(K(0.5), P3));
    Value *C3 = B.CreateFAdd(B.CreateFMul(K(0.5), B.CreateFSub(P3, P0)),
                             B.CreateFMul(K(1.5), B.CreateFSub(P1, P2)));
    Value *Y = B.CreateFAdd(B.CreateFMul(C3, Frac), C2);
    Y = B.CreateFAdd(B.CreateFMul(Y, Frac), C1);
    return B.CreateFAdd(B.CreateFMul(Y, Frac), P1);
  }

  /// `t[k]`, `t.read(x)`, `t.wrap(x)`: one position for every lane, or one
  /// per lane (of the table's lanes, or of a width-1 table).
  Value *genTable(const Node &N) {
    const Table &T = P.Tables[size_t(N.Id)];
    Value *Arg = gen(*N.Args[0]);
    auto At = [&](Value *X, unsigned Lane, unsigned Count) -> Value * {
      if (N.K == Node::TableElem)
        return tableLoad(N.Id, clampedPosition(T, X).second, Lane, Count);
      return tableInterpolate(N, X, Lane, Count);
    };
    unsigned AW = widthOf(Arg);
    if (AW == 1)
      return At(Arg, 0, T.Width);
    std::vector<Value *> Lanes;
    for (unsigned J = 0; J < AW; ++J)
      Lanes.push_back(At(lane(Arg, J), T.Width == 1 ? 0 : J, 1));
    return fromLanes(Lanes);
  }

  // --- Expressions
  // ------------------------------------------------------------
  Value *genAt(const Node &N, unsigned W) { return splat(gen(N), W); }

  Value *gen(const Node &N) {
    switch (N.K) {
    case Node::Const: {
      if (N.Value.size() == 1)
        return fconst(N.Value[0]);
      std::vector<Constant *> Lanes;
      for (double V : N.Value)
        Lanes.push_back(fconst(V));
      return ConstantVector::get(Lanes);
    }
    case Node::LoadLocal:
      return B.CreateLoad(LocalSlots[size_t(N.Id)]->getAllocatedType(),
                          LocalSlots[size_t(N.Id)]);
    case Node::LoadSlot: {
      AllocaInst *A = SlotVars[size_t(N.Id)];
      return B.CreateLoad(A->getAllocatedType(), A);
    }
    case Node::LoadElem: {
      const Slot &S = P.Slots[size_t(N.Id)];
      return B.CreateAlignedLoad(vecTy(S.Width), elemPtr(S, gen(*N.Args[0])),
                                 elemAlign());
    }
    case Node::Input: return InputVec;
    case Node::LoadOut: return B.CreateLoad(vecTy(P.Outputs), OutVar);
    case Node::Frames: return FramesF;
    case Node::Unary: {
      Value *X = gen(*N.Args[0]);
      if (N.UOp == UnOp::Neg)
        return B.CreateFNeg(X);
      return bool2f(B.CreateFCmpOEQ(X, Constant::getNullValue(X->getType())));
    }
    case Node::Binary: return genBinary(N);
    case Node::Select: {
      Value *C = genAt(*N.Args[0], N.Width);
      Value *A = genAt(*N.Args[1], N.Width), *Bv = genAt(*N.Args[2], N.Width);
      return B.CreateSelect(
          B.CreateFCmpUNE(C, Constant::getNullValue(C->getType())), A, Bv);
    }
    case Node::Call: return genCall(N);
    case Node::Lane: {
      Value *V = gen(*N.Args[0]);
      unsigned W = widthOf(V);
      if (W == 1)
        return V;
      const Node &I = *N.Args[1];
      if (I.isConst())
        return B.CreateExtractElement(V, B.getInt32(unsigned(I.Value[0])));
      return B.CreateExtractElement(V, clampIndex(gen(I), 0, W - 1));
    }
    case Node::Concat: {
      std::vector<Value *> Lanes;
      for (const NodePtr &A : N.Args) {
        Value *V = gen(*A);
        for (unsigned I = 0; I < A->Width; ++I)
          Lanes.push_back(lane(V, I));
      }
      return fromLanes(Lanes);
    }
    case Node::Tap:
    case Node::Read: return genDelayRead(N);
    case Node::TableElem:
    case Node::TableRead: return genTable(N);
    }
    return nullptr;
  }

  /// `c + a * b`, `a * b + c`, `c - a * b` or `a * b - c` as one fused
  /// multiply-add, the product being operand P: a Binary, or a Const folded
  /// from one (its Factors). Decided here, from the program, so that every
  /// optimization level computes the same; ConstantFolder's `fused` folds
  /// the same expressions alike.
  Value *genFused(const Node &N, unsigned P) {
    const Node &Product = *N.Args[P];
    auto Factor = [&](unsigned F) -> Value * {
      if (Product.K == Node::Binary)
        return genAt(*Product.Args[F], N.Width);
      std::vector<Constant *> Lanes;
      for (double V : Product.Factors[F])
        Lanes.push_back(fconst(V));
      Value *C = Lanes.size() == 1 ? Lanes[0] : ConstantVector::get(Lanes);
      return splat(C, N.Width);
    };
    Value *A = Factor(0), *Bv = Factor(1);
    Value *C = genAt(*N.Args[1 - P], N.Width);
    if (N.BOp == BinOp::Sub) {
      if (P == 1)
        A = B.CreateFNeg(A); // c - a * b
      else
        C = B.CreateFNeg(C); // a * b - c
    }
    return B.CreateIntrinsic(Intrinsic::fma, {A->getType()}, {A, Bv, C});
  }

  Value *genBinary(const Node &N) {
    if (int P = fusedOperand(N, Fma); P >= 0)
      return genFused(N, unsigned(P));
    Value *A = genAt(*N.Args[0], N.Width), *Bv = genAt(*N.Args[1], N.Width);
    switch (N.BOp) {
    case BinOp::Add: return B.CreateFAdd(A, Bv);
    case BinOp::Sub: return B.CreateFSub(A, Bv);
    case BinOp::Mul: return B.CreateFMul(A, Bv);
    case BinOp::Div: return B.CreateFDiv(A, Bv);
    case BinOp::Mod: return B.CreateFRem(A, Bv);
    case BinOp::Eq: return bool2f(B.CreateFCmpOEQ(A, Bv));
    case BinOp::Ne: return bool2f(B.CreateFCmpUNE(A, Bv));
    case BinOp::Lt: return bool2f(B.CreateFCmpOLT(A, Bv));
    case BinOp::Le: return bool2f(B.CreateFCmpOLE(A, Bv));
    case BinOp::Gt: return bool2f(B.CreateFCmpOGT(A, Bv));
    case BinOp::Ge: return bool2f(B.CreateFCmpOGE(A, Bv));
    case BinOp::And:
    case BinOp::Or: {
      Value *Zero = Constant::getNullValue(A->getType());
      Value *X = B.CreateFCmpUNE(A, Zero), *Y = B.CreateFCmpUNE(Bv, Zero);
      return bool2f(N.BOp == BinOp::And ? B.CreateAnd(X, Y) : B.CreateOr(X, Y));
    }
    }
    return nullptr;
  }

  /// Calls a libm function lane by lane (for functions LLVM has no
  /// intrinsic for); the JIT resolves it from the math whitelist.
  Value *libmCall(const char *Name, std::vector<Value *> Args, unsigned W) {
    std::string Sym = std::string(Name) + (P.DoublePrecision ? "" : "f");
    std::vector<Type *> Params(Args.size(), FT);
    FunctionCallee Fn =
        M->getOrInsertFunction(Sym, FunctionType::get(FT, Params, false));
    if (auto *F = dyn_cast<Function>(Fn.getCallee())) {
      F->setDoesNotThrow();
      F->setDoesNotAccessMemory();
      F->addFnAttr(Attribute::WillReturn);
    }
    std::vector<Value *> Lanes;
    for (unsigned I = 0; I < W; ++I) {
      std::vector<Value *> LaneArgs;
      for (Value *A : Args)
        LaneArgs.push_back(lane(A, I));
      CallInst *C = B.CreateCall(Fn, LaneArgs);
      C->setDoesNotAccessMemory();
      C->setDoesNotThrow();
      Lanes.push_back(C);
    }
    return fromLanes(Lanes);
  }

  /// The vector ISA of glibc's libmvec to call: 'd' (AVX2, 256-bit) or
  /// 'b' (SSE4, 128-bit), from the CPU the kernel is compiled for.
  char vectorIsa() const { return VectorIsa; }

  /// Calls glibc's vector math (libmvec, accurate to 4 ulp) on a vector of
  /// any width, in chunks of the ISA's lane count; the last chunk is padded
  /// with zeros. One call per 8 floats instead of 8 libm calls.
  Value *vectorMathCall(const char *Name, std::vector<Value *> Args,
                        unsigned W) {
    char Isa = vectorIsa();
    unsigned Lanes =
        (Isa == 'd' ? 256u : 128u) / (P.DoublePrecision ? 64u : 32u);
    std::string Sym = std::string("_ZGV") + Isa + "N" + std::to_string(Lanes) +
                      std::string(Args.size(), 'v') + "_" + Name +
                      (P.DoublePrecision ? "" : "f");
    auto *ChunkTy = FixedVectorType::get(FT, Lanes);
    std::vector<Type *> Params(Args.size(), ChunkTy);
    FunctionCallee Fn =
        M->getOrInsertFunction(Sym, FunctionType::get(ChunkTy, Params, false));
    if (auto *F = dyn_cast<Function>(Fn.getCallee())) {
      F->setDoesNotThrow();
      F->setDoesNotAccessMemory();
      F->addFnAttr(Attribute::WillReturn);
    }
    std::vector<Value *> Results;
    for (unsigned First = 0; First < W; First += Lanes) {
      std::vector<Value *> ChunkArgs;
      for (Value *A : Args) {
        Value *Chunk = Constant::getNullValue(ChunkTy);
        for (unsigned I = 0; I < Lanes && First + I < W; ++I)
          Chunk =
              B.CreateInsertElement(Chunk, lane(A, First + I), B.getInt32(I));
        ChunkArgs.push_back(Chunk);
      }
      CallInst *C = B.CreateCall(Fn, ChunkArgs);
      C->setDoesNotAccessMemory();
      C->setDoesNotThrow();
      for (unsigned I = 0; I < Lanes && First + I < W; ++I)
        Results.push_back(B.CreateExtractElement(C, B.getInt32(I)));
    }
    return fromLanes(Results);
  }

  /// tanh at float precision, inline: the rational approximation of Eigen
  /// and XLA (an odd polynomial of degree 13 over an even one of degree 6,
  /// in x^2 by Horner's rule). Each Horner step is one fused multiply-add
  /// on CPUs that have it (half the latency of a multiply and an add: the
  /// VCS3 filter's 5 tanh a pass are a chain), else a multiply and an add;
  /// either way every width and optimization level computes the same bits.
  /// Over every float its error is at most 7 ulp of the correctly rounded
  /// tanh (5 with FMA), a relative error below 4.2e-7 (-127 dB): checked
  /// exhaustively by tests/unit (compiler_test, FastTanh*). |tanh| <= 1;
  /// tanh(NaN) is NaN, tanh(+-inf) is +-1, and |x| < 0.0004 gives x itself
  /// (the sign of zero kept). About 5 times faster than libm's tanhf, and
  /// it vectorizes: the VCS3 filter calls it 55 times a sample.
  Value *fastTanh(Value *X) {
    Type *T = X->getType();
    auto C = [&](double V) { return ConstantFP::get(T, V); };
    Value *X2 = B.CreateFMul(X, X);
    auto horner = [&](std::initializer_list<double> Coefs) {
      Value *Acc = nullptr;
      for (double K : Coefs)
        Acc = !Acc  ? C(K)
              : Fma ? B.CreateIntrinsic(Intrinsic::fma, {T}, {X2, Acc, C(K)})
                    : B.CreateFAdd(B.CreateFMul(X2, Acc), C(K));
      return Acc;
    };
    Value *Num =
        B.CreateFMul(X, horner({-2.76076847742355e-16, 2.00018790482477e-13,
                                -8.60467152213735e-11, 5.12229709037114e-08,
                                1.48572235717979e-05, 6.37261928875436e-04,
                                4.89352455891786e-03}));
    Value *Den = horner({1.19825839466702e-06, 1.18534705686654e-04,
                         2.26843463243900e-03, 4.89352518554385e-03});
    // Beyond +-7.905 the quotient is no longer tanh (it was 1 there): the
    // result is +-1. Chosen after the division rather than clamping x
    // before it, which would put a min and a max on the critical path of
    // every tanh. NaN compares false and stays NaN.
    Value *AbsX = B.CreateUnaryIntrinsic(Intrinsic::fabs, X);
    Value *R =
        B.CreateSelect(B.CreateFCmpOGT(AbsX, C(7.90531110763549805)),
                       B.CreateBinaryIntrinsic(Intrinsic::copysign, C(1), X),
                       B.CreateFDiv(Num, Den));
    return B.CreateSelect(B.CreateFCmpOLT(AbsX, C(0.0004)), X, R);
  }

  /// The libm name of a transcendental built-in that libmvec also has.
  static const char *vectorMathName(Builtin F) {
    switch (F) {
    case Builtin::Sin: return "sin";
    case Builtin::Cos: return "cos";
    case Builtin::Tan: return "tan";
    case Builtin::Asin: return "asin";
    case Builtin::Acos: return "acos";
    case Builtin::Atan: return "atan";
    case Builtin::Atan2: return "atan2";
    case Builtin::Sinh: return "sinh";
    case Builtin::Cosh: return "cosh";
    case Builtin::Tanh: return "tanh";
    case Builtin::Exp: return "exp";
    case Builtin::Exp2: return "exp2";
    case Builtin::Log: return "log";
    case Builtin::Log2: return "log2";
    case Builtin::Log10: return "log10";
    case Builtin::Pow: return "pow";
    default: return nullptr;
    }
  }

  Value *genCall(const Node &N) {
    unsigned W = N.Width;
    if (N.Fn == Builtin::Voicemix)
      return voicemix(N);
    if (N.Fn == Builtin::Convolve)
      return genConvolve(N);
    if (N.Fn == Builtin::Sum || N.Fn == Builtin::Mean) {
      Value *V = gen(*N.Args[0]);
      unsigned AW = widthOf(V);
      Value *S = sumLanes(V);
      return N.Fn == Builtin::Mean ? B.CreateFDiv(S, fconst(double(AW))) : S;
    }
    std::vector<Value *> Args;
    for (const NodePtr &A : N.Args)
      Args.push_back(genAt(*A, W));
    if (N.Fn == Builtin::Tanh && !P.DoublePrecision)
      return fastTanh(Args[0]);
    // From 4 lanes up, vector math pays: one call per chunk of 8 floats. A
    // stereo pair stays with scalar libm, exactly as a C++ program computes
    // it (libmvec may differ from libm by a few ulp, and a modulated delay
    // line, as in a chorus, magnifies that).
    if (const char *Name = vectorMathName(N.Fn); Name && W >= 4)
      return vectorMathCall(Name, Args, W);
    auto Unary = [&](Intrinsic::ID Id) {
      return B.CreateUnaryIntrinsic(Id, Args[0]);
    };
    switch (N.Fn) {
    case Builtin::Sin: return Unary(Intrinsic::sin);
    case Builtin::Cos: return Unary(Intrinsic::cos);
    case Builtin::Exp: return Unary(Intrinsic::exp);
    case Builtin::Exp2: return Unary(Intrinsic::exp2);
    case Builtin::Log: return Unary(Intrinsic::log);
    case Builtin::Log2: return Unary(Intrinsic::log2);
    case Builtin::Log10: return Unary(Intrinsic::log10);
    case Builtin::Sqrt: return Unary(Intrinsic::sqrt);
    case Builtin::Abs: return Unary(Intrinsic::fabs);
    case Builtin::Floor: return Unary(Intrinsic::floor);
    case Builtin::Ceil: return Unary(Intrinsic::ceil);
    case Builtin::Round: return Unary(Intrinsic::round);
    case Builtin::Pow:
      return B.CreateBinaryIntrinsic(Intrinsic::pow, Args[0], Args[1]);
    case Builtin::Fmod: return B.CreateFRem(Args[0], Args[1]);
    // min and max as compare-and-select, which vectorizes to minps/maxps.
    case Builtin::Min:
      return B.CreateSelect(B.CreateFCmpOLT(Args[0], Args[1]), Args[0],
                            Args[1]);
    case Builtin::Max:
      return B.CreateSelect(B.CreateFCmpOGT(Args[0], Args[1]), Args[0],
                            Args[1]);
    case Builtin::Clamp: {
      Value *Lo =
          B.CreateSelect(B.CreateFCmpOGT(Args[0], Args[1]), Args[0], Args[1]);
      return B.CreateSelect(B.CreateFCmpOLT(Lo, Args[2]), Lo, Args[2]);
    }
    case Builtin::Tan: return libmCall("tan", Args, W);
    case Builtin::Asin: return libmCall("asin", Args, W);
    case Builtin::Acos: return libmCall("acos", Args, W);
    case Builtin::Atan: return libmCall("atan", Args, W);
    case Builtin::Atan2: return libmCall("atan2", Args, W);
    case Builtin::Sinh: return libmCall("sinh", Args, W);
    case Builtin::Cosh: return libmCall("cosh", Args, W);
    case Builtin::Tanh: return libmCall("tanh", Args, W);
    case Builtin::Sum:
    case Builtin::Mean:
    case Builtin::Voicemix:
    case Builtin::Convolve:
    case Builtin::Iota: break;
    }
    return nullptr;
  }

  /// voicemix(x): the sum of the voices' lanes, and each lane's largest
  /// magnitude kept in voice.peak for the host's voice allocator.
  Value *voicemix(const Node &N) {
    Value *X = genAt(*N.Args[0], P.Voices);
    AllocaInst *Peak = SlotVars[size_t(N.Id)];
    Value *Abs = B.CreateUnaryIntrinsic(Intrinsic::fabs, X);
    Value *Old = B.CreateLoad(Peak->getAllocatedType(), Peak);
    B.CreateStore(B.CreateSelect(B.CreateFCmpOGT(Abs, Old), Abs, Old), Peak);
    return sumLanes(X);
  }

  // --- init and the descriptor
  // ------------------------------------------------
  Function *emitInit() {
    auto *FnTy = FunctionType::get(I32, {PtrTy, Type::getDoubleTy(Ctx)}, false);
    Function *F =
        Function::Create(FnTy, Function::ExternalLinkage, "dspjit_init", *M);
    F->addFnAttr(Attribute::NoUnwind);
    Inst = F->getArg(0);
    BasicBlock *Entry = BasicBlock::Create(Ctx, "entry", F);
    BasicBlock *Bad = BasicBlock::Create(Ctx, "wrong_rate", F);
    BasicBlock *Good = BasicBlock::Create(Ctx, "reset", F);
    B.SetInsertPoint(Entry);
    B.CreateCondBr(
        B.CreateFCmpOEQ(F->getArg(1),
                        ConstantFP::get(B.getDoubleTy(), P.SampleRate)),
        Good, Bad);
    B.SetInsertPoint(Bad);
    B.CreateRet(B.getInt32(-1));

    B.SetInsertPoint(Good);
    B.CreateMemSet(Inst, B.getInt8(0), B.getInt64(P.InstanceSize),
                   Align(InstanceAlign));
    for (const Slot &S : P.Slots) {
      if (S.K == Slot::Param) {
        B.CreateStore(ConstantFP::get(F32, S.Def), instPtr(S.Offset));
        B.CreateStore(ConstantFP::get(F32, S.Def), instPtr(S.ValueOffset));
        continue;
      }
      if (S.K == Slot::State && !S.ElemInit.empty()) {
        // Per-element initial values (`state x[N] = f(i);`), copied from
        // constant data; an element narrower than the state is broadcast.
        const size_t From = S.Init.size();
        std::vector<double> Data;
        Data.reserve(size_t(S.Count) * S.Width);
        for (unsigned E = 0; E < S.Count; ++E)
          for (unsigned L = 0; L < S.Width; ++L)
            Data.push_back(S.ElemInit[E * From + (From == 1 ? 0 : L)]);
        GlobalVariable *G = constantArray(Data, S.Name + ".init");
        B.CreateMemCpy(instPtr(S.Offset), elemAlign(), G, elemAlign(),
                       B.getInt64(uint64_t(Data.size()) * ElemSize));
        continue;
      }
      if (S.K != Slot::State || std::all_of(S.Init.begin(), S.Init.end(),
                                            [](double V) { return V == 0; }))
        continue;
      std::vector<Constant *> Lanes;
      for (unsigned I = 0; I < S.Width; ++I)
        Lanes.push_back(fconst(S.Init.size() == 1 ? S.Init[0] : S.Init[I]));
      Constant *V = S.Width == 1 ? Lanes[0] : ConstantVector::get(Lanes);
      if (!S.IsArray) {
        B.CreateAlignedStore(V, instPtr(S.Offset), elemAlign());
        continue;
      }
      // Fill the array element by element.
      BasicBlock *Pre = B.GetInsertBlock();
      BasicBlock *Loop = BasicBlock::Create(Ctx, "fill", F);
      BasicBlock *Done = BasicBlock::Create(Ctx, "fill.done", F);
      B.CreateBr(Loop);
      B.SetInsertPoint(Loop);
      PHINode *I = B.CreatePHI(I64, 2);
      I->addIncoming(B.getInt64(0), Pre);
      Value *Ptr = B.CreateInBoundsGEP(
          B.getInt8Ty(), instPtr(S.Offset),
          B.CreateMul(I, B.getInt64(uint64_t(S.Width) * ElemSize)));
      B.CreateAlignedStore(V, Ptr, elemAlign());
      Value *Next = B.CreateAdd(I, B.getInt64(1));
      I->addIncoming(Next, Loop);
      B.CreateCondBr(B.CreateICmpULT(Next, B.getInt64(S.Count)), Loop, Done);
      B.SetInsertPoint(Done);
    }
    for (size_t I = 0; I < P.Convolutions.size(); ++I)
      B.CreateCall(convolveFn("dspjit_convolve_init", 2),
                   {ConvolutionPlans[I], instPtr(P.Convolutions[I].Offset)});
    B.CreateRet(B.getInt32(0));
    return F;
  }

  Constant *cstring(const std::string &S) {
    return B.CreateGlobalString(S, "str", 0, M.get());
  }

  // Not inlined: GCC's -Wmismatched-new-delete misreads LLVM's sized
  // operator new for User once this is inlined into run() (with the
  // tables' globals before it).
  [[gnu::noinline]] void emitDescriptor(Function *Process, Function *Init) {
    StructType *SlotTy = slotStructType(Ctx);
    std::vector<Constant *> Slots;
    auto U32 = [&](uint64_t V) { return ConstantInt::get(I32, V); };
    auto F = [&](double V) { return ConstantFP::get(F32, V); };
    for (const Slot &S : P.Slots) {
      uint32_t Kind = S.K == Slot::Param   ? DSPJIT_SLOT_PARAM
                      : S.K == Slot::Meter ? DSPJIT_SLOT_METER
                      : S.K == Slot::State ? DSPJIT_SLOT_STATE
                      : S.K == Slot::Note  ? DSPJIT_SLOT_NOTE
                                           : DSPJIT_SLOT_DELAY;
      bool IsParam = S.K == Slot::Param;
      Slots.push_back(ConstantStruct::get(
          SlotTy,
          {cstring(S.Name), U32(Kind), U32(S.Width), U32(S.Count),
           U32(S.K == Slot::State || S.K == Slot::Delay ? ElemSize : 4),
           U32(S.Offset), U32(S.ValueOffset), U32(S.Capacity), U32(S.Length),
           F(IsParam ? S.Def : 0), F(IsParam ? S.Min : 0),
           F(IsParam ? S.Max : 0), F(IsParam ? S.SmoothSeconds : 0),
           cstring(IsParam ? S.Unit : ""), U32(IsParam ? S.Midi : 0)}));
    }
    auto *ArrTy = ArrayType::get(SlotTy, Slots.size());
    auto *SlotTable =
        new GlobalVariable(*M, ArrTy, true, GlobalValue::PrivateLinkage,
                           ConstantArray::get(ArrTy, Slots), "dspjit_slots");
    StructType *KTy = kernelStructType(Ctx);
    Constant *K = ConstantStruct::get(
        KTy, {U32(DSPJIT_ABI_VERSION), U32(P.Inputs), U32(P.Outputs),
              U32(Slots.size()), U32(P.Voices),
              ConstantInt::get(I64, P.InstanceSize),
              ConstantInt::get(I64, InstanceAlign),
              ConstantFP::get(B.getDoubleTy(), P.SampleRate), SlotTable,
              Process, Init, ConstantFP::get(B.getDoubleTy(), P.Latency)});
    new GlobalVariable(*M, KTy, true, GlobalValue::ExternalLinkage, K,
                       DSPJIT_KERNEL_SYMBOL);
  }

  const Program &P;
  unsigned OptLevel; // what the module will be optimized at
  LLVMContext &Ctx;
  std::unique_ptr<Module> M;
  IRBuilder<> B;
  std::string CpuName; // the CPU compiled for, and what it has
  bool Fma;
  char VectorIsa;
  BasicBlock *EntryBlock = nullptr;
  Type *FT, *F32, *I32, *I64, *PtrTy;
  uint64_t ElemSize;
  Value *InPtr = nullptr, *OutPtr = nullptr, *Inst = nullptr,
        *FramesF = nullptr;
  Value *InputVec = nullptr, *InBase = nullptr, *InStride = nullptr;
  AllocaInst *OutVar = nullptr, *NonFinite = nullptr, *GuardSum = nullptr;
  std::vector<AllocaInst *> LocalSlots, SlotVars;
  std::vector<GlobalVariable *> TableVars;
  std::vector<GlobalVariable *> ConvolutionPlans;
  std::vector<Value *> ParamTargets, ParamCurrents;
  std::vector<BasicBlock *> LoopExits;
  std::vector<std::pair<BasicBlock *, AllocaInst *>> InlineExits;
};

} // namespace

std::unique_ptr<Module> generateIR(const Program &P, LLVMContext &Ctx,
                                   const std::string &Cpu, unsigned OptLevel) {
  return Generator(P, Ctx, Cpu, OptLevel).run();
}

} // namespace dspjit
