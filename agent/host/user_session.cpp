// SPDX-License-Identifier: Apache-2.0
#include "host/user_session.hpp"

#include <utility>

namespace zt::host {

std::string runtime_dir(std::uint32_t uid) {
  return "/run/user/" + std::to_string(uid);
}

Command as_user(const Account& account, std::vector<std::string> argv, Effect effect, std::chrono::seconds timeout) {
  Command cmd;
  cmd.argv = {"runuser", "-u", account.name, "--"};
  cmd.argv.insert(cmd.argv.end(), std::make_move_iterator(argv.begin()), std::make_move_iterator(argv.end()));
  cmd.effect = effect;
  cmd.scope = Scope::host;
  const std::string run = runtime_dir(account.uid);
  cmd.env = {{"XDG_RUNTIME_DIR", run}, {"DBUS_SESSION_BUS_ADDRESS", "unix:path=" + run + "/bus"}};
  cmd.timeout = timeout;
  cmd.cwd = "/";
  return cmd;
}

Command user_systemctl(const Account& account, std::vector<std::string> args, Effect effect,
                       std::chrono::seconds timeout) {
  std::vector<std::string> argv = {"systemctl", "--user"};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  return as_user(account, std::move(argv), effect, timeout);
}

Command user_podman(const Account& account, std::vector<std::string> args, Effect effect,
                    std::chrono::seconds timeout) {
  std::vector<std::string> argv = {"podman"};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  return as_user(account, std::move(argv), effect, timeout);
}

} // namespace zt::host
