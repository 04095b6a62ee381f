//===- tests/unit/batch_test.cpp - Many files through one kernel ----------===//
//
// runtime/Batch.h: the inputs a command line names (files, globs, lists),
// their output names, per-file parameters from a CSV table, and the pool
// that renders them: real renders of one compiled kernel, an instance per
// item, bit-identical on one thread and on several.
//
//===----------------------------------------------------------------------===//
#include "runtime/Batch.h"
#include "runtime/Instance.h"
#include "runtime/Render.h"
#include "tests/support/Compile.h"
#include "tests/support/TempDir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

using namespace dspjit;
namespace fs = std::filesystem;

namespace {

constexpr double Rate = 48000;

class Batch : public ::testing::Test {
protected:
  test::TempDir Dir;
  std::string path(const std::string &Name) { return Dir.file(Name); }
  std::string touch(const std::string &Name, const std::string &Text = "") {
    fs::create_directories(fs::path(path(Name)).parent_path());
    std::ofstream(path(Name)) << Text;
    return path(Name);
  }
};

TEST_F(Batch, InputsAreFilesGlobsAndListsInOrder) {
  touch("clips/b.wav");
  touch("clips/a.wav");
  touch("clips/c.flac");
  touch("one.wav");
  touch("list.txt", "# the rest\nclips/c.flac\n\n  more/*.wav  # a glob\n");
  touch("more/z.wav");
  auto In = expandInputs(
      {path("one.wav"), path("clips/*.wav"), "@" + path("list.txt")});
  ASSERT_TRUE(In) << In.error();
  EXPECT_EQ(*In, (std::vector<std::string>{
                     path("one.wav"), path("clips/a.wav"), path("clips/b.wav"),
                     path("clips/c.flac"), path("more/z.wav")}));

  auto None = expandInputs({path("clips/*.aiff")});
  ASSERT_FALSE(None);
  EXPECT_EQ(None.error(), "'" + path("clips/*.aiff") + "' matches no file");
  auto Twice = expandInputs({path("one.wav"), path("clips/../one.wav")});
  ASSERT_FALSE(Twice);
  EXPECT_NE(Twice.error().find("is named twice"), std::string::npos);
  auto NoList = expandInputs({"@" + path("missing.txt")});
  ASSERT_FALSE(NoList);
  EXPECT_NE(NoList.error().find("cannot read the list of inputs"),
            std::string::npos);
}

TEST_F(Batch, OutputsFollowTheInputsNamesAndNeverCollideOrOverwrite) {
  auto Out = outputPaths({path("a/x.wav"), path("b/y.wav")}, path("out"));
  ASSERT_TRUE(Out) << Out.error();
  EXPECT_EQ(*Out,
            (std::vector<std::string>{path("out/x.wav"), path("out/y.wav")}));
  EXPECT_FALSE(fs::exists(path("out"))) << "made only once all is checked";
  ASSERT_TRUE(makeOutputDir(path("out")));
  EXPECT_TRUE(fs::is_directory(path("out")));
  auto Flac = outputPaths({path("a/x.wav")}, path("out"), ".flac");
  ASSERT_TRUE(Flac);
  EXPECT_EQ(Flac->front(), path("out/x.flac"));

  auto Same = outputPaths({path("a/x.wav"), path("b/x.wav")}, path("out"));
  ASSERT_FALSE(Same);
  EXPECT_NE(
      Same.error().find("would both be written to '" + path("out/x.wav") + "'"),
      std::string::npos);
  touch("a/x.wav");
  auto Over = outputPaths({path("a/x.wav")}, path("a"));
  ASSERT_FALSE(Over);
  EXPECT_NE(Over.error().find("would overwrite it"), std::string::npos);
  touch("file");
  EXPECT_FALSE(outputPaths({path("a/x.wav")}, path("file")));
}

const char *const Gain = R"(
io 1 -> 1;
param gain = 1 in [0, 2];
param offset = 0 in [-1, 1] nosmooth;
process { out = in * gain + offset; }
)";

