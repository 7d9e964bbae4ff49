// linux.*: namespaces, id mappings, time offsets, devices, sysctl, network
// devices, memory policy, personality, masked/readonly paths; resources and
// seccomp have files of their own.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string_view>

#include "spec/mount_options.hpp"
#include "spec/names.hpp"
#include "spec/validate.hpp"
#include "spec/validate_internal.hpp"

namespace husk::spec::validation {
namespace {

// The kernel accepts at most this many lines in uid_map/gid_map (Linux 4.15+).
constexpr size_t kMaxIdMappings = 340;

void check_namespaces(Checker& ck, const Linux& l) {
  std::set<NamespaceType> seen;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& n = l.namespaces[i];
    if (!seen.insert(n.type).second) {
      ck.take(Error::spec("linux.namespaces[{}].type: duplicate namespace \"{}\"", i,
                          namespace_type_name(n.type)));
    }
    if (n.path) ck.take(require_abs(*n.path, idx("linux.namespaces", i) + ".path"));
  }
}

bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return a < b + blen && b < a + alen;
}

Status check_mapping(const std::vector<IdMapping>& maps, size_t i, const std::string& path) {
  constexpr uint64_t kIdSpace = uint64_t{1} << 32;
  const IdMapping& m = maps[i];
  if (m.size == 0) return Error::spec("{}[{}].size: must be > 0", path, i);
  if (uint64_t{m.container_id} + m.size > kIdSpace || uint64_t{m.host_id} + m.size > kIdSpace) {
    return Error::spec("{}[{}]: range exceeds the 32-bit id space", path, i);
  }
  for (size_t j = 0; j < i; ++j) {
    const IdMapping& o = maps[j];
    if (ranges_overlap(m.container_id, m.size, o.container_id, o.size) ||
        ranges_overlap(m.host_id, m.size, o.host_id, o.size)) {
      return Error::spec("{}[{}]: overlaps {}[{}]", path, i, path, j);
    }
  }
  return {};
}

}  // namespace

void check_mappings(Checker& ck, const std::vector<IdMapping>& maps, const std::string& path) {
  if (maps.size() > kMaxIdMappings) {
    ck.take(Error::spec("{}: at most {} mappings are allowed, got {}", path, kMaxIdMappings,
                        maps.size()));
    return;
  }
  for (size_t i = 0; i < maps.size(); ++i) ck.take(check_mapping(maps, i, path));
}

