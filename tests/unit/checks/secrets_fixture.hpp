// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the secrets checks and provisioner tests: a stack with two secrets, two containers
// that use them and two that do not, and the env file paths of user ztnet.

#include "profile/spec.hpp"

#include <string>

namespace zt::test::secrets {

/// Pod ztnet; POSTGRES_PASSWORD (postgres, ztnet) and NEXTAUTH_SECRET (ztnet); zerotier and caddy
/// use no secret.
inline profile::Stack test_stack() {
  profile::Stack s;
  s.pod = "ztnet";
  s.secrets = {{"POSTGRES_PASSWORD", 32}, {"NEXTAUTH_SECRET", 32}};
  profile::Container postgres;
  postgres.name = "postgres";
  postgres.secrets = {{"POSTGRES_PASSWORD", "POSTGRES_PASSWORD"}};
  profile::Container ztnet;
  ztnet.name = "ztnet";
  ztnet.secrets = {{"POSTGRES_PASSWORD", "POSTGRES_PASSWORD"}, {"NEXTAUTH_SECRET", "NEXTAUTH_SECRET"}};
  profile::Container zerotier;
  zerotier.name = "zerotier";
  profile::Container caddy;
  caddy.name = "caddy";
  s.containers = {postgres, ztnet, zerotier, caddy};
  return s;
}

inline const std::string k_dir = "/home/ztnet/.config/ztagent/secrets";
inline const std::string k_pg = k_dir + "/ztnet-postgres.env";
inline const std::string k_zt = k_dir + "/ztnet-ztnet.env";

} // namespace zt::test::secrets
