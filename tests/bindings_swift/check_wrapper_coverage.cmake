# A language wrapper keeps up with the C API: every chat_client_* function
# chatsdk.h declares is used by WRAPPER (except the EXEMPT ones), and every event
# type the C shim renders as JSON (chat_event_to_json) is named, in quotes, in
# EVENTS. Both wrappers decode events from that JSON, so a new event type or
# command that a binding missed fails here instead of going unnoticed (the Swift
# wrapper cannot be compiled on the CI image at all). Used by tests/bindings_swift
# and tests/bindings_java.
#
# -DHEADER=<chatsdk.h> -DSHIM=<chatsdk_c.cpp> -DWRAPPER=<file> -DEVENTS=<file>
# -DEXEMPT=<name,name,...>  (commas: a ';' would split the ctest argument)
cmake_minimum_required(VERSION 3.25)  # IN_LIST in script mode
foreach(v HEADER SHIM WRAPPER EVENTS)
  if(NOT EXISTS "${${v}}")
    message(FATAL_ERROR "${v}='${${v}}' does not exist")
  endif()
endforeach()
file(READ ${HEADER} header)
file(READ ${SHIM} shim)
file(READ ${WRAPPER} wrapper)
file(READ ${EVENTS} events)
string(REPLACE "," ";" exempt "${EXEMPT}")

# Declarations only ("CHAT_API <type> chat_client_x("), not names in comments.
string(REGEX MATCHALL "CHAT_API [^(;]*[ *]chat_client_[a-z_]+\\(" decls "${header}")
set(missing "")
set(n 0)
foreach(d IN LISTS decls)
  string(REGEX REPLACE ".*[ *](chat_client_[a-z_]+)\\($" "\\1" fn "${d}")
  math(EXPR n "${n} + 1")
  if(fn IN_LIST exempt)
    continue()
  endif()
  # Followed by anything but a name character: "fn(" or, in a JNI macro, "fn)".
  string(REGEX MATCH "${fn}[^a-z_]" used "${wrapper}")
  if(NOT used)
    list(APPEND missing ${fn})
  endif()
endforeach()
if(n LESS 40)
  message(FATAL_ERROR "found only ${n} chat_client_* declarations in ${HEADER}; the scan is broken")
endif()
if(missing)
  message(FATAL_ERROR "${WRAPPER} does not use: ${missing}")
endif()

string(REGEX MATCHALL "kv\\(w, \"type\", \"[a-z_]+\"\\)" types "${shim}")
list(LENGTH types nt)
if(nt LESS 12)
  message(FATAL_ERROR "found only ${nt} event types in ${SHIM}; the scan is broken")
endif()
set(unnamed "")
foreach(t IN LISTS types)
  string(REGEX REPLACE ".*\"([a-z_]+)\"\\)$" "\\1" type "${t}")
  string(FIND "${events}" "\"${type}\"" at)
  if(at EQUAL -1)
    list(APPEND unnamed ${type})
  endif()
endforeach()
if(unnamed)
  message(FATAL_ERROR "${EVENTS} does not handle event types: ${unnamed}")
endif()
message(STATUS "${WRAPPER}: ${n} chat_client_* functions and ${nt} event types covered")
