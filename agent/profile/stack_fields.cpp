// SPDX-License-Identifier: Apache-2.0

// The ZTNet stack as data: the profile's [stack] ([[stack.ports]], [[stack.secrets]],
// [[stack.files]], [[stack.containers]] with their env, secrets, volumes, devices, capabilities,
// health checks and start order), the rules between those parts (check_stack), and
// resolve_stack(): the profile's stack with the site config's [stack] overrides applied.
// The site config's own [stack] keys (domain, images, ports, forward_ports) are read in
// site_fields.cpp.

#include "profile/profile_fields.hpp"
#include "profile/stack_contract.hpp"

namespace zt::profile {
namespace detail {

namespace {

// [[stack.ports]]

using PortElement = Element<PublishedPort>;

void set_port_name(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name = get_checked(e, layer, node, path, "name", is_stack_name, "port name", "a-z, 0-9, '-'")) {
    e.value.name = std::move(*name);
  }
}

void set_port_number(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto port = get_int_in(layer, node, path, 1, k_max_port)) {
    e.value.port = static_cast<std::uint32_t>(*port);
    mark(e, layer, node, "port");
  }
}

void set_port_container(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto port = get_int_in(layer, node, path, 1, k_max_port)) {
    e.value.container = static_cast<std::uint32_t>(*port);
    mark(e, layer, node, "container");
  }
}

constexpr std::string_view k_protocols[] = {"tcp", "udp"};

void set_port_protocol(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto protocol = get_enum(layer, node, path, k_protocols)) {
    e.value.protocol = std::string(*protocol);
    mark(e, layer, node, "protocol");
  }
}

void set_port_forward(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto port = get_int_in(layer, node, path, 0, k_max_port)) {
    e.value.forward_to = static_cast<std::uint32_t>(*port);
    mark(e, layer, node, "forward_to");
  }
}

constexpr Field<PortElement> k_port_fields[] = {
    {.key = "name", .set = &set_port_name},           {.key = "port", .set = &set_port_number},
    {.key = "container", .set = &set_port_container}, {.key = "protocol", .set = &set_port_protocol},
    {.key = "forward_to", .set = &set_port_forward},
};
constexpr std::string_view k_port_required[] = {"name", "port"};

/// Two ports that would publish the same host port and protocol, or nothing. Checked for the
/// profile and again after site overrides.
struct PortClash {
  std::size_t first;
  std::size_t second;
  std::string what; // "port 80/tcp"
};

std::optional<PortClash> find_port_clash(const std::vector<PublishedPort>& ports) {
  // Every host port a port may occupy: `port` (strategies sysctl, none) and `forward_to`.
  struct Use {
    std::uint32_t number;
    std::string protocol;
    std::size_t index;
  };
  std::vector<Use> uses;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    uses.push_back({ports[i].port, ports[i].protocol, i});
    if (ports[i].forward_to != 0 && ports[i].forward_to != ports[i].port) {
      uses.push_back({ports[i].forward_to, ports[i].protocol, i});
    }
  }
  for (std::size_t j = 0; j < uses.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      if (uses[i].index != uses[j].index && uses[i].number == uses[j].number &&
          uses[i].protocol == uses[j].protocol) {
        return PortClash{uses[i].index, uses[j].index,
                         "port " + std::to_string(uses[j].number) + "/" + uses[j].protocol};
      }
    }
  }
  return std::nullopt;
}

// [[stack.secrets]]

using SecretElement = Element<SecretSpec>;

void set_secret_name(SecretElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name = get_checked(e, layer, node, path, "name", is_secret_name, "secret name", "A-Z, 0-9, '_'")) {
    e.value.name = std::move(*name);
  }
}

void set_secret_bytes(SecretElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto bytes = get_int_in(layer, node, path, 16, 1024)) {
    e.value.bytes = static_cast<std::uint32_t>(*bytes);
    mark(e, layer, node, "bytes");
  }
}

