# Generates chatsdk_status.h (the C `chat_status` enum) from errc_list.inc, the
# one list of status codes, so C and C++ codes cannot drift.
#   cmake -DIN=include/chatsdk/errc_list.inc -DOUT=path/chatsdk_status.h -P gen_status.cmake
# The output is committed (bindings need a plain header); the test
# c_api_status_fresh regenerates it and fails on any difference.
file(STRINGS "${IN}" lines REGEX "^CHATSDK_ERRC\\(")
set(body "")
foreach(line IN LISTS lines)
  string(REGEX MATCH "^CHATSDK_ERRC\\(([a-z0-9_]+), *([0-9]+), *([01]), *\"(.*)\"\\)$" m "${line}")
  if(NOT m)
    message(FATAL_ERROR "gen_status: cannot parse: ${line}")
  endif()
  set(name "${CMAKE_MATCH_1}")
  set(num "${CMAKE_MATCH_2}")
  set(doc "${CMAKE_MATCH_4}")
  string(TOUPPER "${name}" upper)
  if(name STREQUAL "ok")
    set(enumerator "CHAT_OK")
  else()
    set(enumerator "CHAT_E_${upper}")
  endif()
  string(REPLACE "*/" "* /" doc "${doc}")
  string(APPEND body "  ${enumerator} = ${num}, /**< ${doc} */\n")
endforeach()
set(text "/* chatsdk_status.h - GENERATED from include/chatsdk/errc_list.inc by
 * bindings/c/tools/gen_status.cmake. Do not edit: change errc_list.inc and run
 * `cmake --build <dir> --target chatsdk_c_gen_status`.
 *
 * chat_status is append-only: numbers are never renumbered or reused. They are
 * the numbers of chatsdk::Errc (C++) and the codes of the wire protocol.
 * Since: 0.1.0
 */
#ifndef CHATSDK_STATUS_H
#define CHATSDK_STATUS_H

typedef enum chat_status {
${body}  /* Not a status: makes the enum span every int, so any value a newer
   * library returns (or a caller passes) is a valid chat_status. */
  CHAT_STATUS_FORCE_INT = 0x7FFFFFFF
} chat_status;

#endif /* CHATSDK_STATUS_H */
")
file(WRITE "${OUT}" "${text}")
