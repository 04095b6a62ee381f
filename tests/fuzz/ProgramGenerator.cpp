//===- tests/fuzz/ProgramGenerator.cpp - Random valid scripts from fuzzer bytes ===//
//
// The generator keeps, for every name it has declared, its kind and width,
// and asks for each expression a width: 1 (a scalar) or W, the script's
// output width. Everything it writes is then well-typed by construction:
// vector operands have width W or are scalars broadcast to it, a condition
// is a scalar, a variable never receives a value wider than itself.
//
// Choices come from the input bytes, front to back; when they run out every
// choice is 0, which always picks the simplest alternative, so generation
// ends. The depth of expressions and the number of statements are bounded,
// and so is the cost of a frame: loops are short and never nested more
// than twice.
//
//===----------------------------------------------------------------------===//
#include "ProgramGenerator.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace dspjit::fuzz {
namespace {

/// The input bytes as a stream of choices.
class Choices {
public:
  Choices(const uint8_t *Data, size_t Size) : Data(Data), Size(Size) {}

  /// A number in [0, N), from one byte (zero when the bytes are used up).
  unsigned pick(unsigned N) {
    if (N <= 1 || Pos >= Size)
      return 0;
    return Data[Pos++] % N;
  }
  /// True with probability about Percent / 100.
  bool chance(unsigned Percent) { return Pos < Size && pick(100) < Percent; }
  bool exhausted() const { return Pos >= Size; }

private:
  const uint8_t *Data;
  size_t Size;
  size_t Pos = 0;
};

struct Var {
  std::string Name;
  unsigned Width;
  bool Assignable;
};

struct Array {
  std::string Name;
  unsigned Count;
};

struct Delay {
  std::string Name;
  unsigned Length;
};

struct Function {
  std::string Name;
  unsigned Arity;
};

/// Numbers worth trying: ordinary, tiny, huge, denormal, negative zero is
/// `-0` in the source.
const char *const Numbers[] = {"0",    "1",     "0.5",  "2",      "0.25",
                               "3",    "0.999", "1e-3", "100",    "440",
                               "1e-6", "7",     "1e30", "1e-40",  "0.1",
                               "64",   "1.5",   "1000", "3.4e38", "12"};

class Generator {
public:
  explicit Generator(Choices &C) : C(C) {}

  std::string run() {
    Inputs = C.pick(4);    // 0..3
    Width = 1 + C.pick(3); // outputs, 1..3
    Out +=
        "io " + std::to_string(Inputs) + " -> " + std::to_string(Width) + ";\n";
    declareParams();
    declareConsts();
    declareMemory();
    declareFunctions();
    if (C.chance(30))
      emitBlock();
    emitProcess();
    return Out;
  }

private:
  Choices &C;
  std::string Out;
  unsigned Inputs = 0, Width = 1;
  std::vector<std::string> Params, Consts, Meters;
  std::vector<unsigned> MeterWidths;
  std::vector<Var> States; ///< top-level states
  std::vector<Array> Arrays;
  std::vector<Array> Tables; ///< read-only: name and length
  std::vector<Delay> Delays;
  std::vector<Function> Functions;
  std::vector<std::vector<Var>> Scopes; ///< locals, innermost last
  std::vector<std::string> Constants;   ///< unroll variables: constants
  unsigned NextLocal = 0;
  unsigned LoopDepth = 0, ForDepth = 0, Statements = 0;
  bool InFunction = false, InBlock = false;
  std::vector<std::string> FunctionArgs;
  unsigned FunctionsVisible = 0; ///< functions a body may call (no recursion)

  std::string number() {
    return Numbers[C.pick(sizeof Numbers / sizeof Numbers[0])];
  }

  // --- declarations -------------------------------------------------------

