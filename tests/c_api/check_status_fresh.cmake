# Regenerates chatsdk_status.h into a temp file and fails if the committed
# header differs (errc_list.inc changed without `--target chatsdk_c_gen_status`).
set(tmp "${TMPDIR_OUT}/chatsdk_status.h")
execute_process(COMMAND ${CMAKE_COMMAND} -DIN=${IN} -DOUT=${tmp} -P ${GEN} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "generation failed")
endif()
file(READ "${tmp}" fresh)
file(READ "${COMMITTED}" committed)
if(NOT fresh STREQUAL committed)
  message(FATAL_ERROR "${COMMITTED} is stale: run cmake --build <dir> --target chatsdk_c_gen_status")
endif()
