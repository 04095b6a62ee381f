//===- tests/diagnostics/diagnostics_test.cpp - Expected errors per file --===//
//
// Every file in cases/ is compiled; the diagnostics the compiler reports must
// be exactly the `// expect-error: L:C: message`, `// expect-warning: ...`
// and `// expect-note: ...` lines written in the file, in order; a case
// compiles exactly when it expects no error. A last test checks that every
// message of the catalog is produced by at least one case, so each has a test.
//
//===----------------------------------------------------------------------===//
#include "compiler/Compiler.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace dspjit;

namespace {

std::vector<std::string> caseFiles() {
  std::vector<std::string> Files;
  for (const auto &E : fs::directory_iterator(DSPJIT_DIAG_CASES))
    if (E.path().extension() == ".dsp")
      Files.push_back(E.path().filename().string());
  std::sort(Files.begin(), Files.end());
  return Files;
}

std::vector<std::string> expectations(const std::string &Path) {
  std::ifstream In(Path);
  std::vector<std::string> Out;
  std::string Line;
  while (std::getline(In, Line)) {
    for (const char *Kind : {"error", "warning", "note"}) {
      std::string Tag = std::string("// expect-") + Kind + ": ";
      size_t At = Line.find(Tag);
      if (At != std::string::npos)
        Out.push_back(std::string(Kind) + " " + Line.substr(At + Tag.size()));
    }
  }
  return Out;
}

/// What the compiler said, as `L:C: message`; a diagnostic in another file
/// than the case itself (an import) is prefixed with that file's path
/// relative to cases/.
std::vector<std::string> actual(const Compiler &C,
                                const std::string &CasePath) {
  std::vector<std::string> Out;
  for (const Diagnostic &D : C.diagnostics().all()) {
    std::string Where;
    if (D.Loc.isValid()) {
      std::string Path = C.diagnostics().sources().file(D.Loc.File).Path;
      if (Path != CasePath)
        Where = fs::relative(Path, DSPJIT_DIAG_CASES).string() + ":";
    }
    const char *Kind = D.Sev == Severity::Note      ? "note "
                       : D.Sev == Severity::Warning ? "warning "
                                                    : "error ";
    Out.push_back(Kind + Where + C.diagnostics().shortForm(D));
  }
  return Out;
}

class DiagnosticsCase : public testing::TestWithParam<std::string> {};

TEST_P(DiagnosticsCase, ReportsExactlyTheExpectedDiagnostics) {
  std::string Path = std::string(DSPJIT_DIAG_CASES) + "/" + GetParam();
  std::vector<std::string> Expected = expectations(Path);
  ASSERT_FALSE(Expected.empty()) << Path << " has no expect- line";
  Compiler C;
  auto K = C.compileFile(Path);
  const bool Errors =
      std::any_of(Expected.begin(), Expected.end(), [](const std::string &E) {
        return E.rfind("error ", 0) == 0;
      });
  EXPECT_EQ(K == nullptr, Errors)
      << "a script compiles exactly when it has no errors";
  EXPECT_EQ(actual(C, Path), Expected) << "in " << Path;
}

INSTANTIATE_TEST_SUITE_P(Cases, DiagnosticsCase, testing::ValuesIn(caseFiles()),
                         [](const testing::TestParamInfo<std::string> &I) {
                           std::string N =
                               I.param.substr(0, I.param.size() - 4);
                           for (char &C : N)
                             if (!isalnum((unsigned char)C))
                               C = '_';
                           return N;
                         });

TEST(Diagnostics, MissingFileSaysSoWithoutALocation) {
  Compiler C;
  EXPECT_EQ(C.compileFile("/nonexistent/echo.dsp"), nullptr);
  ASSERT_EQ(C.diagnostics().all().size(), 1u);
  EXPECT_EQ(C.diagnostics().all()[0].Id, DiagId::CannotRead);
  EXPECT_EQ(C.diagnostics().all()[0].Message,
            "cannot read '/nonexistent/echo.dsp': no such file");
}

TEST(Diagnostics, DirectoryIsNotAScript) {
  Compiler C;
  EXPECT_EQ(C.compileFile(DSPJIT_DIAG_CASES), nullptr);
  ASSERT_EQ(C.diagnostics().all().size(), 1u);
  EXPECT_NE(C.diagnostics().all()[0].Message.find("it is a directory"),
            std::string::npos);
}

TEST(Diagnostics, HugeSourceIsRefused) {
  Compiler C;
  std::string Text =
      "io 1 -> 1; process { out = in; }\n" + std::string(2 << 20, ' ');
  EXPECT_EQ(C.compileSource("huge.dsp", Text), nullptr);
  ASSERT_EQ(C.diagnostics().all().size(), 1u);
  EXPECT_EQ(C.diagnostics().all()[0].Id, DiagId::SourceTooLarge);
}

TEST(Diagnostics, PrintShowsFileLineColumnSourceAndCaret) {
  Compiler C;
  C.compileSource("t.dsp", "io 1 -> 1;\nparam cutoff = 1 in [0, 2];\n"
                           "process { out = in * cutof; }\n");
  std::ostringstream OS;
  C.diagnostics().print(OS);
  EXPECT_EQ(OS.str(),
            "t.dsp:3:22: error: unknown name 'cutof'; did you mean 'cutoff'?\n"
            "process { out = in * cutof; }\n"
            "                     ^~~~~\n");
}

TEST(Diagnostics, EveryCatalogMessageHasATest) {
  std::set<DiagId> Seen = {DiagId::CannotRead, DiagId::SourceTooLarge,
                           // tests/cli: set in the environment, once a process.
                           DiagId::BadLlvmOptions,
                           // Only a bug in dspjit can produce this one.
                           DiagId::InternalError,
                           // tests/unit (checker_test.cpp): a generated
                           // source of 12,000 statements, too big to keep.
                           DiagId::CompileTooCostly};
  for (const std::string &F : caseFiles()) {
    Compiler C;
    C.compileFile(std::string(DSPJIT_DIAG_CASES) + "/" + F);
    for (const Diagnostic &D : C.diagnostics().all())
      Seen.insert(D.Id);
  }
  for (unsigned I = 0; I < unsigned(DiagId::NumDiags); ++I)
    EXPECT_TRUE(Seen.count(DiagId(I)))
        << "no test in tests/diagnostics/cases produces " << diagName(DiagId(I))
        << ": \"" << diagFormat(DiagId(I)) << "\"";
}

} // namespace
