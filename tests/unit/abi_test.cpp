//===- tests/unit/abi_test.cpp - Generated code and host agree on the ABI -===//
//
// runtime/dspjit_abi.h is the whole contract between generated code and the
// host. The code generator builds the same structures in LLVM IR; these
// tests check, field by field, that LLVM lays them out exactly as the C++
// compiler lays out the header's, and that `process` is a PaStreamCallback.
//
//===----------------------------------------------------------------------===//
#include "compiler/CodeGen.h"
#include "compiler/Compiler.h"
#include "compiler/Optimizer.h"
#include "runtime/dspjit_abi.h"

#include "llvm/IR/DataLayout.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Target/TargetMachine.h"

#include <gtest/gtest.h>
#include <portaudio.h>

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

using namespace dspjit;

namespace {

llvm::DataLayout hostLayout() {
  std::string Error;
  auto TM = createHostTargetMachine(3, Error);
  EXPECT_TRUE(TM) << Error;
  return TM->createDataLayout();
}

TEST(Abi, SlotLayoutMatchesTheHeader) {
  llvm::LLVMContext Ctx;
  llvm::DataLayout DL = hostLayout();
  const llvm::StructLayout *L = DL.getStructLayout(slotStructType(Ctx));
  EXPECT_EQ(L->getSizeInBytes(), sizeof(DspjitSlot));
  const size_t Offsets[] = {offsetof(DspjitSlot, name),
                            offsetof(DspjitSlot, kind),
                            offsetof(DspjitSlot, width),
                            offsetof(DspjitSlot, count),
                            offsetof(DspjitSlot, elem_size),
                            offsetof(DspjitSlot, offset),
                            offsetof(DspjitSlot, value_offset),
                            offsetof(DspjitSlot, capacity),
                            offsetof(DspjitSlot, length),
                            offsetof(DspjitSlot, def),
                            offsetof(DspjitSlot, min),
                            offsetof(DspjitSlot, max),
                            offsetof(DspjitSlot, smooth_seconds),
                            offsetof(DspjitSlot, unit),
                            offsetof(DspjitSlot, midi)};
  ASSERT_EQ(slotStructType(Ctx)->getNumElements(), std::size(Offsets));
  for (unsigned I = 0; I < std::size(Offsets); ++I)
    EXPECT_EQ(L->getElementOffset(I), Offsets[I]) << "field " << I;
}

// The fields' types, as the header declares them: what the generated code
// writes must be read back as the same type, not only at the same offset.
static_assert(std::is_same_v<decltype(DspjitSlot::name), const char *>);
static_assert(std::is_same_v<decltype(DspjitSlot::kind), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitSlot::width), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitSlot::count), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitSlot::elem_size), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitSlot::offset), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitSlot::value_offset), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitSlot::capacity), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitSlot::length), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitSlot::def), float>);
static_assert(std::is_same_v<decltype(DspjitSlot::min), float>);
static_assert(std::is_same_v<decltype(DspjitSlot::max), float>);
static_assert(std::is_same_v<decltype(DspjitSlot::smooth_seconds), float>);
static_assert(std::is_same_v<decltype(DspjitSlot::unit), const char *>);
static_assert(std::is_same_v<decltype(DspjitSlot::midi), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitKernel::abi_version), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitKernel::voices), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitKernel::inputs), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitKernel::outputs), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitKernel::num_slots), uint32_t>);
static_assert(std::is_same_v<decltype(DspjitKernel::instance_size), uint64_t>);
static_assert(std::is_same_v<decltype(DspjitKernel::instance_align), uint64_t>);
static_assert(std::is_same_v<decltype(DspjitKernel::sample_rate), double>);
static_assert(
    std::is_same_v<decltype(DspjitKernel::slots), const DspjitSlot *>);
static_assert(std::is_same_v<decltype(DspjitKernel::process), DspjitProcessFn>);
static_assert(std::is_same_v<decltype(DspjitKernel::init), DspjitInitFn>);
static_assert(
    std::is_same_v<decltype(DspjitInstanceHeader::frames_processed), uint64_t>);
static_assert(
    std::is_same_v<decltype(DspjitInstanceHeader::callbacks), uint64_t>);
static_assert(std::is_same_v<decltype(DspjitInstanceHeader::nonfinite_samples),
                             uint64_t>);

/// The IR type of a field, spelled as the header's C type: "u32", "u64",
/// "float", "double" or "ptr".
std::string irTypeName(llvm::Type *T) {
  if (T->isIntegerTy(32))
    return "u32";
  if (T->isIntegerTy(64))
    return "u64";
  if (T->isFloatTy())
    return "float";
  if (T->isDoubleTy())
    return "double";
  if (T->isPointerTy())
    return "ptr";
  return "other";
}