namespace {

void check_user_namespace(Checker& ck) {
  const Linux* l = ck.config().linux ? &*ck.config().linux : nullptr;
  const bool uid = l != nullptr && !l->uid_mappings.empty();
  const bool gid = l != nullptr && !l->gid_mappings.empty();
  if ((uid || gid) && !ck.has_ns(NamespaceType::User)) {
    ck.take(Error::spec("linux.{}: mappings need a user namespace in linux.namespaces",
                        uid ? "uidMappings" : "gidMappings"));
  }
  if (ck.creates_ns(NamespaceType::User) && (!uid || !gid)) {
    ck.take(Error::spec("linux.{}: a new user namespace needs uidMappings and gidMappings",
                        uid ? "gidMappings" : "uidMappings"));
  }
  if (l == nullptr) return;
  check_mappings(ck, l->uid_mappings, "linux.uidMappings");
  check_mappings(ck, l->gid_mappings, "linux.gidMappings");
}

Status check_time_offset(const std::string& clock, const TimeOffset& off) {
  if (clock != "monotonic" && clock != "boottime") {
    return Error::spec("linux.timeOffsets[\"{}\"]: unknown clock (monotonic or boottime)", clock);
  }
  if (off.nanosecs >= 1000000000U) {
    return Error::spec("linux.timeOffsets[\"{}\"].nanosecs: must be < 1000000000, got {}", clock,
                       off.nanosecs);
  }
  return {};
}

// Records that `field` needs a namespace the config does not list.
bool listed(Checker& ck, NamespaceType t, std::string_view field) {
  if (ck.has_ns(t)) return true;
  ck.take(
      Error::spec("{}: need a {} namespace in linux.namespaces", field, namespace_type_name(t)));
  return false;
}

void check_time_offsets(Checker& ck, const Linux& l) {
  if (l.time_offsets.empty() || !listed(ck, NamespaceType::Time, "linux.timeOffsets")) return;
  // Offsets can only be written before the first process enters the
  // namespace (time_namespaces(7)), so a joined one cannot take them.
  if (!ck.creates_ns(NamespaceType::Time)) {
    ck.take(Error::spec("linux.timeOffsets: cannot set offsets of an existing time namespace"));
    return;
  }
  for (const auto& [clock, off] : l.time_offsets) ck.take(check_time_offset(clock, off));
}

Status check_device(const Device& d, const std::string& path) {
  if (d.type.size() != 1 || std::string_view("cbup").find(d.type[0]) == std::string_view::npos) {
    return Error::spec("{}.type: must be one of c, b, u, p, got \"{}\"", path, d.type);
  }
  // Anywhere in the container, not only under /dev: the spec asks for a
  // full path, and runc makes a node at /mydev/null as readily. The node is
  // made through the rootfs fd, its parents by the in-root mkdir walker.
  if (!d.path.starts_with('/') || has_dotdot(d.path) ||
      d.path.find_first_not_of('/') == std::string::npos || d.path == "/dev" || d.path == "/dev/") {
    return Error::spec("{}.path: must be an absolute path of a file, got \"{}\"", path, d.path);
  }
  // major and minor are "REQUIRED unless type is p" (config-linux.md): a
  // fifo's are not forbidden, only meaningless, and mknod(2) ignores them.
  // runtime-tools' linux_devices sets them, as runc and crun accept.
  if (d.type != "p" && (d.major < 0 || d.minor < 0)) {
    return Error::spec("{}: major and minor must be >= 0, got {}:{}", path, d.major, d.minor);
  }
  if (d.file_mode && *d.file_mode > 07777) {
    // podman (and docker) copy st_mode of the host node, file type included
    // (020666 for a char device); runc ignores those bits. Accept exactly the
    // type the entry declares, nothing else above the permission bits.
    const uint32_t kind = *d.file_mode & ~uint32_t{07777};
    const uint32_t want = d.type == "b" ? 0060000U : d.type == "p" ? 0010000U : 0020000U;
    if (kind != want) {
      return Error::spec(
          "{}.fileMode: only permission bits and the file type of \"{}\" ({:#o}) allowed, got "
          "{:#o}",
          path, d.type, want, *d.file_mode);
    }
  }
  return {};
}

// runc tolerates a device listed twice (the second node already exists).
void check_devices(Checker& ck, const Linux& l) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const std::string path = idx("linux.devices", i);
    ck.take(check_device(l.devices[i], path));
    if (!seen.insert(l.devices[i].path).second) {
      ck.warn("{}.path: device \"{}\" listed more than once", path, l.devices[i].path);
    }
  }
}

// ---- sysctl ----

bool sysctl_name_ok(std::string_view name) {
  if (name.empty() || name.find_first_of(" \t\n=") != std::string_view::npos) return false;
  // Components are separated by '.' or '/'; none may be empty, "." or "..".
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = std::min(name.find_first_of("./", start), name.size());
    const std::string_view comp = name.substr(start, end - start);
    if (comp.empty() || comp == "..") return false;
    start = end + 1;
  }
  return true;
}

bool is_ipc_sysctl(std::string_view n) {
  static constexpr std::string_view kIpc[] = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
  };
  return std::find(std::begin(kIpc), std::end(kIpc), n) != std::end(kIpc) ||
         n.starts_with("fs.mqueue.");
}

