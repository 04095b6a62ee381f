//===- tests/unit/bad_input_matrix_test.cpp - BAD_INPUT.md names real tests ===//
//
// tests/BAD_INPUT.md promises a test for every kind of bad input. This keeps
// the promise honest: every row below its first section heading must name
// at least one test, and every name must exist -- a GoogleTest test
// (`Suite.Name`, `Prefix/Suite.Name`, with `*` for several) defined in a
// .cpp file under tests/, a diagnostics case (`cases/NAME.dsp`), or a fuzz
// target or its corpus (`fuzz/fuzz_osc.cpp`, `fuzz/seeds/osc/bundle`,
// `fuzz/regressions/console/`: a path under tests/). A test renamed or
// deleted without updating the matrix fails here.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path Tests = fs::path(DSPJIT_SOURCE_DIR) / "tests";

std::string readFile(const fs::path &P) {
  std::ifstream In(P);
  std::stringstream S;
  S << In.rdbuf();
  return S.str();
}

/// "Suite.Name" for every TEST, TEST_F and TEST_P under tests/.
std::set<std::string> definedTests() {
  std::set<std::string> Names;
  const std::regex Test(R"(TEST(?:_F|_P)?\(\s*(\w+)\s*,\s*(\w+)\s*\))");
  for (const auto &E : fs::recursive_directory_iterator(Tests)) {
    if (E.path().extension() != ".cpp")
      continue;
    std::string Text = readFile(E.path());
    for (std::sregex_iterator I(Text.begin(), Text.end(), Test), End; I != End;
         ++I)
      Names.insert((*I)[1].str() + "." + (*I)[2].str());
  }
  return Names;
}

/// Does `Pattern` ("Suite.Name", "Suite.Prefix*", "Suite.*") name a test?
bool matches(const std::string &Pattern, const std::set<std::string> &Names) {
  size_t Star = Pattern.find('*');
  if (Star == std::string::npos)
    return Names.count(Pattern) > 0;
  std::string Prefix = Pattern.substr(0, Star);
  for (const std::string &N : Names)
    if (N.compare(0, Prefix.size(), Prefix) == 0)
      return true;
  return false;
}

struct Row {
  unsigned Line;
  std::string Input, Tests;
};

/// The rows of the matrix's tables after the first "## " heading (the
/// table before it lists the suites, not bad inputs).
std::vector<Row> matrixRows() {
  std::ifstream In(Tests / "BAD_INPUT.md");
  std::vector<Row> Rows;
  std::string Line;
  bool InMatrix = false;
  for (unsigned N = 1; std::getline(In, Line); ++N) {
    if (Line.rfind("## ", 0) == 0)
      InMatrix = true;
    if (!InMatrix || Line.rfind("| ", 0) != 0 ||
        Line.rfind("| Input |", 0) == 0)
      continue;
    std::vector<std::string> Cells;
    std::string Cell;
    bool InCode = false;
    for (size_t I = 1; I < Line.size(); ++I) {
      char C = Line[I];
      if (C == '`')
        InCode = !InCode;
      if (C == '|' && !InCode) {
        Cells.push_back(Cell);
        Cell.clear();
        continue;
      }
      Cell += C;
    }
    if (Cells.size() != 3) {
      ADD_FAILURE() << "BAD_INPUT.md:" << N << ": a row needs 3 cells (input, "
                    << "expected behaviour, tests), not " << Cells.size();
      continue;
    }
    Rows.push_back({N, Cells[0], Cells[2]});
  }
  return Rows;
}

TEST(BadInputMatrix, HasRowsForEveryKindOfInput) {
  std::vector<Row> Rows = matrixRows();
  EXPECT_GE(Rows.size(), 40u);
  std::string All;
  for (const Row &R : Rows)
    All += R.Input + "\n";
  for (const char *Kind :
       {"Deep nesting", "Huge literals", "Enormous loops", "Invalid UTF-8",
        "Empty file", "A directory", "Missing script", "Binary file",
        "Missing input file", "Truncated file", "Wrong channel count",
        "Unknown device", "Unsupported rate", "Malformed OSC packets",
        "Disk fills up while recording", "deleted or made unreadable",
        "A recording whose process was killed", "broken header"})
    EXPECT_NE(All.find(Kind), std::string::npos) << "no row for: " << Kind;
}

TEST(BadInputMatrix, EveryRowNamesTestsThatExist) {
  const std::set<std::string> Defined = definedTests();
  ASSERT_GT(Defined.size(), 100u);
  const std::regex Name(R"(`([^`]+)`)");
  for (const Row &R : matrixRows()) {
    unsigned Named = 0;
    for (std::sregex_iterator I(R.Tests.begin(), R.Tests.end(), Name), End;
         I != End; ++I) {
      std::string T = (*I)[1].str();
      ++Named;
      if (T.rfind("cases/", 0) == 0) {
        EXPECT_TRUE(fs::exists(Tests / "diagnostics" / T))
            << "BAD_INPUT.md:" << R.Line << ": no diagnostics case " << T;
        continue;
      }
      if (T.rfind("fuzz/", 0) == 0) {
        EXPECT_TRUE(fs::exists(Tests / T))
            << "BAD_INPUT.md:" << R.Line << ": no file tests/" << T;
        continue;
      }
      // "Containment/Clamping.*": the instantiation prefix is not in the
      // source.
      if (size_t Slash = T.find('/');
          Slash != std::string::npos && Slash < T.find('.'))
        T = T.substr(Slash + 1);
      EXPECT_TRUE(matches(T, Defined))
          << "BAD_INPUT.md:" << R.Line << ": no test " << (*I)[1].str();
    }
    EXPECT_GT(Named, 0u) << "BAD_INPUT.md:" << R.Line << ": '" << R.Input
                         << "' names no test";
  }
}

} // namespace
