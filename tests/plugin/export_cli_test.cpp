//===- tests/plugin/export_cli_test.cpp - `dspjit export` on bad input ----===//
//
// Each refusal of `dspjit export` has a clear message, a non-zero exit and
// leaves no bundle behind (tests/BAD_INPUT.md).
//
//===----------------------------------------------------------------------===//
#include "tests/support/ChildProcess.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace dspjit::test;
namespace fs = std::filesystem;

namespace {

const std::string Dspjit = DSPJIT_BINARY;
const std::string Echo = std::string(DSPJIT_SOURCE_DIR) + "/examples/echo.dsp";

class ExportCli : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("dspjit-export-cli-" + std::to_string(getpid()));
    fs::create_directories(Dir);
  }
  void TearDown() override {
    std::error_code EC;
    fs::permissions(Dir, fs::perms::owner_all, EC);
    fs::remove_all(Dir, EC);
  }
  ChildResult run(std::vector<std::string> Args) {
    Args.insert(Args.begin(), "export");
    ChildResult R = runChild(Dspjit, Args);
    EXPECT_FALSE(R.crashed()) << R.describe();
    return R;
  }
  fs::path Dir;
};

TEST_F(ExportCli, AnUnknownFormatIsRefusedWithTheKnownOnes) {
  ChildResult R = run({"vst3", Echo, "-o", Dir.string()});
  EXPECT_EQ(R.Status, 1);
  EXPECT_NE(R.Err.find("unknown plugin format 'vst3'; the formats are: lv2"),
            std::string::npos)
      << R.Err;
  EXPECT_TRUE(fs::is_empty(Dir));
}

TEST_F(ExportCli, AnUnwritableDirectoryIsNamed) {
  if (geteuid() == 0) {
    // root writes anywhere; a path under a regular file cannot be made.
    std::ofstream(Dir / "file") << "x";
    ChildResult R = run({"lv2", Echo, "-o", (Dir / "file" / "out").string()});
    EXPECT_EQ(R.Status, 1);
    EXPECT_NE(R.Err.find("cannot write '" + (Dir / "file").string()),
              std::string::npos)
        << R.Err;
    return;
  }
  fs::create_directories(Dir / "ro");
  fs::permissions(Dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  ChildResult R = run({"lv2", Echo, "-o", (Dir / "ro").string()});
  EXPECT_EQ(R.Status, 1);
  EXPECT_NE(R.Err.find("cannot write '" + (Dir / "ro" / "echo.lv2").string()),
            std::string::npos)
      << R.Err;
}

TEST_F(ExportCli, AScriptThatDoesNotCompileShowsItsErrors) {
  std::ofstream(Dir / "broken.dsp")
      << "io 1 -> 1;\nprocess { out = in * cutof; }\n";
  ChildResult R =
      run({"lv2", (Dir / "broken.dsp").string(), "-o", (Dir / "out").string()});
  EXPECT_EQ(R.Status, 1);
  EXPECT_NE(R.Err.find("broken.dsp:2:"), std::string::npos) << R.Err;
  EXPECT_NE(R.Err.find("unknown name 'cutof'"), std::string::npos) << R.Err;
  EXPECT_FALSE(fs::exists(Dir / "out" / "broken.lv2"));
}

TEST_F(ExportCli, AMissingScriptIsNamed) {
  ChildResult R = run({"lv2", (Dir / "x.dsp").string(), "-o", Dir.string()});
  EXPECT_EQ(R.Status, 1);
  EXPECT_NE(R.Err.find("cannot read '" + (Dir / "x.dsp").string() +
                       "': no such file"),
            std::string::npos)
      << R.Err;
}

TEST_F(ExportCli, ABadUriOrNameIsRefused) {
  ChildResult R = run({"lv2", Echo, "-o", Dir.string(), "--uri", "my echo"});
  EXPECT_EQ(R.Status, 1);
  EXPECT_NE(R.Err.find("'my echo' is not a URI"), std::string::npos) << R.Err;
  R = run({"lv2", Echo, "-o", Dir.string(), "--name", "../up"});
  EXPECT_EQ(R.Status, 1);
  EXPECT_NE(R.Err.find("'../up' is not a plugin name"), std::string::npos)
      << R.Err;
  EXPECT_TRUE(fs::is_empty(Dir));
}

TEST_F(ExportCli, ALibraryWithoutRoomForAScriptIsRefused) {
  const fs::path Lib =
      Dir.parent_path() / ("dspjit-export-cli-lib-" + std::to_string(getpid()));
  std::ofstream(Lib) << "\x7f"
                        "ELF not a plugin";
  setenv("DSPJIT_LV2_LIBRARY", Lib.c_str(), 1);
  ChildResult R = run({"lv2", Echo, "-o", Dir.string()});
  fs::remove(Lib);
  unsetenv("DSPJIT_LV2_LIBRARY");
  EXPECT_EQ(R.Status, 1);
  EXPECT_NE(R.Err.find("is not dspjit's plugin library"), std::string::npos)
      << R.Err;
  EXPECT_TRUE(fs::is_empty(Dir));
}

TEST_F(ExportCli, TheUriAndNameCanBeChosen) {
  ChildResult R = run({"lv2", Echo, "-o", Dir.string(), "--uri",
                       "https://example.org/fx/echo", "--name", "my-echo"});
  ASSERT_EQ(R.Status, 0) << R.describe();
  std::ifstream In(Dir / "my-echo.lv2" / "manifest.ttl");
  std::string Text((std::istreambuf_iterator<char>(In)), {});
  EXPECT_NE(Text.find("<https://example.org/fx/echo>"), std::string::npos);
  EXPECT_NE(Text.find("lv2:binary <my-echo.so>"), std::string::npos);
}

} // namespace
