//===- tests/unit/DiagnosticsView.h - What a test reads of diagnostics ----===//
//
// The ids of the errors reported, and every diagnostic as `line:col:
// message`: the two views the lexer, parser and checker tests compare.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_UNIT_DIAGNOSTICSVIEW_H
#define DSPJIT_TESTS_UNIT_DIAGNOSTICSVIEW_H

#include "compiler/Diagnostics.h"

#include <string>
#include <vector>

namespace dspjit::testutil {

/// The ids of the errors (not notes), in the order reported.
inline std::vector<DiagId> errorIds(const DiagnosticEngine &Diags) {
  std::vector<DiagId> Ids;
  for (const Diagnostic &D : Diags.all())
    if (D.Sev == Severity::Error)
      Ids.push_back(D.Id);
  return Ids;
}

/// Every diagnostic as `line:col: message`.
inline std::vector<std::string> shortMessages(const DiagnosticEngine &Diags) {
  std::vector<std::string> M;
  for (const Diagnostic &D : Diags.all())
    M.push_back(Diags.shortForm(D));
  return M;
}

} // namespace dspjit::testutil

#endif
