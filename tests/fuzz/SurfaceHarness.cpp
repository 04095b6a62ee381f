//===- tests/fuzz/SurfaceHarness.cpp - A live session's controls without a device ===//
#include "SurfaceHarness.h"

#include "FuzzHarness.h"

#include "compiler/Compiler.h"
#include "compiler/Diagnostics.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace dspjit::fuzz {

const char *const SurfaceScript =
    R"dsp(// The surfaces' fuzz target: every kind of range.
io 2 -> 2;

param gain  = 0     in [-60, 12] db;
param mix   = 1     in [0, 1] nosmooth;
param freq  = 1000  in [20, 20000] hz smooth 50 ms;
param neg   = -5    in [-10, -1];
param tiny  = 1e-6  in [0, 1e-5];
param wide  = 0     in [-3e38, 3e38] smooth 1 ms;
param fixed = 2     in [2, 2];

meter level;
meter lanes;

state phase = 0;
delay line[0.02 s];

process {
    phase = phase + freq / sr;
    if phase >= 1 { phase = phase - 1; }
    let dry = in * db2lin(gain);
    let wet = line.read(0.005 * sr);
    line.write(dry + 0 * (neg + tiny + fixed + wide * 1e-38));
    out = dry + mix * (wet - dry) * 0.5;
    level = max(abs(out[0]), abs(out[1]));
    lanes = [phase, mix, neg, tiny];
}
)dsp";

namespace {
/// The kernel, compiled once per process.
std::shared_ptr<Kernel> surfaceKernel() {
  static std::shared_ptr<Kernel> K = [] {
    CompileOptions O;
    O.optLevel = 2;
    Compiler C(O);
    std::unique_ptr<Kernel> Compiled =
        C.compileSource("surface.dsp", SurfaceScript);
    if (!Compiled) {
      std::ostringstream Why;
      C.diagnostics().print(Why, false);
      fail("the surface script does not compile:\n" + Why.str());
    }
    return std::shared_ptr<Kernel>(std::move(Compiled));
  }();
  return K;
}

float floatAt(const Instance &I, uint32_t Offset) {
  float V;
  std::memcpy(&V, static_cast<const unsigned char *>(I.data()) + Offset,
              sizeof V);
  return V;
}
} // namespace

SurfaceTarget::SurfaceTarget() {
  std::shared_ptr<Kernel> K = surfaceKernel();
  HostOptions O;
  O.FramesPerBuffer = SurfaceBlock;
  O.CrossfadeSeconds = SurfaceCrossfadeSeconds;
  auto Opened = Host::openOffline(K->info(), O, K);
  if (!Opened)
    fail("Host::openOffline: " + Opened.error());
  H = std::move(*Opened);
  Bus = std::make_unique<session::ControlBus>(*H);
  In = testInput(K->info().inputs);
  In.resize(SurfaceBlock * K->info().inputs, 0.25f);
  Out.assign(SurfaceBlock * K->info().outputs, 0.0f);
}

SurfaceTarget::~SurfaceTarget() {
  Bus->detach();
  Bus.reset();
  H.reset();
}

void SurfaceTarget::runBlock() {
  PaStreamCallbackTimeInfo Time = {};
  Host::callback(In.data(), Out.data(), SurfaceBlock, &Time, 0, H.get());
  for (float V : Out)
    if (!std::isfinite(V))
      fail("a non-finite output sample");
}

void SurfaceTarget::checkParams(const std::string &After) const {
  std::shared_ptr<Instance> I = H->instance();
  const DspjitKernel &K = I->kernel();
  for (uint32_t S = 0; S < K.num_slots; ++S) {
    const DspjitSlot &P = K.slots[S];
    if (P.kind != DSPJIT_SLOT_PARAM)
      continue;
    for (auto [What, Offset] : {std::pair{"target", P.offset},
                                std::pair{"smoothed value", P.value_offset}}) {
      float V = floatAt(*I, Offset);
      if (!std::isfinite(V) || V < P.min || V > P.max) {
        std::ostringstream M;
        M.precision(9);
        M << "parameter '" << P.name << "': its " << What << " is " << V
          << ", outside [" << P.min << ", " << P.max << "], after "
          << shortened(After);
        fail(M.str());
      }
    }
  }
}

void checkReply(const char *Surface, const std::string &Text) {
  if (Text.size() > MaxReplyBytes)
    fail(std::string(Surface) + ": a reply of " + std::to_string(Text.size()) +
         " bytes, more than " + std::to_string(MaxReplyBytes) + ": " +
         shortened(Text));
}

std::string shortened(const std::string &Text, std::size_t Max) {
  if (Text.size() <= Max)
    return Text;
  return Text.substr(0, Max) + "... (" + std::to_string(Text.size()) +
         " bytes)";
}

} // namespace dspjit::fuzz
