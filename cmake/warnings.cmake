# chatsdk_warnings: an interface target every first-party target links PRIVATE.
add_library(chatsdk_warnings INTERFACE)
target_compile_options(chatsdk_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
if(CHATSDK_WERROR)
  target_compile_options(chatsdk_warnings INTERFACE -Werror)
endif()
