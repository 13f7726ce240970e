# Packaging: man page, bash completion, example config, copyright and changelog, and the two
# packages built from the same install tree: a .deb (cpack -G DEB) and an .rpm (cpack -G RPM).
# The release packages come from packaging/build-release.sh OUT_DIR (a -DZTAGENT_RELEASE_STATIC=ON
# build, see cmake/ReleaseBuild.cmake); tests/package/test-deb.sh installs, upgrades and purges the .deb,
# tests/package/check-packages.sh runs lintian on the .deb and rpm -qlp/-qpR on the .rpm.
#   cmake --build B --target ztagent ztagent_package_files && (cd B && cpack -G "DEB;RPM")

# The package version is the top entry of packaging/changelog: UPSTREAM-REVISION, UPSTREAM = project().
file(STRINGS packaging/changelog _zt_changelog_top LIMIT_COUNT 1)
if(NOT _zt_changelog_top MATCHES "^ztagent \\(([0-9.]+)-([0-9]+)\\) ")
  message(FATAL_ERROR "packaging/changelog: the first line must be 'ztagent (VERSION-REVISION) ...', not '${_zt_changelog_top}'")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "packaging/changelog's top entry is ${CMAKE_MATCH_1}-${CMAKE_MATCH_2}, project() says ${PROJECT_VERSION}: add a changelog entry (dch -v ${PROJECT_VERSION}-1)")
endif()
set(ZTAGENT_PACKAGE_REVISION "${CMAKE_MATCH_2}")
file(STRINGS packaging/changelog _zt_changelog_trailer REGEX "^ -- " LIMIT_COUNT 1)
if(NOT _zt_changelog_trailer MATCHES "^ -- (.+)  ([A-Z][a-z][a-z]), ([0-9][0-9]) ([A-Z][a-z][a-z]) ([0-9][0-9][0-9][0-9]) ")
  message(FATAL_ERROR "packaging/changelog: no ' -- NAME <EMAIL>  DAY, DD MON YYYY HH:MM:SS +ZZZZ' trailer line")
endif()
set(_zt_changelog_maintainer "${CMAKE_MATCH_1}")
set(_zt_rpm_changelog_date "${CMAKE_MATCH_2} ${CMAKE_MATCH_4} ${CMAKE_MATCH_3} ${CMAKE_MATCH_5}")

find_program(ZT_GZIP_EXE NAMES gzip REQUIRED)
set(ZT_MANPAGE_GZ "${CMAKE_CURRENT_BINARY_DIR}/packaging/ztagent.8.gz")
set(ZT_CHANGELOG_GZ "${CMAKE_CURRENT_BINARY_DIR}/packaging/changelog.Debian.gz")
add_custom_command(
  OUTPUT "${ZT_MANPAGE_GZ}"
  COMMAND ${CMAKE_COMMAND} -DINPUT=${CMAKE_CURRENT_SOURCE_DIR}/packaging/ztagent.8 -DOUTPUT=${ZT_MANPAGE_GZ}
          -DVERSION=${PROJECT_VERSION} -DGZIP=${ZT_GZIP_EXE} -P ${CMAKE_CURRENT_SOURCE_DIR}/packaging/gzip-manpage.cmake
  DEPENDS packaging/ztagent.8 packaging/gzip-manpage.cmake
  COMMENT "Compressing the ztagent(8) man page")
add_custom_command(
  OUTPUT "${ZT_CHANGELOG_GZ}"
  COMMAND ${CMAKE_COMMAND} -DINPUT=${CMAKE_CURRENT_SOURCE_DIR}/packaging/changelog -DOUTPUT=${ZT_CHANGELOG_GZ}
          -DVERSION=${PROJECT_VERSION} -DGZIP=${ZT_GZIP_EXE} -P ${CMAKE_CURRENT_SOURCE_DIR}/packaging/gzip-manpage.cmake
  DEPENDS packaging/changelog packaging/gzip-manpage.cmake
  COMMENT "Compressing the Debian changelog")
add_custom_target(ztagent_manpage ALL DEPENDS "${ZT_MANPAGE_GZ}")
add_custom_target(ztagent_package_files ALL DEPENDS "${ZT_MANPAGE_GZ}" "${ZT_CHANGELOG_GZ}")

