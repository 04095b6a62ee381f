//===- tests/golden/docs_test.cpp - The reference's examples compile ------===//
//
// dsl/LANGUAGE.md promises that every block fenced as ```dsp is a complete
// program. This test holds it to that: it extracts each block, compiles it
// at -O0 and -O3, and runs it on noise, expecting finite output and the two
// builds to agree. A block that fails is named by its line in the document.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Instance.h"
#include "runtime/Signals.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace dspjit {
namespace {

struct DocBlock {
  unsigned Line; // of the opening fence, 1-based
  std::string Source;
};

std::string docPath() {
  return std::string(DSPJIT_SOURCE_DIR) + "/dsl/LANGUAGE.md";
}

std::vector<DocBlock> dspBlocks() {
  std::ifstream File(docPath());
  std::vector<DocBlock> Blocks;
  std::string Line;
  unsigned Number = 0;
  DocBlock *Open = nullptr;
  while (std::getline(File, Line)) {
    ++Number;
    if (Open) {
      if (Line.rfind("```", 0) == 0)
        Open = nullptr;
      else
        Open->Source += Line + "\n";
    } else if (Line == "```dsp") {
      Blocks.push_back({Number, ""});
      Open = &Blocks.back();
    }
  }
  return Blocks;
}

std::vector<float> run(const Kernel &K) {
  constexpr unsigned Frames = 4096, Block = 64;
  auto I = Instance::create(K.info(), 48000);
  EXPECT_TRUE(bool(I)) << I.error();
  if (!I)
    return {};
  unsigned Ins = K.info().inputs, Outs = K.info().outputs;
  auto Noise = parseSignal("noise");
  std::vector<float> In =
      Ins ? generateSignal(*Noise, 48000, Ins, Frames) : std::vector<float>();
  std::vector<float> Out(size_t(Frames) * Outs);
  for (unsigned Start = 0; Start < Frames; Start += Block)
    I->process(Ins ? In.data() + size_t(Start) * Ins : nullptr,
               Outs ? Out.data() + size_t(Start) * Outs : nullptr, Block);
  EXPECT_EQ(I->nonfiniteSamples(), 0u);
  return Out;
}

TEST(LanguageReference, HasExamples) {
  EXPECT_GE(dspBlocks().size(), 10u)
      << "no ```dsp blocks found in " << docPath();
}

TEST(LanguageReference, EveryDspBlockCompilesAndRuns) {
  for (const DocBlock &B : dspBlocks()) {
    std::string Name = docPath() + ":" + std::to_string(B.Line);
    SCOPED_TRACE(Name);
    std::vector<float> Outputs[2];
    unsigned Index = 0;
    for (unsigned Opt : {0u, 3u}) {
      CompileOptions Options;
      Options.optLevel = Opt;
      Compiler C(Options);
      std::unique_ptr<Kernel> K = C.compileSource(Name, B.Source);
      if (!K) {
        std::ostringstream OS;
        C.diagnostics().print(OS);
        ADD_FAILURE() << "the block at line " << B.Line
                      << " does not compile at -O" << Opt << ":\n"
                      << OS.str() << "\n"
                      << B.Source;
        break;
      }
      Outputs[Index++] = run(*K);
    }
    if (Index < 2)
      continue;
    ASSERT_EQ(Outputs[0].size(), Outputs[1].size());
    for (size_t I = 0; I < Outputs[0].size(); ++I) {
      ASSERT_TRUE(std::isfinite(Outputs[0][I]));
      ASSERT_NEAR(Outputs[0][I], Outputs[1][I],
                  1e-5 * std::max(1.0f, std::fabs(Outputs[1][I])))
          << "at sample " << I;
    }
  }
}

/// The warnings a block must give: the `[-Wname]` comments written in it.
std::multiset<std::string> markedWarnings(const std::string &Source) {
  std::multiset<std::string> Names;
  for (size_t At = Source.find("[-W"); At != std::string::npos;
       At = Source.find("[-W", At + 1))
    Names.insert(Source.substr(At + 3, Source.find(']', At) - At - 3));
  return Names;
}

/// The reference's programs are what a reader copies: none may warn, except
/// those that show a warning, which say so with `// [-Wname]`.
TEST(LanguageReference, BlocksWarnOnlyWhereMarked) {
  for (const DocBlock &B : dspBlocks()) {
    Compiler C;
    ASSERT_NE(
        C.compileSource(docPath() + ":" + std::to_string(B.Line), B.Source),
        nullptr)
        << B.Source;
    std::multiset<std::string> Warned;
    for (const Diagnostic &D : C.diagnostics().all())
      if (D.Warning)
        Warned.insert(D.Warning);
    std::ostringstream OS;
    C.diagnostics().print(OS);
    EXPECT_EQ(Warned, markedWarnings(B.Source))
        << "the block at line " << B.Line << ":\n"
        << OS.str() << B.Source;
  }
}

} // namespace
} // namespace dspjit
