// SPDX-License-Identifier: Apache-2.0
#include "profile/data_root.hpp"

#include "support/catch.hpp"

#include <string>
#include <vector>

using zt::profile::data_root_problem;

TEST_CASE("data_root_problem: system directories, their subtrees and ancestors are refused", "[profile][data_root]") {
  const std::string why = " (the data step would chown it to the service user and set mode 0750); use a "
                          "directory of the stack's own, e.g. /opt/ztnet-data or /srv/ztnet";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"/etc", "'/etc' is a system directory"},
      {"/usr", "'/usr' is a system directory"},
      {"/home", "'/home' is a system directory"},
      {"/var", "'/var' is a system directory"},
      {"/boot", "'/boot' is a system directory"},
      {"/opt", "'/opt' is a system directory"},
      {"/srv", "'/srv' is a system directory"},
      {"/root", "'/root' is a system directory"},
      {"/var/lib", "'/var/lib' is a system directory"},
      {"/var/lib/dpkg", "'/var/lib/dpkg' is a system directory"},
      {"/etc/ztnet", "'/etc/ztnet' is inside the system directory /etc"},
      {"/usr/local/ztnet", "'/usr/local/ztnet' is inside the system directory /usr"},
      {"/run/ztnet", "'/run/ztnet' is inside the system directory /run"},
      {"/tmp/data", "'/tmp/data' is inside the system directory /tmp"},
      {"/var/tmp", "'/var/tmp' is a system directory"},
      {"/var/lib/ztagent", "'/var/lib/ztagent' is a system directory"},
      {"/var/lib/ztagent/data", "'/var/lib/ztagent/data' is inside the system directory /var/lib/ztagent"},
      {"/proc/1", "'/proc/1' is inside the system directory /proc"},
      {"/home/ztnet", "'/home/ztnet' is the service user's home /home/ztnet"},
  };
  for (const auto& [path, message] : refused) {
    INFO(path);
    auto problem = data_root_problem(path, "/home/ztnet");
    REQUIRE(problem);
    CHECK(*problem == message + why);
  }
  // An ancestor of the home that is no system directory itself.
  auto ancestor = data_root_problem("/srv/users", "/srv/users/ztnet");
  REQUIRE(ancestor);
  CHECK(*ancestor == "'/srv/users' contains the service user's home /srv/users/ztnet" + why);

  for (const char* fine : {"/opt/ztnet-data", "/srv/ztnet", "/var/lib/ztnet", "/data", "/mnt/disk1/ztnet",
                           "/etcetera", "/home2/ztnet", "/home/ztnet-data", "/var/libx",
                           "/var/tmp/ztagent-root-test-1/data"}) {
    INFO(fine);
    CHECK_FALSE(data_root_problem(fine, "/home/ztnet"));
  }
}