  void declareParams() {
    static const char *const Ranges[][3] = {
        {"0.5", "0", "1"},  {"0", "-1", "1"},  {"440", "20", "20000"},
        {"0", "-60", "12"}, {"1", "0", "1e6"}, {"0.01", "0.001", "2"}};
    static const char *const Tails[] = {"",          " hz", " s smooth 50 ms",
                                        " nosmooth", " db", " smooth 0"};
    unsigned N = 1 + C.pick(3);
    for (unsigned I = 0; I < N; ++I) {
      const auto &R = Ranges[C.pick(6)];
      std::string Name = "p" + std::to_string(I);
      Out += "param " + Name + " = " + R[0] + " in [" + R[1] + ", " + R[2] +
             "]" + Tails[C.pick(6)] + ";\n";
      Params.push_back(Name);
    }
  }

  void declareConsts() {
    unsigned N = C.pick(3);
    for (unsigned I = 0; I < N; ++I) {
      std::string Name = "k" + std::to_string(I);
      std::string E;
      switch (C.pick(5)) {
      case 0: E = number(); break;
      case 1: E = number() + " * sr / 1000"; break;
      case 2: E = "pow(2, " + number() + " / 12)"; break;
      case 3:
        E = Consts.empty() ? "pi / 4" : Consts.back() + " + " + number();
        break;
      default: E = "exp(-" + number() + ")"; break;
      }
      Out += "const " + Name + " = " + E + ";\n";
      Consts.push_back(Name);
    }
  }

  void declareMemory() {
    unsigned N = C.pick(4);
    for (unsigned I = 0; I < N; ++I) {
      std::string Name = "s" + std::to_string(I);
      bool Vector = Width > 1 && C.chance(40);
      std::string Init = Vector ? vectorOfNumbers() : number();
      Out += "state " + Name + " = " + Init + ";\n";
      States.push_back({Name, Vector ? Width : 1, true});
    }
    N = C.pick(3);
    for (unsigned I = 0; I < N; ++I) {
      static const unsigned Counts[] = {1, 2, 8, 100};
      unsigned Count = Counts[C.pick(4)];
      std::string Name = "a" + std::to_string(I);
      // Per-element initialization (`i`, the element's index) or one value.
      static const char *const PerElement[] = {"i / ", "1 - i / ", "sin(i) / "};
      std::string Init =
          C.chance(40) ? PerElement[C.pick(3)] + number() : number();
      Out +=
          "state " + Name + "[" + std::to_string(Count) + "] = " + Init + ";\n";
      Arrays.push_back({Name, Count});
    }
    N = C.pick(3);
    for (unsigned I = 0; I < N; ++I) {
      static const unsigned Lengths[] = {1, 2, 7, 64, 100, 1000, 480};
      unsigned Length = Lengths[C.pick(7)];
      std::string Name = "d" + std::to_string(I);
      Out += "delay " + Name + "[" + std::to_string(Length) + "];\n";
      Delays.push_back({Name, Length});
    }
    N = C.pick(3);
    for (unsigned I = 0; I < N; ++I) {
      std::string Name = "m" + std::to_string(I);
      Out += "meter " + Name + ";\n";
      Meters.push_back(Name);
      MeterWidths.push_back(Width > 1 && C.chance(50) ? Width : 1);
    }
    N = C.pick(3);
    for (unsigned I = 0; I < N; ++I) {
      static const unsigned Lengths[] = {1, 2, 16, 257, 1024};
      static const char *const Elements[] = {
          "sin(tau * i / {N})", "i / {N} - 0.5", "tanh(3 * (2 * i / {N} - 1))",
          "{X} * i", "pow(0.9, i)"};
      unsigned Length = Lengths[C.pick(5)];
      std::string E = Elements[C.pick(5)];
      for (size_t At; (At = E.find("{N}")) != std::string::npos;)
        E.replace(At, 3, std::to_string(Length));
      if (size_t At = E.find("{X}"); At != std::string::npos)
        E.replace(At, 3, number());
      std::string Name = "t" + std::to_string(I);
      Out +=
          "table " + Name + "[" + std::to_string(Length) + "] = " + E + ";\n";
      Tables.push_back({Name, Length});
    }
  }

