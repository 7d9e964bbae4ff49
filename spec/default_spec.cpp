#include "spec/default_spec.hpp"

#include <string_view>
#include <vector>

#include "spec/json_write.hpp"
#include "spec/parse.hpp"

namespace husk::spec {
namespace {

struct MountDef {
  std::string_view destination;
  std::string_view type;
  std::string_view source;
  std::vector<std::string_view> options;
};

const std::vector<MountDef>& default_mounts() {
  static const std::vector<MountDef> kMounts = {
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
  };
  return kMounts;
}

constexpr std::string_view kCaps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

constexpr std::string_view kMasked[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    "/sys/devices/virtual/tpm",
};

constexpr std::string_view kReadonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

void write_process(json::Pretty& w) {
  json::key(w, "process");
  w.StartObject();
  json::key(w, "terminal");
  w.Bool(true);
  json::key(w, "user");
  w.StartObject();
  json::key(w, "uid");
  w.Uint(0);
  json::key(w, "gid");
  w.Uint(0);
  w.EndObject();
  json::key(w, "args");
  json::str_array(w, std::span<const std::string_view>({std::string_view("sh")}));
  json::key(w, "env");
  json::str_array(w, std::span<const std::string_view>(
                         {std::string_view("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                           "/usr/bin:/sbin:/bin"),
                          std::string_view("TERM=xterm")}));
  json::kv(w, "cwd", "/");
  json::key(w, "capabilities");
  w.StartObject();
  for (std::string_view set : {"bounding", "effective", "permitted"}) {
    json::key(w, set);
    json::str_array(w, std::span<const std::string_view>(kCaps));
  }
  w.EndObject();
  json::key(w, "rlimits");
  w.StartArray();
  w.StartObject();
  json::kv(w, "type", "RLIMIT_NOFILE");
  json::key(w, "hard");
  w.Uint64(1024);
  json::key(w, "soft");
  w.Uint64(1024);
  w.EndObject();
  w.EndArray();
  json::key(w, "noNewPrivileges");
  w.Bool(true);
  w.EndObject();
}

void write_mount(json::Pretty& w, const MountDef& m, bool rootless) {
  // Rootless: sysfs cannot be mounted without owning the network
  // namespace, so bind the host's; uid=/gid= options name ids that are
  // not mapped into the user namespace.
  if (rootless && m.destination == "/sys") {
    write_mount(w, {"/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}}, false);
    return;
  }
  w.StartObject();
  json::kv(w, "destination", m.destination);
  json::kv(w, "type", m.type);
  json::kv(w, "source", m.source);
  std::vector<std::string_view> opts;
  for (auto o : m.options) {
    if (!rootless || (!o.starts_with("uid=") && !o.starts_with("gid="))) opts.push_back(o);
  }
  if (!opts.empty()) {
    json::key(w, "options");
    json::str_array(w, std::span<const std::string_view>(opts));
  }
  w.EndObject();
}

void write_mapping(json::Pretty& w, std::string_view name, uint32_t host_id) {
  json::key(w, name);
  w.StartArray();
  w.StartObject();
  json::key(w, "containerID");
  w.Uint(0);
  json::key(w, "hostID");
  w.Uint(host_id);
  json::key(w, "size");
  w.Uint(1);
  w.EndObject();
  w.EndArray();
}

void write_linux(json::Pretty& w, bool rootless, uid_t uid, gid_t gid, bool cgroup_ns) {
  json::key(w, "linux");
  w.StartObject();
  if (rootless) {
    write_mapping(w, "uidMappings", uid);
    write_mapping(w, "gidMappings", gid);
  } else {
    json::key(w, "resources");
    w.StartObject();
    json::key(w, "devices");
    w.StartArray();
    w.StartObject();
    json::key(w, "allow");
    w.Bool(false);
    json::kv(w, "access", "rwm");
    w.EndObject();
    w.EndArray();
    w.EndObject();
  }
  json::key(w, "namespaces");
  w.StartArray();
  for (std::string_view ns : {"pid", "network", "ipc", "uts", "mount", "cgroup", "user"}) {
    if ((ns == "network" && rootless) || (ns == "user" && !rootless)) continue;
    if (ns == "cgroup" && !cgroup_ns) continue;
    w.StartObject();
    json::kv(w, "type", ns);
    w.EndObject();
  }
  w.EndArray();
  json::key(w, "maskedPaths");
  json::str_array(w, std::span<const std::string_view>(kMasked));
  json::key(w, "readonlyPaths");
  json::str_array(w, std::span<const std::string_view>(kReadonly));
  w.EndObject();
}

}  // namespace

std::string default_config_json(bool rootless, uid_t host_uid, gid_t host_gid, bool cgroup_ns) {
  json::Buffer buf;
  json::Pretty w(buf);
  w.SetIndent('\t', 1);
  w.StartObject();
  json::kv(w, "ociVersion", kOciVersionMax);
  write_process(w);
  json::key(w, "root");
  w.StartObject();
  json::kv(w, "path", "rootfs");
  json::key(w, "readonly");
  w.Bool(true);
  w.EndObject();
  json::kv(w, "hostname", "husk");
  json::key(w, "mounts");
  w.StartArray();
  for (const auto& m : default_mounts()) write_mount(w, m, rootless);
  w.EndArray();
  write_linux(w, rootless, host_uid, host_gid, cgroup_ns);
  w.EndObject();
  return json::take(buf);
}

}  // namespace husk::spec