constexpr Field<SecretElement> k_secret_fields[] = {
    {.key = "name", .set = &set_secret_name},
    {.key = "bytes", .set = &set_secret_bytes},
};
constexpr std::string_view k_secret_required[] = {"name"};

// [[stack.files]]

using FileElement = Element<StackFile>;

void set_file_path(FileElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_checked(e, layer, node, path, "path", is_relative_path, "path",
                              "relative to data_root; components of letters, digits, '.', '_', '-'")) {
    e.value.path = std::move(*text);
  }
}

void set_file_content(FileElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_string(layer, node, path)) {
    e.value.content = std::move(*text);
    mark(e, layer, node, "content");
  }
}

void set_file_mode(FileElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto mode = get_mode(layer, node, path)) {
    e.value.mode = *mode;
    mark(e, layer, node, "mode");
  }
}

constexpr Field<FileElement> k_file_fields[] = {
    {.key = "path", .set = &set_file_path},
    {.key = "content", .set = &set_file_content},
    {.key = "mode", .set = &set_file_mode},
};
constexpr std::string_view k_file_required[] = {"path", "content"};

// [[stack.containers]] secrets = [{ secret, env }]

using SecretRefElement = Element<SecretRef>;

void set_ref_secret(SecretRefElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name =
          get_checked(e, layer, node, path, "secret", is_secret_name, "secret name", "A-Z, 0-9, '_'")) {
    e.value.secret = std::move(*name);
  }
}

void set_ref_env(SecretRefElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name = get_checked(e, layer, node, path, "env", is_env_name, "environment variable name",
                              "letters, digits, '_'; not starting with a digit")) {
    e.value.env = std::move(*name);
  }
}

constexpr Field<SecretRefElement> k_ref_fields[] = {
    {.key = "secret", .set = &set_ref_secret},
    {.key = "env", .set = &set_ref_env},
};
constexpr std::string_view k_ref_required[] = {"secret"};

// [[stack.containers]] volumes = [{ source, target, read_only }]

using MountElement = Element<Mount>;

void set_mount_source(MountElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_checked(e, layer, node, path, "source", is_relative_path, "mount source",
                              "a data dir name or a stack file path, relative to data_root")) {
    e.value.source = std::move(*text);
  }
}

void set_mount_target(MountElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_path(layer, node, path)) {
    e.value.target = std::move(*text);
    mark(e, layer, node, "target");
  }
}

void set_mount_read_only(MountElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_bool(layer, node, path)) {
    e.value.read_only = *value;
    mark(e, layer, node, "read_only");
  }
}

constexpr Field<MountElement> k_mount_fields[] = {
    {.key = "source", .set = &set_mount_source},
    {.key = "target", .set = &set_mount_target},
    {.key = "read_only", .set = &set_mount_read_only},
};
constexpr std::string_view k_mount_required[] = {"source", "target"};

// [[stack.containers]]

struct ContainerElement {
  Container value;
  Pos pos;
  std::map<std::string, Pos, std::less<>> at;
  std::vector<Item> after;
  std::vector<Ref> secret_refs;
  std::vector<Ref> mount_sources;
  std::vector<std::pair<std::string, Pos>> ref_envs; // secret env names, with positions
};

void set_container_name(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name =
          get_checked(e, layer, node, path, "name", is_stack_name, "container name", "a-z, 0-9, '-'")) {
    e.value.name = std::move(*name);
  }
}

void set_container_image(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  auto image = get_string(layer, node, path);
  if (!image) {
    return;
  }
  if (const auto problem = image_problem(*image)) {
    layer.error(node, path + ": " + *problem);
    return;
  }
  e.value.image = std::move(*image);
  mark(e, layer, node, "image");
}

