//===- compiler/Warnings.h - The silent mistakes of a checked program -----===//
//
// Why this pass exists: some scripts compile and run but cannot mean what
// they say: a filter in a `for` loop whose iterations all share its state,
// one lane picked from a result that holds several outputs, a declaration
// nothing uses, a constant that is certainly infinite. It looks at the
// checked program (inlined, folded, widths known) after every error check,
// and reports warnings, each with a name that `-Wno-NAME` turns off
// (DiagnosticCatalog.def, dsl/LANGUAGE.md section 14).
//
// A function is inlined at every call, so one `let` or `state` in its body
// is many locals or slots: a declaration is reported once, when it is unused
// at every call. The standard library is never warned about.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_WARNINGS_H
#define DSPJIT_COMPILER_WARNINGS_H

#include "compiler/Program.h"

#include <set>

namespace dspjit {

/// Reports the warnings of a program checked without errors. `StdFiles`
/// are the ids of the standard library's files.
void reportWarnings(const Program &P, const std::set<uint32_t> &StdFiles,
                    DiagnosticEngine &Diags);

} // namespace dspjit

#endif
