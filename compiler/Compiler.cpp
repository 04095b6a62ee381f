//===- compiler/Compiler.cpp - The phases, in order, with their timings ---===//
#include "compiler/Compiler.h"

#include "compiler/Checker.h"
#include "compiler/CodeGen.h"
#include "compiler/CompileCost.h"
#include "compiler/Jit.h"
#include "compiler/Lexer.h"
#include "compiler/ObjectCache.h"
#include "compiler/Optimizer.h"
#include "compiler/Parser.h"
#include "compiler/Program.h"

#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace dspjit {

extern const char *const kStdLibSource;

const char *compilerVersion() { return DSPJIT_VERSION; }

void applyEnvironment(CompileOptions &Options) {
  auto Take = [](const char *Name, std::string &Into) {
    if (const char *V = std::getenv(Name); V && *V)
      Into = V;
  };
  Take("DSPJIT_CPU", Options.cpu);
  Take("DSPJIT_LLVM_ARGS", Options.llvmArgs);
  Take("DSPJIT_PIPELINE", Options.pipeline);
}

CompileOptions CompileOptions::fromEnvironment() {
  CompileOptions O;
  applyEnvironment(O);
  return O;
}

namespace {
constexpr size_t MaxSourceBytes = 1 << 20;

class Stopwatch {
public:
  explicit Stopwatch(double &Into)
      : Into(Into), Start(std::chrono::steady_clock::now()) {}
  ~Stopwatch() {
    Into +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
            .count();
  }

private:
  double &Into;
  std::chrono::steady_clock::time_point Start;
};

/// Reads a source file, or reports why it cannot: the text pinned for its
/// path if there is one (Compiler::pinSources), else the disk's.
/// An import is reported by the name written in it (`Shown`).
bool readSource(const std::string &Path, std::string &Text,
                DiagnosticEngine &Diags, SourceLoc From, uint32_t FromLength,
                const Compiler::SourceTexts &Pins,
                const std::string &Shown = "") {
  if (auto It = Pins.find(Path); It != Pins.end()) {
    Text = It->second;
    return true;
  }
  std::error_code EC;
  auto Report = [&](const std::string &Why) {
    if (From.isValid())
      Diags.report(DiagId::ImportFailed, From,
                   {Shown.empty() ? Path : Shown, Why}, FromLength);
    else
      Diags.report(DiagId::CannotRead, {}, {Path, Why});
    return false;
  };
  if (std::filesystem::is_directory(Path, EC))
    return Report("it is a directory, not a file");
  std::ifstream In(Path, std::ios::binary);
  if (!In)
    return Report(std::filesystem::exists(Path, EC) ? std::strerror(errno)
                                                    : "no such file");
  // One byte past the limit and no more: a device or a pipe that never
  // ends (/dev/zero, /dev/urandom) must not fill the memory. In chunks, so
  // that a small script costs what it holds, not the limit.
  Text.clear();
  char Chunk[16384];
  while (Text.size() <= MaxSourceBytes && In) {
    In.read(Chunk, std::streamsize(std::min(sizeof Chunk,
                                            MaxSourceBytes + 1 - Text.size())));
    Text.append(Chunk, size_t(In.gcount()));
  }
  if (In.bad())
    return Report(std::strerror(errno));
  if (Text.size() > MaxSourceBytes) {
    std::string Size = "more than " + std::to_string(MaxSourceBytes);
    if (std::filesystem::is_regular_file(Path, EC))
      if (auto Bytes = std::filesystem::file_size(Path, EC); !EC)
        Size = std::to_string(Bytes);
    Diags.report(DiagId::SourceTooLarge, From,
                 {Size, std::to_string(MaxSourceBytes)});
    return false;
  }
  return true;
}
} // namespace

/// The state of one compile: the parsed modules, then the checked program.
struct Compiler::Pipeline {
  std::vector<std::unique_ptr<ParsedFile>> Modules;
  std::vector<ModuleRef> Refs;
  std::vector<Token> MainTokens;
  const ParsedFile *Main = nullptr;
  std::unique_ptr<Program> Prog;
  /// Imports by path, read or not (a missing one may appear later).
  std::vector<std::string> Imports;

