//===- runtime/Batch.cpp - Many files through one kernel ------------------===//
#include "runtime/Batch.h"

#include "runtime/Instance.h"
#include "runtime/MessageCatalog.h"
#include "runtime/Messages.h"

#include <glob.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

namespace fs = std::filesystem;

namespace dspjit {

namespace {

bool isGlob(const std::string &S) {
  return S.find_first_of("*?[") != std::string::npos;
}

/// Appends the files `Pattern` names: itself, or a glob's sorted matches.
Result<void> addPattern(const std::string &Pattern,
                        std::vector<std::string> &Out) {
  if (!isGlob(Pattern)) {
    Out.push_back(Pattern);
    return {};
  }
  glob_t G = {};
  int Status = glob(Pattern.c_str(), 0, nullptr, &G); // sorted by glob
  if (Status == GLOB_NOMATCH || (Status == 0 && G.gl_pathc == 0)) {
    globfree(&G);
    return fail(message<Msg::BatchGlobEmpty>(Pattern));
  }
  for (size_t I = 0; Status == 0 && I < G.gl_pathc; ++I)
    Out.push_back(G.gl_pathv[I]);
  globfree(&G);
  if (Status != 0)
    return fail(message<Msg::BatchGlobEmpty>(Pattern));
  return {};
}

std::string trimmed(const std::string &S) {
  size_t B = S.find_first_not_of(" \t\r\n");
  if (B == std::string::npos)
    return "";
  return S.substr(B, S.find_last_not_of(" \t\r\n") - B + 1);
}

/// The fields of one CSV row: commas separate, double quotes protect
/// commas and "" is a quote; spaces around a field are dropped.
std::vector<std::string> csvFields(const std::string &Row) {
  std::vector<std::string> Fields(1);
  bool Quoted = false;
  for (size_t I = 0; I < Row.size(); ++I) {
    char C = Row[I];
    if (Quoted) {
      if (C == '"' && I + 1 < Row.size() && Row[I + 1] == '"')
        Fields.back() += Row[++I];
      else if (C == '"')
        Quoted = false;
      else
        Fields.back() += C;
    } else if (C == '"') {
      Quoted = true;
    } else if (C == ',') {
      Fields.emplace_back();
    } else {
      Fields.back() += C;
    }
  }
  for (std::string &F : Fields)
    F = trimmed(F);
  return Fields;
}

} // namespace

Result<std::vector<std::string>>
expandInputs(const std::vector<std::string> &Args) {
  std::vector<std::string> Out;
  for (const std::string &Arg : Args) {
    if (Arg.size() > 1 && Arg[0] == '@') {
      const std::string List = Arg.substr(1);
      std::ifstream In(List);
      if (!In)
        return fail(
            message<Msg::BatchCannotReadList>(List, std::strerror(errno)));
      const fs::path Base = fs::path(List).parent_path();
      std::string Line;
      while (std::getline(In, Line)) {
        std::string Entry = trimmed(Line.substr(0, Line.find('#')));
        if (Entry.empty())
          continue;
        if (fs::path(Entry).is_relative() && !Base.empty())
          Entry = (Base / Entry).string();
        if (auto Added = addPattern(Entry, Out); !Added)
          return fail(Added.error());
      }
      continue;
    }
    if (auto Added = addPattern(Arg, Out); !Added)
      return fail(Added.error());
  }
  if (Out.empty())
    return fail(message<Msg::BatchNoInputs>());
  std::set<std::string> Seen;
  for (const std::string &F : Out) {
    std::error_code EC;
    fs::path Canonical = fs::weakly_canonical(F, EC);
    if (!Seen.insert(EC ? F : Canonical.string()).second)
      return fail(message<Msg::BatchTwice>(F));
  }
  return Out;
}

Result<std::vector<std::string>>
outputPaths(const std::vector<std::string> &Inputs, const std::string &Dir,
            const std::string &Extension) {
  std::error_code EC;
  if (fs::exists(Dir, EC) && !fs::is_directory(Dir, EC))
    return fail(message<Msg::BatchCannotMakeDir>(Dir, "it is not a directory"));
  std::vector<std::string> Out;
  std::map<std::string, size_t> ByName;
  for (size_t I = 0; I < Inputs.size(); ++I) {
    fs::path Name = fs::path(Inputs[I]).filename();
    if (!Extension.empty())
      Name.replace_extension(Extension);
    fs::path Path = fs::path(Dir) / Name;
    auto [It, New] = ByName.emplace(Name.string(), I);
    if (!New)
      return fail(message<Msg::BatchSameOutput>(Inputs[It->second], Inputs[I],
                                                Path.string()));
    if (fs::exists(Path) && fs::equivalent(Path, Inputs[I], EC))
      return fail(message<Msg::BatchOverwritesInput>(Inputs[I]));
    Out.push_back(Path.string());
  }
  return Out;
}

Result<void> makeOutputDir(const std::string &Dir) {
  std::error_code EC;
  fs::create_directories(Dir, EC);
  if (EC || !fs::is_directory(Dir))
    return fail(message<Msg::BatchCannotMakeDir>(
        Dir, EC ? EC.message() : std::string("it is not a directory")));
  return {};
}

Result<ParamsTable> readParamsCsv(const std::string &Path,
                                  const std::vector<std::string> &Inputs,
                                  const DspjitKernel &Kernel) {
  std::ifstream In(Path);
  if (!In)
    return fail(message<Msg::ParamsCsvCannotRead>(Path, std::strerror(errno)));
  // An input is found by its path as given, or by its file name when no
  // other input has that name.
  std::map<std::string, std::string> ByPath, ByName;
  std::set<std::string> Ambiguous;
  for (const std::string &I : Inputs) {
    ByPath[I] = I;
    std::string Name = fs::path(I).filename().string();
    if (!ByName.emplace(Name, I).second)
      Ambiguous.insert(Name);
  }
  for (const std::string &Name : Ambiguous)
    ByName.erase(Name);

  ParamsTable T;
  std::vector<const DspjitSlot *> Slots;
  std::map<std::string, unsigned> RowLine;
  std::string Line;
  unsigned Number = 0;
  bool Header = true;
  while (std::getline(In, Line)) {
    ++Number;
    if (trimmed(Line).empty() || trimmed(Line)[0] == '#')
      continue;
    std::vector<std::string> F = csvFields(Line);
    if (Header) {
      Header = false;
      if (F.size() < 2)
        return fail(message<Msg::ParamsCsvNoParams>(Path));
      for (size_t C = 1; C < F.size(); ++C) {
        auto Slot = requireSlot(Kernel, F[C], DSPJIT_SLOT_PARAM);
        if (!Slot)
          return fail(message<Msg::ParamsCsvBadColumn>(Path, Slot.error()));
        if (std::find(T.Params.begin(), T.Params.end(), F[C]) != T.Params.end())
          return fail(message<Msg::ParamsCsvColumnTwice>(Path, F[C]));
        T.Params.push_back(F[C]);
        Slots.push_back(*Slot);
      }
      continue;
    }
    if (F.size() != T.Params.size() + 1)
      return fail(message<Msg::ParamsCsvColumns>(Path, Number, F.size(),
                                                 T.Params.size() + 1));
    auto Found = ByPath.find(F[0]);
    if (Found == ByPath.end())
      Found = ByName.find(F[0]);
    if (Found == ByName.end())
      return fail(message<Msg::ParamsCsvNotAnInput>(Path, Number, F[0]));
    const std::string &Input = Found->second;
    if (auto [It, New] = RowLine.emplace(Input, Number); !New)
      return fail(
          message<Msg::ParamsCsvRowTwice>(Path, Number, F[0], It->second));
    std::vector<float> Values;
    for (size_t C = 1; C < F.size(); ++C) {
      char *End = nullptr;
      double V = std::strtod(F[C].c_str(), &End);
      if (F[C].empty() || End != F[C].c_str() + F[C].size() ||
          !std::isfinite(V))
        return fail(
            message<Msg::ParamsCsvValue>(Path, Number, F[C], T.Params[C - 1]));
      const DspjitSlot &S = *Slots[C - 1];
      if (V < S.min || V > S.max)
        return fail(message<Msg::ParamsCsvRange>(
            Path, Number, F[C], T.Params[C - 1], formatNumber(S.min),
            formatNumber(S.max)));
      Values.push_back(float(V));
    }
    T.Rows[Input] = std::move(Values);
  }
  if (Header)
    return fail(message<Msg::ParamsCsvEmpty>(Path));
  size_t Missing = 0;
  std::string First;
  for (const std::string &I : Inputs)
    if (!T.Rows.count(I) && Missing++ == 0)
      First = I;
  if (Missing)
    return fail(message<Msg::ParamsCsvMissingRow>(
        First, Path,
        Missing > 1
            ? " (nor have " + std::to_string(Missing - 1) + " other inputs)"
            : std::string()));
  return T;
}

double BatchSummary::realTimeFactor() const {
  return WallSeconds > 0 ? AudioSeconds / WallSeconds : 0;
}

int BatchSummary::exitStatus() const {
  return int(std::min<size_t>(Failed, 100));
}

BatchSummary
runBatch(size_t Count, unsigned Jobs,
         const std::function<BatchFileResult(size_t)> &RenderOne,
         const std::function<void(size_t, const BatchFileResult &)> &Report,
         const std::function<bool()> &Stop) {
  if (Jobs == 0)
    Jobs = std::max(1u, std::thread::hardware_concurrency());
  Jobs = unsigned(std::min<size_t>(Jobs, std::max<size_t>(Count, 1)));
  BatchSummary S;
  S.Files = Count;
  S.Jobs = Jobs;
  std::atomic<size_t> Next{0};
  std::mutex Lock;
  size_t Done = 0;
  auto Start = std::chrono::steady_clock::now();
  auto Worker = [&] {
    for (;;) {
      if (Stop && Stop())
        return;
      size_t I = Next.fetch_add(1);
      if (I >= Count)
        return;
      BatchFileResult R = RenderOne(I);
      std::lock_guard<std::mutex> Guard(Lock);
      ++Done;
      if (!R.Ok)
        ++S.Failed;
      S.AudioSeconds += R.AudioSeconds;
      S.ProcessSeconds += R.ProcessSeconds;
      Report(I, R);
    }
  };
  std::vector<std::thread> Threads;
  for (unsigned J = 1; J < Jobs; ++J)
    Threads.emplace_back(Worker);
  Worker();
  for (std::thread &T : Threads)
    T.join();
  S.Failed += Count - Done; // never taken: interrupted
  S.WallSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
          .count();
  return S;
}

} // namespace dspjit