void set_container_env(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  const toml::table* table = get_table(layer, node, path);
  if (table == nullptr) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [key, value] : *table) {
    const std::string var_path = path + "." + std::string(key.str());
    if (!is_env_name(key.str())) {
      layer.error_at(layer.pos(key.source()), var_path + ": invalid environment variable name " +
                                                  squote(key.str()) +
                                                  " (letters, digits, '_'; not starting with a digit)");
      continue;
    }
    auto text = get_string(layer, value, var_path);
    if (!text) {
      continue;
    }
    if (const auto word = unknown_placeholder(*text)) {
      layer.error(value, var_path + ": unknown placeholder '{" + *word + "}' (known: {domain}, {pod})");
      continue;
    }
    env.emplace_back(std::string(key.str()), std::move(*text));
  }
  if (layer.error_count() == errors_before) {
    e.value.env = std::move(env);
    mark(e, layer, node, "env");
  }
}

void set_container_secrets(ContainerElement& e,
                           Layer& layer,
                           const toml::node& node,
                           const std::string& path) {
  auto refs = get_table_array(layer, node, path, k_ref_fields, k_ref_required);
  if (!refs) {
    return;
  }
  e.value.secrets.clear();
  e.secret_refs.clear();
  e.ref_envs.clear();
  for (std::size_t i = 0; i < refs->size(); ++i) {
    SecretRefElement& ref = (*refs)[i];
    if (ref.value.env.empty()) {
      ref.value.env = ref.value.secret;
    }
    const std::string ref_path = element_path(path, i);
    e.secret_refs.push_back({ref.value.secret, {layer.file(), ref.at.at("secret")}, ref_path + ".secret"});
    e.ref_envs.emplace_back(ref.value.env, ref.at.contains("env") ? ref.at.at("env") : ref.at.at("secret"));
    e.value.secrets.push_back(std::move(ref.value));
  }
  mark(e, layer, node, "secrets");
}

void set_container_volumes(ContainerElement& e,
                           Layer& layer,
                           const toml::node& node,
                           const std::string& path) {
  auto mounts = get_table_array(layer, node, path, k_mount_fields, k_mount_required);
  if (!mounts) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<Mount> volumes;
  std::vector<Ref> sources;
  for (std::size_t i = 0; i < mounts->size(); ++i) {
    MountElement& mount = (*mounts)[i];
    const std::string mount_path = element_path(path, i);
    const auto twin = std::ranges::find(volumes, mount.value.target, &Mount::target);
    if (twin != volumes.end()) {
      layer.error_at(mount.at.at("target"),
                     mount_path + ".target: " + squote(mount.value.target) + " is already mounted (" +
                         element_path(path, static_cast<std::size_t>(twin - volumes.begin())) + ")");
      continue;
    }
    sources.push_back({mount.value.source, {layer.file(), mount.at.at("source")}, mount_path + ".source"});
    volumes.push_back(std::move(mount.value));
  }
  if (layer.error_count() == errors_before) {
    e.value.volumes = std::move(volumes);
    e.mount_sources = std::move(sources);
    mark(e, layer, node, "volumes");
  }
}

bool is_device(std::string_view path) {
  return path.starts_with("/dev/") && !path_problem(path).has_value();
}

void set_container_devices(ContainerElement& e,
                           Layer& layer,
                           const toml::node& node,
                           const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  bool ok = list.ok;
  for (const Item& item : list.items) {
    if (!is_device(item.text)) {
      layer.error_at(item.pos, item.path + ": expected a device path under /dev/, got " + squote(item.text));
      ok = false;
    }
  }
  if (ok) {
    e.value.devices = texts(list.items);
    mark(e, layer, node, "devices");
  }
}

void set_container_caps(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  bool ok = list.ok;
  for (const Item& item : list.items) {
    if (!is_capability(item.text)) {
      layer.error_at(item.pos, item.path + ": invalid capability " + squote(item.text) +
                                   " (upper case without 'CAP_', e.g. 'NET_ADMIN')");
      ok = false;
    }
  }
  if (ok) {
    e.value.add_capabilities = texts(list.items);
    mark(e, layer, node, "add_capabilities");
  }
}

