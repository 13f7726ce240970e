// SPDX-License-Identifier: Apache-2.0
#pragma once

// A Stack as readable text, one fact per line, so tests compare whole stacks at once and a
// mismatch shows what differs.

#include "profile/spec.hpp"

#include <string>

namespace zt::test {

inline std::string describe(const zt::profile::Stack& stack) {
  std::string out = "pod " + stack.pod + "\ndomain " + stack.domain + "\n";
  for (const auto& port : stack.ports) {
    out += "port " + port.name + " " + std::to_string(port.port) + "->" + std::to_string(port.container) +
           "/" + port.protocol + " forward_to " + std::to_string(port.forward_to) + "\n";
  }
  for (const auto& secret : stack.secrets) {
    out += "secret " + secret.name + " " + std::to_string(secret.bytes) + " bytes\n";
  }
  for (const auto& file : stack.files) {
    out += "file " + file.path + " mode " + std::to_string(file.mode) + "\n" + file.content + "end of file\n";
  }
  for (const auto& c : stack.containers) {
    out += "container " + c.name + " " + c.image + "\n";
    for (const auto& [name, value] : c.env) {
      out += "  env " + name + "=" + value + "\n";
    }
    for (const auto& ref : c.secrets) {
      out += "  secret " + ref.secret + " as " + ref.env + "\n";
    }
    for (const auto& mount : c.volumes) {
      out +=
          "  volume " + mount.source + " -> " + mount.target + (mount.read_only ? " read-only" : "") + "\n";
    }
    for (const auto& device : c.devices) {
      out += "  device " + device + "\n";
    }
    for (const auto& cap : c.add_capabilities) {
      out += "  cap " + cap + "\n";
    }
    for (const auto& arg : c.exec) {
      out += "  exec " + arg + "\n";
    }
    for (const auto& name : c.after) {
      out += "  after " + name + "\n";
    }
    out += "  init " + std::string(c.init ? "yes" : "no") + ", stop_timeout " +
           std::to_string(c.stop_timeout) + "\n";
    if (!c.health.command.empty()) {
      out += "  health '" + c.health.command + "' every " + c.health.interval + ", timeout " +
             c.health.timeout + ", " + std::to_string(c.health.retries) + " retries, start period " +
             c.health.start_period + "\n";
    }
  }
  return out;
}

} // namespace zt::test
