//===- tests/fuzz/replay_main.cpp - The fuzz targets without libFuzzer -----===//
//
// dspjit_fuzz_replay runs the fuzz targets' entry points on files, so that
// every crash the fuzzers ever found stays a test of the ordinary build
// (tests/fuzz/CMakeLists.txt registers them with ctest), and so that a
// crash can be debugged without libFuzzer:
//
//   dspjit_fuzz_replay compile FILE|DIR...       bytes as a script's source
//   dspjit_fuzz_replay programs FILE|DIR...      bytes as generator choices
//   dspjit_fuzz_replay programs|console|osc|web|midifile|midi --random N
//                                                [--seed S]
//                                                N random byte strings
//   dspjit_fuzz_replay programs --print FILE     the script FILE generates
//   dspjit_fuzz_replay agree FILE|DIR...         scripts that -O0 and -O3
//                                                must run alike (what
//                                                `programs` checks, on source)
//   dspjit_fuzz_replay console FILE|DIR...       bytes typed on the console
//   dspjit_fuzz_replay osc FILE|DIR...           bytes as one OSC datagram
//   dspjit_fuzz_replay web FILE|DIR...           bytes as one web panel message
//   dspjit_fuzz_replay midifile FILE|DIR...      bytes as a Standard MIDI File
//   dspjit_fuzz_replay midi FILE|DIR...          bytes from a MIDI controller
//
// Directories are read recursively, in name order. A failure aborts with
// the harness's message (and the file's name, printed first).
//
//===----------------------------------------------------------------------===//
#include "ProgramGenerator.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int dspjitFuzzCompile(const uint8_t *Data, size_t Size);
extern "C" int dspjitFuzzPrograms(const uint8_t *Data, size_t Size);
extern "C" int dspjitFuzzLevelsAgree(const uint8_t *Data, size_t Size);
extern "C" int dspjitFuzzConsole(const uint8_t *Data, size_t Size);
extern "C" int dspjitFuzzOsc(const uint8_t *Data, size_t Size);
extern "C" int dspjitFuzzWeb(const uint8_t *Data, size_t Size);
extern "C" int dspjitFuzzMidiFile(const uint8_t *Data, size_t Size);
extern "C" int dspjitFuzzMidi(const uint8_t *Data, size_t Size);

namespace {
using Entry = int (*)(const uint8_t *, size_t);

std::vector<uint8_t> readBytes(const std::filesystem::path &P) {
  std::ifstream In(P, std::ios::binary);
  return {std::istreambuf_iterator<char>(In), std::istreambuf_iterator<char>()};
}

int usage() {
  std::cerr << "usage: dspjit_fuzz_replay "
               "compile|programs|agree|console|osc|web|midifile|midi FILE|DIR...\n"
               "       dspjit_fuzz_replay programs|console|osc|web|midifile|midi "
               "--random N "
               "[--seed S]\n"
               "       dspjit_fuzz_replay programs --print FILE\n";
  return 2;
}
} // namespace

int main(int Argc, char **Argv) {
  if (Argc < 3)
    return usage();
  std::string Target = Argv[1];
  Entry Run = Target == "compile"    ? dspjitFuzzCompile
              : Target == "programs" ? dspjitFuzzPrograms
              : Target == "agree"    ? dspjitFuzzLevelsAgree
              : Target == "console"  ? dspjitFuzzConsole
              : Target == "osc"      ? dspjitFuzzOsc
              : Target == "web"      ? dspjitFuzzWeb
              : Target == "midifile" ? dspjitFuzzMidiFile
              : Target == "midi"     ? dspjitFuzzMidi
                                     : nullptr;
  if (!Run)
    return usage();

  if (std::strcmp(Argv[2], "--print") == 0 && Argc == 4) {
    std::vector<uint8_t> Bytes = readBytes(Argv[3]);
    std::cout << dspjit::fuzz::generateProgram(Bytes.data(), Bytes.size());
    return 0;
  }
  if (std::strcmp(Argv[2], "--random") == 0) {
    if (Argc != 4 && !(Argc == 6 && std::strcmp(Argv[4], "--seed") == 0))
      return usage();
    unsigned long N = std::stoul(Argv[3]);
    unsigned long Seed = Argc == 6 ? std::stoul(Argv[5]) : 1;
    std::mt19937 Rng(Seed);
    for (unsigned long I = 0; I < N; ++I) {
      std::vector<uint8_t> Bytes(64 + Rng() % 448);
      for (uint8_t &B : Bytes)
        B = uint8_t(Rng());
      Run(Bytes.data(), Bytes.size());
    }
    std::cout << "ran " << N << " random inputs (seed " << Seed << ")\n";
    return 0;
  }

  std::vector<std::filesystem::path> Files;
  for (int I = 2; I < Argc; ++I) {
    std::filesystem::path P = Argv[I];
    if (std::filesystem::is_directory(P)) {
      for (const auto &E : std::filesystem::recursive_directory_iterator(P))
        if (E.is_regular_file())
          Files.push_back(E.path());
    } else if (std::filesystem::is_regular_file(P)) {
      Files.push_back(P);
    } else {
      std::cerr << "dspjit_fuzz_replay: no such file or directory: " << P
                << "\n";
      return 1;
    }
  }
  std::sort(Files.begin(), Files.end());
  for (const auto &F : Files) {
    std::cerr << "replaying " << F.string() << "\n";
    std::vector<uint8_t> Bytes = readBytes(F);
    Run(Bytes.data(), Bytes.size());
  }
  std::cout << "replayed " << Files.size() << " inputs through '" << Target
            << "'\n";
  return 0;
}
