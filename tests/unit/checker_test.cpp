//===- tests/unit/checker_test.cpp - Unit tests of compiler/Checker -------===//
//
// What the checker makes of a parsed script (dsl/LANGUAGE.md, sections 4, 5,
// 9 and 10): inferred widths, one memory per call site and per unrolled
// copy, standard-library functions a script replaces, folded constants,
// recorded parameters, the instance layout, and errors reported even in
// functions nothing calls. The checker runs here exactly as the compiler
// runs it: the standard library (dsl/std.dsp) first, then the script.
//
//===----------------------------------------------------------------------===//
#include "compiler/Checker.h"
#include "compiler/CompileCost.h"
#include "compiler/Parser.h"
#include "runtime/dspjit_abi.h"
#include "tests/unit/DiagnosticsView.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

using namespace dspjit;

namespace dspjit {
/// Failures name catalog ids ("WidthMismatch") rather than numbers.
static void PrintTo(DiagId Id, std::ostream *OS) { *OS << diagName(Id); }
} // namespace dspjit

namespace {

std::string stdLibText() {
  std::ifstream In(std::string(DSPJIT_SOURCE_DIR) + "/dsl/std.dsp");
  EXPECT_TRUE(In.good()) << "cannot read dsl/std.dsp";
  std::stringstream SS;
  SS << In.rdbuf();
  return SS.str();
}

struct Checked {
  DiagnosticEngine Diags;
  std::vector<std::unique_ptr<ParsedFile>> Files;
  std::unique_ptr<Program> P;

