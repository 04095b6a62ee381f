//===- compiler/Compiler.h - Script to native kernel, the public entry ----===//
//
// The one entry point of the compiler. A Compiler turns a .dsp script into a
// Kernel: native code produced by LLVM ORC whose `process` function has
// PortAudio's exact PaStreamCallback signature (see runtime/dspjit_abi.h).
//
// Thread contract: a Compiler is used by one thread at a time; several
// Compilers may run on several threads. A Kernel may be shared by any number
// of threads once compiled; destroying it frees its code, so the host must
// first make sure no audio thread still runs it.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_COMPILER_H
#define DSPJIT_COMPILER_COMPILER_H

#include "compiler/Diagnostics.h"
#include "runtime/dspjit_abi.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dspjit {

struct CompileOptions {
  /// Kernels are specialized to their sample rate: `sr` is a constant.
  double sampleRate = 48000;
  /// Compute internally (state, delays, arithmetic) in 64-bit floats.
  bool doublePrecision = false;
  /// LLVM optimization level, 0 to 3.
  unsigned optLevel = 3;
  /// Implicitly import the standard library (dsl/std.dsp).
  bool useStdLib = true;
  /// Keep compiled objects in this directory and reuse them when the same
  /// sources are compiled again with the same options by the same compiler
  /// (compiler/ObjectCache.h). Empty: no cache.
  std::string cacheDir;
  /// The CPU to compile for, an LLVM name (`x86-64-v3`: AVX2 only, so that
  /// valgrind, which cannot run AVX-512, can run the kernels). Empty: the
  /// host's.
  std::string cpu;
  /// LLVM's own options, in its syntax (`-enable-misched`), for
  /// experiments. They change machine code (they are part of the object
  /// cache's key) and LLVM keeps them for the whole process: a compile
  /// with options other than the first compile's fails.
  std::string llvmArgs;
  /// "llvm": LLVM's default O2/O3 pipeline instead of dspjit's, to compare
  /// them. Empty: dspjit's.
  std::string pipeline;
  /// Run LLVM's IR verifier on the generated IR of every compile (an
  /// invalid module is reported as an internal error instead of
  /// miscompiling or crashing in the optimizer).
  bool verifyIR = true;
  /// Which warnings are reported, and whether as errors (`-Wno-NAME`,
  /// `--Werror`). They do not change machine code.
  WarningOptions warnings;

  /// The defaults, with applyEnvironment's settings.
  static CompileOptions fromEnvironment();
};

/// Sets the options that programs have always taken from the environment:
/// `cpu` from DSPJIT_CPU, `llvmArgs` from DSPJIT_LLVM_ARGS and `pipeline`
/// from DSPJIT_PIPELINE, each only when the variable is set and not empty.
/// Compiling never reads the environment itself: tools call this.
void applyEnvironment(CompileOptions &Options);

/// Wall-clock seconds spent in each phase of the last compile.
struct PhaseTimes {
  double parse = 0, check = 0, ir = 0, optimize = 0, machineCode = 0;
  /// The machine code came from the disk cache: `machineCode` is the time
  /// to load and link it, and IR and optimize did not run.
  bool cached = false;
  /// The program is too large to optimize quickly (CompileCost.h): it was
  /// compiled at -O0 whatever the level asked for.
  bool optimizationSkipped = false;
  double total() const { return parse + check + ir + optimize + machineCode; }
};

/// What `dspjit emit` can show: the tokens, the syntax tree, the checked
/// program (inlined, folded, with its instance layout), the LLVM IR before
/// and after optimization, and the machine code.
enum class EmitKind { Tokens, Ast, Checked, Llvm, LlvmOpt, Asm };

class JitEngine;
struct Program;

/// Compiled native code for one script. Owns its JITDylib.
class Kernel {
public:
  ~Kernel();
  Kernel(const Kernel &) = delete;
  Kernel &operator=(const Kernel &) = delete;

