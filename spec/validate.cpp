#include "spec/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string_view>

#include "spec/mount_options.hpp"
#include "spec/names.hpp"

namespace husk::spec {
namespace {

// The kernel accepts at most this many lines in uid_map/gid_map (Linux 4.15+).
constexpr size_t kMaxIdMappings = 340;
// SECCOMP_RET_DATA is 16 bits wide; a larger errnoRet would be truncated.
constexpr uint32_t kMaxSeccompErrno = 0xffff;

class Checker {
 public:
  Checker(const Config& c, std::vector<std::string>* warnings) : c_(c), warnings_(warnings) {}

  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) {
    if (warnings_ != nullptr) warnings_->push_back(fmt::format(f, std::forward<Args>(args)...));
  }

  [[nodiscard]] const Config& config() const { return c_; }
  [[nodiscard]] std::vector<std::string>* warnings() const { return warnings_; }

  [[nodiscard]] const Namespace* ns(NamespaceType t) const {
    if (!c_.linux) return nullptr;
    for (const auto& n : c_.linux->namespaces) {
      if (n.type == t) return &n;
    }
    return nullptr;
  }
  [[nodiscard]] bool has_ns(NamespaceType t) const { return ns(t) != nullptr; }
  [[nodiscard]] bool creates_ns(NamespaceType t) const {
    const Namespace* n = ns(t);
    return n != nullptr && !n->path;
  }

 private:
  const Config& c_;
  std::vector<std::string>* warnings_;
};

bool is_abs(std::string_view p) { return !p.empty() && p[0] == '/'; }

Status require_abs(std::string_view p, const std::string& path) {
  if (is_abs(p)) return {};
  return Error::spec("{}: must be an absolute path, got \"{}\"", path, p);
}

bool has_dotdot(std::string_view p) {
  while (!p.empty()) {
    const size_t slash = p.find('/');
    if (p.substr(0, slash) == "..") return true;
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return false;
}

std::string idx(std::string_view base, size_t i) { return fmt::format("{}[{}]", base, i); }

// ---- process ----

Status check_env(const Process& p) {
  for (size_t i = 0; i < p.env.size(); ++i) {
    const std::string& e = p.env[i];
    const size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error::spec("process.env[{}]: expected KEY=value, got \"{}\"", i, e);
    }
  }
  return {};
}

Status check_rlimits(const Process& p) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const Rlimit& r = p.rlimits[i];
    if (!rlimit_from_name(r.type)) {
      return Error::spec("process.rlimits[{}].type: unknown rlimit \"{}\"", i, r.type);
    }
    if (!seen.insert(r.type).second) {
      return Error::spec("process.rlimits[{}].type: duplicate rlimit \"{}\"", i, r.type);
    }
    if (r.soft > r.hard) {
      return Error::spec("process.rlimits[{}]: soft limit {} exceeds hard limit {}", i, r.soft,
                         r.hard);
    }
  }
  return {};
}

Status check_sched_deadline(const Scheduler& s) {
  if (!s.runtime || !s.deadline || *s.runtime == 0 || *s.deadline == 0) {
    return Error::spec("process.scheduler: SCHED_DEADLINE needs non-zero runtime and deadline");
  }
  const uint64_t period = s.period.value_or(0);
  if (*s.runtime > *s.deadline || (period != 0 && *s.deadline > period)) {
    return Error::spec("process.scheduler: SCHED_DEADLINE needs runtime <= deadline <= period");
  }
  return {};
}

Status check_scheduler(const Scheduler& s) {
  auto policy = sched_policy_from_name(s.policy);
  if (!policy) return Error::spec("process.scheduler.policy: unknown policy \"{}\"", s.policy);
  for (size_t i = 0; i < s.flags.size(); ++i) {
    if (!sched_flag_from_name(s.flags[i])) {
      return Error::spec("process.scheduler.flags[{}]: unknown flag \"{}\"", i, s.flags[i]);
    }
  }
  if (s.nice && (*s.nice < -20 || *s.nice > 19)) {
    return Error::spec("process.scheduler.nice: must be in -20..19, got {}", *s.nice);
  }
  const bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
  const int32_t prio = s.priority.value_or(0);
  if (realtime && (prio < 1 || prio > 99)) {
    return Error::spec("process.scheduler.priority: {} needs a priority in 1..99, got {}", s.policy,
                       prio);
  }
  if (!realtime && prio != 0) {
    return Error::spec("process.scheduler.priority: must be 0 for {}, got {}", s.policy, prio);
  }
  if (s.policy == "SCHED_DEADLINE") return check_sched_deadline(s);
  if (s.runtime || s.deadline || s.period) {
    return Error::spec("process.scheduler: runtime, deadline and period need SCHED_DEADLINE");
  }
  return {};
}

