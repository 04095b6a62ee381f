//===- compiler/Parser.h - Tokens to syntax tree --------------------------===//
//
// A recursive-descent parser. After a syntax error it skips to the next
// statement or declaration (panic mode) and goes on, so one run reports every
// error. Nesting depth is limited, so no input can exhaust the stack.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_COMPILER_PARSER_H
#define DSPJIT_COMPILER_PARSER_H

#include "compiler/AST.h"
#include "compiler/Lexer.h"

namespace dspjit {

/// The deepest nesting of expressions and blocks the parser accepts.
constexpr unsigned MaxNestingDepth = 128;

/// Parses the tokens of one file. Always returns a module; on errors it holds
/// what could be parsed and `Diags` holds the errors.
ParsedFile parse(uint32_t FileId, const std::vector<Token> &Tokens,
                 DiagnosticEngine &Diags);

} // namespace dspjit

#endif
