# SPDX-License-Identifier: Apache-2.0
# cmake -DINPUT=ztagent.8 -DOUTPUT=ztagent.8.gz -DVERSION=x.y.z -DGZIP=/bin/gzip -P gzip-manpage.cmake
# Substitutes @ZTAGENT_VERSION@ and compresses reproducibly (gzip -n: no name, no timestamp).
foreach(var INPUT OUTPUT VERSION GZIP)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "gzip-manpage.cmake: -D${var}=... is required")
  endif()
endforeach()
set(ZTAGENT_VERSION "${VERSION}")
file(READ "${INPUT}" text)
string(CONFIGURE "${text}" text @ONLY)
file(WRITE "${OUTPUT}.tmp" "${text}")
execute_process(COMMAND "${GZIP}" -9 -n -c "${OUTPUT}.tmp" OUTPUT_FILE "${OUTPUT}" RESULT_VARIABLE rc)
file(REMOVE "${OUTPUT}.tmp")
if(NOT rc EQUAL 0)
  file(REMOVE "${OUTPUT}")
  message(FATAL_ERROR "gzip-manpage.cmake: ${GZIP} failed (${rc}) on ${INPUT}")
endif()
