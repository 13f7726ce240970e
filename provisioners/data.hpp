// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "data": the data tree of the stack (HOST-SPEC step 4). Desired state and checks live in
// checks/data.hpp. This step creates data_root and the data dirs, and sets owner, mode, access ACL
// and (data dirs only) default ACL on exactly those directories. It never follows a symlink in the
// tree, never deletes anything, never changes parents of data_root (other than creating missing ones
// 0755), and never touches what lies below the data dirs: the containers own that content.

#include "checks/data.hpp"
#include "profile/spec.hpp"
#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

namespace zt::provisioners {

class Data final : public Provisioner {
public:
  explicit Data(checks::DataSpec spec) : m_spec(std::move(spec)) {}
  [[nodiscard]] std::string_view id() const override { return "data"; }
  /// One Change per (path, aspect): "create directory 0750", "owner root:root -> ztnet:ztnet",
  /// "mode 0755 -> 0750", "ACL: add user:999:rwx", "default ACL: add user:165605:rwx". When the user
  /// (or its subuid range) does not exist yet, says that owner/ACLs follow once it does, without
  /// failing. Errc::refused when a managed path is a symlink or not a directory, or a parent of
  /// data_root is a symlink, not a directory, or not searchable by the user.
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// Re-checks everything plan() refuses before changing anything, then per directory (data_root
  /// first): make_directory, set_owner, set_mode, set_acl(access), set_acl(default). Errc::not_found
  /// when the user or a needed subuid range does not exist.
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;
  /// data_root and each data dir (directories: owner, mode, ACLs).
  [[nodiscard]] std::vector<std::string> managed_paths(const host::HostView& /*host*/) const override {
    std::vector<std::string> out;
    for (const auto& target : checks::data_targets(m_spec)) {
      out.push_back(target.path);
    }
    return out;
  }

private:
  struct TargetState {
    checks::DataTarget target;
    host::FileStat st;
  };
  struct Survey {
    std::optional<checks::DataOwner> owner;
    std::vector<std::string> missing_parents; // outermost first
    std::vector<TargetState> targets;         // data_root first
  };
  [[nodiscard]] Result<Survey> survey(const host::HostView& host) const;

  checks::DataSpec m_spec;
};

/// The data spec from the site config (data_root mode 0750).
[[nodiscard]] checks::DataSpec data_spec_from(const profile::Config& config);

/// The "data" step: Data plus checks::make_data_checks.
[[nodiscard]] Step make_data_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