  /// Lexes and parses one file and, recursively, what it imports.
  void load(uint32_t FileId, bool IsStd, DiagnosticEngine &Diags,
            std::set<std::string> &Seen, bool IsMain,
            const Compiler::SourceTexts &Pins) {
    std::vector<Token> Toks = lex(FileId, Diags);
    auto M = std::make_unique<ParsedFile>(parse(FileId, Toks, Diags));
    if (IsMain) {
      MainTokens = std::move(Toks);
      Main = M.get();
    }
    const ParsedFile &Ref = *M;
    Modules.push_back(std::move(M));
    Refs.push_back({&Ref, IsStd});
    namespace fs = std::filesystem;
    fs::path Dir = fs::path(Diags.sources().file(FileId).Path).parent_path();
    for (const DeclPtr &D : Ref.Decls) {
      if (D->K != Decl::Import || D->Path.empty())
        continue;
      fs::path Target =
          fs::path(D->Path).is_absolute() ? fs::path(D->Path) : Dir / D->Path;
      std::error_code EC;
      fs::path Canon = fs::weakly_canonical(Target, EC);
      std::string Key = EC ? Target.string() : Canon.string();
      if (!Seen.insert(Key).second)
        continue; // imported already (or an import cycle): once is enough
      if (!IsStd)
        Imports.push_back(Target.string());
      std::string Text;
      if (!readSource(Target.string(), Text, Diags, D->Loc,
                      uint32_t(D->Path.size() + 2), Pins, D->Path))
        continue;
      load(Diags.sources().add(Target.string(), std::move(Text)), IsStd, Diags,
           Seen, false, Pins);
    }
  }
};

Compiler::Compiler(CompileOptions Options) : Options(Options) {
  Diags.setWarningOptions(this->Options.warnings);
}
Compiler::~Compiler() = default;

bool Kernel::worthOptimizing() const { return Cost <= MaxOptimizeCost; }

Kernel::~Kernel() {
  if (Engine)
    Engine->remove(static_cast<llvm::orc::JITDylib *>(Dylib));
}

const DspjitSlot *Kernel::findSlot(const std::string &Name) const {
  for (uint32_t I = 0; I < Info->num_slots; ++I)
    if (Name == Info->slots[I].name)
      return &Info->slots[I];
  return nullptr;
}

const DspjitSlot *Kernel::findParam(const std::string &Name) const {
  const DspjitSlot *S = findSlot(Name);
  return S && S->kind == DSPJIT_SLOT_PARAM ? S : nullptr;
}

namespace {
/// Runs the front end over a file already in the source manager.
std::unique_ptr<Compiler::Pipeline>
frontEnd(uint32_t MainId, const CompileOptions &Options,
         DiagnosticEngine &Diags, PhaseTimes &Times, bool Check,
         const Compiler::SourceTexts &Pins) {
  auto P = std::make_unique<Compiler::Pipeline>();
  {
    Stopwatch W(Times.parse);
    std::set<std::string> Seen;
    std::error_code EC;
    Seen.insert(
        std::filesystem::weakly_canonical(Diags.sources().file(MainId).Path, EC)
            .string());
    if (Options.useStdLib) {
      uint32_t StdId = Diags.sources().add("<std>/std.dsp", kStdLibSource);
      P->load(StdId, /*IsStd=*/true, Diags, Seen, false, Pins);
    }
    P->load(MainId, /*IsStd=*/false, Diags, Seen, true, Pins);
  }
  if (!Check)
    return P;
  Stopwatch W(Times.check);
  CheckOptions CO;
  CO.SampleRate = Options.sampleRate;
  CO.DoublePrecision = Options.doublePrecision;
  CO.Fma = targetHasFma(Options.cpu);
  CO.AfterSyntaxErrors = Diags.hasErrors();
  P->Prog = check(P->Refs, CO, Diags);
  Diags.sortByLocation();
  return P;
}

uint32_t loadMain(const std::string &Path, DiagnosticEngine &Diags,
                  const Compiler::SourceTexts &Pins) {
  std::string Text;
  if (!readSource(Path, Text, Diags, {}, 0, Pins))
    return 0;
  return Diags.sources().add(Path, std::move(Text));
}
} // namespace

/// The sound files the tables named are watched like imports, and the
/// tables and `convolve` calls are listed for `dspjit info`.
void Compiler::noteTables(const Program *P) {
  Tables.clear();
  Convolutions.clear();
  if (!P)
    return;
  Files.insert(Files.end(), P->TableFiles.begin(), P->TableFiles.end());
  for (const Table &T : P->Tables)
    Tables.push_back(
        {T.Name, T.Count, T.Width, T.File, T.FileRate, T.Resampled});
  for (const Convolution &C : P->Convolutions)
    Convolutions.push_back({P->Tables[size_t(C.TableId)].Name, C.InLanes,
                            C.OutLanes, C.Matrix, C.Plan.size(), C.StateBytes});
}

Compiler::SourceTexts Compiler::sourceTexts() const {
  SourceTexts Texts;
  for (uint32_t F = 1; F <= Diags.sources().size(); ++F) {
    const SourceFile &S = Diags.sources().file(F);
    if (S.Path.rfind("<std>", 0) != 0)
      Texts.emplace(S.Path, S.Text);
  }
  return Texts;
}