Status check_io_priority(const IoPriority& io) {
  if (!ioprio_class_from_name(io.io_class)) {
    return Error::spec("process.ioPriority.class: unknown class \"{}\"", io.io_class);
  }
  if (io.priority < 0 || io.priority > 7) {
    return Error::spec("process.ioPriority.priority: must be in 0..7, got {}", io.priority);
  }
  return {};
}

Status check_process_attrs(Checker& ck, const Process& p) {
  // process.user.umask is any uint32: umask(2) keeps only the permission
  // bits (mask & 0777), and runc passes the value through as is.
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
    return Error::spec("process.oomScoreAdj: must be in -1000..1000, got {}", *p.oom_score_adj);
  }
  if (p.console_size && !p.terminal) {
    ck.warn("process.consoleSize: ignored because process.terminal is false");
  }
  // process.capabilities names are resolved, and an unknown one refused,
  // when the process is planned: with libcap's table, which spec/ does not
  // link, and against the running kernel (runtime/linux/capabilities.hpp).
  if (p.scheduler) TRY(check_scheduler(*p.scheduler));
  if (p.io_priority) TRY(check_io_priority(*p.io_priority));
  if (p.exec_cpu_affinity) {
    const auto& a = *p.exec_cpu_affinity;
    if (a.initial) TRY(check_cpu_list(*a.initial, "process.execCPUAffinity.initial"));
    if (a.final_) TRY(check_cpu_list(*a.final_, "process.execCPUAffinity.final"));
  }
  return {};
}

Status check_process(Checker& ck) {
  const auto& proc = ck.config().process;
  if (!proc) return Error::spec("process: required");
  const Process& p = *proc;
  if (p.args.empty()) return Error::spec("process.args: must not be empty");
  if (p.args[0].empty()) return Error::spec("process.args[0]: must not be empty");
  TRY(require_abs(p.cwd, "process.cwd"));
  TRY(check_env(p));
  TRY(check_rlimits(p));
  return check_process_attrs(ck, p);
}

// ---- id mappings ----

bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return a < b + blen && b < a + alen;
}

Status check_mappings(const std::vector<IdMapping>& maps, const std::string& path) {
  if (maps.size() > kMaxIdMappings) {
    return Error::spec("{}: at most {} mappings are allowed, got {}", path, kMaxIdMappings,
                       maps.size());
  }
  constexpr uint64_t kIdSpace = uint64_t{1} << 32;
  for (size_t i = 0; i < maps.size(); ++i) {
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
  }
  return {};
}

Status check_user_namespace(const Checker& ck) {
  const Linux* l = ck.config().linux ? &*ck.config().linux : nullptr;
  const bool uid = l != nullptr && !l->uid_mappings.empty();
  const bool gid = l != nullptr && !l->gid_mappings.empty();
  if ((uid || gid) && !ck.has_ns(NamespaceType::User)) {
    return Error::spec("linux.{}: mappings need a user namespace in linux.namespaces",
                       uid ? "uidMappings" : "gidMappings");
  }
  if (ck.creates_ns(NamespaceType::User) && (!uid || !gid)) {
    return Error::spec("linux.{}: a new user namespace needs uidMappings and gidMappings",
                       uid ? "gidMappings" : "uidMappings");
  }
  if (l == nullptr) return {};
  TRY(check_mappings(l->uid_mappings, "linux.uidMappings"));
  return check_mappings(l->gid_mappings, "linux.gidMappings");
}

// ---- mounts ----