void set_container_exec(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::no);
  if (list.ok) {
    e.value.exec = texts(list.items);
    mark(e, layer, node, "exec");
  }
}

void set_container_after(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  if (list.ok) {
    e.after = list.items; // checked against the other containers by set_containers()
    mark(e, layer, node, "after");
  }
}

void set_container_init(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_bool(layer, node, path)) {
    e.value.init = *value;
    mark(e, layer, node, "init");
  }
}

void set_container_stop_timeout(ContainerElement& e,
                                Layer& layer,
                                const toml::node& node,
                                const std::string& path) {
  if (const auto value = get_int_in(layer, node, path, 1, 3600)) {
    e.value.stop_timeout = static_cast<std::uint32_t>(*value);
    mark(e, layer, node, "stop_timeout");
  }
}

void set_health_command(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  auto text = get_string(layer, node, path);
  if (!text) {
    return;
  }
  if (util::trim(*text).empty()) {
    layer.error(node, path + ": must not be empty (leave out [health] for no health check)");
    return;
  }
  e.value.health.command = std::move(*text);
  mark(e, layer, node, "health.command");
}

std::optional<std::string> get_duration(Layer& layer, const toml::node& node, const std::string& path) {
  auto text = get_string(layer, node, path);
  if (text && !is_duration(*text)) {
    layer.error(node, path + ": expected a duration such as \"30s\" or \"1m30s\", got " + squote(*text));
    return std::nullopt;
  }
  return text;
}

void set_health_interval(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto value = get_duration(layer, node, path)) {
    e.value.health.interval = std::move(*value);
    mark(e, layer, node, "health.interval");
  }
}

void set_health_timeout(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto value = get_duration(layer, node, path)) {
    e.value.health.timeout = std::move(*value);
    mark(e, layer, node, "health.timeout");
  }
}

void set_health_start_period(ContainerElement& e,
                             Layer& layer,
                             const toml::node& node,
                             const std::string& path) {
  if (auto value = get_duration(layer, node, path)) {
    e.value.health.start_period = std::move(*value);
    mark(e, layer, node, "health.start_period");
  }
}

void set_health_retries(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_int_in(layer, node, path, 1, 100)) {
    e.value.health.retries = static_cast<std::uint32_t>(*value);
    mark(e, layer, node, "health.retries");
  }
}

constexpr Field<ContainerElement> k_health_fields[] = {
    {.key = "command", .set = &set_health_command},
    {.key = "interval", .set = &set_health_interval},
    {.key = "timeout", .set = &set_health_timeout},
    {.key = "retries", .set = &set_health_retries},
    {.key = "start_period", .set = &set_health_start_period},
};
constexpr Field<ContainerElement> k_container_fields[] = {
    {.key = "name", .set = &set_container_name},
    {.key = "image", .set = &set_container_image},
    {.key = "env", .set = &set_container_env},
    {.key = "secrets", .set = &set_container_secrets},
    {.key = "volumes", .set = &set_container_volumes},
    {.key = "devices", .set = &set_container_devices},
    {.key = "add_capabilities", .set = &set_container_caps},
    {.key = "exec", .set = &set_container_exec},
    {.key = "after", .set = &set_container_after},
    {.key = "init", .set = &set_container_init},
    {.key = "stop_timeout", .set = &set_container_stop_timeout},
    table_field<ContainerElement>("health", k_health_fields),
};
constexpr std::string_view k_container_required[] = {"name", "image"};

void set_stack_pod(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto pod = get_string(layer, node, path);
  if (!pod) {
    return;
  }
  if (!is_stack_name(*pod)) {
    layer.error(node, path + ": invalid pod name " + squote(*pod) + " (a-z, 0-9, '-')");
    return;
  }
  b.spec.stack.pod = *pod;
  b.seen.insert(path);
}

void set_stack_domain(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto domain = get_string(layer, node, path);
  if (!domain) {
    return;
  }
  if (const auto problem = domain_problem(*domain)) {
    layer.error(node, path + ": " + *problem);
    return;
  }
  b.spec.stack.domain = *domain;
  b.seen.insert(path);
}

