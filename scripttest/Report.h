//===- scripttest/Report.h - What `dspjit test` prints ----------*- C++ -*-===//
//
// The outcomes of script tests, for a person (a line per test, what
// differed under a failure, a summary), for CI as TAP version 13 (the plan
// at the end, since the outcomes are printed as they come), and as a JUnit
// XML file (the format Jenkins, GitLab and GitHub's test reporters read):
// a <testsuite> per script, a <testcase> per test line.
//
// Thread contract: control thread (streams and files).
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_SCRIPTTEST_REPORT_H
#define DSPJIT_SCRIPTTEST_REPORT_H

#include "runtime/Result.h"
#include "scripttest/Runner.h"

#include <ostream>
#include <string>
#include <vector>

namespace dspjit::scripttest {

class Reporter {
public:
  enum Format { Text, Tap };
  /// Quiet: Text prints failures and the summary only.
  Reporter(std::ostream &Out, Format F, bool Quiet = false);

  /// Prints one outcome (TAP's header before the first).
  void add(const Outcome &O);
  /// Prints the summary (and TAP's plan).
  void finish(double Seconds);

  const std::vector<Outcome> &outcomes() const { return All; }
  unsigned failures() const { return Failed; }
  /// "12 passed, 1 failed, 2 golden files written".
  std::string summary() const;

private:
  void start();
  std::ostream &Out;
  Format Kind;
  bool Quiet;
  bool Started = false;
  unsigned Failed = 0, Written = 0;
  std::vector<Outcome> All;
};

/// The outcomes as a JUnit XML document.
std::string junitXml(const std::vector<Outcome> &Outcomes, double Seconds);

/// Writes junitXml() to Path.
Result<void> writeJUnit(const std::string &Path,
                        const std::vector<Outcome> &Outcomes, double Seconds);

} // namespace dspjit::scripttest

#endif
