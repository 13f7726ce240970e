// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the ports checks and provisioner tests: the stack's ports as the profile declares them
// (Config::stack is filled by the loader; tests build it here) and the exact forward artefacts.

#include "profile/spec.hpp"

#include <string>

namespace zt::test::ports {

/// http 80 -> 8080 tcp, https 443 -> 8443 tcp, zerotier 9993 udp (not forwarded).
inline profile::Stack forward_stack() {
  profile::Stack stack;
  stack.ports = {{.name = "http", .port = 80, .container = 80, .protocol = "tcp", .forward_to = 8080},
                 {.name = "https", .port = 443, .container = 443, .protocol = "tcp", .forward_to = 8443},
                 {.name = "zerotier", .port = 9993, .container = 9993, .protocol = "udp", .forward_to = 0}};
  return stack;
}

inline profile::Config forward_config(profile::PortStrategy strategy, std::string firewall = "nftables") {
  profile::Config config;
  config.site.port_strategy = strategy;
  config.profile.firewall = std::move(firewall);
  config.stack = forward_stack();
  return config;
}

/// What `nft list table inet ztagent` printed on Debian 12 (nft 1.0.6) after loading the rendered file.
inline const std::string k_nft_listing = "table inet ztagent {\n"
                                         "\tchain prerouting {\n"
                                         "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
                                         "\t\ttcp dport 80 redirect to :8080\n"
                                         "\t\ttcp dport 443 redirect to :8443\n"
                                         "\t}\n"
                                         "\n"
                                         "\tchain output {\n"
                                         "\t\ttype nat hook output priority -100; policy accept;\n"
                                         "\t\tfib daddr type local tcp dport 80 redirect to :8080\n"
                                         "\t\tfib daddr type local tcp dport 443 redirect to :8443\n"
                                         "\t}\n"
                                         "}\n";

inline const std::string k_nft_conf_text =
    "# Managed by ztagent (ports.strategy = forward): redirects the public ports to the rootless pod's\n"
    "# ports, for incoming and for local traffic. Loaded at boot by ztagent-forward.service.\n"
    "# Re-runnable: `nft -f` replaces only this table, atomically.\n"
    "table inet ztagent {}\n"
    "delete table inet ztagent\n" +
    k_nft_listing;

inline const std::string k_unit_text = "# Managed by ztagent (ports.strategy = forward).\n"
                                       "[Unit]\n"
                                       "Description=ztagent port redirects (nftables table inet ztagent)\n"
                                       "Documentation=man:ztagent(8)\n"
                                       "DefaultDependencies=no\n"
                                       "Wants=network-pre.target\n"
                                       "Before=network-pre.target shutdown.target\n"
                                       "# nftables.service starts with `flush ruleset`: load after it.\n"
                                       "After=nftables.service\n"
                                       "Conflicts=shutdown.target\n"
                                       "\n"
                                       "[Service]\n"
                                       "Type=oneshot\n"
                                       "RemainAfterExit=yes\n"
                                       "ExecStart=/usr/sbin/nft -f /etc/ztagent/nftables.conf\n"
                                       "ExecReload=/usr/sbin/nft -f /etc/ztagent/nftables.conf\n"
                                       "ExecStop=-/usr/sbin/nft delete table inet ztagent\n"
                                       "\n"
                                       "[Install]\n"
                                       "WantedBy=multi-user.target\n";

inline const std::string k_conf = "/etc/ztagent/nftables.conf";
inline const std::string k_unit = "/etc/systemd/system/ztagent-forward.service";
inline const std::string k_link = "/etc/systemd/system/multi-user.target.wants/ztagent-forward.service";

/// firewall-cmd's listings when everything ztagent adds is there.
inline const std::string k_fw_ports = "port=80:proto=tcp:toport=8080:toaddr=\nport=443:proto=tcp:toport=8443:toaddr=\n";
inline const std::string k_fw_rules = "ipv4 nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT --to-ports 8080\n"
                                      "ipv6 nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT --to-ports 8080\n"
                                      "ipv4 nat OUTPUT 0 -o lo -p tcp --dport 443 -j REDIRECT --to-ports 8443\n"
                                      "ipv6 nat OUTPUT 0 -o lo -p tcp --dport 443 -j REDIRECT --to-ports 8443\n";

} // namespace zt::test::ports
