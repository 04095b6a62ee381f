//===- tests/unit/message_catalog_test.cpp - runtime/MessageCatalog.def ---===//
//
// The catalog of the host side's messages: rendering with arguments, the
// spelling of options, and the rules every format follows (lower-case
// start, no final period, options as {-name} and never as a flag, and only
// names of options the command line has).
//
//===----------------------------------------------------------------------===//
#include "runtime/MessageCatalog.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace dspjit;

namespace {

/// Every message of the catalog, in order.
const std::vector<Msg> &allMessages() {
  static const std::vector<Msg> All = {
#define MSG(Id, Fmt) Msg::Id,
#include "runtime/MessageCatalog.def"
#undef MSG
  };
  return All;
}

/// The options of the command line that a message may name as {-name}: the
/// flags of `dspjit run` (tools/run.cpp), `dspjit render` (tools/render.cpp),
/// `dspjit test` (tools/test.cpp) and the compile flags they share
/// (tools/main.cpp, CompileFlags::add).
const std::set<std::string> &commandLineOptions() {
  static const std::set<std::string> Options = {
      // dspjit run
      "device", "input-device", "output-device", "host-api", "rate", "block",
      "latency", "map", "play", "loop", "record", "format", "duration",
      "fatal-xruns", "stats-json", "set", "osc", "no-status", "no-watch",
      "xfade", "no-cache", "direct", "midi", "midi-map", "midi-map-file",
      // dspjit render (besides those above)
      "input", "swap", "quiet",
      // the compile flags
      "double", "opt",
      // dspjit test
      "update"};
  return Options;
}

/// The {-name} markers of a format.
std::vector<std::string> optionsIn(std::string_view Format) {
  std::vector<std::string> Names;
  for (size_t I = Format.find("{-"); I != std::string_view::npos;
       I = Format.find("{-", I + 1)) {
    size_t Close = Format.find('}', I);
    Names.emplace_back(Close == std::string_view::npos
                           ? Format.substr(I + 2)
                           : Format.substr(I + 2, Close - I - 2));
  }
  return Names;
}

std::string readSource(const std::string &Relative) {
  std::ifstream In(std::string(DSPJIT_SOURCE_DIR) + "/" + Relative);
  return std::string(std::istreambuf_iterator<char>(In),
                     std::istreambuf_iterator<char>());
}

/// Restores the default spelling of options whatever the test does.
struct DefaultSpelling {
  DefaultSpelling() { setOptionSpelling(nullptr); }
  ~DefaultSpelling() { setOptionSpelling(nullptr); }
};

} // namespace

TEST(MessageCatalog, RendersArguments) {
  DefaultSpelling Guard;
  EXPECT_EQ(message<Msg::CannotOpenFile>("in.wav", "No such file or directory"),
            "cannot open 'in.wav': No such file or directory");
  // Numbers as the user typed them, integers as integers.
  EXPECT_EQ(message<Msg::KernelRateMismatch>(44100.0, 48000.0),
            "the kernel was compiled for 44100 Hz but is asked to run at "
            "48000 Hz; compile it for 48000 Hz");
  EXPECT_EQ(message<Msg::ParamClamped>("gain", 2.5f, 0.0f, 1.0f, 1.0f),
            "'gain' = 2.5 is outside [0, 1]; using 1");
  EXPECT_EQ(message<Msg::ConsoleLineTooLong>(size_t(1024)),
            "ignoring a line longer than 1024 bytes");
  // An argument may be used more than once, and out of order.
  EXPECT_EQ(message<Msg::UnknownSlotDidYouMean>("parameter", "gian", "gain",
                                                "gain, mix"),
            "unknown parameter 'gian'; did you mean 'gain'? (parameters: "
            "gain, mix)");
  EXPECT_EQ(
      message<Msg::RenderInputChannels>("in.wav", 1u, "", "the kernel", 2u, 2u),
      "in.wav has 1 channel but the kernel expects 2 (io 2 -> 2)");
  // Braces in an argument are not markers.
  EXPECT_EQ(message<Msg::ConsoleUnknownCommand>("{0}{-play}"),
            "unknown command '{0}{-play}'; type 'help' for the list");
  EXPECT_STREQ(msgName(Msg::StatsFiles), "StatsFiles");
}