// A sysctl is only safe to set if a namespace the container owns scopes
// it; anything else would change the host (same rule as runc).
Status check_sysctl_entry(const Checker& ck, const std::string& name) {
  const std::string path = fmt::format("linux.sysctl[\"{}\"]", name);
  if (!sysctl_name_ok(name)) return Error::spec("{}: invalid sysctl name", path);
  std::string dotted = name;
  std::replace(dotted.begin(), dotted.end(), '/', '.');
  NamespaceType need = NamespaceType::Ipc;
  if (is_ipc_sysctl(dotted)) {
    need = NamespaceType::Ipc;
  } else if (dotted.starts_with("net.")) {
    need = NamespaceType::Network;
  } else if (dotted == "kernel.hostname" || dotted == "kernel.domainname") {
    need = NamespaceType::Uts;
  } else if (dotted.starts_with("user.")) {
    need = NamespaceType::User;
  } else {
    return Error::spec("{}: sysctl \"{}\" is not in a separate kernel namespace", path, name);
  }
  if (!ck.has_ns(need)) {
    return Error::spec("{}: sysctl \"{}\" needs a {} namespace", path, name,
                       namespace_type_name(need));
  }
  return {};
}

// ---- the rest ----

void check_net_devices(Checker& ck, const Linux& l) {
  if (l.net_devices.empty() || !listed(ck, NamespaceType::Network, "linux.netDevices")) return;
  for (const auto& [host, dev] : l.net_devices) {
    if (!netdev_name_ok(host)) {
      ck.take(Error::spec("linux.netDevices[\"{}\"]: invalid interface name", host));
    } else if (dev.name && !netdev_name_ok(*dev.name)) {
      ck.take(Error::spec("linux.netDevices[\"{}\"].name: invalid interface name \"{}\"", host,
                          *dev.name));
    }
  }
}

void check_memory_policy(Checker& ck, const MemoryPolicy& m) {
  if (!mempolicy_mode_from_name(m.mode)) {
    ck.take(Error::spec("linux.memoryPolicy.mode: unknown mode \"{}\"", m.mode));
  }
  for (size_t i = 0; i < m.flags.size(); ++i) {
    if (!mempolicy_flag_from_name(m.flags[i])) {
      ck.take(Error::spec("linux.memoryPolicy.flags[{}]: unknown flag \"{}\"", i, m.flags[i]));
    }
  }
  if (m.nodes) ck.take(check_cpu_list(*m.nodes, "linux.memoryPolicy.nodes"));
}

void check_personality(Checker& ck, const Personality& p) {
  if (!personality_domain_from_name(p.domain)) {
    ck.take(Error::spec("linux.personality.domain: unknown domain \"{}\"", p.domain));
  }
  if (!p.flags.empty()) {
    ck.take(Error::spec("linux.personality.flags[0]: unknown flag \"{}\"", p.flags[0]));
  }
}

void check_paths(Checker& ck, const Linux& l) {
  for (size_t i = 0; i < l.masked_paths.size(); ++i) {
    ck.take(require_abs(l.masked_paths[i], idx("linux.maskedPaths", i)));
  }
  for (size_t i = 0; i < l.readonly_paths.size(); ++i) {
    ck.take(require_abs(l.readonly_paths[i], idx("linux.readonlyPaths", i)));
  }
  // No mount namespace listed is allowed: the container then shares husk's
  // (runtime-spec: a namespace type not listed is inherited), and the
  // rootfs is built without touching it (linux/rootfs.hpp, shared_mount_ns).
  if (l.rootfs_propagation) {
    auto p = parse_rootfs_propagation(*l.rootfs_propagation);
    if (!p) ck.take(p.error());
  }
}

}  // namespace

void check_linux(Checker& ck) {
  // Optional (runtime-spec): without it every namespace is inherited.
  if (!ck.config().linux) return;
  const Linux& l = *ck.config().linux;
  check_namespaces(ck, l);
  check_user_namespace(ck);
  check_time_offsets(ck, l);
  check_devices(ck, l);
  if (l.resources) check_resources(ck.diagnostics(), *l.resources, "linux.resources");
  if (l.seccomp) check_seccomp(ck, *l.seccomp);
  for (const auto& [name, value] : l.sysctl) ck.take(check_sysctl_entry(ck, name));
  check_net_devices(ck, l);
  if (l.memory_policy) check_memory_policy(ck, *l.memory_policy);
  if (l.personality) check_personality(ck, *l.personality);
  check_paths(ck, l);
}

}  // namespace husk::spec::validation