Status check_mount_idmap(const Checker& ck, const Mount& m, const MountOptions& mo,
                         const std::string& path) {
  const bool uid = !m.uid_mappings.empty();
  const bool gid = !m.gid_mappings.empty();
  if (uid != gid)
    return Error::spec("{}: uidMappings and gidMappings must be given together", path);
  TRY(check_mappings(m.uid_mappings, path + ".uidMappings"));
  TRY(check_mappings(m.gid_mappings, path + ".gidMappings"));
  if (mo.idmap != IdmapMode::None && !uid && !ck.has_ns(NamespaceType::User)) {
    return Error::spec(
        "{}.options: idmap/ridmap need uidMappings and gidMappings on the mount "
        "or a user namespace",
        path);
  }
  return {};
}

void warn_mount(Checker& ck, const Mount& m, const MountOptions& mo, const std::string& path) {
  if (!is_abs(m.destination)) {
    ck.warn("{}.destination: relative path \"{}\" is deprecated; taken relative to /", path,
            m.destination);
  }
  if (mo.bind && !mo.data.empty()) {
    ck.warn("{}.options: \"{}\" has no effect on a bind mount", path, mo.data);
  }
  if (mo.tmpcopyup && m.type.value_or("") != "tmpfs") {
    ck.warn("{}.options: tmpcopyup ignored on a mount that is not tmpfs", path);
  }
  if (!m.uid_mappings.empty() && mo.idmap == IdmapMode::None) {
    ck.warn("{}: uidMappings without idmap or ridmap; treated as idmap", path);
  }
}

Status check_mounts(Checker& ck) {
  const auto& mounts = ck.config().mounts;
  for (size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    const std::string path = idx("mounts", i);
    if (m.destination.empty()) return Error::spec("{}.destination: must not be empty", path);
    const MountOptions mo = parse_mount_options(m.options);
    const bool bind = mo.bind || m.type.value_or("") == "bind";
    if (!bind && m.type.value_or("").empty()) {
      return Error::spec("{}.type: required unless the mount is a bind mount", path);
    }
    if (bind && m.source.value_or("").empty()) {
      return Error::spec("{}.source: required for a bind mount", path);
    }
    TRY(check_mount_idmap(ck, m, mo, path));
    warn_mount(ck, m, mo, path);
  }
  return {};
}

// ---- hooks, annotations, root ----

Status check_hook_list(const std::vector<Hook>& hooks, std::string_view name) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    const Hook& h = hooks[i];
    TRY(require_abs(h.path, fmt::format("hooks.{}[{}].path", name, i)));
    if (h.timeout && *h.timeout <= 0) {
      return Error::spec("hooks.{}[{}].timeout: must be > 0, got {}", name, i, *h.timeout);
    }
  }
  return {};
}

Status check_hooks(const Config& c) {
  if (!c.hooks) return {};
  const Hooks& h = *c.hooks;
  TRY(check_hook_list(h.prestart, "prestart"));
  TRY(check_hook_list(h.create_runtime, "createRuntime"));
  TRY(check_hook_list(h.create_container, "createContainer"));
  TRY(check_hook_list(h.start_container, "startContainer"));
  TRY(check_hook_list(h.poststart, "poststart"));
  return check_hook_list(h.poststop, "poststop");
}

Status check_root_and_annotations(const Config& c) {
  if (!c.root) return Error::spec("root: required");
  if (c.root->path.empty()) return Error::spec("root.path: must not be empty");
  for (const auto& [key, value] : c.annotations) {
    if (key.empty()) return Error::spec("annotations: keys must not be empty");
  }
  return {};
}

Status check_uts(const Checker& ck) {
  const Config& c = ck.config();
  const bool uts = ck.has_ns(NamespaceType::Uts);
  if (c.hostname && !c.hostname->empty() && !uts) {
    return Error::spec("hostname: unable to set hostname without a private UTS namespace");
  }
  if (c.domainname && !c.domainname->empty() && !uts) {
    return Error::spec("domainname: unable to set domainname without a private UTS namespace");
  }
  return {};
}

// ---- linux: namespaces, time, devices ----

Status check_namespaces(const Linux& l) {
  std::set<NamespaceType> seen;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& n = l.namespaces[i];
    if (!seen.insert(n.type).second) {
      return Error::spec("linux.namespaces[{}].type: duplicate namespace \"{}\"", i,
                         namespace_type_name(n.type));
    }
    if (n.path) TRY(require_abs(*n.path, idx("linux.namespaces", i) + ".path"));
  }
  return {};
}