  /// A read of a table: an element, or interpolated, clamped or wrapped,
  /// linear or cubic; its position sometimes measured in `.len`.
  std::string tableRead() {
    const Array &T = Tables[C.pick(unsigned(Tables.size()))];
    std::string X = runtimeIndex();
    if (C.chance(25))
      X = "(" + X + " * " + T.Name + ".len)";
    static const char *const Forms[] = {"[", ".read(", ".wrap("};
    unsigned F = C.pick(3);
    if (F == 0)
      return T.Name + "[" + X + "]";
    return T.Name + Forms[F] + X + (C.chance(50) ? ", cubic)" : ")");
  }

  std::string vectorOfNumbers() {
    std::string S = "[";
    for (unsigned L = 0; L < Width; ++L)
      S += (L ? ", " : "") + number();
    return S + "]";
  }

  void declareFunctions() {
    unsigned N = C.pick(3);
    for (unsigned I = 0; I < N; ++I) {
      Function F{"f" + std::to_string(I), 1 + C.pick(2)};
      Out += "fn " + F.Name + "(";
      FunctionArgs.clear();
      for (unsigned A = 0; A < F.Arity; ++A) {
        FunctionArgs.push_back("x" + std::to_string(A));
        Out += (A ? ", " : "") + FunctionArgs.back();
      }
      Out += ") {\n";
      InFunction = true;
      FunctionsVisible = I;
      Scopes.push_back({});
      for (const std::string &A : FunctionArgs)
        Scopes.back().push_back({A, 1, false});
      if (C.chance(60)) {
        // Call-site state.
        Out += "    state z = " + number() + ";\n";
        Scopes.back().push_back({"z", 1, true});
      }
      statements(1, 1 + C.pick(3));
      Out += "    return " + expr(1, 0) + ";\n}\n";
      Scopes.pop_back();
      InFunction = false;
      Functions.push_back(F);
    }
    FunctionsVisible = unsigned(Functions.size());
    FunctionArgs.clear();
  }

  void emitBlock() {
    InBlock = true;
    Out += "block {\n";
    Scopes.push_back({});
    statements(1, 1 + C.pick(3));
    // Its lets are visible in process: keep the outermost ones.
    std::vector<Var> Visible = Scopes.back();
    Scopes.pop_back();
    Out += "}\n";
    InBlock = false;
    Scopes.push_back(Visible);
  }

  void emitProcess() {
    Out += "process {\n";
    Scopes.push_back({});
    statements(1, 2 + C.pick(6));
    // Every delay line is written once per frame, after its reads.
    for (const Delay &D : Delays)
      Out += "    " + D.Name + ".write(" + expr(1, 0) + ");\n";
    Out += "    out " + std::string(C.chance(30) ? "+=" : "=") + " " +
           expr(Width, 0) + ";\n";
    Out += "}\n";
    Scopes.pop_back();
  }

  // --- statements ---------------------------------------------------------

  void indent(unsigned Depth) { Out.append(4 * Depth, ' '); }

  void statements(unsigned Depth, unsigned N) {
    for (unsigned I = 0; I < N && Statements < 60; ++I)
      statement(Depth);
  }

  std::vector<Var *> assignables(unsigned MaxWidth) {
    std::vector<Var *> V;
    for (auto &S : Scopes)
      for (Var &L : S)
        if (L.Assignable && L.Width <= MaxWidth)
          V.push_back(&L);
    for (Var &S : States)
      V.push_back(&S);
    return V;
  }

