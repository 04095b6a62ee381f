//===- compiler/Diagnostics.h - Source files, locations and messages ------===//
//
// Locations are cheap: a file id and a byte offset, turned into line:column
// only when a message is printed. Every message comes from the catalog in
// DiagnosticCatalog.def, so wording is consistent and tests can name them.
// Errors are collected, never thrown: one run reports every error.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_DIAGNOSTICS_H
#define DSPJIT_COMPILER_DIAGNOSTICS_H

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace dspjit {

/// A position in a loaded source file. File 0 means "no location".
struct SourceLoc {
  uint32_t File = 0;
  uint32_t Offset = 0;
  bool isValid() const { return File != 0; }
};

struct SourceFile {
  std::string Path;
  std::string Text;
  std::vector<uint32_t> LineStarts;
};

/// Owns the text of every file the compiler read.
class SourceManager {
public:
  /// Adds a file and returns its id (never 0).
  uint32_t add(std::string Path, std::string Text);
  const SourceFile &file(uint32_t Id) const { return *Files[Id - 1]; }
  std::string_view text(uint32_t Id) const { return file(Id).Text; }
  /// Files added so far; ids run from 1 to size().
  uint32_t size() const { return uint32_t(Files.size()); }
  /// 1-based line and column (in bytes) of a location.
  std::pair<unsigned, unsigned> lineColumn(SourceLoc Loc) const;
  /// The text of the line holding a location, without its newline.
  std::string_view lineText(SourceLoc Loc) const;

private:
  std::vector<std::unique_ptr<SourceFile>> Files;
};

enum class Severity { Error, Warning, Note };

enum class DiagId {
#define DIAG(Id, Sev, Fmt) Id,
#include "compiler/DiagnosticCatalog.def"
#undef DIAG
  NumDiags
};

/// The catalog's stable name for an id ("UnknownName").
const char *diagName(DiagId Id);
/// The catalog's format string for an id.
const char *diagFormat(DiagId Id);

struct Diagnostic {
  DiagId Id;
  Severity Sev;
  SourceLoc Loc;
  uint32_t Length = 1; // bytes underlined
  std::string Message;
};

class DiagnosticEngine {
public:
  /// Reports a catalog message with its arguments at a location.
  void report(DiagId Id, SourceLoc Loc,
              std::initializer_list<std::string> Args = {},
              uint32_t Length = 1);

  bool hasErrors() const { return NumErrors != 0; }
  unsigned errorCount() const { return NumErrors; }
  const std::vector<Diagnostic> &all() const { return Diags; }
  void clear();
  /// Orders diagnostics by file and position, each note staying after the
  /// error it belongs to.
  void sortByLocation();

  SourceManager &sources() { return *Sources; }
  const SourceManager &sources() const { return *Sources; }

  /// Prints every diagnostic as `file:line:col: error: message`, the source
  /// line and a caret under the location.
  void print(std::ostream &OS, bool Color = false) const;
  /// One diagnostic as `line:col: message` (what tests match).
  std::string shortForm(const Diagnostic &D) const;

  /// Stops recording after this many errors (a note says so).
  static constexpr unsigned MaxErrors = 100;

private:
  std::shared_ptr<SourceManager> Sources = std::make_shared<SourceManager>();
  std::vector<Diagnostic> Diags;
  std::set<std::tuple<DiagId, uint32_t, uint32_t, std::string>> Reported;
  unsigned NumErrors = 0;
};

} // namespace dspjit

#endif