  std::vector<DiagId> errors() const { return testutil::errorIds(Diags); }
  std::vector<std::string> messages() const {
    return testutil::shortMessages(Diags);
  }
  const Slot *slot(const std::string &Name) const {
    for (const Slot &S : P->Slots)
      if (S.Name == Name)
        return &S;
    return nullptr;
  }
  std::vector<std::string> slotNames() const {
    std::vector<std::string> N;
    for (const Slot &S : P->Slots)
      N.push_back(S.Name);
    return N;
  }
  /// The widths of every local of this name, in creation order.
  std::vector<unsigned> localWidths(const std::string &Name) const {
    std::vector<unsigned> W;
    for (const Local &L : P->Locals)
      if (L.Name == Name)
        W.push_back(L.Width);
    return W;
  }
};

struct Options {
  double SampleRate = 48000;
  bool Double = false;
  bool Std = true;
};

/// Lexes, parses and checks `Text` (with the standard library), as
/// Compiler::compileSource does.
std::unique_ptr<Checked> checkText(const std::string &Text, Options O = {}) {
  auto C = std::make_unique<Checked>();
  std::vector<ModuleRef> Refs;
  auto Load = [&](const std::string &Name, const std::string &Src, bool IsStd) {
    uint32_t Id = C->Diags.sources().add(Name, Src);
    std::vector<Token> Toks = lex(Id, C->Diags);
    C->Files.push_back(std::make_unique<ParsedFile>(parse(Id, Toks, C->Diags)));
    Refs.push_back({C->Files.back().get(), IsStd});
  };
  if (O.Std)
    Load("<std>/std.dsp", stdLibText(), true);
  Load("test.dsp", Text, false);
  CheckOptions CO;
  CO.SampleRate = O.SampleRate;
  CO.DoublePrecision = O.Double;
  CO.AfterSyntaxErrors = C->Diags.hasErrors();
  C->P = check(Refs, CO, C->Diags);
  C->Diags.sortByLocation(); // as the compiler presents them
  return C;
}

/// Checks a script that must be free of errors.
std::unique_ptr<Checked> checkClean(const std::string &Text, Options O = {}) {
  auto C = checkText(Text, O);
  EXPECT_FALSE(C->Diags.hasErrors()) << ::testing::PrintToString(C->messages());
  return C;
}

void forEachOp(const OpList &Ops, const std::function<void(const Op &)> &F) {
  for (const OpPtr &O : Ops) {
    F(*O);
    forEachOp(O->Body, F);
    forEachOp(O->Else, F);
  }
}

void forEachNode(const Node &N, const std::function<void(const Node &)> &F) {
  F(N);
  for (const NodePtr &A : N.Args)
    forEachNode(*A, F);
}

/// Every node of every op, in order.
void forEachNodeIn(const OpList &Ops,
                   const std::function<void(const Node &)> &F) {
  forEachOp(Ops, [&](const Op &O) {
    if (O.Value)
      forEachNode(*O.Value, F);
    if (O.Index)
      forEachNode(*O.Index, F);
  });
}

/// The value assigned to `out` (the last plain `out = ...`).
const Node *outValue(const Program &P) {
  const Node *V = nullptr;
  forEachOp(P.Process, [&](const Op &O) {
    if (O.K == Op::SetOut)
      V = O.Value.get();
  });
  return V;
}

/// The constant `out` is scaled by in `out = K * in` (or `in * K`).
std::vector<double> outScale(const Program &P) {
  const Node *V = outValue(P);
  if (!V || V->K != Node::Binary || V->Args.size() != 2)
    return {};
  for (const NodePtr &A : V->Args)
    if (A->isConst())
      return A->Value;
  return {};
}

//===-- Widths ----------------------------------------------------------------===//

TEST(CheckerWidth, StateIsWidenedByAVectorAssignment) {
  auto C = checkClean("io 2 -> 2;\nstate y = 0;\nprocess { y = in; out = y; }");
  const Slot *Y = C->slot("y");
  ASSERT_TRUE(Y);
  EXPECT_EQ(Y->Width, 2u);
  EXPECT_EQ(Y->Init, (std::vector<double>{0})); // one lane, broadcast at init
}

TEST(CheckerWidth, StateTakesTheWidthOfItsInitialValue) {
  auto C =
      checkClean("io 1 -> 1;\nstate v = [1, 2, 3];\nprocess { out = v[2]; }");
  EXPECT_EQ(C->slot("v")->Width, 3u);
  EXPECT_EQ(C->slot("v")->Init, (std::vector<double>{1, 2, 3}));
}

TEST(CheckerWidth, WideningPropagatesThroughEarlierAssignments) {
  // `b = a` comes before `a` is known to be stereo: inference must iterate.
  auto C = checkClean("io 2 -> 2;\nstate a = 0;\nstate b = 0;\n"
                      "process { b = a; a = in; out = b; }");
  EXPECT_EQ(C->slot("a")->Width, 2u);
  EXPECT_EQ(C->slot("b")->Width, 2u);
}

TEST(CheckerWidth, LetIsWidenedByALaterAssignment) {
  auto C =
      checkClean("io 2 -> 2;\nprocess { let x = 0; x = in * 0.5; out = x; }");
  EXPECT_EQ(C->localWidths("x"), (std::vector<unsigned>{2}));
}

TEST(CheckerWidth, DelayLineTakesTheWidthOfWhatIsWritten) {
  auto C = checkClean(
      "io 2 -> 2;\ndelay d[10];\nprocess { out = d.tap(1); d.write(in); }");
  EXPECT_EQ(C->slot("d")->Width, 2u);
  const Node *V = outValue(*C->P);
  ASSERT_TRUE(V);
  EXPECT_EQ(V->K, Node::Tap);
  EXPECT_EQ(V->Width, 2u);
}

TEST(CheckerWidth, MeterTakesTheWidthOfWhatIsAssigned) {
  auto C = checkClean(
      "io 2 -> 2;\nmeter level;\nprocess { out = in; level = abs(in); }");
  EXPECT_EQ(C->slot("level")->Width, 2u);
  EXPECT_EQ(C->slot("level")->K, Slot::Meter);
}

TEST(CheckerWidth, FunctionResultTakesTheWidthOfEachCallSite) {
  auto C = checkClean(
      "io 2 -> 2;\nfn twice(x) { return x * 2; }\n"
      "process { let a = twice(in[0]); let b = twice(in); out = a + b; }");
  EXPECT_EQ(C->localWidths("twice result"), (std::vector<unsigned>{1, 2}));
  EXPECT_EQ(C->localWidths("a"), (std::vector<unsigned>{1}));
  EXPECT_EQ(C->localWidths("b"), (std::vector<unsigned>{2}));
}

TEST(CheckerWidth, StdFilterStateFollowsItsInput) {
  auto C = checkClean("io 2 -> 2;\nprocess { out = onepole(in, 1000); }");
  ASSERT_TRUE(C->slot("process/onepole#1/y"));
  EXPECT_EQ(C->slot("process/onepole#1/y")->Width, 2u);
}

TEST(CheckerWidth, VectorLiteralsConcatenate) {
  auto C = checkClean("io 2 -> 3;\nprocess { out = [in, 0]; }");
  EXPECT_EQ(outValue(*C->P)->Width, 3u);
}

TEST(CheckerWidth, DifferentVectorWidthsAreReportedWithBoth) {
  auto C = checkText("io 2 -> 2;\nprocess {\n  out = in + [1, 2, 3];\n}");
  ASSERT_EQ(C->errors(), (std::vector<DiagId>{DiagId::WidthMismatch}));
  EXPECT_EQ(C->messages()[0],
            "3:9: operands of '+' have different widths (2 and 3)");
}

TEST(CheckerWidth, AssigningAWiderValueToAVectorIsReported) {
  auto C = checkText(
      "io 1 -> 1;\nstate s = [1, 2];\nprocess {\n  s = [1, 2, 3];\n  out = 0;\n}");
  ASSERT_EQ(C->errors(), (std::vector<DiagId>{DiagId::AssignWidthMismatch}));
  EXPECT_EQ(C->messages()[0],
            "4:3: cannot assign a value of width 3 to 's', which has width 2");
}

TEST(CheckerWidth, OutputWidthMustMatchIo) {
  auto C = checkText("io 2 -> 2;\nprocess { out = [in, 1]; }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::OutWidthMismatch}));
}

TEST(CheckerWidth, ConditionOfIfMustBeScalar) {
  auto C = checkText("io 2 -> 2;\nprocess { if in { out = 1; } }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::ConditionNotScalar}));
}

TEST(CheckerWidth, ConstantLaneOutOfRangeIsReported) {
  auto C = checkText("io 2 -> 1;\nprocess { out = in[2]; }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::LaneOutOfRange}));
}

//===-- Inlining and call sites ----------------------------------------------===//

const char *OnePoleFn =
    "fn lp(x) { state z = 0; z += 0.5 * (x - z); return z; }\n";

TEST(CheckerInline, TwoCallsOfAStatefulFunctionGetTwoSlots) {
  auto C = checkClean(std::string("io 1 -> 1;\n") + OnePoleFn +
                      "process { out = lp(in) + lp(in * 2); }");
  EXPECT_EQ(C->slotNames(),
            (std::vector<std::string>{"process/lp#1/z", "process/lp#2/z"}));
}

TEST(CheckerInline, StdFunctionsKeepStatePerCallSite) {
  auto C = checkClean(
      "io 1 -> 1;\nprocess { out = onepole(in, 100) + onepole(in, 200); }");
  EXPECT_EQ(C->slotNames(), (std::vector<std::string>{"process/onepole#1/y",
                                                      "process/onepole#2/y"}));
}

TEST(CheckerInline, NestedCallsNameTheWholeCallPath) {
  auto C = checkClean(std::string("io 1 -> 1;\n") + OnePoleFn +
                      "fn two(x) { return lp(x) + lp(-x); }\n"
                      "process { out = two(in) + two(in * 3); }");
  EXPECT_EQ(C->slotNames(), (std::vector<std::string>{"process/two#1/lp#1/z",
                                                      "process/two#1/lp#2/z",
                                                      "process/two#2/lp#1/z",
                                                      "process/two#2/lp#2/z"}));
}

TEST(CheckerInline, CallInAForLoopIsOneCallSite) {
  auto C = checkClean(
      std::string("io 1 -> 1;\n") + OnePoleFn +
      "process { let y = in; for i in 0..4 { y = lp(y); } out = y; }");
  EXPECT_EQ(C->slotNames(), (std::vector<std::string>{"process/lp#1/z"}));
}

TEST(CheckerInline, BlockAndProcessCallSitesAreSeparate) {
  auto C = checkClean(
      std::string("io 1 -> 1;\n") + OnePoleFn +
      "block { let k = lp(frames); }\nprocess { out = k * lp(in); }");
  EXPECT_EQ(C->slotNames(),
            (std::vector<std::string>{"block/lp#1/z", "process/lp#1/z"}));
}

TEST(CheckerInline, LocalStateOfABodyIsNamedByTheBody) {
  auto C = checkClean("io 1 -> 1;\nblock { state n = 0; n += 1; let c = n; }\n"
                      "process { state s = 0; s += in; delay d[4]; d.write(s); "
                      "out = c * d.tap(2); }");
  EXPECT_EQ(C->slotNames(),
            (std::vector<std::string>{"block/n", "process/s", "process/d"}));
}

TEST(CheckerInline, SlotNamesAreUnique) {
  // Hosts look slots up by name (Kernel::findSlot); two different states
  // must not share one, even when two bodies use the same local name.
  auto C = checkClean("io 1 -> 1;\nprocess {\n"
                      "  if in > 0 { state s = 0; s += 1; out = s; }\n"
                      "  else { state s = 0; s -= 1; out = s; }\n}");
  ASSERT_EQ(C->P->Slots.size(), 2u);
  EXPECT_NE(C->P->Slots[0].Name, C->P->Slots[1].Name)
      << "both states are called '" << C->P->Slots[0].Name << "'";
}

TEST(CheckerInline, FunctionParametersWithConstantArgumentsAreConstants) {
  // LANGUAGE.md section 10: a constant argument can size a delay.
  auto C = checkClean("io 1 -> 1;\nfn slap(x, ms) { delay d[ms * sr / 1000]; "
                      "let y = d.tap(ms * sr / 1000); d.write(x); return y; }\n"
                      "process { out = slap(in, 80) + slap(in, 10); }");
  EXPECT_EQ(C->slot("process/slap#1/d")->Length, 3840u);
  EXPECT_EQ(C->slot("process/slap#2/d")->Length, 480u);
}

TEST(CheckerInline, UnrollMakesOneCopyPerIndexEachWithItsOwnState) {
  auto C = checkClean(
      std::string("io 1 -> 1;\n") + OnePoleFn +
      "process { let acc = 0; unroll i in 0..4 { acc += lp(in * i); } "
      "out = acc; }");
  ASSERT_EQ(C->P->Slots.size(), 4u);
  for (int I = 0; I < 4; ++I)
    EXPECT_NE(C->P->Slots[size_t(I)].Name.find("i=" + std::to_string(I)),
              std::string::npos)
        << C->P->Slots[size_t(I)].Name;
  // No run-time loop is left.
  forEachOp(C->P->Process, [](const Op &O) { EXPECT_NE(O.K, Op::Loop); });
}

TEST(CheckerInline, UnrollIndexIsAConstantInEachCopy) {
  auto C = checkClean(
      "io 1 -> 1;\nconst g = [10, 20, 30, 40];\n"
      "process { let acc = 0; unroll i in 0..4 { acc += g[i] * in; } "
      "out = acc; }");
  // g[i] folded to 10, 20, 30, 40 in the copies: no lane selection remains.
  std::vector<double> Gains;
  forEachNodeIn(C->P->Process, [&](const Node &N) {
    EXPECT_NE(N.K, Node::Lane);
    if (N.isConst() && N.Value.size() == 1 && N.Value[0] >= 10)
      Gains.push_back(N.Value[0]);
  });
  EXPECT_EQ(Gains, (std::vector<double>{10, 20, 30, 40}));
  unsigned AccSets = 0;
  forEachOp(C->P->Process,
            [&](const Op &O) { AccSets += O.K == Op::SetLocal; });
  EXPECT_EQ(AccSets, 5u); // the let, then one += per copy
}

TEST(CheckerInline, UnrollIndexCanSizeDelaysInEachCopy) {
  auto C = checkClean(
      "io 1 -> 1;\nprocess { let acc = 0; "
      "unroll i in 1..4 { acc += comb(in, i * 100, 0.5, 0.2); } out = acc; }");
  std::vector<unsigned> Lengths;
  for (const Slot &S : C->P->Slots)
    if (S.K == Slot::Delay)
      Lengths.push_back(S.Length);
  EXPECT_EQ(Lengths, (std::vector<unsigned>{100, 200, 300}));
}

TEST(CheckerInline, RecursionIsReported) {
  auto C = checkText(
      "io 1 -> 1;\nfn f(x) { return g(x); }\nfn g(x) { return f(x); }\n"
      "process { out = f(in); }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::Recursion}));
}

TEST(CheckerInline, WrongArgumentCountIsReported) {
  auto C = checkText(std::string("io 1 -> 1;\n") + OnePoleFn +
                     "process { out = lp(in, 1) + sin(in, 2); }");
  EXPECT_EQ(C->errors(),
            (std::vector<DiagId>{DiagId::ArgCount, DiagId::ArgCount}));
}

TEST(CheckerInline, FunctionWithoutReturnHasNoValue) {
  auto C = checkText("io 1 -> 1;\nmeter m;\nfn touch(x) { m = x; }\n"
                     "process { touch(in); out = touch(in); }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::CallHasNoValue}));
}

//===-- The standard library and the script's own definitions ------------------===//

TEST(CheckerStd, ScriptDefinitionReplacesTheStdFunction) {
  auto C = checkClean("io 1 -> 1;\nfn onepole(x, cutoff) { return x * 3; }\n"
                      "process { out = onepole(in, 100); }");
  EXPECT_TRUE(C->P->Slots.empty()) << "the std onepole's state was used";
}

TEST(CheckerStd, StdFunctionsAreAvailableWithoutImport) {
  auto C = checkClean(
      "io 1 -> 1;\nprocess { out = softclip(in) + db2lin(-6) * sine(440); }");
  EXPECT_TRUE(C->slot("process/sine#1/phasor#1/phase"));
}

TEST(CheckerStd, DefiningANameTwiceInTheScriptIsReported) {
  auto C =
      checkText("io 1 -> 1;\nfn f(x) { return x; }\nfn f(x) { return -x; }\n"
                "process { out = f(in); }");
  ASSERT_EQ(C->errors(), (std::vector<DiagId>{DiagId::Redefinition}));
  ASSERT_EQ(C->Diags.all().size(), 2u);
  EXPECT_EQ(C->Diags.all()[1].Id, DiagId::PreviousDefinition);
  EXPECT_EQ(C->messages()[0], "3:4: redefinition of 'f'");
  EXPECT_EQ(C->messages()[1], "2:4: previous definition of 'f' is here");
}

TEST(CheckerStd, BuiltInNamesCannotBeRedefined) {
  auto C = checkText("io 1 -> 1;\nconst sr = 1;\nfn sin(x) { return x; }\n"
                     "process { let tau = 1; out = in; }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>(3, DiagId::ReservedName)));
}

TEST(CheckerStd, UnknownFunctionSuggestsACloseName) {
  auto C = checkText("io 1 -> 1;\nprocess { out = onepol(in, 100); }");
  ASSERT_EQ(C->errors(), (std::vector<DiagId>{DiagId::UnknownFunctionSuggest}));
  EXPECT_EQ(C->Diags.all()[0].Message,
            "unknown function 'onepol'; did you mean 'onepole'?");
}

//===-- Constants --------------------------------------------------------------===//

TEST(CheckerConst, ConstVectorExpressionIsFolded) {
  auto C = checkClean(
      "io 1 -> 1;\nconst v = [1, 2] * 3 + 1;\nprocess { out = v[1] * in; }");
  EXPECT_EQ(outScale(*C->P), (std::vector<double>{7}));
}

TEST(CheckerConst, IotaAndReductionsFold) {
  auto C = checkClean(
      "io 1 -> 1;\nconst w = iota(4) * 2;\nprocess { out = sum(w) * in; }");
  EXPECT_EQ(outScale(*C->P), (std::vector<double>{12}));
  auto M = checkClean("io 1 -> 1;\nprocess { out = mean(iota(5)) * in; }");
  EXPECT_EQ(outScale(*M->P), (std::vector<double>{2}));
  auto V = checkClean("io 1 -> 3;\nprocess { out = iota(3) * in; }");
  EXPECT_EQ(outScale(*V->P), (std::vector<double>{0, 1, 2}));
}

TEST(CheckerConst, ConstantsMayBeUsedBeforeTheirDeclaration) {
  auto C = checkClean("io 1 -> 1;\nconst b = a * 2;\nconst a = sr / 1000;\n"
                      "process { out = b * in; }");
  EXPECT_EQ(outScale(*C->P), (std::vector<double>{96}));
}

TEST(CheckerConst, ConstantCycleIsReported) {
  auto C = checkText(
      "io 1 -> 1;\nconst a = b + 1;\nconst b = a;\nprocess { out = a * in; }");
  EXPECT_FALSE(C->errors().empty());
  for (DiagId Id : C->errors())
    EXPECT_EQ(Id, DiagId::NotConstant);
}

TEST(CheckerConst, BuiltInsWithConstantArgumentsAreEvaluated) {
  auto C = checkClean(
      "io 1 -> 4;\nprocess { out = [pow(2, 10), round(2.5), round(-2.5), "
      "-7 % 3] * in; }");
  EXPECT_EQ(outScale(*C->P), (std::vector<double>{1024, 3, -3, -1}));
}

TEST(CheckerConst, MinAndMaxOfNaNGiveTheOtherOperand) {
  // LANGUAGE.md section 8: "if a is NaN the result is b".
  auto C = checkClean(
      "io 1 -> 2;\nprocess { out = [min(0 / 0, 5), max(0 / 0, -5)] * in; }");
  EXPECT_EQ(outScale(*C->P), (std::vector<double>{5, -5}));
}

TEST(CheckerConst, ClampOfNaNFoldsToTheLowerBound) {
  // clamp(x, lo, hi) is min(max(x, lo), hi) and max(NaN, lo) is lo, so a
  // NaN is clamped to lo -- which is what the generated code computes at
  // run time (see compiler_test.cpp, ClampOfNaNAgreesWhenFoldedAndAtRunTime).
  auto C = checkClean("io 1 -> 1;\nprocess { out = clamp(0 / 0, 2, 3) * in; }");
  std::vector<double> Scale = outScale(*C->P);
  ASSERT_EQ(Scale.size(), 1u);
  EXPECT_EQ(Scale[0], 2) << "clamp(NaN, 2, 3) folded to " << Scale[0];
}

TEST(CheckerConst, DelayLengthInTimeUnitsDependsOnTheSampleRate) {
  const char *Src =
      "io 1 -> 1;\ndelay a[10 ms];\ndelay b[2 s];\ndelay c[0.1 ms];\n"
      "delay d[1.5];\nprocess { a.write(in); b.write(in); c.write(in); "
      "d.write(in); out = a.tap(1) + b.tap(1) + c.tap(1) + d.tap(1); }";
  auto C = checkClean(Src);
  EXPECT_EQ(C->slot("a")->Length, 480u);
  EXPECT_EQ(C->slot("b")->Length, 96000u);
  EXPECT_EQ(C->slot("c")->Length, 5u); // 4.8 frames, rounded up
  EXPECT_EQ(C->slot("d")->Length, 2u);
  Options O;
  O.SampleRate = 44100;
  auto D = checkClean(Src, O);
  EXPECT_EQ(D->slot("a")->Length, 441u);
  EXPECT_EQ(D->slot("b")->Length, 88200u);
  EXPECT_EQ(D->slot("c")->Length, 5u); // 4.41
}

TEST(CheckerConst, SampleRateIsAConstant) {
  Options O;
  O.SampleRate = 96000;
  auto C = checkClean(
      "io 1 -> 1;\nconst half = sr / 2;\nprocess { out = half * in; }", O);
  EXPECT_EQ(outScale(*C->P), (std::vector<double>{48000}));
}

TEST(CheckerConst, IotaOfAWidthBelowOneSaysSo) {
  // iota(N) takes N from 1 to 256 (LANGUAGE.md section 8); 0 does not
  // "exceed" anything.
  auto C = checkText("io 1 -> 1;\nprocess { out = sum(iota(0)) * in; }");
  ASSERT_EQ(C->errors().size(), 1u);
  EXPECT_EQ(C->Diags.all()[0].Message.find("exceeds"), std::string::npos)
      << C->Diags.all()[0].Message;
  EXPECT_EQ(
      checkText("io 1 -> 1;\nprocess { out = sum(iota(257)) * in; }")->errors(),
      (std::vector<DiagId>{DiagId::VectorTooWide}));
}

TEST(CheckerConst, NonConstantWhereAConstantIsNeededIsReported) {
  auto C = checkText(
      "io 1 -> 1;\nparam p = 1 in [1, 10];\ndelay d[p];\nstate s = in;\n"
      "process { d.write(in); out = d.tap(1) + s; for i in 0..p { } }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>(3, DiagId::NotConstant)))
      << ::testing::PrintToString(C->messages());
}

//===-- Parameters ---------------------------------------------------------------===//

TEST(CheckerParam, DefaultRangeUnitAndSmoothingAreRecorded) {
  auto C =
      checkClean("io 1 -> 1;\nparam f = 440 in [20, 20000] hz smooth 5 ms;\n"
                 "process { out = in * f; }");
  const Slot *F = C->slot("f");
  ASSERT_TRUE(F);
  EXPECT_EQ(F->K, Slot::Param);
  EXPECT_EQ(F->Def, 440);
  EXPECT_EQ(F->Min, 20);
  EXPECT_EQ(F->Max, 20000);
  EXPECT_EQ(F->Unit, "hz");
  EXPECT_DOUBLE_EQ(F->SmoothSeconds, 0.005);
  EXPECT_EQ(F->Width, 1u);
}

TEST(CheckerParam, SmoothingDefaultsToTenMilliseconds) {
  auto C = checkClean(
      "io 1 -> 1;\nparam a = 0 in [0, 1];\nparam b = 0 in [0, 1] nosmooth;\n"
      "param c = 0 in [0, 1] smooth 0;\nparam d = 0 in [0, 1] smooth 2 s;\n"
      "param e = 0 in [-1, 1] % smooth 0.25;\n"
      "process { out = in * (a + b + c + d + e); }");
  EXPECT_DOUBLE_EQ(C->slot("a")->SmoothSeconds, 0.01);
  EXPECT_EQ(C->slot("b")->SmoothSeconds, 0);
  EXPECT_EQ(C->slot("c")->SmoothSeconds, 0);
  EXPECT_EQ(C->slot("d")->SmoothSeconds, 2);
  EXPECT_EQ(C->slot("e")->SmoothSeconds, 0.25);
  EXPECT_EQ(C->slot("e")->Unit, "%");
  EXPECT_EQ(C->slot("a")->Unit, "");
}

TEST(CheckerParam, ParametersComeFirstInSourceOrder) {
  auto C = checkClean(
      "io 1 -> 1;\nstate s = 0;\nparam b = 0 in [0, 1];\nmeter m;\n"
      "param a = 0 in [0, 1];\nprocess { s = a + b; m = s; out = s; }");
  EXPECT_EQ(C->slotNames(), (std::vector<std::string>{"b", "a", "s", "m"}));
}

TEST(CheckerParam, ConstantExpressionsInTheDeclaration) {
  auto C = checkClean(
      "io 1 -> 1;\nconst top = sr / 4;\nparam f = top / 2 in [0, top];\n"
      "process { out = in * f; }");
  EXPECT_EQ(C->slot("f")->Def, 6000);
  EXPECT_EQ(C->slot("f")->Max, 12000);
}

TEST(CheckerParam, RangeErrorsAreReported) {
  auto C = checkText(
      "io 1 -> 1;\nparam a = 2 in [0, 1];\nparam b = 0 in [1, 0];\n"
      "param c = 0 in [0, 1] smooth 11;\nparam d = 0 in [0, 1] smooth -1 ms;\n"
      "process { out = in * (a + b + c + d); }");
  EXPECT_EQ(C->errors(),
            (std::vector<DiagId>{DiagId::ParamDefaultOutOfRange,
                                 DiagId::ParamRangeEmpty, DiagId::SmoothRange,
                                 DiagId::SmoothRange}));
}

TEST(CheckerParam, ParametersCannotBeAssigned) {
  auto C = checkText(
      "io 1 -> 1;\nparam g = 0 in [0, 1];\nprocess { g = 1; out = in; }");
  ASSERT_EQ(C->errors(), (std::vector<DiagId>{DiagId::AssignToReadOnly}));
  EXPECT_NE(C->Diags.all()[0].Message.find("parameters are set by the host"),
            std::string::npos);
}

//===-- Instance layout -------------------------------------------------------------===//

/// Bytes a slot occupies at Offset.
uint64_t slotBytes(const Slot &S, uint64_t ElemSize) {
  switch (S.K) {
  case Slot::Param: return 8; // float target, float value
  case Slot::Meter:
  case Slot::Note: return 4ull * S.Width;
  case Slot::State: return ElemSize * S.Width * S.Count;
  case Slot::Delay: return ElemSize * S.Width * S.Capacity;
  }
  return 0;
}

void expectSoundLayout(const Program &P) {
  uint64_t ElemSize = P.DoublePrecision ? 8 : 4;
  EXPECT_EQ(P.InstanceSize % InstanceAlign, 0u);
  std::vector<std::pair<uint64_t, uint64_t>> Ranges; // [begin, end)
  for (const Slot &S : P.Slots) {
    SCOPED_TRACE(S.Name);
    uint64_t Bytes = slotBytes(S, ElemSize);
    EXPECT_GE(S.Offset, sizeof(DspjitInstanceHeader));
    EXPECT_LE(S.Offset + Bytes, P.InstanceSize);
    Ranges.push_back({S.Offset, S.Offset + Bytes});
    if (S.K == Slot::State) {
      EXPECT_EQ(S.Offset % ElemSize, 0u);
    }
    if (S.K == Slot::Delay) {
      EXPECT_EQ(S.Offset % InstanceAlign, 0u);
      EXPECT_EQ(S.Capacity & (S.Capacity - 1), 0u) << "capacity " << S.Capacity;
      EXPECT_GE(S.Capacity, S.Length + 2);
      EXPECT_LT(S.Capacity / 2, S.Length + 2) << "capacity larger than needed";
      EXPECT_EQ(S.ValueOffset % 4, 0u);
      Ranges.push_back({S.ValueOffset, S.ValueOffset + 4});
    }
  }
  std::sort(Ranges.begin(), Ranges.end());
  for (size_t I = 1; I < Ranges.size(); ++I)
    EXPECT_LE(Ranges[I - 1].second, Ranges[I].first) << "slots overlap";
}

const char *LayoutScript =
    "io 2 -> 2;\nparam g = 1 in [0, 2];\nparam h = 1 in [0, 2];\nmeter level;\n"
    "state one = 0;\nstate arr[5] = [1, 2];\ndelay a[6];\ndelay b[7];\ndelay c[100 ms];\n"
    "process { level = abs(in); one += 1; arr[one] = in * g; a.write(in); b.write(in[0]); "
    "c.write(in); out = a.tap(6) + b.tap(7) + c.read(3.5) + arr[1] * h + onepole(in, 100); }";

TEST(CheckerLayout, SlotsAreDisjointAlignedAndInsideTheInstance) {
  auto C = checkClean(LayoutScript);
  expectSoundLayout(*C->P);
  EXPECT_GT(C->P->InstanceSize, 0u);
}

TEST(CheckerLayout, DoublePrecisionLayout) {
  Options O;
  O.Double = true;
  auto C = checkClean(LayoutScript, O);
  EXPECT_TRUE(C->P->DoublePrecision);
  expectSoundLayout(*C->P);
}

TEST(CheckerLayout, DelayCapacityIsThePowerOfTwoAboveLengthPlusTwo) {
  auto C = checkClean(
      "io 1 -> 1;\ndelay a[1];\ndelay b[6];\ndelay c[7];\ndelay d[14];\n"
      "delay e[15];\ndelay f[2 s];\nprocess { a.write(in); b.write(in); "
      "c.write(in); d.write(in); e.write(in); f.write(in); out = in; }");
  EXPECT_EQ(C->slot("a")->Capacity, 4u);
  EXPECT_EQ(C->slot("b")->Capacity, 8u);
  EXPECT_EQ(C->slot("c")->Capacity, 16u);
  EXPECT_EQ(C->slot("d")->Capacity, 16u);
  EXPECT_EQ(C->slot("e")->Capacity, 32u);
  EXPECT_EQ(C->slot("f")->Capacity, 131072u);
  expectSoundLayout(*C->P);
}

TEST(CheckerLayout, EveryExampleHasASoundLayout) {
  for (const char *Name :
       {"wire", "gain", "tremolo", "echo", "lowpass", "biquad", "distortion",
        "freeverb", "chorus", "ringmod", "additive", "meter", "gate"}) {
    SCOPED_TRACE(Name);
    std::ifstream In(std::string(DSPJIT_SOURCE_DIR) + "/examples/" + Name +
                     ".dsp");
    ASSERT_TRUE(In.good());
    std::stringstream SS;
    SS << In.rdbuf();
    for (bool Double : {false, true}) {
      Options O;
      O.Double = Double;
      auto C = checkClean(SS.str(), O);
      expectSoundLayout(*C->P);
    }
  }
}

TEST(CheckerLayout, InstanceLargerThanTheLimitIsReported) {
  auto C = checkText(
      "io 1 -> 1;\nstate big[16777216] = 0;\nstate big2[16777216] = 0;\n"
      "state big3[16777216] = 0;\nstate big4[16777216] = 0;\n"
      "process { big[0] = in; big2[0] = in; big3[0] = in; big4[0] = in; "
      "out = big[0]; }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::InstanceTooLarge}));
}

//===-- Errors in functions nothing calls ------------------------------------------===//

TEST(CheckerUnused, UnknownNameInAnUnusedFunctionIsReported) {
  auto C = checkText("io 1 -> 1;\nfn unused(x) {\n  return x + nosuchname;\n}\n"
                     "process { out = in; }");
  ASSERT_EQ(C->errors(), (std::vector<DiagId>{DiagId::UnknownName}));
  EXPECT_EQ(C->messages()[0], "3:14: unknown name 'nosuchname'");
}

TEST(CheckerUnused, StructuralErrorsInAnUnusedFunctionAreReported) {
  auto C = checkText("io 1 -> 1;\nparam p = 0 in [0, 1];\nfn unused(x) {\n"
                     "  p = x;\n  break;\n  return zzqqxx(x);\n}\n"
                     "process { out = in; }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::AssignToReadOnly,
                                              DiagId::BreakOutsideLoop,
                                              DiagId::UnknownFunction}));
}

TEST(CheckerUnused, ErrorsThatDependOnArgumentsAreNotReported) {
  // Whether `n` is a valid delay length depends on the call, and there is
  // none: nothing to report.
  auto C = checkText("io 1 -> 1;\nfn unused(x, n) { delay d[n]; d.write(x); "
                     "return d.tap(n); }\nprocess { out = in; }");
  EXPECT_TRUE(C->errors().empty()) << ::testing::PrintToString(C->messages());
}

TEST(CheckerUnused, WidthErrorsBetweenConstantsInAnUnusedFunctionAreReported) {
  // Nothing here depends on the function's arguments: these are errors
  // whatever the call, and the same lines in `process` are reported.
  const char *Body = "  let a = [1, 2] + [1, 2, 3];\n"
                     "  state s = [1, 2];\n  s = [1, 2, 3];\n"
                     "  if [1, 2] { }\n";
  auto Used = checkText(std::string("io 1 -> 1;\nprocess {\n") + Body +
                        "  out = in;\n}");
  EXPECT_EQ(Used->errors(), (std::vector<DiagId>{DiagId::WidthMismatch,
                                                 DiagId::AssignWidthMismatch,
                                                 DiagId::ConditionNotScalar}));
  auto Unused = checkText(std::string("io 1 -> 1;\nfn unused(x) {\n") + Body +
                          "  return x;\n}\nprocess { out = in; }");
  EXPECT_EQ(Unused->errors(), (std::vector<DiagId>{DiagId::WidthMismatch,
                                                   DiagId::AssignWidthMismatch,
                                                   DiagId::ConditionNotScalar}))
      << "errors in an unused function that do not depend on its arguments are lost";
}

TEST(CheckerUnused, UnusedStdFunctionsCostNothing) {
  auto C = checkClean("io 1 -> 1;\nprocess { out = in; }");
  EXPECT_TRUE(C->P->Slots.empty());
  EXPECT_EQ(C->P->NumInlines, 0u);
  EXPECT_EQ(C->P->InstanceSize, 64u); // the header alone
}

//===-- Statements and names ----------------------------------------------------------===//

TEST(CheckerStmt, BreakAndReturnOnlyWhereTheyMeanSomething) {
  auto C = checkText(
      "io 1 -> 1;\nfn f(x) { for i in 0..2 { unroll j in 0..2 { break; } } "
      "return x; }\nprocess { break; return 1; out = f(in); }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::BreakInUnroll,
                                              DiagId::BreakOutsideLoop,
                                              DiagId::ReturnOutsideFunction}));
}

TEST(CheckerStmt, OnlyNamedTargetsCanBeAssigned) {
  // The parser accepts any index expression as a target; a lane of a lane
  // is not a name and cannot be assigned.
  auto C = checkText(
      "io 1 -> 1;\nprocess { let v = [1, 2]; v[0][0] = 3; out = in; }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::NotAssignable}));
}

TEST(CheckerStmt, ReadOnlyNamesCannotBeAssigned) {
  auto C = checkText(
      "io 1 -> 1;\nconst k = 1;\ndelay d[4];\n"
      "fn f(x) { x = 1; return x; }\n"
      "process { k = 2; in = 1; sr = 1; d = 1; for i in 0..2 { i = 1; } "
      "d.write(in); out = f(in) + d.tap(1); }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>(6, DiagId::AssignToReadOnly)))
      << ::testing::PrintToString(C->messages());
}

TEST(CheckerStmt, ProgramStructureIsChecked) {
  EXPECT_EQ(checkText("process { }")->errors(),
            (std::vector<DiagId>{DiagId::MissingIo}));
  EXPECT_EQ(checkText("io 1 -> 1;")->errors(),
            (std::vector<DiagId>{DiagId::MissingProcess}));
  EXPECT_EQ(checkText("io 1 -> 1;\nprocess { let a = in; }")->errors(),
            (std::vector<DiagId>{DiagId::OutNotAssigned}));
  EXPECT_EQ(checkText("io 0 -> 1;\nprocess { out = in; }")->errors(),
            (std::vector<DiagId>{DiagId::NoInputs}));
  EXPECT_EQ(
      checkText("io 1 -> 1;\nio 1 -> 1;\nprocess { out = in; }")->errors(),
      (std::vector<DiagId>{DiagId::DuplicateSection}));
  EXPECT_EQ(checkText("io 65 -> 1;\nprocess { out = 0; }")->errors(),
            (std::vector<DiagId>{DiagId::ChannelCount}));
}

TEST(CheckerStmt, OutAssignedInBlockIsAnErrorAndDoesNotCount) {
  // `out` starts every frame at 0: what `block` assigned was lost.
  EXPECT_EQ(checkText("io 1 -> 1;\nblock { out = 1; }\nprocess { }")->errors(),
            (std::vector<DiagId>{DiagId::OutInBlock, DiagId::OutNotAssigned}));
}

TEST(CheckerStmt, DelayReadButNeverWrittenIsReported) {
  auto C = checkText("io 1 -> 1;\ndelay d[4];\nprocess { out = d.tap(1); }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::DelayNeverWritten}));
}

TEST(CheckerStmt, OneErrorPerPlaceHoweverManyCopiesReachIt) {
  auto C = checkText(
      "io 1 -> 1;\nfn f(x) { return x + missing; }\n"
      "process { let a = 0; unroll i in 0..8 { a += f(i); } out = a; }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::UnknownName}));
}

//===-- Limits ---------------------------------------------------------------------===//

TEST(CheckerLimits, UnrollAndLoopCountsAreLimited) {
  EXPECT_EQ(
      checkText("io 1 -> 1;\nprocess { unroll i in 0..4097 { } out = in; }")
          ->errors(),
      (std::vector<DiagId>{DiagId::LoopCountRange}));
  EXPECT_EQ(checkText("io 1 -> 1;\nprocess { for i in 0..65537 { } out = in; }")
                ->errors(),
            (std::vector<DiagId>{DiagId::LoopCountRange}));
  EXPECT_EQ(checkText("io 1 -> 1;\nprocess { for i in 3..3 { } out = in; }")
                ->errors(),
            (std::vector<DiagId>{DiagId::LoopCountRange}));
  checkClean(
      "io 1 -> 1;\nprocess { for i in 0..65536 { } unroll j in 0..4096 { } out = in; }");
}

TEST(CheckerLimits, ProgramBelowTheDocumentedCostLimitIsAccepted) {
  // LANGUAGE.md, limits: a compile cost of 80,000. 12288 copies of
  // `acc += in;` (a load of each, an add and a store: 5) are below it.
  auto C = checkText(
      "io 1 -> 1;\nprocess { let acc = 0; "
      "unroll i in 0..4096 { unroll j in 0..3 { acc += in; } } out = acc; }");
  EXPECT_TRUE(C->errors().empty()) << ::testing::PrintToString(C->messages());
  EXPECT_GT(C->P->CompileCost, 12288u * 4);
  EXPECT_LT(C->P->CompileCost, MaxCompileCost);
}

TEST(CheckerLimits, ACostlyProgramIsRefusedAtItsOutermostUnroll) {
  // 64 x 64 copies of a stateful call: the outer unroll is named, with
  // its count, even though the calls and the inner unroll are inside it.
  auto C = checkText("io 1 -> 1;\n"
                     "fn lp(x) { state s = 0; s = s + 0.1 * (x - s); "
                     "return sin(s); }\n"
                     "process { let acc = in;\n"
                     "  unroll i in 0..64 { unroll j in 0..64 { acc = lp(acc); "
                     "} }\n"
                     "  out = acc; }");
  ASSERT_EQ(C->errors(), (std::vector<DiagId>{DiagId::CompileTooCostlyUnroll}));
  EXPECT_EQ(C->Diags.all()[0].Loc.Offset,
            C->Diags.sources().text(2).find("unroll i"));
  EXPECT_NE(C->messages()[0].find("the 64 copies of this 'unroll'"),
            std::string::npos)
      << C->messages()[0];
}

TEST(CheckerLimits, ACostlyProgramWithoutUnrollOrCallsIsRefusedAtProcess) {
  // The largest source there can be is 1 MiB; 12,000 statements of
  // straight-line transcendental code are a third of that.
  std::string Src = "io 2 -> 2;\nprocess {\n  let a = in;\n";
  for (int I = 0; I < 12000; ++I)
    Src += "  a = sin(a) + tanh(a);\n";
  Src += "  out = a;\n}\n";
  auto C = checkText(Src);
  ASSERT_EQ(C->errors(), (std::vector<DiagId>{DiagId::CompileTooCostly}));
  EXPECT_EQ(C->Diags.all()[0].Loc.Offset,
            C->Diags.sources().text(2).find("process"));
}

TEST(CheckerLimits, TheCostEstimateGrowsWithWhatCodeGenerationEmits) {
  auto Cost = [](const std::string &Body, const char *Io = "1 -> 1") {
    auto C = checkClean(std::string("io ") + Io +
                        ";\ndelay d[4096];\nprocess { let a = in; " + Body +
                        " d.write(a); out = a; }");
    return C->P->CompileCost;
  };
  const uint64_t Base = Cost("");
  // Twice the copies, about twice the cost.
  const uint64_t One = Cost("unroll i in 0..512 { a = a * 0.5 + i; }") - Base;
  const uint64_t Two = Cost("unroll i in 0..1024 { a = a * 0.5 + i; }") - Base;
  EXPECT_NEAR(double(Two) / double(One), 2.0, 0.05);
  // A libm call costs more than arithmetic, a fractional read more than a
  // tap, a `for` body once whatever its count.
  EXPECT_GT(Cost("unroll i in 0..256 { a = sin(a); }"),
            Cost("unroll i in 0..256 { a = a * 0.5; }"));
  EXPECT_GT(Cost("unroll i in 0..256 { a = a + d.read(i + 1.5); }"),
            Cost("unroll i in 0..256 { a = a + d.tap(i + 1); }"));
  EXPECT_EQ(Cost("for i in 0..16 { a = a * 0.5; }"),
            Cost("for i in 0..4096 { a = a * 0.5; }"));
}

TEST(CheckerLimits, ProgramAboveTheSizeLimitIsReportedOnceAndQuickly) {
  auto C = checkText(
      "io 1 -> 1;\nprocess { let acc = 0; "
      "unroll i in 0..4096 { unroll j in 0..4096 { acc += in; } } out = acc; }");
  EXPECT_EQ(C->errors(), (std::vector<DiagId>{DiagId::ProgramTooLarge}));
}

TEST(CheckerLimits, InliningDepthIsLimited) {
  std::string Src = "io 1 -> 1;\n";
  for (int I = 0; I < 70; ++I)
    Src += "fn f" + std::to_string(I) + "(x) { return f" +
           std::to_string(I + 1) + "(x); }\n";
  Src += "fn f70(x) { return x; }\nprocess { out = f0(in); }";
  EXPECT_EQ(checkText(Src)->errors(),
            (std::vector<DiagId>{DiagId::InlineTooDeep}));
}

} // namespace