TEST(MessageCatalog, SpellsOptions) {
  DefaultSpelling Guard;
  EXPECT_EQ(spellOption("play"), "option 'play'");
  EXPECT_EQ(message<Msg::StatsFiles>(1, 2, 3),
            "files: 1 frames of option 'play' late, 2 frames of option "
            "'record' dropped; 3 non-finite samples silenced");

  // As tools/main.cpp installs it: the command line prints its flags.
  setOptionSpelling(
      [](std::string_view Name) { return "--" + std::string(Name); });
  EXPECT_EQ(spellOption("fatal-xruns"), "--fatal-xruns");
  EXPECT_EQ(message<Msg::StatsFiles>(1, 2, 3),
            "files: 1 frames of --play late, 2 frames of --record dropped; 3 "
            "non-finite samples silenced");
  EXPECT_EQ(message<Msg::PlayFileRate>("in.wav", 44100, 48000.0),
            "'in.wav' is at 44100 Hz but the stream runs at 48000 Hz; run "
            "with --rate 44100 or resample the file");

  setOptionSpelling(nullptr);
  EXPECT_EQ(message<Msg::MapCountsFromOne>(),
            "option 'map' counts device channels from 1");
}

TEST(MessageCatalog, FormatsStartLowerCaseAndEndWithoutAPeriod) {
  for (Msg Id : allMessages()) {
    std::string_view Format = msgFormat(Id);
    SCOPED_TRACE(msgName(Id));
    ASSERT_FALSE(Format.empty());
    EXPECT_NE(Format.back(), '.') << Format;
    EXPECT_FALSE(std::isspace(static_cast<unsigned char>(Format.back())))
        << Format;

    // A fragment that continues another message (", from the cache",
    // " ({0} failed)", "; {0} older saves skipped") starts with its
    // punctuation; what follows it is held to the same rule.
    size_t Start = Format.find_first_not_of(" ,;(");
    ASSERT_NE(Start, std::string_view::npos) << Format;
    if (Start != 0) {
      EXPECT_NE(Format.substr(0, Start).find_first_of(",;("),
                std::string_view::npos)
          << "a format starts with blanks only: '" << Format << "'";
    }
    std::string_view Rest = Format.substr(Start);
    unsigned char First = static_cast<unsigned char>(Rest[0]);
    // An acronym ("OSC port 70000 is not a UDP port") keeps its capitals.
    size_t Caps = Rest.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (Caps == std::string_view::npos)
      Caps = Rest.size();
    bool Acronym =
        Caps >= 2 && (Caps == Rest.size() ||
                      !std::isalpha(static_cast<unsigned char>(Rest[Caps])));
    // So does an optimization level, as the compiler writes it (", -O0
    // first").
    bool OptLevel = Rest.size() >= 3 && Rest.substr(0, 2) == "-O" &&
                    std::isdigit(static_cast<unsigned char>(Rest[2]));
    bool Ok = std::islower(First) || std::isdigit(First) || First == '\'' ||
              First == '"' || First == '`' || First == '{' || Acronym ||
              OptLevel;
    EXPECT_TRUE(Ok) << "starts with neither a lower-case letter nor an "
                       "argument: '"
                    << Format << "'";
  }
}

TEST(MessageCatalog, OptionsAreNeverFlags) {
  // Foreign flags a message may quote: another program's, in a command line
  // the user is told to type (jackd's, in NoDevice).
  const std::set<std::pair<std::string, std::string>> Foreign = {
      {"NoDevice", "--no-realtime"}};
  for (Msg Id : allMessages()) {
    std::string_view Format = msgFormat(Id);
    SCOPED_TRACE(msgName(Id));
    for (size_t I = Format.find("--"); I != std::string_view::npos;
         I = Format.find("--", I + 2)) {
      if (I + 2 >= Format.size() ||
          !std::isalpha(static_cast<unsigned char>(Format[I + 2])))
        continue;
      size_t End = Format.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", I);
      std::string Flag(Format.substr(I, End - I));
      EXPECT_TRUE(Foreign.count({msgName(Id), Flag}))
          << "names the flag " << Flag << "; write {-" << Flag.substr(2)
          << "} and let the program spell it: " << Format;
    }
  }
}

TEST(MessageCatalog, OptionsExistOnTheCommandLine) {
  const std::set<std::string> &Options = commandLineOptions();
  for (Msg Id : allMessages()) {
    SCOPED_TRACE(msgName(Id));
    for (const std::string &Name : optionsIn(msgFormat(Id)))
      EXPECT_TRUE(Options.count(Name))
          << "{-" << Name << "} is not an option of the command line";
  }
  // And the list above is still the command line's: each is a flag of
  // tools/run.cpp, tools/render.cpp, tools/test.cpp or tools/main.cpp.
  std::string Tools =
      readSource("tools/run.cpp") + readSource("tools/render.cpp") +
      readSource("tools/test.cpp") + readSource("tools/main.cpp");
  ASSERT_FALSE(Tools.empty()) << "cannot read tools/ under " DSPJIT_SOURCE_DIR;
  for (const std::string &Name : Options)
    EXPECT_NE(Tools.find("--" + Name + "\""), std::string::npos)
        << "--" << Name << " is not a flag of dspjit run or render";
}
