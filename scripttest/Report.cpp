//===- scripttest/Report.cpp - Text, TAP and JUnit ------------------------===//
#include "scripttest/Report.h"

#include "runtime/MessageCatalog.h"
#include "runtime/Xml.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace dspjit::scripttest {

namespace {

/// Every line of the details, each prefixed.
void printDetails(std::ostream &Out, const Outcome &O,
                  const std::string &Prefix) {
  for (const std::string &D : O.Details) {
    std::istringstream Lines(D);
    for (std::string Line; std::getline(Lines, Line);)
      Out << Prefix << Line << "\n";
  }
}

/// '#' starts a TAP directive; in a description it is escaped.
std::string tapDescription(const std::string &S) {
  std::string Out;
  for (char C : S) {
    if (C == '#' || C == '\\')
      Out += '\\';
    Out += C;
  }
  return Out;
}

std::string seconds(double S) {
  char Buf[32];
  std::snprintf(Buf, sizeof Buf, "%.3f", S);
  return Buf;
}

/// A failure's summary, for an attribute (where a newline would read as a
/// blank): the first line of what failed.
std::string firstLine(const std::vector<std::string> &Details) {
  if (Details.empty())
    return "failed";
  return Details.front().substr(0, Details.front().find('\n'));
}

std::string joined(const std::vector<std::string> &Lines) {
  std::string Out;
  for (const std::string &L : Lines)
    Out += L + "\n";
  return Out;
}

} // namespace

Reporter::Reporter(std::ostream &Out, Format F, bool Quiet)
    : Out(Out), Kind(F), Quiet(Quiet) {}

void Reporter::start() {
  if (Started)
    return;
  Started = true;
  if (Kind == Tap)
    Out << "TAP version 13\n";
}

void Reporter::add(const Outcome &O) {
  start();
  All.push_back(O);
  Failed += O.failed();
  Written += O.Result == Outcome::Updated;
  if (Kind == Tap) {
    Out << (O.failed() ? "not ok " : "ok ") << All.size() << " - "
        << tapDescription(O.name()) << "\n";
    if (O.failed() || !O.Details.empty()) {
      Out << "  ---\n  message: |\n";
      printDetails(Out, O, "    ");
      Out << "  severity: " << (O.failed() ? "fail" : "comment") << "\n"
          << "  at: " << O.Script << ":" << O.Line << "\n  ...\n";
    }
    return;
  }
  if (Quiet && !O.failed())
    return;
  const char *Status = O.failed()                     ? "FAIL"
                       : O.Result == Outcome::Updated ? "WROTE"
                                                      : "PASS";
  Out << Status << " " << O.name() << "\n";
  printDetails(Out, O, "    ");
}

std::string Reporter::summary() const {
  std::string S = message<Msg::TestSummary>(All.size() - Failed, Failed);
  if (Written)
    S += message<Msg::TestSummaryWritten>(Written, Written == 1 ? "" : "s");
  return S;
}

void Reporter::finish(double Seconds) {
  start();
  if (Kind == Tap) {
    Out << "1.." << All.size() << "\n# " << summary() << "\n";
    return;
  }
  Out << summary() << " (" << seconds(Seconds) << " s)\n";
}

std::string junitXml(const std::vector<Outcome> &Outcomes, double Seconds) {
  // One <testsuite> per script, in the order the scripts ran.
  std::vector<std::string> Order;
  std::map<std::string, std::vector<const Outcome *>> ByScript;
  for (const Outcome &O : Outcomes) {
    if (!ByScript.count(O.Script))
      Order.push_back(O.Script);
    ByScript[O.Script].push_back(&O);
  }
  unsigned Failures = 0;
  for (const Outcome &O : Outcomes)
    Failures += O.failed();
  std::ostringstream X;
  X << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites name=\"dspjit test\" tests=\"" << Outcomes.size()
    << "\" failures=\"" << Failures << "\" errors=\"0\" time=\""
    << seconds(Seconds) << "\">\n";
  for (const std::string &Script : Order) {
    const auto &Cases = ByScript[Script];
    unsigned SuiteFailures = 0;
    double SuiteSeconds = 0;
    for (const Outcome *O : Cases) {
      SuiteFailures += O->failed();
      SuiteSeconds += O->Seconds;
    }
    X << "  <testsuite name=\"" << escapeXml(Script) << "\" tests=\""
      << Cases.size() << "\" failures=\"" << SuiteFailures
      << "\" errors=\"0\" time=\"" << seconds(SuiteSeconds) << "\">\n";
    for (const Outcome *O : Cases) {
      X << "    <testcase classname=\"" << escapeXml(Script) << "\" name=\""
        << escapeXml("line " + std::to_string(O->Line) + ": " + O->Spec)
        << "\" file=\"" << escapeXml(Script) << "\" line=\"" << O->Line
        << "\" time=\"" << seconds(O->Seconds) << "\"";
      if (!O->failed() && O->Warnings.empty()) {
        X << "/>\n";
        continue;
      }
      X << ">\n";
      if (O->failed())
        X << "      <failure message=\"" << escapeXml(firstLine(O->Details))
          << "\">" << escapeXml(joined(O->Details)) << "</failure>\n";
      if (!O->Warnings.empty())
        X << "      <system-err>" << escapeXml(O->Warnings)
          << "</system-err>\n";
      X << "    </testcase>\n";
    }
    X << "  </testsuite>\n";
  }
  X << "</testsuites>\n";
  return X.str();
}

Result<void> writeJUnit(const std::string &Path,
                        const std::vector<Outcome> &Outcomes, double Seconds) {
  std::ofstream F(Path, std::ios::binary | std::ios::trunc);
  if (!F)
    return fail(message<Msg::FigureCannotWrite>(Path, std::strerror(errno)));
  F << junitXml(Outcomes, Seconds);
  F.close();
  if (!F)
    return fail(message<Msg::FigureCannotWrite>(Path, std::strerror(errno)));
  return {};
}

} // namespace dspjit::scripttest