void set_stack_ports(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  auto elements = get_table_array(layer, node, path, k_port_fields, k_port_required);
  if (!elements) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<PublishedPort> ports;
  for (std::size_t i = 0; i < elements->size(); ++i) {
    PortElement& e = (*elements)[i];
    if (e.value.container == 0) {
      e.value.container = e.value.port;
    }
    report_duplicate(layer, e, path, i, "name", "port name", e.value.name, ports, &PublishedPort::name);
    ports.push_back(e.value);
  }
  if (layer.error_count() != errors_before) {
    return;
  }
  if (const auto clash = find_port_clash(ports)) {
    layer.error_at((*elements)[clash->second].pos,
                   element_path(path, clash->second) + ": " + clash->what + " is also used by " +
                       element_path(path, clash->first) + " (" + squote(ports[clash->first].name) + ")");
    return;
  }
  b.spec.stack.ports = std::move(ports);
  b.seen.insert(path);
}

void set_stack_secrets(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  auto elements = get_table_array(layer, node, path, k_secret_fields, k_secret_required);
  if (!elements) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<SecretSpec> secrets;
  for (std::size_t i = 0; i < elements->size(); ++i) {
    const SecretElement& e = (*elements)[i];
    report_duplicate(layer, e, path, i, "name", "secret", e.value.name, secrets, &SecretSpec::name);
    secrets.push_back(e.value);
  }
  if (layer.error_count() == errors_before) {
    b.spec.stack.secrets = std::move(secrets);
    b.seen.insert(path);
  }
}

void set_stack_files(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  auto elements = get_table_array(layer, node, path, k_file_fields, k_file_required);
  if (!elements) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  const std::vector<std::string> data_dirs = default_data_dir_names();
  std::vector<StackFile> files;
  for (std::size_t i = 0; i < elements->size(); ++i) {
    const FileElement& e = (*elements)[i];
    const std::string file_path = element_path(path, i) + ".path";
    const std::string top(util::split(e.value.path, '/').front());
    const bool duplicate =
        report_duplicate(layer, e, path, i, "path", "file", e.value.path, files, &StackFile::path);
    if (!duplicate && std::ranges::find(data_dirs, top) != data_dirs.end()) {
      layer.error_at(e.at.at("path"), file_path + ": " + squote(e.value.path) + " is in the data dir " +
                                          squote(top) +
                                          ", which belongs to the containers; put stack files in a directory "
                                          "of their own");
    }
    files.push_back(e.value);
  }
  if (layer.error_count() == errors_before) {
    b.spec.stack.files = std::move(files);
    b.seen.insert(path);
  }
}

