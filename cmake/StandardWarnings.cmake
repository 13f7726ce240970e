# Warnings for first-party code only (ccache cmake/DevModeWarnings.cmake).
add_library(ztagent_warnings INTERFACE)
target_compile_options(ztagent_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wnull-dereference -Wcast-align -Wextra-semi)
option(ZTAGENT_WERROR "Treat warnings as errors" OFF)
if(ZTAGENT_WERROR)
  target_compile_options(ztagent_warnings INTERFACE -Werror)
endif()
