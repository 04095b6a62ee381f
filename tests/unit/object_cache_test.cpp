//===- tests/unit/object_cache_test.cpp - Compiled kernels kept on disk ---===//
//
// compiler/ObjectCache.h: a second compile of the same sources with the same
// options links the stored object instead of compiling, and computes the
// same samples; anything that changes the machine code misses.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/Instance.h"
#include "runtime/Render.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace dspjit;
namespace fs = std::filesystem;

namespace {

class ObjectCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("dspjit-cache-test-" + std::to_string(getpid()));
    fs::remove_all(Dir);
  }
  void TearDown() override { fs::remove_all(Dir); }

  std::unique_ptr<Kernel> compile(const std::string &Source, unsigned Opt = 3,
                                  bool *Cached = nullptr) {
    CompileOptions O;
    O.optLevel = Opt;
    O.cacheDir = Dir.string();
    Compiler C(O);
    auto K = C.compileSource("cached.dsp", Source);
    EXPECT_TRUE(K);
    if (Cached)
      *Cached = C.times().cached;
    return K;
  }

  size_t objects() const {
    size_t N = 0;
    for (const auto &E : fs::directory_iterator(Dir))
      N += E.path().extension() == ".o";
    return N;
  }

  fs::path Dir;
};

std::vector<float> run(const Kernel &K) {
  auto I = Instance::create(K.info(), 48000);
  RenderOptions O;
  O.Frames = 4800;
  auto R = render(*I, SignalSpec{SignalSpec::Noise}, O);
  EXPECT_TRUE(R) << R.error();
  return R->Output;
}

const char *Source = R"(io 1 -> 1;
param cutoff = 1000 in [20, 20000] hz;
process { out = lowpass(in, cutoff, 0.707); }
)";

} // namespace

TEST_F(ObjectCacheTest, ASecondCompileLinksTheStoredObjectAndComputesTheSame) {
  bool Cached = true;
  auto First = compile(Source, 3, &Cached);
  EXPECT_FALSE(Cached);
  EXPECT_EQ(objects(), 1u);
  auto Second = compile(Source, 3, &Cached);
  EXPECT_TRUE(Cached);
  EXPECT_EQ(objects(), 1u);
  EXPECT_EQ(run(*First), run(*Second));
}

TEST_F(ObjectCacheTest, AnythingThatChangesTheCodeMisses) {
  bool Cached = true;
  compile(Source, 3, &Cached);
  compile(Source, 1, &Cached); // another optimization level
  EXPECT_FALSE(Cached);
  std::string Edited = Source;
  Edited.replace(Edited.find("1000 in"), 4, "2000");
  compile(Edited, 3, &Cached); // another source
  EXPECT_FALSE(Cached);
  EXPECT_EQ(objects(), 3u);
  compile(Source, 3, &Cached); // back to the first version
  EXPECT_TRUE(Cached);
}

TEST_F(ObjectCacheTest, ADamagedObjectIsCompiledAfresh) {
  compile(Source);
  for (const auto &E : fs::directory_iterator(Dir))
    std::ofstream(E.path(), std::ios::trunc) << "not an object";
  bool Cached = true;
  auto K = compile(Source, 3, &Cached);
  ASSERT_TRUE(K);
  EXPECT_FALSE(Cached);
  EXPECT_EQ(run(*K).size(), 4800u);
}