TEST_F(Batch, AParamsTableGivesEachInputItsValues) {
  auto K = test::compileForTest(Gain, Rate, "gain.dsp");
  std::vector<std::string> Inputs = {path("clips/a.wav"), path("clips/b.wav"),
                                     path("other/a.wav")};
  touch("p.csv", "file,gain,offset\n"
                 "# per clip\n" +
                     path("clips/a.wav") + ",0.5,0.1\n" +
                     "b.wav, 1.5 ,-0.25\n"
                     "\"" +
                     path("other/a.wav") + "\",2,0\n");
  auto T = readParamsCsv(path("p.csv"), Inputs, K->info());
  ASSERT_TRUE(T) << T.error();
  EXPECT_EQ(T->Params, (std::vector<std::string>{"gain", "offset"}));
  EXPECT_EQ(T->Rows.at(Inputs[0]), (std::vector<float>{0.5f, 0.1f}));
  EXPECT_EQ(T->Rows.at(Inputs[1]), (std::vector<float>{1.5f, -0.25f}));
  EXPECT_EQ(T->Rows.at(Inputs[2]), (std::vector<float>{2.0f, 0.0f}));

  auto Error = [&](const std::string &Text) {
    touch("bad.csv", Text);
    auto R = readParamsCsv(path("bad.csv"), Inputs, K->info());
    EXPECT_FALSE(R) << Text;
    return R ? std::string() : R.error();
  };
  const std::string Bad = path("bad.csv");
  EXPECT_EQ(Error(""), "'" + Bad +
                           "' is empty: its first row names the input "
                           "column, then parameters (file,cutoff,q)");
  EXPECT_NE(Error("file,gian\n")
                .find(":1: unknown parameter 'gian'; did you "
                      "mean 'gain'?"),
            std::string::npos);
  EXPECT_NE(Error("file,gain,gain\n").find("has two columns"),
            std::string::npos);
  // a.wav is two inputs' name: it must be named by its path.
  EXPECT_EQ(Error("file,gain\na.wav,1\n"),
            Bad + ":2: 'a.wav' is not one of the inputs");
  EXPECT_EQ(Error("file,gain\nb.wav,3\n"),
            Bad + ":2: 3 for 'gain' is outside its range [0, 2]");
  EXPECT_EQ(Error("file,gain\nb.wav,loud\n"),
            Bad + ":2: 'loud' for 'gain' is not a number");
  EXPECT_EQ(Error("file,gain\nb.wav,1,2\n"),
            Bad + ":2: 3 values for 2 columns");
  EXPECT_EQ(Error("file,gain\nb.wav,1\nb.wav,2\n"),
            Bad + ":3: 'b.wav' already has a row (line 2)");
  EXPECT_EQ(Error("file,gain\nb.wav,1\n"), "'" + Inputs[0] +
                                               "' has no row in '" + Bad +
                                               "' (nor have 1 other inputs)");
}

TEST_F(Batch, ManyThreadsRenderWhatOneThreadRendersBitForBit) {
  auto K = test::compileForTest(Gain, Rate, "gain.dsp");
  const size_t Files = 24;
  auto RenderAll = [&](unsigned Jobs) {
    std::vector<std::vector<float>> Out(Files);
    std::set<std::thread::id> Threads;
    std::mutex Lock;
    std::vector<size_t> Reported;
    BatchSummary S = runBatch(
        Files, Jobs,
        [&](size_t I) {
          {
            std::lock_guard<std::mutex> Guard(Lock);
            Threads.insert(std::this_thread::get_id());
          }
          BatchFileResult R;
          auto Inst = Instance::create(K->info(), Rate);
          if (!Inst) {
            R.Error = Inst.error();
            return R;
          }
          Inst->setParamImmediate("gain", 0.05f * float(I));
          if (I == 7) { // a file that fails: the others go on
            R.Error = "file 7 is broken";
            return R;
          }
          RenderOptions RO;
          RO.Frames = 4800 + 17 * I;
          auto Done = render(*Inst, SignalSpec{SignalSpec::Noise}, RO);
          R.Ok = bool(Done);
          R.AudioSeconds = Done ? Done->AudioSeconds : 0;
          if (Done)
            Out[I] = std::move(Done->Output);
          return R;
        },
        [&](size_t I, const BatchFileResult &) { Reported.push_back(I); });
    EXPECT_EQ(S.Files, Files);
    EXPECT_EQ(S.Failed, 1u);
    EXPECT_EQ(S.exitStatus(), 1);
    EXPECT_EQ(S.Jobs, Jobs);
    EXPECT_EQ(Reported.size(), Files);
    EXPECT_GT(S.AudioSeconds, 2.0);
    EXPECT_GT(S.realTimeFactor(), 1.0);
    EXPECT_LE(Threads.size(), Jobs);
    return Out;
  };
  auto One = RenderAll(1), Four = RenderAll(4);
  for (size_t I = 0; I < Files; ++I) {
    ASSERT_EQ(One[I].size(), I == 7 ? 0 : 4800 + 17 * I) << "file " << I;
    ASSERT_EQ(One[I], Four[I]) << "file " << I;
  }
  EXPECT_NE(One[3], One[4]); // each had its own gain
}

TEST_F(Batch, AStoppedBatchCountsWhatItNeverTookAsFailed) {
  std::atomic<int> Taken{0};
  BatchSummary S = runBatch(
      10, 2,
      [&](size_t) {
        ++Taken;
        BatchFileResult R;
        R.Ok = true;
        return R;
      },
      [](size_t, const BatchFileResult &) {}, [&] { return Taken >= 3; });
  EXPECT_GE(Taken.load(), 3);
  EXPECT_LT(Taken.load(), 10);
  EXPECT_EQ(S.Failed, size_t(10 - Taken.load()));
}

} // namespace
