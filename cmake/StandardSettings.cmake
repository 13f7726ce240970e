# Settings every first-party target links PRIVATE (ccache cmake/StandardSettings.cmake).
add_library(ztagent_settings INTERFACE)
target_compile_features(ztagent_settings INTERFACE cxx_std_23)
target_compile_definitions(ztagent_settings INTERFACE
  $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>
  ZTAGENT_VERSION="${PROJECT_VERSION}")

set(ZTAGENT_SANITIZERS "" CACHE STRING "Comma-separated sanitizers, e.g. address,undefined")
if(ZTAGENT_SANITIZERS)
  string(REPLACE "," ";" _zt_sans "${ZTAGENT_SANITIZERS}")
  foreach(_san IN LISTS _zt_sans)
    target_compile_options(ztagent_settings INTERFACE -fsanitize=${_san})
    target_link_options(ztagent_settings INTERFACE -fsanitize=${_san})
  endforeach()
  target_compile_options(ztagent_settings INTERFACE -fno-omit-frame-pointer -fno-sanitize-recover=all)
endif()