  void statement(unsigned Depth) {
    ++Statements;
    bool Nest = Depth < 4;
    switch (C.pick(12)) {
    case 0:
    case 1: { // let
      unsigned W = Width > 1 && C.chance(40) ? Width : 1;
      std::string Name = "v" + std::to_string(NextLocal++);
      indent(Depth);
      Out += "let " + Name + " = " + expr(W, 0) + ";\n";
      Scopes.back().push_back({Name, W, true});
      return;
    }
    case 2:
    case 3: { // assignment to a local or a state
      auto Targets = assignables(Width);
      if (Targets.empty())
        break;
      Var &T = *Targets[C.pick(unsigned(Targets.size()))];
      static const char *const Ops[] = {"=", "+=", "-=", "*=", "/="};
      indent(Depth);
      if (T.Width > 1 && C.chance(25)) { // one lane
        Out += T.Name + "[" + index(T.Width) + "] " + Ops[C.pick(5)] + " " +
               expr(1, 0) + ";\n";
        return;
      }
      Out += T.Name + " " + Ops[C.pick(5)] + " " +
             expr(C.chance(50) ? T.Width : 1, 0) + ";\n";
      return;
    }
    case 4: { // an array element
      if (Arrays.empty())
        break;
      const Array &A = Arrays[C.pick(unsigned(Arrays.size()))];
      indent(Depth);
      Out += A.Name + "[" + runtimeIndex() + "] " +
             (C.chance(50) ? "=" : "+=") + " " + expr(1, 0) + ";\n";
      return;
    }
    case 5: { // a meter
      if (Meters.empty() || InFunction)
        break;
      unsigned M = C.pick(unsigned(Meters.size()));
      indent(Depth);
      Out += Meters[M] + " = " + expr(MeterWidths[M], 0) + ";\n";
      return;
    }
    case 6:
    case 7: { // if / else
      if (!Nest)
        break;
      indent(Depth);
      Out += "if " + expr(1, 0) + " {\n";
      scoped(Depth + 1, 1 + C.pick(3));
      indent(Depth);
      if (C.chance(50)) {
        Out += "} else {\n";
        scoped(Depth + 1, 1 + C.pick(2));
        indent(Depth);
      }
      Out += "}\n";
      return;
    }
    case 8: { // for, with a break
      if (!Nest || LoopDepth >= 2)
        break;
      std::string Name = "i" + std::to_string(NextLocal++);
      indent(Depth);
      Out += "for " + Name + " in 0.." + std::to_string(1 + C.pick(5)) + " {\n";
      ++LoopDepth;
      ++ForDepth;
      Scopes.push_back({{Name, 1, false}});
      statements(Depth + 1, 1 + C.pick(3));
      if (C.chance(30)) {
        indent(Depth + 1);
        Out += "if " + expr(1, 0) + " { break; }\n";
      }
      Scopes.pop_back();
      --ForDepth;
      --LoopDepth;
      indent(Depth);
      Out += "}\n";
      return;
    }
    case 9: { // unroll: the variable is a constant
      if (!Nest || LoopDepth >= 2)
        break;
      std::string Name = "u" + std::to_string(NextLocal++);
      unsigned N = 1 + C.pick(std::max(Width, 2u));
      indent(Depth);
      Out += "unroll " + Name + " in 0.." + std::to_string(N) + " {\n";
      ++LoopDepth;
      Constants.push_back(Name);
      UnrollBounds.push_back(N);
      Scopes.push_back({{Name, 1, false}});
      statements(Depth + 1, 1 + C.pick(2));
      Scopes.pop_back();
      UnrollBounds.pop_back();
      Constants.pop_back();
      --LoopDepth;
      indent(Depth);
      Out += "}\n";
      return;
    }
    case 10: { // a call for its effect
      if (FunctionsVisible == 0 || InBlock)
        break;
      indent(Depth);
      Out += call(FunctionsVisible) + ";\n";
      return;
    }
    default: break;
    }
    // The fallback: a let of a scalar.
    std::string Name = "v" + std::to_string(NextLocal++);
    indent(Depth);
    Out += "let " + Name + " = " + expr(1, 0) + ";\n";
    Scopes.back().push_back({Name, 1, true});
  }