Status check_time_offsets(const Checker& ck, const Linux& l) {
  if (l.time_offsets.empty()) return {};
  if (!ck.has_ns(NamespaceType::Time)) {
    return Error::spec("linux.timeOffsets: need a time namespace in linux.namespaces");
  }
  // Offsets can only be written before the first process enters the
  // namespace (time_namespaces(7)), so a joined one cannot take them.
  if (!ck.creates_ns(NamespaceType::Time)) {
    return Error::spec("linux.timeOffsets: cannot set offsets of an existing time namespace");
  }
  for (const auto& [clock, off] : l.time_offsets) {
    if (clock != "monotonic" && clock != "boottime") {
      return Error::spec("linux.timeOffsets[\"{}\"]: unknown clock (monotonic or boottime)", clock);
    }
    if (off.nanosecs >= 1000000000U) {
      return Error::spec("linux.timeOffsets[\"{}\"].nanosecs: must be < 1000000000, got {}", clock,
                         off.nanosecs);
    }
  }
  return {};
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
Status check_devices(Checker& ck, const Linux& l) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const std::string path = idx("linux.devices", i);
    TRY(check_device(l.devices[i], path));
    if (!seen.insert(l.devices[i].path).second) {
      ck.warn("{}.path: device \"{}\" listed more than once", path, l.devices[i].path);
    }
  }
  return {};
}

// ---- linux: seccomp ----

Result<SeccompAction> check_action(std::string_view name, std::optional<uint32_t> errno_ret,
                                   const std::string& path, std::string_view errno_key) {
  auto a = seccomp_action_from_name(name);
  if (!a) return Error::spec("{}: unknown action \"{}\"", path, name);
  if (errno_ret && !seccomp_action_takes_errno(*a)) {
    return Error::spec("{}: {} only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {}", path,
                       errno_key, name);
  }
  if (errno_ret && *errno_ret > kMaxSeccompErrno) {
    return Error::spec("{}: {} must be <= {}, got {}", path, errno_key, kMaxSeccompErrno,
                       *errno_ret);
  }
  return *a;
}

// The syscalls the container's init makes between loading a NOTIFY filter
// and handing its fd over (linux/seccomp.hpp, ListenerSink): notified, they
// would wait for an agent that cannot have the fd yet, and create would hang.
// sendmsg carries the fd to husk; write is refused as by runc (profiles runc
// refuses are refused here too), and the init reports a late failure with it.
constexpr std::string_view kNeverNotified[] = {"sendmsg", "write"};

Status check_syscall(const SeccompSyscall& s, const std::string& path, bool& notify) {
  auto a = TRY(check_action(s.action, s.errno_ret, path + ".action", "errnoRet"));
  notify = notify || a == SeccompAction::Notify;
  for (size_t j = 0; j < s.names.size(); ++j) {
    if (s.names[j].empty()) return Error::spec("{}.names[{}]: must not be empty", path, j);
    if (a == SeccompAction::Notify &&
        std::ranges::find(kNeverNotified, s.names[j]) != std::end(kNeverNotified)) {
      return Error::spec(
          "{}.names[{}]: SCMP_ACT_NOTIFY cannot be used for {}: husk needs it to "
          "hand the notification fd over",
          path, j, s.names[j]);
    }
  }
  for (size_t j = 0; j < s.args.size(); ++j) {
    const SeccompArg& arg = s.args[j];
    const std::string apath = idx(path + ".args", j);
    if (arg.index >= kSeccompMaxArgs) {
      return Error::spec("{}.index: must be < {}, got {}", apath, kSeccompMaxArgs, arg.index);
    }
    if (!seccomp_op_from_name(arg.op)) {
      return Error::spec("{}.op: unknown operator \"{}\"", apath, arg.op);
    }
  }
  return {};
}

Status check_seccomp_lists(const Seccomp& s) {
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    if (!seccomp_arch_from_name(s.architectures[i])) {
      return Error::spec("linux.seccomp.architectures[{}]: unknown architecture \"{}\"", i,
                         s.architectures[i]);
    }
  }
  for (size_t i = 0; i < s.flags.size(); ++i) {
    if (!seccomp_flag_from_name(s.flags[i])) {
      return Error::spec("linux.seccomp.flags[{}]: unknown flag \"{}\"", i, s.flags[i]);
    }
  }
  return {};
}

