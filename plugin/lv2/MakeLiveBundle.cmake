# Writes the live plugin's bundle: DIR/manifest.ttl, DIR/dspjit-live.ttl
# (its 16 knobs and 4 meters spelled out from the template) and
# DIR/dspjit-live.so, a copy of the plugin library as built (no payload:
# the library is then the live plugin). Run with -DSRC= -DDIR= -DLIB=.
set(knobs "")
foreach(i RANGE 1 16)
  math(EXPR index "${i} + 3")
  if(NOT i EQUAL 1)
    string(APPEND knobs " ,\n")
  endif()
  string(APPEND knobs "  [\n    a lv2:InputPort , lv2:ControlPort ;\n"
    "    lv2:index ${index} ;\n    lv2:symbol \"knob_${i}\" ;\n"
    "    lv2:name \"Knob ${i}\" ;\n"
    "    lv2:default 0.5 ;\n    lv2:minimum 0.0 ;\n    lv2:maximum 1.0\n  ]")
endforeach()
set(meters "")
foreach(i RANGE 1 4)
  math(EXPR index "${i} + 19")
  if(NOT i EQUAL 1)
    string(APPEND meters " ,\n")
  endif()
  string(APPEND meters "  [\n    a lv2:OutputPort , lv2:ControlPort ;\n"
    "    lv2:index ${index} ;\n    lv2:symbol \"meter_${i}\" ;\n"
    "    lv2:name \"Meter ${i}\"\n  ]")
endforeach()
file(READ ${SRC}/dspjit-live.ttl ttl)
string(REPLACE "@KNOBS@" "${knobs}" ttl "${ttl}")
string(REPLACE "@METERS@" "${meters}" ttl "${ttl}")
file(MAKE_DIRECTORY ${DIR})
file(WRITE ${DIR}/dspjit-live.ttl "${ttl}")
configure_file(${SRC}/live-manifest.ttl ${DIR}/manifest.ttl COPYONLY)
configure_file(${LIB} ${DIR}/dspjit-live.so COPYONLY)