std::vector<std::string> irFieldTypes(llvm::StructType *S) {
  std::vector<std::string> Names;
  for (llvm::Type *T : S->elements())
    Names.push_back(irTypeName(T));
  return Names;
}

TEST(Abi, SlotFieldTypesMatchTheHeader) {
  // The order of DspjitSlot's fields, each with the type the static_asserts
  // above pin down.
  llvm::LLVMContext Ctx;
  EXPECT_EQ(irFieldTypes(slotStructType(Ctx)),
            (std::vector<std::string>{"ptr", "u32", "u32", "u32", "u32", "u32",
                                      "u32", "u32", "u32", "float", "float",
                                      "float", "float", "ptr", "u32"}));
}

TEST(Abi, KernelFieldTypesMatchTheHeader) {
  llvm::LLVMContext Ctx;
  EXPECT_EQ(
      irFieldTypes(kernelStructType(Ctx)),
      (std::vector<std::string>{"u32", "u32", "u32", "u32", "u32", "u64", "u64",
                                "double", "ptr", "ptr", "ptr", "double"}));
}

// The kernel keeps its first slot on the second cache line.
static_assert(sizeof(DspjitInstanceHeader) == 64);

TEST(Abi, KernelLayoutMatchesTheHeader) {
  llvm::LLVMContext Ctx;
  llvm::DataLayout DL = hostLayout();
  const llvm::StructLayout *L = DL.getStructLayout(kernelStructType(Ctx));
  EXPECT_EQ(L->getSizeInBytes(), sizeof(DspjitKernel));
  const size_t Offsets[] = {offsetof(DspjitKernel, abi_version),
                            offsetof(DspjitKernel, inputs),
                            offsetof(DspjitKernel, outputs),
                            offsetof(DspjitKernel, num_slots),
                            offsetof(DspjitKernel, voices),
                            offsetof(DspjitKernel, instance_size),
                            offsetof(DspjitKernel, instance_align),
                            offsetof(DspjitKernel, sample_rate),
                            offsetof(DspjitKernel, slots),
                            offsetof(DspjitKernel, process),
                            offsetof(DspjitKernel, init),
                            offsetof(DspjitKernel, latency_frames)};
  ASSERT_EQ(kernelStructType(Ctx)->getNumElements(), std::size(Offsets));
  for (unsigned I = 0; I < std::size(Offsets); ++I)
    EXPECT_EQ(L->getElementOffset(I), Offsets[I]) << "field " << I;
}

TEST(Abi, ProcessIsExactlyAPaStreamCallback) {
  static_assert(
      std::is_same_v<std::remove_pointer_t<DspjitProcessFn>,
                     int(const void *, void *, unsigned long,
                         const DspjitTimeInfo *, unsigned long, void *)>);
  static_assert(std::is_same_v<PaStreamCallbackFlags, unsigned long>);
  static_assert(sizeof(DspjitTimeInfo) == sizeof(PaStreamCallbackTimeInfo));
  static_assert(offsetof(DspjitTimeInfo, outputBufferDacTime) ==
                offsetof(PaStreamCallbackTimeInfo, outputBufferDacTime));
  // The generated function is declared (i32)(ptr, ptr, i64, ptr, i64, ptr):
  // check it by calling it through the PortAudio type.
  Compiler C;
  auto K = C.compileSource("abi.dsp", "io 1 -> 1; process { out = in * 3; }");
  ASSERT_TRUE(K);
  PaStreamCallback *Callback =
      reinterpret_cast<PaStreamCallback *>(K->info().process);
  std::vector<std::byte> Inst(K->info().instance_size + 64);
  void *Aligned =
      Inst.data() + (64 - reinterpret_cast<uintptr_t>(Inst.data()) % 64) % 64;
  ASSERT_EQ(K->info().init(Aligned, 48000), 0);
  float In[4] = {1, 2, 3, 4}, Out[4] = {};
  PaStreamCallbackTimeInfo Time = {};
  EXPECT_EQ(Callback(In, Out, 4, &Time, 0, Aligned), paContinue);
  EXPECT_EQ(Out[3], 12.0f);
  EXPECT_EQ(K->info().abi_version, unsigned(DSPJIT_ABI_VERSION));
  EXPECT_EQ(K->info().instance_align, 64u);
  auto *Header = static_cast<DspjitInstanceHeader *>(Aligned);
  EXPECT_EQ(Header->frames_processed, 4u);
  EXPECT_EQ(Header->callbacks, 1u);
}

} // namespace