void set_stack_containers(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  auto elements = get_table_array(layer, node, path, k_container_fields, k_container_required);
  if (!elements) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<std::string> names;
  for (const ContainerElement& e : *elements) {
    names.push_back(e.value.name);
  }
  for (std::size_t i = 0; i < elements->size(); ++i) {
    ContainerElement& e = (*elements)[i];
    const std::string container_path = element_path(path, i);
    report_duplicate(layer, e, path, i, "name", "container", e.value.name,
                     std::span<const std::string>(names).first(i), std::identity{});
    if (e.at.contains("health.interval") || e.at.contains("health.timeout") ||
        e.at.contains("health.retries") || e.at.contains("health.start_period")) {
      if (!e.at.contains("health.command")) {
        layer.error_at(e.pos, container_path + ".health: missing required key 'command'");
      }
    }
    for (const Item& item : e.after) {
      const auto named = std::ranges::find(names, item.text);
      const auto index = static_cast<std::size_t>(named - names.begin());
      if (named == names.end()) {
        const std::vector<std::string> earlier(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i));
        layer.error_at(item.pos, item.path + ": " +
                                     unknown_name("container", item.text, earlier, "earlier containers"));
      } else if (index == i) {
        layer.error_at(item.pos, item.path + ": a container cannot start after itself");
      } else if (index > i) {
        layer.error_at(item.pos, item.path + ": " + squote(item.text) +
                                     " is listed later (containers start in the order listed: move " +
                                     squote(item.text) + " before " + squote(e.value.name) + ")");
      } else {
        e.value.after.push_back(item.text);
      }
    }
    for (std::size_t r = 0; r < e.ref_envs.size(); ++r) {
      const auto& [env, where] = e.ref_envs[r];
      const std::string ref_path = container_path + ".secrets[" + std::to_string(r) + "]";
      const bool in_env = std::ranges::find(e.value.env, env, &std::pair<std::string, std::string>::first) !=
                          e.value.env.end();
      const bool repeated =
          std::ranges::any_of(e.ref_envs.begin(), e.ref_envs.begin() + static_cast<std::ptrdiff_t>(r),
                              [&](const auto& other) { return other.first == env; });
      if (in_env) {
        layer.error_at(where, ref_path + ": " + squote(env) + " is also set in " + container_path + ".env");
      } else if (repeated) {
        layer.error_at(where,
                       ref_path + ": " + squote(env) + " is set by an earlier secret of this container");
      }
    }
  }
  if (layer.error_count() != errors_before) {
    return;
  }
  b.spec.stack.containers.clear();
  b.secret_refs.clear();
  b.mount_sources.clear();
  for (ContainerElement& e : *elements) {
    std::ranges::move(e.secret_refs, std::back_inserter(b.secret_refs));
    std::ranges::move(e.mount_sources, std::back_inserter(b.mount_sources));
    b.spec.stack.containers.push_back(std::move(e.value));
  }
  b.seen.insert(path);
}

/// Rules between [stack] parts that may come from different layers: every secret a container

} // namespace

/// names is declared, every volume source is a data dir or a stack file.
void check_stack(const ProfileBuilder& b, Diagnostics& out) {
  const Stack& stack = b.spec.stack;
  std::vector<std::string> secret_names;
  for (const SecretSpec& secret : stack.secrets) {
    secret_names.push_back(secret.name);
  }
  for (const Ref& ref : b.secret_refs) {
    if (std::ranges::find(secret_names, ref.text) == secret_names.end()) {
      out.push_back({ref.origin.file, ref.origin.pos.line, ref.origin.pos.col,
                     ref.path + ": " +
                         unknown_name("secret", ref.text, secret_names, "declared in [[stack.secrets]]")});
    }
  }
  std::vector<std::string> sources = default_data_dir_names();
  for (const StackFile& file : stack.files) {
    sources.push_back(file.path);
  }
  for (const Ref& ref : b.mount_sources) {
    if (std::ranges::find(sources, ref.text) == sources.end()) {
      out.push_back(
          {ref.origin.file, ref.origin.pos.line, ref.origin.pos.col,
           ref.path + ": " + unknown_name("mount source", ref.text, sources, "data dirs and stack files")});
    }
  }
}

const ProfileField k_stack_fields[6] = {
    {.key = "pod", .set = &set_stack_pod},     {.key = "domain", .set = &set_stack_domain},
    {.key = "ports", .set = &set_stack_ports}, {.key = "secrets", .set = &set_stack_secrets},
    {.key = "files", .set = &set_stack_files}, {.key = "containers", .set = &set_stack_containers},
};

} // namespace detail

using namespace detail;

