# Writes the standard library source into a C++ file as a raw string.
file(READ ${IN} CONTENT)
file(WRITE ${OUT} "// Generated from dsl/std.dsp; do not edit.\n"
  "namespace dspjit { extern const char *const kStdLibSource;\n"
  "const char *const kStdLibSource = R\"dsp_std(${CONTENT})dsp_std\"; }\n")