Status check_seccomp(const Seccomp& s) {
  auto def = TRY(check_action(s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction",
                              "defaultErrnoRet"));
  // The notify fd is handed out only once the filter is loaded; making
  // every syscall wait on it would block the runtime's own exec.
  if (def == SeccompAction::Notify) {
    return Error::spec("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
  }
  TRY(check_seccomp_lists(s));
  bool notify = false;
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    TRY(check_syscall(s.syscalls[i], idx("linux.seccomp.syscalls", i), notify));
  }
  const bool listener = s.listener_path && !s.listener_path->empty();
  if (notify && !listener) {
    return Error::spec("linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
  }
  if (s.listener_metadata && !listener) {
    return Error::spec("linux.seccomp.listenerMetadata: must not be set without listenerPath");
  }
  if (listener) TRY(require_abs(*s.listener_path, "linux.seccomp.listenerPath"));
  return {};
}

// ---- linux: sysctl ----

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
Status check_sysctl(const Checker& ck, const Linux& l) {
  for (const auto& [name, value] : l.sysctl) {
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
  }
  return {};
}

// ---- linux: the rest ----

// IFNAMSIZ is 16 with the NUL; '/' and whitespace cannot appear in a name
// (dev_valid_name() in net/core/dev.c).
bool netdev_name_ok(std::string_view n) {
  return !n.empty() && n.size() < 16 && n != "." && n != ".." &&
         n.find_first_of("/: \t\n") == std::string_view::npos;
}

Status check_net_devices(const Checker& ck, const Linux& l) {
  if (l.net_devices.empty()) return {};
  if (!ck.has_ns(NamespaceType::Network)) {
    return Error::spec("linux.netDevices: need a network namespace in linux.namespaces");
  }
  for (const auto& [host, dev] : l.net_devices) {
    if (!netdev_name_ok(host)) {
      return Error::spec("linux.netDevices[\"{}\"]: invalid interface name", host);
    }
    if (dev.name && !netdev_name_ok(*dev.name)) {
      return Error::spec("linux.netDevices[\"{}\"].name: invalid interface name \"{}\"", host,
                         *dev.name);
    }
  }
  return {};
}

Status check_policy_and_personality(const Linux& l) {
  if (l.memory_policy) {
    const MemoryPolicy& m = *l.memory_policy;
    if (!mempolicy_mode_from_name(m.mode)) {
      return Error::spec("linux.memoryPolicy.mode: unknown mode \"{}\"", m.mode);
    }
    for (size_t i = 0; i < m.flags.size(); ++i) {
      if (!mempolicy_flag_from_name(m.flags[i])) {
        return Error::spec("linux.memoryPolicy.flags[{}]: unknown flag \"{}\"", i, m.flags[i]);
      }
    }
    if (m.nodes) TRY(check_cpu_list(*m.nodes, "linux.memoryPolicy.nodes"));
  }
  if (l.personality) {
    if (!personality_domain_from_name(l.personality->domain)) {
      return Error::spec("linux.personality.domain: unknown domain \"{}\"", l.personality->domain);
    }
    if (!l.personality->flags.empty()) {
      return Error::spec("linux.personality.flags[0]: unknown flag \"{}\"",
                         l.personality->flags[0]);
    }
  }
  return {};
}

Status check_paths(const Linux& l) {
  for (size_t i = 0; i < l.masked_paths.size(); ++i) {
    TRY(require_abs(l.masked_paths[i], idx("linux.maskedPaths", i)));
  }
  for (size_t i = 0; i < l.readonly_paths.size(); ++i) {
    TRY(require_abs(l.readonly_paths[i], idx("linux.readonlyPaths", i)));
  }
  // No mount namespace listed is allowed: the container then shares husk's
  // (runtime-spec: a namespace type not listed is inherited), and the
  // rootfs is built without touching it (linux/rootfs.hpp, shared_mount_ns).
  if (l.rootfs_propagation) TRY(parse_rootfs_propagation(*l.rootfs_propagation));
  return {};
}

Status check_linux(Checker& ck) {
  // Optional (runtime-spec): without it every namespace is inherited.
  if (!ck.config().linux) return {};
  const Linux& l = *ck.config().linux;
  TRY(check_namespaces(l));
  TRY(check_user_namespace(ck));
  TRY(check_time_offsets(ck, l));
  TRY(check_devices(ck, l));
  if (l.resources) TRY(validate_resources(*l.resources, "linux.resources", ck.warnings()));
  if (l.seccomp) TRY(check_seccomp(*l.seccomp));
  TRY(check_sysctl(ck, l));
  TRY(check_net_devices(ck, l));
  TRY(check_policy_and_personality(l));
  return check_paths(l);
}

// ---- resources ----

std::string sub(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

Status check_device_rules(const std::vector<DeviceCgroup>& rules, const std::string& base) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const DeviceCgroup& d = rules[i];
    const std::string path = idx(sub(base, "devices"), i);
    if (d.type && (d.type->size() != 1 ||
                   std::string_view("acb").find((*d.type)[0]) == std::string_view::npos)) {
      return Error::spec("{}.type: must be one of a, c, b, got \"{}\"", path, *d.type);
    }
    // Any order, letters repeated ("wr", "mr", "rrw"): runc 1.1.5 takes them
    // all. An empty string is no composition of r, w and m; runc refuses it,
    // and an allow rule reading it as "everything" (an absent access) would
    // grant what nobody wrote.
    if (d.access && d.access->empty()) {
      return Error::spec("{}.access: must not be empty (a combination of r, w, m)", path);
    }
    if (d.access && d.access->find_first_not_of("rwm") != std::string::npos) {
      return Error::spec("{}.access: must be a combination of r, w, m, got \"{}\"", path,
                         *d.access);
    }
    if (d.major.value_or(0) < -1 || d.minor.value_or(0) < -1) {
      return Error::spec("{}: major/minor must be >= 0, or -1 for any", path);
    }
  }
  return {};
}