Loaded<Stack> resolve_stack(const ProfileSpec& profile, const SiteConfig& site) {
  Stack stack = profile.stack;
  Diagnostics out;
  const auto error_at = [&out](const SourcePos& where, std::string message) {
    out.push_back({where.file, where.line, where.col, std::move(message)});
  };
  const StackOverrides& overrides = site.stack;
  if (!overrides.domain.empty()) {
    stack.domain = overrides.domain;
  }

  std::vector<std::string> container_names;
  for (const Container& container : stack.containers) {
    container_names.push_back(container.name);
  }
  for (const ImageOverride& image : overrides.images) {
    const auto found = std::ranges::find(stack.containers, image.container, &Container::name);
    if (found == stack.containers.end()) {
      error_at(image.where, "stack.images." + image.container + ": " +
                                unknown_name("container", image.container, container_names,
                                             "containers of profile " + profile.name));
      continue;
    }
    found->image = image.image;
  }

  std::vector<std::string> port_names;
  for (const PublishedPort& port : stack.ports) {
    port_names.push_back(port.name);
  }
  // Where each port's values were last set by the site config, for a clash after the overrides.
  std::vector<std::optional<SourcePos>> port_where(stack.ports.size());
  const auto apply_ports = [&](const std::vector<PortOverride>& entries, std::string_view table,
                               std::uint32_t PublishedPort::*field) {
    for (const PortOverride& entry : entries) {
      const auto found = std::ranges::find(stack.ports, entry.port, &PublishedPort::name);
      if (found == stack.ports.end()) {
        error_at(entry.where,
                 std::string(table) + "." + entry.port + ": " +
                     unknown_name("port", entry.port, port_names, "ports of profile " + profile.name));
        continue;
      }
      (*found).*field = entry.value;
      port_where[static_cast<std::size_t>(found - stack.ports.begin())] = entry.where;
    }
  };
  apply_ports(overrides.ports, "stack.ports", &PublishedPort::port);
  apply_ports(overrides.forward_ports, "stack.forward_ports", &PublishedPort::forward_to);
  if (out.empty()) {
    if (const auto clash = find_port_clash(stack.ports)) {
      const std::size_t blamed = port_where[clash->second] ? clash->second : clash->first;
      const std::size_t other = blamed == clash->second ? clash->first : clash->second;
      error_at(port_where[blamed].value_or(SourcePos{profile.source, 1, 1}),
               "stack.ports: " + clash->what + " is used by both " + squote(stack.ports[blamed].name) +
                   " and " + squote(stack.ports[other].name) + "; choose another port");
    }
  }

  check_postgres_uid(stack, site, out); // the postgres image contract's uid (profile/stack_contract.hpp)

  // The volumes need their data dirs; a site config that replaced [[data.dirs]] may have dropped one.
  const SourcePos dirs_where =
      site.data_dirs_where.file.empty() ? SourcePos{profile.source, 1, 1} : site.data_dirs_where;
  std::vector<std::string> dir_names;
  for (const DataDir& dir : site.data_dirs) {
    dir_names.push_back(dir.name);
  }
  std::vector<std::string> missing; // each reported once, for the first container that mounts it
  for (const Container& container : stack.containers) {
    for (const Mount& mount : container.volumes) {
      const bool is_file =
          std::ranges::find(stack.files, mount.source, &StackFile::path) != stack.files.end();
      if (!is_file && std::ranges::find(dir_names, mount.source) == dir_names.end() &&
          std::ranges::find(missing, mount.source) == missing.end()) {
        missing.push_back(mount.source);
        error_at(dirs_where, "data.dirs: no data dir " + squote(mount.source) + " but container " +
                                 squote(container.name) + " mounts it at " + mount.target +
                                 "; add a [[data.dirs]] entry with name = \"" + mount.source + "\"");
      }
    }
  }
  for (const StackFile& file : stack.files) {
    const std::string top(util::split(file.path, '/').front());
    if (std::ranges::find(dir_names, top) != dir_names.end()) {
      error_at(dirs_where, "data.dirs: " + squote(top) + " is the directory of the stack file " +
                               squote(file.path) + "; give the data dir another name");
    }
  }
  if (!out.empty()) {
    return std::unexpected(std::move(out));
  }

  for (Container& container : stack.containers) {
    for (auto& [name, value] : container.env) {
      value = substitute(value, stack.domain, stack.pod);
    }
  }
  for (StackFile& file : stack.files) {
    file.content = substitute(file.content, stack.domain, stack.pod);
  }
  return stack;
}


} // namespace zt::profile
