#include <catch2/catch.hpp>
#include <string>

#include "spec/default_spec.hpp"
#include "spec/mount_options.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

using husk::spec::Config;
using husk::spec::default_config_json;
using husk::spec::NamespaceType;

namespace {

Config parse_and_validate(const std::string& json) {
  auto r = husk::spec::parse_config(json);
  if (!r) FAIL(r.error().message());
  std::vector<std::string> warnings;
  auto v = husk::spec::validate(*r, &warnings);
  if (!v) FAIL(v.error().message());
  CHECK(warnings.empty());
  return std::move(r).value();
}

std::vector<NamespaceType> ns_types(const Config& c) {
  std::vector<NamespaceType> out;
  for (const auto& n : c.linux->namespaces) out.push_back(n.type);
  return out;
}

const husk::spec::Mount& mount_at(const Config& c, std::string_view dest) {
  for (const auto& m : c.mounts) {
    if (m.destination == dest) return m;
  }
  FAIL("no mount at " << dest);
  return c.mounts.front();
}

}  // namespace

TEST_CASE("default spec parses, validates and matches runc's example") {
  const std::string json = default_config_json(false);
  CHECK(json.starts_with("{\n\t\"ociVersion\": \"1.3.0\",\n\t\"process\": {"));
  const Config c = parse_and_validate(json);
  CHECK(c.root->path == "rootfs");
  CHECK(c.root->readonly);
  CHECK(c.hostname == "husk");
  const auto& p = *c.process;
  CHECK(p.terminal);
  CHECK(p.user.uid == 0);
  CHECK(p.args == std::vector<std::string>{"sh"});
  CHECK(p.env ==
        std::vector<std::string>{
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"});
  CHECK(p.cwd == "/");
  CHECK(p.no_new_privileges);
  const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  CHECK(p.capabilities->bounding == caps);
  CHECK(p.capabilities->effective == caps);
  CHECK(p.capabilities->permitted == caps);
  CHECK(p.capabilities->inheritable.empty());
  CHECK(p.capabilities->ambient.empty());
  REQUIRE(p.rlimits.size() == 1);
  CHECK(p.rlimits[0].type == "RLIMIT_NOFILE");
  CHECK(p.rlimits[0].hard == 1024);
  CHECK(p.rlimits[0].soft == 1024);
  CHECK(ns_types(c) == std::vector<NamespaceType>{NamespaceType::Pid, NamespaceType::Network,
                                                  NamespaceType::Ipc, NamespaceType::Uts,
                                                  NamespaceType::Mount, NamespaceType::Cgroup});
  REQUIRE(c.linux->resources);
  REQUIRE(c.linux->resources->devices.size() == 1);
  CHECK_FALSE(c.linux->resources->devices[0].allow);
  CHECK(c.linux->resources->devices[0].access == "rwm");
  CHECK(c.linux->uid_mappings.empty());
  CHECK(c.linux->masked_paths.size() == 11);
  CHECK(c.linux->masked_paths.front() == "/proc/acpi");
  CHECK(c.linux->readonly_paths == std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq",
                                                            "/proc/sys", "/proc/sysrq-trigger"});
}

TEST_CASE("default spec mounts") {
  const Config c = parse_and_validate(default_config_json(false));
  std::vector<std::string> dests;
  for (const auto& m : c.mounts) dests.push_back(m.destination);
  CHECK(dests == std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                          "/sys", "/sys/fs/cgroup"});
  CHECK(mount_at(c, "/proc").options.empty());
  CHECK(mount_at(c, "/dev").options ==
        std::vector<std::string>{"nosuid", "strictatime", "mode=755", "size=65536k"});
  CHECK(mount_at(c, "/dev/pts").options.back() == "gid=5");
  const auto& sys = mount_at(c, "/sys");
  CHECK(sys.type == "sysfs");
  CHECK(sys.options == std::vector<std::string>{"nosuid", "noexec", "nodev", "ro"});
  CHECK(mount_at(c, "/sys/fs/cgroup").type == "cgroup");
}

TEST_CASE("rootless default spec: user namespace, no netns, /sys bound, no uid=/gid=") {
  const Config c = parse_and_validate(default_config_json(true, 1000, 1001));
  CHECK(ns_types(c) == std::vector<NamespaceType>{NamespaceType::Pid, NamespaceType::Ipc,
                                                  NamespaceType::Uts, NamespaceType::Mount,
                                                  NamespaceType::Cgroup, NamespaceType::User});
  REQUIRE(c.linux->uid_mappings.size() == 1);
  CHECK(c.linux->uid_mappings[0].container_id == 0);
  CHECK(c.linux->uid_mappings[0].host_id == 1000);
  CHECK(c.linux->uid_mappings[0].size == 1);
  REQUIRE(c.linux->gid_mappings.size() == 1);
  CHECK(c.linux->gid_mappings[0].host_id == 1001);
  CHECK_FALSE(c.linux->resources);
  const auto& sys = mount_at(c, "/sys");
  CHECK(sys.type == "none");
  CHECK(sys.source == "/sys");
  const auto mo = husk::spec::parse_mount_options(sys.options);
  CHECK(mo.bind);
  CHECK(mo.recursive);
  CHECK(mount_at(c, "/dev/pts").options ==
        std::vector<std::string>{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"});
}

TEST_CASE("default spec without a cgroup namespace (runc's spec on a cgroup v1 host)") {
  CHECK(ns_types(parse_and_validate(default_config_json(false, 0, 0, false))) ==
        std::vector<NamespaceType>{NamespaceType::Pid, NamespaceType::Network, NamespaceType::Ipc,
                                   NamespaceType::Uts, NamespaceType::Mount});
  CHECK(ns_types(parse_and_validate(default_config_json(true, 1000, 1000, false))) ==
        std::vector<NamespaceType>{NamespaceType::Pid, NamespaceType::Ipc, NamespaceType::Uts,
                                   NamespaceType::Mount, NamespaceType::User});
}

TEST_CASE("non-rootless spec ignores the host ids") {
  CHECK(default_config_json(false, 1000, 1000) == default_config_json(false));
  CHECK(default_config_json(true, 1000, 1000) != default_config_json(true, 0, 0));
}
