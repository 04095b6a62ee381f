//===- tests/unit/compile_cost_test.cpp - No accepted program compiles slowly ===//
//
// The bound of compiler/CompileCost.h, checked on the machine that runs the
// tests: a family of generated heavy programs (scripts/compile-cost prints
// the same family's table) either compiles within 2 s of CPU time at -O0
// and at -O3, or is refused within a second. The sizes straddle both
// bounds (the refusal and the -O0 fallback of large programs).
//
//===----------------------------------------------------------------------===//
#include "compiler/CompileCost.h"
#include "compiler/Compiler.h"
#include "tests/support/Sanitizers.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <functional>
#include <string>

namespace dspjit {
namespace {

Compiler compilerAt(unsigned OptLevel) {
  CompileOptions O;
  O.optLevel = OptLevel;
  return Compiler(O);
}

double threadCpuSeconds() {
  timespec T{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &T);
  return double(T.tv_sec) + double(T.tv_nsec) * 1e-9;
}

struct Family {
  const char *Name;
  std::function<std::string(unsigned)> Source;
};

std::string unrolled(const char *Io, const char *Decls, const char *Init,
                     const std::string &Body, const char *Out, unsigned N) {
  return std::string("io ") + Io + ";\n" + Decls +
         "process {\n  let acc = " + Init + ";\n  unroll i in 0.." +
         std::to_string(N) + " { " + Body + " }\n  " + Out + "\n}\n";
}

const Family Families[] = {
    {"sin+tanh",
     [](unsigned N) {
       return unrolled("2 -> 2", "", "in",
                       "acc = sin(acc * 1.0001 + i) + tanh(acc);", "out = acc;",
                       N);
     }},
    {"arith",
     [](unsigned N) {
       return unrolled("1 -> 1", "", "in", "acc = acc * 0.999 + i * 0.0001;",
                       "out = acc;", N);
     }},
    {"nested-state",
     [](unsigned N) {
       unsigned Side = 1;
       while ((Side + 1) * (Side + 1) <= N)
         ++Side;
       std::string S = std::to_string(Side);
       return unrolled(
           "1 -> 1",
           "fn lp(x) { state s = 0; s = s + 0.1 * (x - s); "
           "return s; }\n",
           "in", "unroll j in 0.." + S + " { acc = lp(acc) + 0.001 * j; }",
           "out = acc;", Side);
     }},
    {"reads",
     [](unsigned N) {
       return unrolled("1 -> 1", "delay d[8192];\n", "0",
                       "acc = acc + 0.001 * d.read(i + 1.5);",
                       "d.write(in + 0.1 * acc); out = acc;", N);
     }},
    {"wide-sin",
     [](unsigned N) {
       return unrolled("1 -> 1", "", "iota(8) * 0.01 + in",
                       "acc = sin(acc) * 0.5 + acc * 0.5;", "out = sum(acc);",
                       N);
     }},
};

TEST(CompileCost, EveryProgramCompilesWithinTheBoundOrIsRefusedQuickly) {
  // LLVM is not instrumented; dspjit's own phases are, and are a small
  // part of a large compile.
  const double Bound = test::UnderAsan ? 4.0 : 2.0;
  for (const Family &F : Families)
    for (unsigned N : {400u, 1600u, 4096u})
      for (unsigned Opt : {0u, 3u}) {
        SCOPED_TRACE(std::string(F.Name) + " x" + std::to_string(N) + " -O" +
                     std::to_string(Opt));
        Compiler C = compilerAt(Opt);
        const double T0 = threadCpuSeconds();
        auto K = C.compileSource("heavy.dsp", F.Source(N));
        const double Seconds = threadCpuSeconds() - T0;
        std::printf("  %-13s x%-5u -O%u  cost %6llu  %s in %.2f s\n", F.Name, N,
                    Opt, (unsigned long long)C.compileCost(),
                    K ? "compiled" : "refused", Seconds);
        if (K) {
          EXPECT_LE(C.compileCost(), MaxCompileCost);
          EXPECT_LT(Seconds, Bound) << "cost " << C.compileCost();
          EXPECT_EQ(C.times().optimizationSkipped,
                    Opt > 0 && C.compileCost() > MaxOptimizeCost);
        } else {
          ASSERT_EQ(C.diagnostics().errorCount(), 1u);
          EXPECT_GT(C.compileCost(), MaxCompileCost);
          EXPECT_LT(Seconds, 1.0);
        }
      }
}

TEST(CompileCost, TheBombOfIssue11IsRefusedInMilliseconds) {
  Compiler C = compilerAt(0);
  const double T0 = threadCpuSeconds();
  auto K = C.compileSource("bomb.dsp", Families[0].Source(4096));
  EXPECT_EQ(K, nullptr);
  EXPECT_LT(threadCpuSeconds() - T0, 0.5);
  ASSERT_EQ(C.diagnostics().all().size(), 1u);
  EXPECT_EQ(C.diagnostics().all()[0].Id, DiagId::CompileTooCostlyUnroll);
}

TEST(CompileCost, ALargeProgramIsCompiledAtO0WithAWarning) {
  Compiler C = compilerAt(3);
  auto K = C.compileSource("large.dsp", Families[2].Source(1600));
  ASSERT_NE(K, nullptr);
  EXPECT_TRUE(C.times().optimizationSkipped);
  EXPECT_FALSE(K->worthOptimizing());
  ASSERT_EQ(C.diagnostics().all().size(), 1u);
  EXPECT_EQ(C.diagnostics().all()[0].Id, DiagId::OptimizationSkipped);
  // A small one is optimized as asked.
  auto Small = C.compileSource("small.dsp", Families[2].Source(100));
  ASSERT_NE(Small, nullptr);
  EXPECT_FALSE(C.times().optimizationSkipped);
  EXPECT_TRUE(Small->worthOptimizing());
}

} // namespace
} // namespace dspjit
