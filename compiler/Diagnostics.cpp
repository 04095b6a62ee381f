//===- compiler/Diagnostics.cpp - Message formatting and printing ---------===//
#include "compiler/Diagnostics.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstdio>
#include <ostream>

namespace dspjit {

namespace {
struct CatalogEntry {
  const char *Name;
  Severity Sev;
  const char *Format;
  const char *Warning; // a warning's -W name, else null
};
constexpr Severity Error = Severity::Error;
constexpr Severity Warning = Severity::Warning;
constexpr Severity Note = Severity::Note;
const CatalogEntry Catalog[] = {
#define DIAG(Id, Sev, Fmt) {#Id, Sev, Fmt, nullptr},
#define WARN(Id, Name, Fmt) {#Id, Warning, Fmt, Name},
#include "compiler/DiagnosticCatalog.def"
#undef WARN
#undef DIAG
};
} // namespace

const char *diagName(DiagId Id) { return Catalog[size_t(Id)].Name; }
const char *diagFormat(DiagId Id) { return Catalog[size_t(Id)].Format; }
const char *warningName(DiagId Id) { return Catalog[size_t(Id)].Warning; }

std::optional<DiagId> findWarning(std::string_view Name) {
  for (size_t I = 0; I < std::size(Catalog); ++I)
    if (Catalog[I].Warning && Name == Catalog[I].Warning)
      return DiagId(I);
  return std::nullopt;
}

std::string warningNames() {
  std::string Out;
  for (const CatalogEntry &E : Catalog)
    if (E.Warning)
      Out += (Out.empty() ? "" : ", ") + std::string(E.Warning);
  return Out;
}

std::string WarningOptions::apply(std::string_view Flag) {
  const bool No = Flag.substr(0, 3) == "no-";
  std::string_view Name = No ? Flag.substr(3) : Flag;
  if (Name == "error") {
    AsErrors = !No;
    return "";
  }
  if (Name == "all") {
    AllDisabled = No;
    if (!No)
      Disabled.clear();
    return "";
  }
  std::optional<DiagId> Id = findWarning(Name);
  if (!Id)
    return "unknown warning '-W" + std::string(Flag) + "'; the warnings are " +
           warningNames() + " (and all, error: -Wno-all, -Werror)";
  if (No)
    Disabled.insert(*Id);
  else
    Disabled.erase(*Id);
  return "";
}

uint32_t SourceManager::add(std::string Path, std::string Text) {
  auto F = std::make_unique<SourceFile>();
  F->Path = std::move(Path);
  F->Text = std::move(Text);
  F->LineStarts.push_back(0);
  for (uint32_t I = 0; I < F->Text.size(); ++I)
    if (F->Text[I] == '\n')
      F->LineStarts.push_back(I + 1);
  Files.push_back(std::move(F));
  return uint32_t(Files.size());
}

std::pair<unsigned, unsigned> SourceManager::lineColumn(SourceLoc Loc) const {
  const auto &Starts = file(Loc.File).LineStarts;
  auto It = std::upper_bound(Starts.begin(), Starts.end(), Loc.Offset);
  unsigned Line = unsigned(It - Starts.begin());
  return {Line, Loc.Offset - Starts[Line - 1] + 1};
}

std::string_view SourceManager::lineText(SourceLoc Loc) const {
  const SourceFile &F = file(Loc.File);
  unsigned Line = lineColumn(Loc).first;
  size_t Begin = F.LineStarts[Line - 1];
  size_t End = F.Text.find('\n', Begin);
  if (End == std::string::npos)
    End = F.Text.size();
  if (End > Begin && F.Text[End - 1] == '\r')
    --End;
  return std::string_view(F.Text).substr(Begin, End - Begin);
}

static std::string format(const char *Fmt,
                          std::initializer_list<std::string> Args) {
  std::string Out;
  for (const char *P = Fmt; *P; ++P) {
    if (*P == '{' && P[1] >= '0' && P[1] <= '9' && P[2] == '}') {
      size_t Index = size_t(P[1] - '0');
      assert(Index < Args.size() && "missing diagnostic argument");
      if (Index < Args.size())
        Out += *(Args.begin() + Index);
      P += 2;
      continue;
    }
    Out += *P;
  }
  return Out;
}

void DiagnosticEngine::report(DiagId Id, SourceLoc Loc,
                              std::initializer_list<std::string> Args,
                              uint32_t Length) {
  const CatalogEntry &E = Catalog[size_t(Id)];
  Severity Sev = E.Sev;
  if (E.Warning) {
    if (!Warnings.enabled(Id) || allowedAt(Loc, E.Warning))
      return;
    if (Warnings.AsErrors)
      Sev = Severity::Error;
  }
  std::string Message = format(E.Format, Args);
  // The same error or warning at the same place is reported once, however
  // many call sites or unrolled copies reach it.
  if (Sev != Severity::Note &&
      !Reported.insert({Id, Loc.File, Loc.Offset, Message}).second)
    return;
  if (Sev == Severity::Error) {
    if (NumErrors >= MaxErrors)
      return;
    ++NumErrors;
  } else if (NumErrors > MaxErrors) {
    return;
  }
  Diags.push_back({Id, Sev, Loc, std::max<uint32_t>(Length, 1),
                   std::move(Message), E.Warning});
}

/// A comment `// dspjit: allow NAME` on the line silences warning NAME there.
bool DiagnosticEngine::allowedAt(SourceLoc Loc, const char *Warning) const {
  if (!Loc.isValid() || Loc.File > Sources->size())
    return false;
  std::string_view Line = Sources->lineText(Loc);
  std::string Pragma = std::string("dspjit: allow ") + Warning;
  for (size_t At = Line.find(Pragma); At != std::string_view::npos;
       At = Line.find(Pragma, At + 1)) {
    size_t End = At + Pragma.size();
    if (End == Line.size() ||
        !(std::isalnum((unsigned char)Line[End]) || Line[End] == '-'))
      return true;
  }
  return false;
}

void DiagnosticEngine::clear() {
  Diags.clear();
  Reported.clear();
  NumErrors = 0;
}

void DiagnosticEngine::sortByLocation() {
  std::vector<std::vector<Diagnostic>> Groups;
  for (Diagnostic &D : Diags) {
    if (D.Sev == Severity::Note && !Groups.empty())
      Groups.back().push_back(std::move(D));
    else
      Groups.push_back({std::move(D)});
  }
  std::stable_sort(Groups.begin(), Groups.end(),
                   [](const auto &A, const auto &B) {
                     return std::pair(A[0].Loc.File, A[0].Loc.Offset) <
                            std::pair(B[0].Loc.File, B[0].Loc.Offset);
                   });
  Diags.clear();
  for (auto &G : Groups)
    for (Diagnostic &D : G)
      Diags.push_back(std::move(D));
}

/// ` [-Wname]` after a warning, ` [-Werror=name]` after one made an error.
static std::string flagSuffix(const Diagnostic &D) {
  if (!D.Warning)
    return "";
  return std::string(D.Sev == Severity::Error ? " [-Werror=" : " [-W") +
         D.Warning + "]";
}

std::string DiagnosticEngine::shortForm(const Diagnostic &D) const {
  if (!D.Loc.isValid())
    return D.Message;
  auto [Line, Col] = Sources->lineColumn(D.Loc);
  return std::to_string(Line) + ":" + std::to_string(Col) + ": " + D.Message;
}

void DiagnosticEngine::print(std::ostream &OS, bool Color) const {
  const char *Bold = Color ? "\033[1m" : "";
  const char *Reset = Color ? "\033[0m" : "";
  for (const Diagnostic &D : Diags) {
    const char *Label = D.Sev == Severity::Error     ? "error"
                        : D.Sev == Severity::Warning ? "warning"
                                                     : "note";
    const char *LabelColor = !Color                       ? ""
                             : D.Sev == Severity::Error   ? "\033[1;31m"
                             : D.Sev == Severity::Warning ? "\033[1;35m"
                                                          : "\033[1;36m";
    if (!D.Loc.isValid()) {
      OS << Bold << "dspjit: " << Reset << LabelColor << Label << ": " << Reset
         << Bold << D.Message << Reset << flagSuffix(D) << "\n";
      continue;
    }
    auto [Line, Col] = Sources->lineColumn(D.Loc);
    OS << Bold << Sources->file(D.Loc.File).Path << ":" << Line << ":" << Col
       << ": " << Reset << LabelColor << Label << ": " << Reset << Bold
       << D.Message << Reset << flagSuffix(D) << "\n";
    std::string_view Text = Sources->lineText(D.Loc);
    OS << Text << "\n";
    // The caret line keeps tabs so that it lines up under the source.
    std::string Caret;
    for (unsigned I = 0; I + 1 < Col && I < Text.size(); ++I)
      Caret += Text[I] == '\t' ? '\t' : ' ';
    size_t Room = Text.size() > Col - 1 ? Text.size() - (Col - 1) : 1;
    size_t Len = std::min<size_t>(D.Length, std::max<size_t>(Room, 1));
    Caret += Color ? "\033[1;32m^" : "^";
    for (size_t I = 1; I < Len; ++I)
      Caret += '~';
    OS << Caret << Reset << "\n";
  }
  if (NumErrors >= MaxErrors)
    OS << "dspjit: note: stopped after " << MaxErrors << " errors\n";
}

} // namespace dspjit
