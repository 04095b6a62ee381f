//===- compiler/Program.h - A checked, fully resolved script --------------===//
//
// What the checker produces and code generation consumes. Every name is
// resolved to a slot (something that lives in the instance), a local, or a
// constant; every function call is inlined; every `unroll` is expanded; every
// value has a known width. Nothing in here can fail to compile.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_PROGRAM_H
#define DSPJIT_COMPILER_PROGRAM_H

#include "compiler/AST.h"
#include "compiler/InstanceLayout.h"

#include <memory>
#include <string>
#include <vector>

namespace dspjit {

/// Something that lives in the instance and that the host can see by name.
///
/// The fields mean, by kind (Name, Loc, Width for all):
///   Param  Def, Min, Max, SmoothSeconds, Unit; Offset = the float target
///          the host writes, ValueOffset = the smoothed float value in use.
///   Meter  Offset = Width floats the kernel writes.
///   State  Init (1 or Width lanes), Count and IsArray (`state x[N]`);
///          Offset = the elements.
///   Delay  Length = the longest tap in frames; Offset = the ring buffer,
///          ValueOffset = the write position, Capacity = the ring's frames.
///   Note   `note.freq` and the other notes of an instrument's voices:
///          Offset = Width (the voices) floats the host writes.
/// A Meter with VoicePeak set is `voice.peak`, which voicemix() writes.
/// The offsets are set by layoutInstance (InstanceLayout.h).
struct Slot {
  enum Kind { Param, Meter, State, Delay, Note };
  Kind K;
  std::string Name; // top-level name, or the call-site path of a local one
  SourceLoc Loc;    // of the name in its declaration
  uint32_t NameLength = 1;   // the name's bytes there
  unsigned Width = 0;        // 0 until inferred
  bool UnknownWidth = false; // see Local::UnknownWidth
  unsigned Count = 1;        // array elements (`state x[N]`)
  bool IsArray = false;
  std::vector<double> Init; // State: initial lanes (1 or Width of them)
  /// State arrays whose initial value uses the element index `i`: element
  /// e starts as lanes [e * InitWidth, (e + 1) * InitWidth) (InitWidth is
  /// Init.size(), 1 or Width). Empty otherwise.
  std::vector<double> ElemInit;
  unsigned Length = 0; // Delay: longest tap, in frames
  // Param.
  double Def = 0, Min = 0, Max = 1, SmoothSeconds = 0.01;
  std::string Unit;
  uint32_t Midi = 0; ///< the declared mapping, DspjitSlot::midi's encoding
  bool VoicePeak = false;
  // Layout in the instance (see layoutInstance).
  uint32_t Offset = 0;      // params: float target; others: data
  uint32_t ValueOffset = 0; // params: float smoothed value; delays: position
  uint32_t Capacity = 0;    // delays: ring frames, a power of two
};

/// Read-only data: `table t[N] = EXPR;` or `table t = file "x.wav";`.
/// Evaluated (or loaded) while checking, and compiled into the kernel as
/// constant data: not part of the instance, not state that a reload keeps,
/// and a change of its contents changes the machine code.
struct Table {
  std::string Name;
  SourceLoc Loc;
  uint32_t NameLength = 1;
  unsigned Count = 1; ///< elements (`len`)
  unsigned Width = 1; ///< lanes per element (a file's channels)
  /// Count x Width values, element by element, in double; rounded to the
  /// kernel's precision when compiled.
  std::vector<double> Data;
  /// The sound file it was loaded from, as resolved (empty: an expression).
  std::string File;
  double FileRate = 0;    ///< the file's own sample rate
  bool Resampled = false; ///< converted from FileRate to the stream's rate
};

/// `convolve(x, t)`, one per call site (after inlining and `unroll`).
/// The elaborator makes it; width inference sets the lanes; Convolutions.h
/// prepares the plan; InstanceLayout places the state.
struct Convolution {
  int TableId = -1;
  SourceLoc Loc;
  uint32_t Length = 1;
  unsigned InLanes = 0, OutLanes = 0;
  /// The response has InLanes * InLanes lanes: lane i * n + o carries input
  /// i to output o (dsl/LANGUAGE.md, "convolve").
  bool Matrix = false;
  /// runtime/Convolver.h's plan: constant data compiled into the kernel.
  std::vector<uint8_t> Plan;
  uint64_t StateBytes = 0;
  uint32_t Offset = 0; ///< its state in the instance, 64-byte aligned
};

struct Local {
  std::string Name;
  unsigned Width = 0; // 0 until inferred
  /// Its width depends on arguments not known here (the parameters of a
  /// function checked without a call); widths derived from it are not
  /// checked.
  bool UnknownWidth = false;
  /// A `let` (not an argument, a loop counter or a call's result): where
  /// its name is declared. One `let` in a function has a local per call.
  bool IsLet = false;
  SourceLoc Loc;
};

enum class Builtin {
  Sin,
  Cos,
  Tan,
  Asin,
  Acos,
  Atan,
  Atan2,
  Sinh,
  Cosh,
  Tanh,
  Exp,
  Exp2,
  Log,
  Log2,
  Log10,
  Pow,
  Sqrt,
  Abs,
  Floor,
  Ceil,
  Round,
  Min,
  Max,
  Clamp,
  Fmod,
  Sum,
  Mean,
  Iota,
  Voicemix,
  Convolve,
};

struct BuiltinInfo {
  const char *Name;
  Builtin Id;
  unsigned Args;
};
/// The math built-ins, the only functions a script can call besides its own.
const std::vector<BuiltinInfo> &builtins();

struct Node;
using NodePtr = std::unique_ptr<Node>;

/// An expression: side-effect free, with a width.
struct Node {
  enum Kind {
    Const,     // Value
    LoadLocal, // Id
    LoadSlot,  // Id: param (smoothed value), meter, scalar state
    LoadElem,  // Id: array state; Args = {index}
    Input,     // the frame's input vector
    LoadOut,   // what `out` holds so far in this frame
    Frames,    // this block's length
    Unary,     // UOp; Args = {x}
    Binary,    // BOp; Args = {a, b}
    Select,    // Args = {cond, a, b}
    Call,      // Fn; Args (convolve: Id = the Convolution)
    Lane,      // Args = {vector, lane}
    Concat,    // Args (widths add)
    Tap,       // Id: delay; Args = {n}
    Read,      // Id: delay; Args = {t}
    TableElem, // Id: table; Args = {k}: element k, clamped
    TableRead, // Id: table; Args = {x}: interpolated (Cubic), or
               // periodic (Wrap)
  };
  Kind K;
  SourceLoc Loc;
  uint32_t Length = 1;
  unsigned Width = 0;        // set by width inference
  bool UnknownWidth = false; // see Local::UnknownWidth
  std::vector<double> Value; // Const lanes
  /// A Const folded from a product, on a target with fused multiply-adds:
  /// its two factors' lanes, so that a sum or difference it is an operand
  /// of fuses as `a * b + c` would (dsl/LANGUAGE.md section 8).
  std::vector<double> Factors[2];
  int Id = -1;
  BinOp BOp = BinOp::Add;
  UnOp UOp = UnOp::Neg;
  Builtin Fn = Builtin::Sin;
  bool Cubic = false, Wrap = false; // TableRead
  std::vector<NodePtr> Args;
  Node(Kind K, SourceLoc Loc, uint32_t Length = 1)
      : K(K), Loc(Loc), Length(Length) {}
  bool isConst() const { return K == Const; }
};

struct Op;
using OpPtr = std::unique_ptr<Op>;
using OpList = std::vector<OpPtr>;

/// A statement.
///
/// The fields mean, by kind (a field not listed is unused):
///   SetLocal    Id = local; Value.
///   SetSlot     Id = slot (scalar state or meter); Value.
///   SetElem     Id = state array slot; Index = element; Value.
///   SetLane     Target says what Id is (a local, a slot, or nothing for
///               `out`); Index = lane; Value.
///   SetOut      Value.
///   DelayWrite  Id = delay slot; Value.
///   If          Value = condition; Body, Else.
///   Loop        Id = counter local; From = first value; Count = iterations;
///               Body; Oversample = the factor when it runs the sub-steps
///               of an `oversample` block (0 for a `for`).
///   Break       -
///   Inline      Id = result local; Count = this inline's index (what its
///               Return ops name); Body; Callee, CalleeFromStd, Stateful,
///               ArgLocals, ConstArgs (what the warnings look at).
///   Return      Id = index of the enclosing Inline; Value.
/// Loc and Length (source bytes for carets) are set for every kind.
struct Op {
  enum Kind {
    SetLocal,
    SetSlot,
    SetElem,
    SetLane,
    SetOut,
    DelayWrite,
    If,
    Loop,
    Break,
    Inline,
    Return,
  };
  enum TargetKind { LocalTarget, SlotTarget, OutTarget };
  Kind K;
  SourceLoc Loc;
  uint32_t Length = 1;
  int Id = -1;
  TargetKind Target = LocalTarget;
  NodePtr Value, Index;
  OpList Body, Else;
  unsigned Count = 0;
  unsigned Oversample = 0;
  double From = 0;
  /// The construct this op was expanded from, what a message about the
  /// program's size points at (CompileCost.h): the outermost `unroll`
  /// around it, else the outermost call, else nothing (invalid).
  SourceLoc Origin;
  uint32_t OriginLength = 0;
  unsigned OriginCopies = 0; ///< the unroll's count; 0 for a call
  // Inline: the function called, from the standard library or not; whether
  // it declares memory (`state`, `delay`, or calls what does); for each
  // argument, the local that holds it (-1 for a constant) and the constant.
  std::string Callee;
  bool CalleeFromStd = false;
  bool Stateful = false;
  std::vector<int> ArgLocals;
  std::vector<std::vector<double>> ConstArgs;
  Op(Kind K, SourceLoc Loc) : K(K), Loc(Loc) {}
};

/// A mistake the constant folder met and folded away: a division by a
/// constant zero, or a result certainly infinite or NaN (Warnings.h).
struct FoldedMistake {
  SourceLoc Loc;
  uint32_t Length = 1;
  bool DivisionByZero = false; ///< else a non-finite result
  BinOp Op = BinOp::Div;       ///< the division's operator
  std::vector<double> Value;   ///< the folded lanes
};

struct Program {
  unsigned Inputs = 0, Outputs = 0;
  double SampleRate = 48000;
  /// `voices N;`: an instrument of N voices, one lane each; 0 otherwise.
  unsigned Voices = 0;
  std::vector<Slot> Slots;
  std::vector<Table> Tables;
  std::vector<Convolution> Convolutions;
  /// Every sound file a table named, read or not (what hot reload watches).
  std::vector<std::string> TableFiles;
  std::vector<Local> Locals;
  OpList Block;   // once per callback
  OpList Process; // once per frame
  unsigned NumInlines = 0;
  /// The delay in frames that the `oversample` blocks' filters add (the
  /// sum over the blocks; dsl/LANGUAGE.md, "oversample").
  double Latency = 0;
  bool DoublePrecision = false;
  uint64_t InstanceSize = 0;
  /// What code generation will cost, in estimated IR instructions
  /// (CompileCost.h).
  uint64_t CompileCost = 0;
  /// The construct most of it comes from (or the process block).
  SourceLoc CostOrigin;
  uint32_t CostOriginLength = 0;
  /// Folded away by the elaborator, for the warnings (not in a dry run).
  std::vector<FoldedMistake> FoldedMistakes;
};

/// The widest vector a script may use.
constexpr unsigned MaxWidth = 256;
/// The most voices an instrument may have.
constexpr unsigned MaxVoices = 64;
/// What `note.NAME` may name, in the order of their slots.
const std::vector<std::string> &noteFields();

/// Renders the checked program for `dspjit emit --emit=checked`
/// (ProgramDump.cpp): slots with their instance layout, locals, and the
/// inlined, folded block and process.
std::string dumpProgram(const Program &P);

} // namespace dspjit

#endif