install(FILES "${ZT_MANPAGE_GZ}" DESTINATION share/man/man8)
install(FILES packaging/ztagent.bash-completion DESTINATION share/bash-completion/completions RENAME ztagent)
# Only the documented example: no /etc/ztagent/ztagent.toml is installed (no file = all defaults).
install(FILES profiles/ztagent.toml.example DESTINATION share/doc/ztagent/examples RENAME ztagent.toml)
install(FILES packaging/copyright "${ZT_CHANGELOG_GZ}" DESTINATION share/doc/ztagent)
# Debian only: the .rpm leaves it out (%exclude below).
install(FILES packaging/lintian-overrides DESTINATION share/lintian/overrides RENAME ztagent)

set(ZTAGENT_PACKAGE_MAINTAINER "${_zt_changelog_maintainer}" CACHE STRING "Maintainer field of the packages")
set(CPACK_GENERATOR "DEB;RPM")
set(CPACK_PACKAGE_NAME "ztagent")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${ZTAGENT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VENDOR "ztagent maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Lines of at most 72 columns: dpkg shows them indented by one space (lintian: <= 80).
set(CPACK_PACKAGE_DESCRIPTION
    "ztagent provisions and verifies a host that runs ZTNet (postgres,\n"
    "zerotier, ztnet and caddy in one pod) as a rootless Podman stack under\n"
    "a dedicated non-root user: ordered, idempotent steps (packages, user,\n"
    "subordinate ids, data directories with ACLs, linger, unprivileged\n"
    "ports, secrets, units), each with checks of its postcondition, and\n"
    "reports (text, JSON, JUnit, TAP, Prometheus textfile, Nagios) for CI,\n"
    "monitoring and cron.")
string(JOIN "" CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE "${ZTAGENT_PACKAGE_REVISION}")
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# dpkg-shlibdeps computes Depends from the binary's NEEDED entries: libc6 and libacl1 for the release
# build. libssl3 is named by hand: the HTTPS probe dlopens libssl.so.3 (agent/host/libssl.hpp), which
# shlibdeps cannot see; Debian 13's and Ubuntu 24.04's libssl3t64 Provide libssl3.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libssl3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "podman, passt, uidmap, acl")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE "${ZTAGENT_PACKAGE_REVISION}")
set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0")
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_PACKAGE_SUMMARY "${PROJECT_DESCRIPTION}")
# Requires come from rpmbuild's automatic dependency generator (libc.so.6(GLIBC_x)(64bit),
# libacl.so.1()(64bit)) plus libssl.so.3 below; Fedora's podman, passt, shadow-utils (newuidmap) and acl are Recommends,
# written into the preamble (CPack 3.25 has no RPM Recommends and drops its Suggests with Debian's rpmbuild).
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
# The dlopened libssl.so.3 (openssl-libs provides it), which the generator cannot see either.
set(CPACK_RPM_PACKAGE_REQUIRES "libssl.so.3()(64bit)")
set(CPACK_RPM_PACKAGE_AUTOPROV OFF)
# Directories the filesystem (and bash-completion) packages own; the package owns only its own.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/share/man /usr/share/man/man8 /usr/share/bash-completion /usr/share/bash-completion/completions
    /usr/share/doc /usr/share/lintian /usr/share/lintian/overrides)
set(CPACK_RPM_USER_FILELIST "%exclude /usr/share/lintian/overrides/ztagent")
# No /usr/lib/.build-id links: the .deb has none either, and no debuginfo package ships with it.
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none\nRecommends: podman, passt, shadow-utils, acl")
set(_zt_rpm_changelog "${CMAKE_CURRENT_BINARY_DIR}/packaging/rpm-changelog")
file(WRITE "${_zt_rpm_changelog}"
     "* ${_zt_rpm_changelog_date} ${_zt_changelog_maintainer} - ${PROJECT_VERSION}-${ZTAGENT_PACKAGE_REVISION}\n"
     "- See /usr/share/doc/ztagent/changelog.Debian.gz\n")
set(CPACK_RPM_CHANGELOG_FILE "${_zt_rpm_changelog}")
include(CPack)