Status check_memory(const Memory& m, const std::string& base) {
  const std::pair<std::string_view, const std::optional<int64_t>*> limits[] = {
      {"limit", &m.limit}, {"reservation", &m.reservation}, {"swap", &m.swap}};
  for (const auto& [key, v] : limits) {
    if (*v && **v < -1) {
      return Error::spec("{}: must be -1 (unlimited) or >= 0, got {}", sub(base, key), **v);
    }
  }
  if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
    return Error::spec("{}: memory+swap limit {} must be >= memory limit {}", sub(base, "swap"),
                       *m.swap, *m.limit);
  }
  if (m.swappiness && *m.swappiness > 100) {
    return Error::spec("{}: must be in 0..100, got {}", sub(base, "swappiness"), *m.swappiness);
  }
  return {};
}

Status check_cpu(const Cpu& c, const std::string& base) {
  if (c.burst && c.quota && *c.quota > 0 && *c.burst > static_cast<uint64_t>(*c.quota)) {
    return Error::spec("{}: burst {} must not exceed quota {}", sub(base, "burst"), *c.burst,
                       *c.quota);
  }
  if (c.idle && *c.idle != 0 && *c.idle != 1) {
    return Error::spec("{}: must be 0 or 1, got {}", sub(base, "idle"), *c.idle);
  }
  if (c.cpus) TRY(check_cpu_list(*c.cpus, sub(base, "cpus")));
  if (c.mems) TRY(check_cpu_list(*c.mems, sub(base, "mems")));
  return {};
}

// 0 is "not set", as in runc (which writes no weight for it) and as the
// writers read it (cgroup::given); the kernel's range is 10..1000.
Status check_weight(std::optional<uint16_t> w, const std::string& path) {
  if (w && *w != 0 && (*w < 10 || *w > 1000)) {
    return Error::spec("{}: must be in 10..1000, got {}", path, *w);
  }
  return {};
}

Status check_block_io(const BlockIo& b, const std::string& base) {
  TRY(check_weight(b.weight, sub(base, "weight")));
  TRY(check_weight(b.leaf_weight, sub(base, "leafWeight")));
  for (size_t i = 0; i < b.weight_device.size(); ++i) {
    const std::string path = idx(sub(base, "weightDevice"), i);
    TRY(check_weight(b.weight_device[i].weight, path + ".weight"));
    TRY(check_weight(b.weight_device[i].leaf_weight, path + ".leafWeight"));
  }
  return {};
}