bool Compiler::checkFile(const std::string &Path) {
  Diags.clear();
  Times = {};
  Files = {Path};
  uint32_t Id = loadMain(Path, Diags, Pins);
  if (!Id)
    return false;
  auto P = frontEnd(Id, Options, Diags, Times, true, Pins);
  Files.insert(Files.end(), P->Imports.begin(), P->Imports.end());
  noteTables(P->Prog.get());
  Cost = P->Prog ? P->Prog->CompileCost : 0;
  return !Diags.hasErrors();
}

/// LLVM is initialized, with the options' LLVM options if they are valid;
/// otherwise says why not.
static bool llvmReady(const CompileOptions &Options, DiagnosticEngine &Diags) {
  std::string Error = initializeLlvm(Options.llvmArgs);
  if (Error.empty())
    return true;
  Diags.report(DiagId::BadLlvmOptions, {}, {Options.llvmArgs, Error});
  return false;
}

/// Generates the module's IR and, if asked, verifies it; null after
/// reporting an invalid module (a bug in dspjit: checked programs are valid).
static std::unique_ptr<llvm::Module>
irFor(const Program &P, const CompileOptions &Options, unsigned OptLevel,
      llvm::LLVMContext &Ctx, DiagnosticEngine &Diags) {
  auto M = generateIR(P, Ctx, Options.cpu, OptLevel);
  if (!Options.verifyIR)
    return M;
  std::string Why;
  llvm::raw_string_ostream OS(Why);
  if (!llvm::verifyModule(*M, &OS))
    return M;
  Diags.report(DiagId::InternalError, {}, {"the generated LLVM IR", OS.str()});
  return nullptr;
}

std::unique_ptr<Kernel> Compiler::compileFile(const std::string &Path) {
  Diags.clear();
  Times = {};
  Files = {Path};
  std::string Text;
  if (!readSource(Path, Text, Diags, {}, 0, Pins))
    return nullptr;
  return compileSource(Path, Text);
}

/// The level a program is compiled at: the options', except that a program
/// whose optimization would take seconds (CompileCost.h: the optimizer and
/// the register allocator grow faster than the program) is compiled at -O0,
/// with a warning.
static unsigned optLevelFor(const Program &P, const CompileOptions &Options,
                            DiagnosticEngine &Diags, PhaseTimes &Times) {
  if (Options.optLevel == 0 || P.CompileCost <= MaxOptimizeCost)
    return Options.optLevel;
  Times.optimizationSkipped = true;
  Diags.report(DiagId::OptimizationSkipped, P.CostOrigin,
               {std::to_string(P.CompileCost), std::to_string(MaxOptimizeCost),
                std::to_string(Options.optLevel)},
               P.CostOriginLength);
  return 0;
}

/// One TargetMachine per thread, level and CPU: creating one costs as much
/// as optimizing a small kernel, and the optimizer caches its pipeline by it.
static llvm::TargetMachine *
targetMachine(unsigned OptLevel, const std::string &Cpu, std::string &Error) {
  thread_local std::map<std::pair<unsigned, std::string>,
                        std::unique_ptr<llvm::TargetMachine>>
      Machines;
  auto &Slot = Machines[{OptLevel, Cpu}];
  if (!Slot)
    Slot = createHostTargetMachine(OptLevel, Error, Cpu);
  return Slot.get();
}

