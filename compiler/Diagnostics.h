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
#include <optional>
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
#define WARN(Id, Name, Fmt) Id,
#include "compiler/DiagnosticCatalog.def"
#undef WARN
#undef DIAG
  NumDiags
};

/// The catalog's stable name for an id ("UnknownName").
const char *diagName(DiagId Id);
/// The catalog's format string for an id.
const char *diagFormat(DiagId Id);
/// A warning's name, what `-Wno-NAME` turns off ("shared-state"); null for
/// an error or a note.
const char *warningName(DiagId Id);
/// The warning of this name, if there is one.
std::optional<DiagId> findWarning(std::string_view Name);
/// Every warning's name, in catalog order, separated by ", ".
std::string warningNames();

/// Which warnings are reported, and whether as errors: what `-Wno-NAME`,
/// `-WNAME`, `-w` and `--Werror` say.
struct WarningOptions {
  std::set<DiagId> Disabled;
  bool AllDisabled = false; ///< `-w`, `-Wno-all`
  bool AsErrors = false;    ///< `--Werror`
  bool enabled(DiagId Id) const { return !AllDisabled && !Disabled.count(Id); }
  /// Applies one flag as written after `-W` ("no-shared-state", "all",
  /// "error"); returns why it cannot, naming the known warnings.
  std::string apply(std::string_view Flag);
};

struct Diagnostic {
  DiagId Id;
  Severity Sev;
  SourceLoc Loc;
  uint32_t Length = 1; // bytes underlined
  std::string Message;
  /// A warning's name (also when --Werror made it an error), else null.
  const char *Warning = nullptr;
};

class DiagnosticEngine {
public:
  /// Reports a catalog message with its arguments at a location.
  void report(DiagId Id, SourceLoc Loc,
              std::initializer_list<std::string> Args = {},
              uint32_t Length = 1);

  /// Which warnings to report, and how (kept by clear()).
  void setWarningOptions(WarningOptions W) { Warnings = std::move(W); }
  const WarningOptions &warningOptions() const { return Warnings; }

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
  bool allowedAt(SourceLoc Loc, const char *Warning) const;

  std::shared_ptr<SourceManager> Sources = std::make_shared<SourceManager>();
  std::vector<Diagnostic> Diags;
  std::set<std::tuple<DiagId, uint32_t, uint32_t, std::string>> Reported;
  unsigned NumErrors = 0;
  WarningOptions Warnings;
};

} // namespace dspjit

#endif