// "2MB", "1GB", "64KB": becomes part of a cgroup file name
// (hugetlb.<size>.limit_in_bytes), so nothing else may get through.
bool page_size_ok(std::string_view s) {
  if (s.size() < 3 || s.size() > 8 || !s.ends_with('B')) return false;
  if (std::string_view("KMGTP").find(s[s.size() - 2]) == std::string_view::npos) return false;
  const std::string_view num = s.substr(0, s.size() - 2);
  return num[0] != '0' && num.find_first_not_of("0123456789") == std::string_view::npos;
}

Status check_hugepages(const std::vector<HugepageLimit>& limits, const std::string& base) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < limits.size(); ++i) {
    const std::string path = idx(sub(base, "hugepageLimits"), i) + ".pageSize";
    if (!page_size_ok(limits[i].page_size)) {
      return Error::spec("{}: expected a size like \"2MB\" or \"1GB\", got \"{}\"", path,
                         limits[i].page_size);
    }
    if (!seen.insert(limits[i].page_size).second) {
      return Error::spec("{}: duplicate page size \"{}\"", path, limits[i].page_size);
    }
  }
  return {};
}

// Keys name files in the container's cgroup directory and are written
// verbatim, so they must be plain "controller.file" names.
Status check_unified(const std::map<std::string, std::string>& unified, const std::string& base) {
  for (const auto& [key, value] : unified) {
    const size_t dot = key.find('.');
    if (key.find('/') != std::string::npos || dot == std::string::npos || dot == 0 ||
        dot + 1 == key.size()) {
      return Error::spec("{}[\"{}\"]: not a cgroup file name", sub(base, "unified"), key);
    }
  }
  return {};
}

Status check_named(const Resources& r, const std::string& base) {
  if (r.network) {
    for (size_t i = 0; i < r.network->priorities.size(); ++i) {
      if (!netdev_name_ok(r.network->priorities[i].name)) {
        return Error::spec("{}.name: invalid interface name \"{}\"",
                           idx(sub(base, "network.priorities"), i), r.network->priorities[i].name);
      }
    }
  }
  for (const auto& [dev, limits] : r.rdma) {
    if (dev.empty() || dev.find_first_of(" \n/") != std::string::npos) {
      return Error::spec("{}[\"{}\"]: invalid device name", sub(base, "rdma"), dev);
    }
  }
  return {};
}

}  // namespace

Status check_cpu_list(std::string_view list, const std::string& path) {
  std::string_view s = list;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    const size_t dash = item.find('-');
    const std::string_view lo = item.substr(0, dash);
    const std::string_view hi = dash == std::string_view::npos ? lo : item.substr(dash + 1);
    auto num_ok = [](std::string_view n) {
      return !n.empty() && n.size() <= 7 &&
             n.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (!num_ok(lo) || !num_ok(hi) || std::stoul(std::string(lo)) > std::stoul(std::string(hi))) {
      return Error::spec("{}: invalid list \"{}\" (expected e.g. \"0-3,6\")", path, list);
    }
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
    if (s.empty()) return Error::spec("{}: invalid list \"{}\" (trailing comma)", path, list);
  }
  return {};
}

Status validate_resources(const Resources& r, const std::string& path,
                          std::vector<std::string>* /*warnings*/) {
  TRY(check_device_rules(r.devices, path));
  if (r.memory) TRY(check_memory(*r.memory, sub(path, "memory")));
  if (r.cpu) TRY(check_cpu(*r.cpu, sub(path, "cpu")));
  if (r.block_io) TRY(check_block_io(*r.block_io, sub(path, "blockIO")));
  TRY(check_hugepages(r.hugepage_limits, path));
  TRY(check_named(r, path));
  return check_unified(r.unified, path);
}

Status validate(const Config& config, std::vector<std::string>* warnings) {
  Checker ck(config, warnings);
  TRY(check_root_and_annotations(config));
  TRY(check_process(ck));
  TRY(check_linux(ck));
  TRY(check_mounts(ck));
  TRY(check_hooks(config));
  return check_uts(ck);
}

}  // namespace husk::spec