  void scoped(unsigned Depth, unsigned N) {
    Scopes.push_back({});
    statements(Depth, N);
    Scopes.pop_back();
  }

  std::vector<unsigned> UnrollBounds;

  // --- expressions --------------------------------------------------------

  /// An index that is never a compile-time constant: it goes through a
  /// parameter, so the kernel clamps it at run time.
  std::string runtimeIndex() {
    return "(" + Params[C.pick(unsigned(Params.size()))] + " * " + number() +
           " + " + expr(1, 2) + ")";
  }

  /// A lane of a vector of width W: a constant in range, an unroll
  /// variable that is in range, or a run-time index.
  std::string index(unsigned W) {
    switch (C.pick(3)) {
    case 0: return std::to_string(C.pick(W));
    case 1:
      for (size_t I = 0; I < Constants.size(); ++I)
        if (UnrollBounds[I] <= W)
          return Constants[I];
      return "0";
    default: return runtimeIndex();
    }
  }

  std::string call(unsigned Visible) {
    const Function &F = Functions[C.pick(Visible)];
    std::string S = F.Name + "(";
    for (unsigned A = 0; A < F.Arity; ++A)
      S += (A ? ", " : "") + expr(1, 2);
    return S + ")";
  }

  /// A scalar leaf.
  std::string scalarLeaf() {
    switch (C.pick(9)) {
    case 0: return number();
    case 1: return Params[C.pick(unsigned(Params.size()))];
    case 2:
      if (!Consts.empty())
        return Consts[C.pick(unsigned(Consts.size()))];
      return "sr";
    case 3:
      if (Inputs > 0 && !InBlock) // `block` has no input frame
        return "in[" + std::to_string(C.pick(Inputs)) + "]";
      return "pi";
    case 4:
      if (!Tables.empty() && (Arrays.empty() || C.chance(50)))
        return tableRead();
      if (!Arrays.empty()) {
        const Array &A = Arrays[C.pick(unsigned(Arrays.size()))];
        return A.Name + "[" + runtimeIndex() + "]";
      }
      return "frames";
    case 5:
      if (!Delays.empty()) {
        const Delay &D = Delays[C.pick(unsigned(Delays.size()))];
        const char *Method = C.chance(50) ? ".tap(" : ".read(";
        if (C.chance(30)) // multi-tap: a width-1 line at several positions
          return "sum(" + D.Name + Method + "[" + runtimeIndex() + ", " +
                 runtimeIndex() + ", " + number() + "]))";
        return D.Name + Method + runtimeIndex() + ")";
      }
      // `out` reads what the frame assigned so far (0 in `block`).
      if (!InFunction && C.chance(50))
        return Width == 1 ? "out"
                          : "out[" + std::to_string(C.pick(Width)) + "]";
      return "tau";
    default: {
      std::vector<const Var *> V;
      for (auto &S : Scopes)
        for (const Var &L : S)
          if (L.Width == 1)
            V.push_back(&L);
      for (const Var &S : States)
        if (S.Width == 1)
          V.push_back(&S);
      if (V.empty())
        return number();
      return V[C.pick(unsigned(V.size()))]->Name;
    }
    }
  }

  /// A leaf of width W > 1.
  std::string vectorLeaf(unsigned W, unsigned Depth) {
    std::vector<const Var *> V;
    for (auto &S : Scopes)
      for (const Var &L : S)
        if (L.Width == W)
          V.push_back(&L);
    for (const Var &S : States)
      if (S.Width == W)
        V.push_back(&S);
    switch (C.pick(4)) {
    case 0:
      if (Inputs == W && !InBlock)
        return "in";
      [[fallthrough]];
    case 1:
      if (!V.empty())
        return V[C.pick(unsigned(V.size()))]->Name;
      [[fallthrough]];
    case 2: {
      std::string S = "[";
      for (unsigned L = 0; L < W; ++L)
        S += (L ? ", " : "") + expr(1, Depth + 1);
      return S + "]";
    }
    default:
      if (W == 2 || W == 3)
        return "iota(" + std::to_string(W) + ")";
      return vectorOfNumbers();
    }
  }

