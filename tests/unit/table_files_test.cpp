//===- tests/unit/table_files_test.cpp - Sound-file tables and reload -----===//
//
// A table's sound file is part of what a compile read: the object cache keys
// on its contents (compiler/ObjectCache.h), and hot reload watches it like
// an import (Compiler::sourceFiles, session/Reloader.cpp), so that an edit
// of the file is heard. A table is constant data in the kernel, not state:
// the instance does not grow with it.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"
#include "runtime/AudioFile.h"
#include "runtime/Instance.h"
#include "session/FileWatcher.h"
#include "session/Reloader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace dspjit;
using dspjit::session::FileWatcher;
using dspjit::session::hashOfFiles;
namespace fs = std::filesystem;

namespace {

class TableFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("dspjit-table-files-" + std::to_string(getpid()));
    fs::remove_all(Dir);
    fs::create_directories(Dir / "cache");
    Script = (Dir / "t.dsp").string();
    Wav = (Dir / "x.wav").string();
    std::ofstream(Script) << "io 0 -> 1;\ntable x = file \"x.wav\";\n"
                             "process { state k = 0; out = x[k]; k += 1; }\n";
  }
  void TearDown() override { fs::remove_all(Dir); }

  void writeWav(float First) {
    std::vector<float> S = {First, 0.5f, 0.25f};
    auto W = writeAudioFile(Wav, S.data(), S.size(), 1, 48000);
    ASSERT_TRUE(bool(W)) << W.error();
  }
  std::unique_ptr<Kernel> compile(bool &Cached) {
    CompileOptions O;
    O.cacheDir = (Dir / "cache").string();
    Compiler C(O);
    auto K = C.compileFile(Script);
    EXPECT_TRUE(K);
    Cached = C.times().cached;
    Files = C.sourceFiles();
    return K;
  }
  float first(const Kernel &K) {
    auto I = Instance::create(K.info(), 48000);
    EXPECT_TRUE(bool(I));
    float Out[2] = {};
    I->process(nullptr, Out, 2);
    return Out[0];
  }

  fs::path Dir;
  std::string Script, Wav;
  std::vector<std::string> Files;
};

} // namespace

TEST_F(TableFileTest, TheObjectCacheKeysOnTheFilesContents) {
  bool Cached = true;
  writeWav(0.75f);
  auto A = compile(Cached);
  ASSERT_TRUE(A);
  EXPECT_FALSE(Cached);
  EXPECT_EQ(first(*A), 0.75f);
  compile(Cached);
  EXPECT_TRUE(Cached) << "same script, same file: the stored object";
  writeWav(-0.125f); // the script is unchanged, the file is not
  auto B = compile(Cached);
  ASSERT_TRUE(B);
  EXPECT_FALSE(Cached) << "a changed sound file must miss the cache";
  EXPECT_EQ(first(*B), -0.125f);
  EXPECT_NE(A->codeHash(), B->codeHash());
}

TEST_F(TableFileTest, ReloadWatchesTheFileLikeAnImport) {
  bool Cached = false;
  writeWav(0.75f);
  auto K = compile(Cached);
  ASSERT_TRUE(K);
  ASSERT_NE(std::find(Files.begin(), Files.end(), Wav), Files.end())
      << "the sound file is among the files hot reload watches";
  EXPECT_LE(K->info().instance_size, 128u) << "a table is not instance memory";
  const std::string Before = hashOfFiles(Files);

  auto Watcher = FileWatcher::open();
  ASSERT_TRUE(bool(Watcher)) << Watcher.error();
  ASSERT_TRUE(bool((*Watcher)->watch(Files)));
  EXPECT_EQ((*Watcher)->wait(0), 0u);
  writeWav(0.5f);
  EXPECT_NE((*Watcher)->wait(2000), 0u) << "saving the sound file is a save";
  EXPECT_NE(hashOfFiles(Files), Before)
      << "the reloader sees a real change, and recompiles";
  auto Reloaded = compile(Cached);
  ASSERT_TRUE(Reloaded);
  EXPECT_EQ(first(*Reloaded), 0.5f);
}

TEST_F(TableFileTest, AMissingFileIsWatchedForItsAppearance) {
  bool Cached = false;
  CompileOptions O;
  Compiler C(O);
  EXPECT_FALSE(C.compileFile(Script));
  const auto &Read = C.sourceFiles();
  EXPECT_NE(std::find(Read.begin(), Read.end(), Wav), Read.end())
      << "a missing table file may appear later, like a missing import";
  writeWav(0.25f);
  EXPECT_TRUE(compile(Cached));
}
