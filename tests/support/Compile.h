//===- tests/support/Compile.h - A script compiled for a test -----*- C++ -*-===//
//
// Tests that run a script compile it from text at one rate and fail (with
// the compiler's diagnostics) when it does not compile.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_COMPILE_H
#define DSPJIT_TESTS_SUPPORT_COMPILE_H

#include "compiler/Compiler.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace dspjit::test {

/// `Source` compiled as `Name` at `Rate`; null (and a failed expectation
/// listing every diagnostic) when it does not compile.
inline std::shared_ptr<Kernel> compileForTest(const std::string &Source,
                                              double Rate,
                                              const std::string &Name) {
  CompileOptions O;
  O.sampleRate = Rate;
  Compiler C(O);
  std::shared_ptr<Kernel> K = C.compileSource(Name, Source);
  std::string Errors;
  for (const Diagnostic &D : C.diagnostics().all())
    Errors += C.diagnostics().shortForm(D) + "\n";
  EXPECT_TRUE(K) << Errors;
  return K;
}

} // namespace dspjit::test

#endif
