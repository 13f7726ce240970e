// SPDX-License-Identifier: Apache-2.0
#include "profile/stack_contract.hpp"

#include <algorithm>
#include <string>

namespace zt::profile {

std::optional<std::uint32_t> known_postgres_uid(std::string_view image) {
  constexpr std::string_view official = "docker.io/library/postgres:";
  if (!image.starts_with(official)) {
    return std::nullopt;
  }
  const std::string_view tag = image.substr(official.size());
  return tag.find("alpine") != std::string_view::npos ? 70U : 999U;
}

void check_postgres_uid(const Stack& stack, const SiteConfig& site, Diagnostics& out) {
  const auto image = std::ranges::find(site.stack.images, std::string("postgres"), &ImageOverride::container);
  const auto postgres = std::ranges::find(stack.containers, std::string("postgres"), &Container::name);
  if (image == site.stack.images.end() || postgres == stack.containers.end()) {
    return;
  }
  const auto mount = std::ranges::find(postgres->volumes, std::string("postgres-data"), &Mount::source);
  const auto dir = std::ranges::find(site.data_dirs, std::string("postgres-data"), &DataDir::name);
  if (mount == postgres->volumes.end() || dir == site.data_dirs.end()) {
    return; // nothing to get wrong, or reported by the data dir check
  }
  const auto uid = known_postgres_uid(image->image);
  const std::string head = "stack.images.postgres: '" + image->image + "': ";
  const std::string how = "set [[data.dirs]] in [data] (the whole list: postgres-data, zerotier, caddy_data) "
                          "with container_uids = [UID] for postgres-data, UID being the uid the image runs "
                          "postgres as";
  const auto error_at = [&out](const SourcePos& where, std::string message) {
    out.push_back({where.file, where.line, where.col, std::move(message)});
  };
  if (site.data_dirs_where.file.empty()) {
    if (uid == 70U) {
      return;
    }
    if (uid) {
      error_at(image->where, head + "the Debian-based postgres images run postgres as uid 999, but the default "
                                    "ACL of data dir 'postgres-data' is for uid 70 (postgres:*-alpine); use an "
                                    "-alpine tag, or " + how + " (999)");
    } else {
      error_at(image->where, head + "ztagent cannot tell which uid this image runs postgres as (70 in "
                                    "postgres:*-alpine, 999 in the Debian-based tags), and the default ACL of "
                                    "data dir 'postgres-data' is for uid 70; " + how);
    }
    return;
  }
  if (uid && std::ranges::find(dir->container_uids, *uid) == dir->container_uids.end()) {
    error_at(site.data_dirs_where, "data.dirs: 'postgres-data' has no container_uids entry for uid " +
                                       std::to_string(*uid) + ", the uid '" + image->image +
                                       "' runs postgres as (stack.images.postgres); add it to container_uids");
  }
}

} // namespace zt::profile
