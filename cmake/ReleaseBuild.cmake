# The release build (-DZTAGENT_RELEASE_STATIC=ON, used by packaging/build-release.sh): one binary
# that installs on every supported distribution (Debian 12/13, Ubuntu 24.04, Fedora). It needs only
# what all of them ship at a compatible version: glibc (built on Debian 12, so GLIBC_2.36 at most),
# libm, libacl.so.1 plus the loader; libssl.so.3 is dlopened by the HTTPS probe (agent/host/libssl.hpp),
# so the packages name it by hand. The C++ runtime is linked statically, Boost.Filesystem from
# Debian's libboost_filesystem.a and Nettle from libnettle.a, spdlog, fmt and toml++ header-only
# (Debian 12 ships no .a for them). The compiler and linker flags are Debian's:
# `dpkg-buildflags` with DEB_BUILD_MAINT_OPTIONS=hardening=+all (FORTIFY, stack protector,
# RELRO + BIND_NOW), and PIE. tests/package/check-release-binary.sh checks the result (ctest -L package).
#
# Include before find_package(Boost) (Boost_USE_STATIC_LIBS); call zt_release_targets() after the
# find_package calls: it defines ztagent_spdlog and ztagent_toml, the targets first-party code links.
option(ZTAGENT_RELEASE_STATIC "Release build: static C++ runtime/Boost, header-only spdlog/fmt/toml++, dpkg-buildflags hardening" OFF)

if(ZTAGENT_RELEASE_STATIC)
  if(ZTAGENT_SANITIZERS)
    message(FATAL_ERROR "ZTAGENT_RELEASE_STATIC=ON and ZTAGENT_SANITIZERS cannot be combined")
  endif()
  set(Boost_USE_STATIC_LIBS ON)

  find_program(ZT_DPKG_BUILDFLAGS NAMES dpkg-buildflags)
  if(NOT ZT_DPKG_BUILDFLAGS)
    message(FATAL_ERROR "ZTAGENT_RELEASE_STATIC=ON needs dpkg-buildflags for Debian's hardening flags: apt-get install dpkg-dev")
  endif()
  foreach(_zt_var IN ITEMS CPPFLAGS CXXFLAGS LDFLAGS)
    execute_process(
      COMMAND ${CMAKE_COMMAND} -E env DEB_BUILD_MAINT_OPTIONS=hardening=+all ${ZT_DPKG_BUILDFLAGS} --get ${_zt_var}
      WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
      OUTPUT_VARIABLE _zt_flags OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE _zt_rc)
    if(NOT _zt_rc EQUAL 0)
      message(FATAL_ERROR "dpkg-buildflags --get ${_zt_var} failed (${_zt_rc})")
    endif()
    separate_arguments(_zt_flags UNIX_COMMAND "${_zt_flags}")
    set(ZT_DPKG_${_zt_var} ${_zt_flags})
  endforeach()
  message(STATUS "ztagent release build: dpkg-buildflags CPPFLAGS ${ZT_DPKG_CPPFLAGS}; CXXFLAGS ${ZT_DPKG_CXXFLAGS}; LDFLAGS ${ZT_DPKG_LDFLAGS}")
  add_compile_options(${ZT_DPKG_CPPFLAGS} ${ZT_DPKG_CXXFLAGS})
  add_link_options(${ZT_DPKG_LDFLAGS} -static-libstdc++ -static-libgcc -Wl,--as-needed)

  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  include(CheckPIESupported)
  check_pie_supported(LANGUAGES CXX)
endif()

function(zt_release_targets)
  add_library(ztagent_spdlog INTERFACE)
  add_library(ztagent_toml INTERFACE)
  add_library(ztagent_nettle INTERFACE)
  if(ZTAGENT_RELEASE_STATIC)
    # Debian's nettle-dev ships libnettle.a: SHA-256 linked in, no libnettle8 dependency.
    find_library(ZT_NETTLE_STATIC NAMES libnettle.a REQUIRED)
    target_include_directories(ztagent_nettle SYSTEM INTERFACE ${NETTLE_INCLUDE_DIRS})
    target_link_libraries(ztagent_nettle INTERFACE "${ZT_NETTLE_STATIC}")
    # spdlog::spdlog_header_only links the shared fmt::fmt; pair header-only spdlog with header-only fmt.
    get_target_property(_zt_spdlog_inc spdlog::spdlog INTERFACE_INCLUDE_DIRECTORIES)
    target_include_directories(ztagent_spdlog SYSTEM INTERFACE ${_zt_spdlog_inc})
    target_compile_definitions(ztagent_spdlog INTERFACE SPDLOG_FMT_EXTERNAL)
    target_link_libraries(ztagent_spdlog INTERFACE fmt::fmt-header-only Threads::Threads)
    get_target_property(_zt_toml_inc tomlplusplus::tomlplusplus INTERFACE_INCLUDE_DIRECTORIES)
    target_include_directories(ztagent_toml SYSTEM INTERFACE ${_zt_toml_inc})
    target_compile_definitions(ztagent_toml INTERFACE TOML_HEADER_ONLY=1)
  else()
    target_link_libraries(ztagent_nettle INTERFACE PkgConfig::NETTLE)
    target_link_libraries(ztagent_spdlog INTERFACE spdlog::spdlog)
    target_link_libraries(ztagent_toml INTERFACE tomlplusplus::tomlplusplus)
  endif()
endfunction()
