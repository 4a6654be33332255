# Every third-party dependency is a Debian package (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(fmt CONFIG REQUIRED)

# RapidJSON ships no CMake target, only an include dir; wrap it (and silence its
# warnings by marking it SYSTEM).
find_path(RAPIDJSON_INCLUDE_DIR rapidjson/document.h REQUIRED)
add_library(chatsdk_rapidjson INTERFACE)
target_include_directories(chatsdk_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIR})
target_compile_definitions(chatsdk_rapidjson INTERFACE
  RAPIDJSON_HAS_STDSTRING=1)

if(CHATSDK_BUILD_SERVER OR CHATSDK_BUILD_CLIENT OR CHATSDK_BUILD_BENCH)
  pkg_check_modules(LWS REQUIRED IMPORTED_TARGET libwebsockets)
  pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
endif()
if(CHATSDK_BUILD_CLIENT)
  pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
endif()
if(CHATSDK_BUILD_TESTS)
  find_package(doctest CONFIG REQUIRED)
endif()