  /// An expression of width W (1, or the script's output width).
  std::string expr(unsigned W, unsigned Depth) {
    if (Depth >= 4 || C.exhausted())
      return W == 1 ? scalarLeaf() : vectorLeaf(W, Depth);
    auto Sub = [&](unsigned SW) { return expr(SW, Depth + 1); };
    auto Either = [&] { return W > 1 && C.chance(70) ? W : 1; };
    switch (C.pick(16)) {
    case 0:
    case 1: return W == 1 ? scalarLeaf() : vectorLeaf(W, Depth);
    case 2:
    case 3: {
      static const char *const Ops[] = {" + ", " - ", " * ", " / ", " % "};
      const char *Op = Ops[C.pick(5)];
      // One side may be a scalar broadcast to W.
      bool LeftFull = C.chance(50);
      return "(" + Sub(LeftFull ? W : Either()) + Op +
             Sub(LeftFull ? Either() : W) + ")";
    }
    case 4: {
      static const char *const Ops[] = {
          " < ", " <= ", " > ", " >= ", " == ", " != ", " && ", " || "};
      return "(" + Sub(W) + Ops[C.pick(8)] + Sub(Either()) + ")";
    }
    case 5: return std::string(C.chance(50) ? "-" : "!") + Sub(W);
    case 6:
      return "(" + Sub(Either()) + " ? " + Sub(W) + " : " + Sub(Either()) + ")";
    case 7:
    case 8: {
      static const char *const Fns[] = {
          "sin",  "cos",   "tanh", "exp",  "log",  "sqrt", "abs",  "floor",
          "ceil", "round", "atan", "exp2", "log2", "tan",  "asin", "sinh"};
      return std::string(Fns[C.pick(16)]) + "(" + Sub(W) + ")";
    }
    case 9: {
      static const char *const Fns[] = {"min", "max", "pow", "atan2", "fmod"};
      return std::string(Fns[C.pick(5)]) + "(" + Sub(W) + ", " + Sub(Either()) +
             ")";
    }
    case 10: return "clamp(" + Sub(W) + ", -1, 1)";
    case 11: { // the standard library: stateful call sites
      switch (C.pick(8)) {
      case 0: return "onepole(" + Sub(W) + ", " + Sub(1) + ")";
      case 1: return "lowpass(" + Sub(W) + ", " + Sub(1) + ", 0.707)";
      case 2: return "softclip(" + Sub(W) + ")";
      case 3: return "dcblock(" + Sub(W) + ")";
      case 4: return "smooth(" + Sub(W) + ", 0.01)";
      case 5: return "envfollow(" + Sub(W) + ", 0.001, 0.1)";
      case 6:
        if (W == 1)
          return "sine(" + Sub(1) + ")";
        return "saw(" + Sub(W) + ")";
      default:
        if (W == 1)
          return "noise()";
        return "phasor(" + Sub(W) + ")";
      }
    }
    case 12:
      if (W == 1 && Width > 1) { // a lane of a vector, or a reduction
        std::string V = Sub(Width);
        switch (C.pick(3)) {
        case 0: return "sum(" + V + ")";
        case 1: return "mean(" + V + ")";
        default: return V + "[" + index(Width) + "]";
        }
      }
      return W == 1 ? scalarLeaf() : vectorLeaf(W, Depth);
    case 13:
      if (FunctionsVisible > 0 && W == 1 && !InBlock) // functions may read `in`
        return call(FunctionsVisible);
      return "(" + Sub(W) + " * " + number() + ")";
    default: return "(" + Sub(W) + " + " + Sub(Either()) + ")";
    }
  }
};

} // namespace

std::string generateProgram(const uint8_t *Data, size_t Size) {
  Choices C(Data, Size);
  return Generator(C).run();
}

} // namespace dspjit::fuzz
