# Writes the web panel's files (session/web/) into a C++ file as byte
# arrays, so that the binary serves them with no file, CDN or build step at
# run time. Run by session/CMakeLists.txt with -DOUT=... -DDIR=...
# -DFILES=index.html,panel.js,panel.css.
string(REPLACE "," ";" FILES "${FILES}")
string(CONCAT body "// Generated from session/web/ by EmbedWebAssets.cmake; do not edit.\n"
  "#include <cstddef>\nnamespace dspjit::session {\n"
  "struct WebAsset { const char *Path; const char *Type; "
  "const unsigned char *Data; std::size_t Size; };\n")
set(table "")
set(index 0)
foreach(name ${FILES})
  file(READ ${DIR}/${name} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR size "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  if(name MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(name MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  elseif(name MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  else()
    set(type "application/octet-stream")
  endif()
  string(APPEND body "static const unsigned char Asset${index}[] = {${bytes}0};\n")
  string(APPEND table "  {\"/${name}\", \"${type}\", Asset${index}, ${size}},\n")
  math(EXPR index "${index} + 1")
endforeach()
string(APPEND body "extern const WebAsset kWebAssets[];\n"
  "const WebAsset kWebAssets[] = {\n${table}};\n"
  "extern const std::size_t kNumWebAssets;\n"
  "const std::size_t kNumWebAssets = ${index};\n}\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
