# doctest_discover_tests splits names at ';' (a CMake list separator), so such a
# test would be registered under a truncated name that matches nothing and
# "passes" without running. Refuse them (also when the name starts on the line
# after `TEST_CASE(`).
file(GLOB_RECURSE files ${TESTS}/*.cpp)
foreach(f ${files})
  file(READ ${f} text)
  string(REGEX MATCHALL "TEST_CASE\\([ \t\r\n]*\"[^\"]*;[^\"]*\"" bad "${text}")
  if(bad)
    message(SEND_ERROR "${f}: test name with ';' (never runs under ctest): ${bad}")
  endif()
endforeach()
