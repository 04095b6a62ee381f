//===- tests/bench/FaustSliders.h - A Faust program's parameters -*- C++ -*-===//
//
// The dspjit-vs-Faust suite runs each program with its parameters at their
// defaults, and with `--moving`, with every parameter moved a little every
// block, on each side alike (faust_suite.cpp, and libfaust_runner.cpp,
// which links nothing of dspjit: hence a header of its own). At rest, a
// compiler may do per block what depends on the parameters alone (dspjit
// does, once its smoothed values have settled); moving, the smoothers never
// settle and that work is done every frame.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_BENCH_FAUSTSLIDERS_H
#define DSPJIT_TESTS_BENCH_FAUSTSLIDERS_H

#include <faust/gui/DecoratorUI.h>

#include <vector>

namespace dspjit::bench {

/// The value a parameter takes on the Block-th block when parameters move:
/// its default on even blocks, one thousandth of its range away on odd ones
/// (less than any parameter's smoothing covers in a block, and too little
/// to switch a mode or a freeze).
inline float movedValue(float Default, float Min, float Max,
                        unsigned long Block) {
  if (Block % 2 == 0)
    return Default;
  float Step = 0.001f * (Max - Min);
  return Default + Step <= Max ? Default + Step : Default - Step;
}

/// The sliders and number entries of a Faust instance (what its program's
/// hslider, vslider and nentry became), found through buildUserInterface.
class FaustSliders : public GenericUI {
public:
  struct Slider {
    FAUSTFLOAT *Zone;
    float Default, Min, Max;
  };
  std::vector<Slider> Sliders;

  /// Sets every slider for the Block-th block (movedValue).
  void move(unsigned long Block) const {
    for (const Slider &S : Sliders)
      *S.Zone = movedValue(S.Default, S.Min, S.Max, Block);
  }

  void addHorizontalSlider(const char *, FAUSTFLOAT *Zone, FAUSTFLOAT Init,
                           FAUSTFLOAT Min, FAUSTFLOAT Max,
                           FAUSTFLOAT) override {
    Sliders.push_back({Zone, Init, Min, Max});
  }
  void addVerticalSlider(const char *, FAUSTFLOAT *Zone, FAUSTFLOAT Init,
                         FAUSTFLOAT Min, FAUSTFLOAT Max, FAUSTFLOAT) override {
    Sliders.push_back({Zone, Init, Min, Max});
  }
  void addNumEntry(const char *, FAUSTFLOAT *Zone, FAUSTFLOAT Init,
                   FAUSTFLOAT Min, FAUSTFLOAT Max, FAUSTFLOAT) override {
    Sliders.push_back({Zone, Init, Min, Max});
  }
};

} // namespace dspjit::bench

#endif