std::unique_ptr<Kernel> Compiler::compileSource(const std::string &Name,
                                                const std::string &Text) {
  Diags.clear();
  Times = {};
  Cost = 0;
  Files = {Name};
  if (Text.size() > MaxSourceBytes) {
    Diags.report(DiagId::SourceTooLarge, {},
                 {std::to_string(Text.size()), std::to_string(MaxSourceBytes)});
    return nullptr;
  }
  uint32_t Id = Diags.sources().add(Name, Text);
  auto P = frontEnd(Id, Options, Diags, Times, true, Pins);
  Files.insert(Files.end(), P->Imports.begin(), P->Imports.end());
  noteTables(P->Prog.get());
  Cost = P->Prog ? P->Prog->CompileCost : 0;
  if (Diags.hasErrors())
    return nullptr;

  if (!llvmReady(Options, Diags))
    return nullptr;
  std::string Error;
  auto Engine = JitEngine::get(Error);
  llvm::TargetMachine *TM =
      Engine ? targetMachine(Options.optLevel, Options.cpu, Error) : nullptr;
  const unsigned Level = optLevelFor(*P->Prog, Options, Diags, Times);
  if (Diags.hasErrors()) // --Werror
    return nullptr;
  llvm::TargetMachine *CodeTM = Level != Options.optLevel && TM
                                    ? targetMachine(Level, Options.cpu, Error)
                                    : TM;
  if (!Engine || !TM || !CodeTM) {
    Diags.report(DiagId::InternalError, {},
                 {"the LLVM target for this CPU", Error});
    return nullptr;
  }
  auto K = std::unique_ptr<Kernel>(new Kernel());
  K->Cost = Cost;
  llvm::orc::JITDylib *Dylib = nullptr;

  // Compiled before? Then link the object from the disk cache.
  std::optional<ObjectCache> Cache;
  std::string Key;
  if (!Options.cacheDir.empty()) {
    Cache.emplace(Options.cacheDir);
    std::vector<std::string> Sources;
    for (uint32_t F = 1; F <= Diags.sources().size(); ++F)
      Sources.emplace_back(Diags.sources().text(F));
    // A sound file is part of the machine code: its contents (as loaded,
    // resampled or not) are part of the key.
    for (const Table &T : P->Prog->Tables)
      if (!T.File.empty())
        Sources.emplace_back(
            "table " + T.File + "\n" +
            std::string(reinterpret_cast<const char *>(T.Data.data()),
                        T.Data.size() * sizeof(double)));
    Key = ObjectCache::key(Sources, Options, *TM);
    Stopwatch W(Times.machineCode);
    if (auto Object = Cache->load(Key)) {
      K->CodeHash = std::hash<std::string_view>{}(
          std::string_view(Object->getBufferStart(), Object->getBufferSize()));
      K->Info = Engine->addObject(std::move(Object), Dylib, Error);
      K->Dylib = Dylib;
      Times.cached = K->Info != nullptr;
      // A damaged cache file is compiled afresh below.
    }
  }

  if (!K->Info) {
    llvm::LLVMContext Ctx;
    std::unique_ptr<llvm::Module> M;
    {
      Stopwatch W(Times.ir);
      M = irFor(*P->Prog, Options, Level, Ctx, Diags);
    }
    if (!M)
      return nullptr;
    {
      Stopwatch W(Times.optimize);
      optimizeModule(*M, *CodeTM, Level, Options.pipeline == "llvm");
    }
    Stopwatch W(Times.machineCode);
    std::string Object;
    K->Info = Engine->add(std::move(M), *CodeTM, Dylib, Error, &Object);
    K->Dylib = Dylib;
    K->CodeHash = std::hash<std::string>{}(Object);
    if (K->Info && Cache)
      Cache->store(Key, Object);
  }
  if (!K->Info) {
    // Only a bug in dspjit gets here: checked programs always compile.
    Diags.report(DiagId::InternalError, {},
                 {"the generated machine code", Error});
    return nullptr;
  }
  K->Engine = Engine;
  return K;
}

std::string Compiler::emitFile(const std::string &Path, EmitKind Kind) {
  Diags.clear();
  Times = {};
  uint32_t Id = loadMain(Path, Diags, Pins);
  if (!Id)
    return "";
  bool NeedCheck = Kind != EmitKind::Tokens && Kind != EmitKind::Ast;
  auto P = frontEnd(Id, Options, Diags, Times, NeedCheck, Pins);
  if (Diags.hasErrors())
    return "";
  if (Kind == EmitKind::Tokens)
    return dumpTokens(P->MainTokens, Diags.sources());
  if (Kind == EmitKind::Ast)
    return dumpAst(*P->Main);
  if (Kind == EmitKind::Checked)
    return dumpProgram(*P->Prog);

  if (!llvmReady(Options, Diags))
    return "";
  std::string Error;
  const unsigned Level = optLevelFor(*P->Prog, Options, Diags, Times);
  if (Diags.hasErrors()) // --Werror
    return "";
  auto TM = createHostTargetMachine(Level, Error, Options.cpu);
  if (!TM) {
    Diags.report(DiagId::InternalError, {},
                 {"the LLVM target for this CPU", Error});
    return "";
  }
  llvm::LLVMContext Ctx;
  auto M = irFor(*P->Prog, Options, Level, Ctx, Diags);
  if (!M)
    return "";
  if (Kind != EmitKind::Llvm)
    optimizeModule(*M, *TM, Level, Options.pipeline == "llvm");
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  if (Kind != EmitKind::Asm) {
    M->print(OS, nullptr);
    return OS.str();
  }
  llvm::SmallString<0> Buffer;
  llvm::raw_svector_ostream AsmOS(Buffer);
  llvm::legacy::PassManager PM;
  if (TM->addPassesToEmitFile(PM, AsmOS, nullptr,
                              llvm::CodeGenFileType::AssemblyFile)) {
    Diags.report(DiagId::InternalError, {},
                 {"assembly", "this target cannot print assembly"});
    return "";
  }
  PM.run(*M);
  return std::string(Buffer.str());
}

} // namespace dspjit
