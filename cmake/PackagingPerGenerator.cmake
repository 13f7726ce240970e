# CPACK_PROJECT_CONFIG_FILE: read by cpack once per generator. The .rpm gets every component but the
# Debian-only one (the lintian overrides); the .deb gets all of them.
if(CPACK_GENERATOR STREQUAL "RPM")
  list(REMOVE_ITEM CPACK_COMPONENTS_ALL deb_only)
endif()
