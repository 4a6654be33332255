# doctest_discover_tests splits names at ';' (a CMake list separator), so such a
# test would be registered under a truncated name that matches nothing and
# "passes" without running. Refuse them.
file(GLOB_RECURSE files ${TESTS}/*.cpp)
foreach(f ${files})
  file(STRINGS ${f} lines REGEX "TEST_CASE\\(\"[^\"]*;")
  if(lines)
    message(SEND_ERROR "${f}: test name with ';' (never runs under ctest): ${lines}")
  endif()
endforeach()
