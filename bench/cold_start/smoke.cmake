# Smoke test: populate a small cache, measure once in a fresh process, check
# the RESULT line and that the counts are the ones populated.
execute_process(COMMAND ${EXE} --populate ${DB} --channels 20 --messages 500
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "populate failed (${rc}): ${out}${err}")
endif()
execute_process(COMMAND ${EXE} --measure ${DB} --runs 1
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE ${DB} ${DB}-wal ${DB}-shm)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "measure failed (${rc}): ${out}${err}")
endif()
if(NOT out MATCHES "RESULT cold_start channels=20 messages=500 loaded=([0-9]+) runs=1 cache=warm wall_ms_p50=[0-9.]+ ")
  message(FATAL_ERROR "no RESULT line with channels=20 messages=500: ${out}${err}")
endif()
if(CMAKE_MATCH_1 LESS 1 OR CMAKE_MATCH_1 GREATER 50)
  message(FATAL_ERROR "loaded=${CMAKE_MATCH_1} messages, expected 1..50: ${out}")
endif()
message(STATUS "${out}")
