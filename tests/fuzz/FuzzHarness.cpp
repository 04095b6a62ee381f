//===- tests/fuzz/FuzzHarness.cpp - Running untrusted kernels inside guard pages ===//
#include "FuzzHarness.h"

#include "runtime/Instance.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dspjit::fuzz {

void fail(const std::string &Why) {
  std::fprintf(stderr, "dspjit fuzz: %s\n", Why.c_str());
  std::fflush(stderr);
  std::abort();
}

GuardedBlock::GuardedBlock(std::size_t Bytes, std::size_t Align)
    : Bytes(Bytes) {
  const std::size_t Page = std::size_t(sysconf(_SC_PAGESIZE));
  if (Align == 0 || (Align & (Align - 1)) || Align > Page)
    fail("unsupported alignment " + std::to_string(Align));
  std::size_t Inner =
      (std::max<std::size_t>(Bytes, 1) + Page - 1) / Page * Page;
  MapBytes = Inner + 2 * Page;
  void *M =
      mmap(nullptr, MapBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (M == MAP_FAILED)
    fail("mmap of " + std::to_string(MapBytes) + " bytes failed");
  Map = M;
  auto *Base = static_cast<unsigned char *>(M) + Page;
  if (mprotect(Base, Inner, PROT_READ | PROT_WRITE) != 0)
    fail("mprotect failed");
  // As close to the trailing guard page as the alignment allows.
  std::size_t Start = (Inner - Bytes) / Align * Align;
  Data = Base + Start;
}

GuardedBlock::~GuardedBlock() {
  if (Map)
    munmap(Map, MapBytes);
}

std::vector<float> testInput(unsigned Channels) {
  std::vector<float> In(std::size_t(RunFrames) * Channels);
  uint32_t Seed = 12345;
  for (unsigned F = 0; F < RunFrames; ++F)
    for (unsigned C = 0; C < Channels; ++C) {
      Seed = Seed * 1664525u + 1013904223u;
      float Noise = float(int32_t(Seed)) / 2147483648.0f;
      float V;
      switch ((F / 64 + C) % 4) {
      case 0: V = Noise; break;
      case 1: V = F % 64 == 0 ? 1.0f : 0.0f; break;
      case 2: V = 0; break;
      default: V = (F / 8) % 2 ? 1.0f : -1.0f; break;
      }
      In[std::size_t(F) * Channels + C] = V;
    }
  return In;
}

RunResult runGuarded(const DspjitKernel &K, const std::vector<float> &Input,
                     float (*ParamValue)(unsigned Index)) {
  // As Instance::create: never less aligned than the header's counters.
  GuardedBlock Memory(
      K.instance_size,
      std::max<std::size_t>(K.instance_align, alignof(DspjitInstanceHeader)));
  if (K.init(Memory.data(), RunRate) != 0)
    fail("init refused the rate the kernel was compiled for");
  for (uint32_t I = 0, P = 0; I < K.num_slots; ++I)
    if (K.slots[I].kind == DSPJIT_SLOT_PARAM) {
      float V = ParamValue(P++);
      std::memcpy(static_cast<unsigned char *>(Memory.data()) +
                      K.slots[I].offset,
                  &V, sizeof V);
    }

  const std::size_t InBlock = std::size_t(RunBlock) * K.inputs;
  const std::size_t OutBlock = std::size_t(RunBlock) * K.outputs;
  GuardedBlock In(InBlock * sizeof(float), alignof(float));
  GuardedBlock Out(OutBlock * sizeof(float), alignof(float));
  RunResult R;
  R.Out.reserve(std::size_t(RunFrames) * K.outputs);
  DspjitTimeInfo Time = {};
  for (unsigned Done = 0; Done < RunFrames; Done += RunBlock) {
    auto *InF = static_cast<float *>(In.data());
    for (std::size_t I = 0; I < InBlock; ++I)
      InF[I] =
          Input.empty() ? 0.0f : Input[(Done * K.inputs + I) % Input.size()];
    std::memset(Out.data(), 0xff,
                OutBlock * sizeof(float)); // NaN: must be overwritten
    int Rc = K.process(K.inputs ? In.data() : nullptr,
                       K.outputs ? Out.data() : nullptr, RunBlock, &Time, 0,
                       Memory.data());
    if (Rc != 0)
      fail("process returned " + std::to_string(Rc));
    auto *OutF = static_cast<const float *>(Out.data());
    for (std::size_t I = 0; I < OutBlock; ++I) {
      if (!std::isfinite(OutF[I]))
        fail("non-finite output sample at frame " +
             std::to_string(Done + I / K.outputs));
      R.Out.push_back(OutF[I]);
    }
  }
  DspjitInstanceHeader H;
  std::memcpy(&H, Memory.data(), sizeof H);
  R.Frames = H.frames_processed;
  R.Callbacks = H.callbacks;
  R.Nonfinite = H.nonfinite_samples;
  if (R.Frames != RunFrames || R.Callbacks != RunFrames / RunBlock)
    fail("counters: " + std::to_string(R.Frames) + " frames, " +
         std::to_string(R.Callbacks) + " callbacks");
  return R;
}

void runThroughInstance(const DspjitKernel &K) {
  auto I = Instance::create(K, RunRate);
  if (!I)
    fail("Instance::create: " + I.error());
  for (const std::string &Name : slotNames(K, DSPJIT_SLOT_PARAM)) {
    for (float V : {-1e30f, 1e30f, 0.0f, NAN, INFINITY})
      (void)I->setParam(Name, V);
    (void)I->setParamImmediate(Name, 0.5f);
  }
  std::vector<float> In = testInput(K.inputs);
  std::vector<float> Out(std::size_t(RunBlock) * K.outputs);
  for (unsigned Done = 0; Done < 2 * RunBlock; Done += RunBlock)
    (void)I->process(K.inputs ? In.data() + std::size_t(Done) * K.inputs
                              : nullptr,
                     K.outputs ? Out.data() : nullptr, RunBlock);
  for (const std::string &Name : slotNames(K, DSPJIT_SLOT_METER)) {
    auto M = I->meter(Name);
    if (!M)
      fail("meter '" + Name + "': " + M.error());
  }
  I->reset();
  if (I->framesProcessed() != 0)
    fail("reset left frames_processed at " +
         std::to_string(I->framesProcessed()));
}

} // namespace dspjit::fuzz