  /// The descriptor the generated code exports (runtime/dspjit_abi.h).
  const DspjitKernel &info() const { return *Info; }
  /// The slot of this name, or null.
  const DspjitSlot *findSlot(const std::string &Name) const;
  /// The parameter of this name, or null.
  const DspjitSlot *findParam(const std::string &Name) const;
  /// A hash of the machine code (the object file): two kernels with the
  /// same hash compute the same thing, e.g. after an edit of a comment.
  uint64_t codeHash() const { return CodeHash; }
  /// The checker's estimate of its compile cost (compiler/CompileCost.h):
  /// over MaxOptimizeCost, optimizing it is not worth the wait.
  uint64_t compileCost() const { return Cost; }
  bool worthOptimizing() const;

private:
  friend class Compiler;
  Kernel() = default;
  std::shared_ptr<JitEngine> Engine;
  void *Dylib = nullptr; // llvm::orc::JITDylib*, removed on destruction
  const DspjitKernel *Info = nullptr;
  uint64_t CodeHash = 0;
  uint64_t Cost = 0;
};

class Compiler {
public:
  explicit Compiler(CompileOptions Options = {});
  ~Compiler();

  /// Compiles a script file. Returns null on error; diagnostics() then holds
  /// every error found.
  std::unique_ptr<Kernel> compileFile(const std::string &Path);
  /// Compiles source text; `Name` is used in diagnostics and resolves
  /// relative imports (as if it were a path).
  std::unique_ptr<Kernel> compileSource(const std::string &Name,
                                        const std::string &Text);

  /// Runs the front end only (parse and check). Returns true when clean.
  bool checkFile(const std::string &Path);

  /// Runs the phases up to `Kind` and returns its text dump, or an empty
  /// string with diagnostics on error.
  std::string emitFile(const std::string &Path, EmitKind Kind);

  /// Path -> text of source files.
  using SourceTexts = std::map<std::string, std::string>;
  /// From now on, a script or import at one of these paths is read from
  /// here and not from the disk: a second compile of the same save (hot
  /// reload's optimized tier) compiles exactly what the first one read,
  /// even if the file was saved again in between. Sound files of tables
  /// are read from the disk.
  void pinSources(SourceTexts Texts) { Pins = std::move(Texts); }
  /// The scripts and imports the last compile read, by path (not the
  /// standard library): what to pin for a second compile of them.
  SourceTexts sourceTexts() const;

  /// Every file the last compile read or tried to read: the script first,
  /// then its imports, then the sound files of its tables (what hot reload
  /// watches). Not the standard library.
  const std::vector<std::string> &sourceFiles() const { return Files; }

  /// A table of the last compile (dsl/LANGUAGE.md, "Tables"): read-only
  /// data compiled into the kernel, not part of the instance.
  struct TableInfo {
    std::string Name;
    unsigned Length = 0, Width = 0;
    std::string File; ///< empty: computed from an expression
    double FileRate = 0;
    bool Resampled = false;
  };
  const std::vector<TableInfo> &tables() const { return Tables; }
  /// A `convolve` call of the last compile (dsl/LANGUAGE.md,
  /// "Convolution"): its plan is read-only data in the kernel, its state
  /// part of the instance.
  struct ConvolutionInfo {
    std::string Table;
    unsigned InLanes = 0, OutLanes = 0;
    bool Matrix = false;
    uint64_t PlanBytes = 0, StateBytes = 0;
  };
  const std::vector<ConvolutionInfo> &convolutions() const {
    return Convolutions;
  }

  const DiagnosticEngine &diagnostics() const { return Diags; }
  DiagnosticEngine &diagnostics() { return Diags; }
  const PhaseTimes &times() const { return Times; }
  /// The compile cost estimate of the last program compiled (Kernel's).
  uint64_t compileCost() const { return Cost; }
  const CompileOptions &options() const { return Options; }

  /// The parsed and checked state of one compile (Compiler.cpp).
  struct Pipeline;

private:
  void noteTables(const Program *P);
  CompileOptions Options;
  DiagnosticEngine Diags;
  PhaseTimes Times;
  uint64_t Cost = 0;
  std::vector<std::string> Files;
  std::vector<TableInfo> Tables;
  std::vector<ConvolutionInfo> Convolutions;
  SourceTexts Pins;
};

/// The compiler's version string, part of what determines machine code.
const char *compilerVersion();

} // namespace dspjit

#endif
