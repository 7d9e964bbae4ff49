#include "linux/namespaces.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "linux/rootless.hpp"
#include "spec/names.hpp"
#include "sys/file.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace husk::linux_setup {

namespace {

using spec::NamespaceType;

std::string_view spec_name_of_flag(int flag) {
  for (NamespaceType t : spec::all_namespace_types()) {
    if (spec::namespace_clone_flag(t) == flag) return spec::namespace_type_name(t);
  }
  return "unknown";
}

// /proc/<pid>/{uid,gid}_map: one "inside outside count" line per range; the
// kernel accepts at most 340 lines (user_namespaces(7), since Linux 4.15).
Result<std::string> id_map_text(const std::vector<spec::IdMapping>& maps, const char* field) {
  if (maps.size() > 340) return Error::spec("{}: at most 340 mappings are supported", field);
  std::string out;
  for (size_t i = 0; i < maps.size(); ++i) {
    const auto& m = maps[i];
    if (m.size == 0) return Error::spec("{}[{}].size: must be greater than 0", field, i);
    if (uint64_t{m.container_id} + m.size > (uint64_t{1} << 32) ||
        uint64_t{m.host_id} + m.size > (uint64_t{1} << 32)) {
      return Error::spec("{}[{}]: range exceeds the 32-bit id space", field, i);
    }
    out += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  }
  return out;
}

Result<std::string> time_offsets_text(const std::map<std::string, spec::TimeOffset>& offsets) {
  std::string out;
  for (const auto& [clock, off] : offsets) {
    if (clock != "monotonic" && clock != "boottime") {
      return Error::spec("linux.timeOffsets.{}: unknown clock (expected monotonic or boottime)",
                         clock);
    }
    if (off.nanosecs >= 1000000000U) {
      return Error::spec("linux.timeOffsets.{}.nanosecs: must be less than 1000000000", clock);
    }
    out += fmt::format("{} {} {}\n", clock, off.secs, off.nanosecs);
  }
  return out;
}

Status collect(const std::vector<spec::Namespace>& nss, NamespacePlan& plan, int& created) {
  int seen = 0;
  for (size_t i = 0; i < nss.size(); ++i) {
    const auto& ns = nss[i];
    int flag = spec::namespace_clone_flag(ns.type);
    if ((seen & flag) != 0) {
      return Error::spec("linux.namespaces[{}]: duplicate {} namespace", i,
                         spec::namespace_type_name(ns.type));
    }
    seen |= flag;
    if (!ns.path || ns.path->empty()) {
      created |= flag;
      continue;
    }
    if ((*ns.path)[0] != '/') {
      return Error::spec("linux.namespaces[{}].path: must be absolute, got {:?}", i, *ns.path);
    }
    NsJoin j{ns.type, *ns.path, i, {}};
    if (ns.type == NamespaceType::User) {
      plan.user_join = std::move(j);
    } else if (ns.type == NamespaceType::Pid) {
      plan.pid_join = std::move(j);
    } else {
      if (ns.type == NamespaceType::Mount) plan.join_mount = true;
      plan.joins.push_back(std::move(j));
    }
  }
  return {};
}

Status plan_user_maps(const spec::Config& cfg, NamespacePlan& plan) {
  const auto& lx = *cfg.linux;
  bool maps = !lx.uid_mappings.empty() || !lx.gid_mappings.empty();
  if (!plan.new_user && !plan.user_join) {
    if (maps) {
      return Error::spec(
          "linux.uidMappings: user namespace mappings specified, but user namespace isn't "
          "enabled in the config");
    }
    return {};
  }
  // Mappings given with a joined user namespace describe that namespace; they
  // cannot be written again (a map is written once), so there is nothing to do.
  if (!plan.new_user) return {};
  if (lx.uid_mappings.empty()) {
    return Error::spec("linux.uidMappings: a new user namespace needs uid mappings");
  }
  if (lx.gid_mappings.empty()) {
    return Error::spec("linux.gidMappings: a new user namespace needs gid mappings");
  }
  plan.uid_map = TRY(id_map_text(lx.uid_mappings, "linux.uidMappings"));
  plan.gid_map = TRY(id_map_text(lx.gid_mappings, "linux.gidMappings"));
  plan.unprivileged_parent = ::geteuid() != 0;
  plan.uid_ranges = lx.uid_mappings;
  plan.gid_ranges = lx.gid_mappings;
  return {};
}

Status check_hostname(const spec::Config& cfg, bool has_uts) {
  if (has_uts) return {};
  if (cfg.hostname && !cfg.hostname->empty()) {
    return Error::spec("hostname: unable to set hostname without a private UTS namespace");
  }
  if (cfg.domainname && !cfg.domainname->empty()) {
    return Error::spec("domainname: unable to set domainname without a private UTS namespace");
  }
  return {};
}

// A container without a mount namespace of its own builds its rootfs in a
// private copy of the shared one and then setns(2)es back into it
// (rootfs.hpp, shared_mount_ns). setns(2) into a mount namespace needs
// CAP_SYS_ADMIN in the user namespace that owns it: from a new user
// namespace never (the shared one is owned by an ancestor), from a joined
// one only if it owns the mount namespace joined with it.
Status check_shared_mount_ns(const NamespacePlan& plan) {
  if (plan.new_mount) return {};
  if (plan.new_user) {
    return Error::spec(
        "linux.namespaces: a new user namespace needs a new mount namespace too (the container "
        "could not return to the {} mount namespace once in it)",
        plan.join_mount ? "joined" : "inherited");
  }
  if (plan.user_join && !plan.join_mount) {
    return Error::spec(
        "linux.namespaces: a user namespace joined by path needs a mount namespace that is new "
        "or joined by path too (it has no privilege over the inherited one)");
  }
  return {};
}

}  // namespace

int clone_flag(spec::NamespaceType t) { return spec::namespace_clone_flag(t); }
std::string_view proc_ns_name(spec::NamespaceType t) { return spec::namespace_proc_name(t); }
std::string_view spec_ns_name(spec::NamespaceType t) { return spec::namespace_type_name(t); }

Result<NamespacePlan> plan_namespaces(const spec::Config& cfg) {
  NamespacePlan plan;
  int created = 0;
  static const spec::Linux kNoLinux;
  const spec::Linux& lx = cfg.linux ? *cfg.linux : kNoLinux;
  TRY(collect(lx.namespaces, plan, created));
  plan.new_user = (created & CLONE_NEWUSER) != 0;
  plan.new_pid = (created & CLONE_NEWPID) != 0;
  plan.new_mount = (created & CLONE_NEWNS) != 0;
  plan.new_uts = (created & CLONE_NEWUTS) != 0;
  plan.new_cgroup = (created & CLONE_NEWCGROUP) != 0;
  plan.new_time = (created & CLONE_NEWTIME) != 0;
  plan.new_net = (created & CLONE_NEWNET) != 0;
  bool joined_uts = false;
  for (const auto& j : plan.joins) joined_uts |= j.type == NamespaceType::Uts;
  TRY(check_hostname(cfg, plan.new_uts || joined_uts));
  if (cfg.linux) TRY(plan_user_maps(cfg, plan));

  if (!lx.time_offsets.empty()) {
    if (!plan.new_time) {
      return Error::spec(
          "linux.timeOffsets: time namespace offsets specified, but no new time "
          "namespace is created in the config");
    }
    plan.timens_offsets = TRY(time_offsets_text(lx.time_offsets));
  }

  TRY(check_shared_mount_ns(plan));

  // cgroup and time are created late by the init; pid never by unshare.
  int early = created & ~(CLONE_NEWCGROUP | CLONE_NEWTIME);
  bool child_first = plan.user_join.has_value() || (plan.new_user && !plan.joins.empty());
  if (child_first) {
    plan.unshare_flags = early & ~CLONE_NEWPID;
    plan.clone_flags = 0;
    plan.intermediate = plan.new_pid;
  } else {
    plan.clone_flags = static_cast<uint64_t>(early);
  }
  return plan;
}

Status open_namespace_paths(NamespacePlan& plan) {
  auto open_one = [](NsJoin& j) -> Status {
    auto field = fmt::format("linux.namespaces[{}].path", j.index);
    j.fd.reset(::open(j.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!j.fd) return Error::last("open {}", j.path).wrap("{}", field);
    // NS_GET_NSTYPE (Linux 4.11) returns the CLONE_NEW* type of an nsfs file
    // and fails with ENOTTY on anything else (ioctl_ns(2)).
    int type = ::ioctl(j.fd.get(), NS_GET_NSTYPE);
    if (type < 0) {
      int e = errno;
      if (e == ENOTTY || e == EINVAL) {
        return Error::spec("{}: {} is not a namespace", field, j.path);
      }
      return Error::sys(e, "ioctl({}, NS_GET_NSTYPE)", j.path).wrap("{}", field);
    }
    if (type != clone_flag(j.type)) {
      return Error::spec("{}: {} is a {} namespace, not a {} namespace", field, j.path,
                         spec_name_of_flag(type), spec_ns_name(j.type));
    }
    return {};
  };
  if (plan.user_join) TRY(open_one(*plan.user_join));
  if (plan.pid_join) TRY(open_one(*plan.pid_join));
  for (auto& j : plan.joins) TRY(open_one(j));
  return {};
}

// ---- parent side ----

Result<PidNsForChildren> PidNsForChildren::enter(const NamespacePlan& plan) {
  if (!plan.pid_join) return PidNsForChildren(sys::UniqueFd());
  const NsJoin& j = *plan.pid_join;
  return TRY_CTX(enter(j.fd.get(), fmt::format("setns({}, CLONE_NEWPID)", j.path)),
                 "linux.namespaces[{}].path", j.index);
}

Result<PidNsForChildren> PidNsForChildren::enter(int ns_fd, std::string_view failed_op) {
  if (ns_fd < 0) return PidNsForChildren(sys::UniqueFd());
  // Our active pid namespace, to return to: setns(2) on a pid namespace
  // accepts the caller's own active one or a descendant of it.
  sys::UniqueFd own(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
  if (!own) return Error::last("open /proc/self/ns/pid");
  if (::setns(ns_fd, CLONE_NEWPID) != 0) return Error::last("{}", failed_op);
  return PidNsForChildren(std::move(own));
}

PidNsForChildren::~PidNsForChildren() {
  if (own_) (void)::setns(own_.get(), CLONE_NEWPID);
}

Result<int> foreign_namespaces(int proc_dir) {
  int flags = 0;
  for (NamespaceType t : spec::all_namespace_types()) {
    std::string theirs = fmt::format("ns/{}", spec::namespace_proc_name(t));
    std::string ours = fmt::format("/proc/self/ns/{}", spec::namespace_proc_name(t));
    struct stat a {};
    struct stat b {};
    if (::stat(ours.c_str(), &b) != 0) {
      if (errno == ENOENT) continue;  // a kernel without this namespace type
      return Error::last("stat {}", ours);
    }
    if (::fstatat(proc_dir, theirs.c_str(), &a, 0) != 0) {
      return Error::last("stat /proc/<init>/{}", theirs);
    }
    if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) flags |= spec::namespace_clone_flag(t);
  }
  return flags;
}

namespace {

Status write_proc_file(pid_t pid, const char* file, const std::string& text) {
  auto path = fmt::format("/proc/{}/{}", pid, file);
  sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return Error::last("open {}", path);
  // A map must be written with a single write(2) (user_namespaces(7)).
  return sys::write_once(fd.get(), path, text);
}

}  // namespace

Status write_id_maps(const NamespacePlan& plan, pid_t pid) {
  if (!plan.new_user) return {};
  constexpr const char* kUid = "linux.uidMappings";
  constexpr const char* kGid = "linux.gidMappings";
  if (map_writer(plan.gid_ranges, true) == MapWriter::Helper) {
    TRY(write_map_with_helper(pid, plan.gid_ranges, true, kGid));
  } else {
    // Without CAP_SETGID in the parent namespace, gid_map may only be
    // written after setgroups(2) is disabled for the namespace
    // (user_namespaces(7), CVE-2014-8989).
    if (::geteuid() != 0) TRY(write_proc_file(pid, "setgroups", "deny"));
    TRY_CTX(write_proc_file(pid, "gid_map", plan.gid_map), "{}", kGid);
  }
  if (map_writer(plan.uid_ranges, false) == MapWriter::Helper) {
    return write_map_with_helper(pid, plan.uid_ranges, false, kUid);
  }
  TRY_CTX(write_proc_file(pid, "uid_map", plan.uid_map), "{}", kUid);
  return {};
}

// ---- init side ----

Status join_namespaces(const NamespacePlan& plan) {
  auto join = [](const NsJoin& j) -> Status {
    if (::setns(j.fd.get(), clone_flag(j.type)) != 0) {
      return Error::last("setns({}, {})", j.path, proc_ns_name(j.type))
          .wrap("linux.namespaces[{}].path", j.index);
    }
    return {};
  };
  if (plan.user_join) TRY(join(*plan.user_join));
  for (const auto& j : plan.joins) TRY(join(j));
  return {};
}

Status unshare_namespaces(const NamespacePlan& plan) {
  if (plan.unshare_flags == 0) return {};
  // With CLONE_NEWUSER among the flags, unshare(2) creates the user
  // namespace first and the others owned by it.
  if (::unshare(plan.unshare_flags) != 0) {
    return Error::last("unshare({:#x})", static_cast<unsigned>(plan.unshare_flags));
  }
  return {};
}

Status become_userns_root(const NamespacePlan& plan) {
  if (!plan.new_user && !plan.user_join) return {};
  bool strict = plan.new_user;
  // The host's supplementary groups show up as the overflow gid inside;
  // drop them (refused when setgroups is "deny").
  if (::setgroups(0, nullptr) != 0 && errno != EPERM) return Error::last("setgroups(0)");
  if (::setresgid(0, 0, 0) != 0 && strict)
    return Error::last("setresgid(0, 0, 0) in the user namespace");
  if (::setresuid(0, 0, 0) != 0 && strict)
    return Error::last("setresuid(0, 0, 0) in the user namespace");
  return {};
}

// A new network namespace holds one device, lo, and the kernel creates it
// down: 127.0.0.1 is unreachable until someone sets IFF_UP. runc and crun do
// it for every new network namespace, and programs in containers rely on it.
// One rtnetlink RTM_NEWLINK request naming "lo" with IFF_UP in ifi_change
// (rtnetlink(7); without NLM_F_CREATE it changes the existing device), and its
// acknowledgement. Buffers on the stack: this runs in the cloned init.
Status bring_up_loopback() {
  sys::UniqueFd sock(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) return Error::last("socket(AF_NETLINK, NETLINK_ROUTE)");
  constexpr char kName[] = "lo";
  constexpr size_t kLen = NLMSG_SPACE(sizeof(ifinfomsg)) + RTA_SPACE(sizeof kName);
  alignas(nlmsghdr) char req[kLen] = {};
  nlmsghdr nh{};
  nh.nlmsg_len = kLen;
  nh.nlmsg_type = RTM_NEWLINK;
  nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nh.nlmsg_seq = 1;
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_flags = IFF_UP;
  ifi.ifi_change = IFF_UP;
  rtattr rta{};
  rta.rta_type = IFLA_IFNAME;
  rta.rta_len = RTA_LENGTH(sizeof kName);
  std::memcpy(req, &nh, sizeof nh);
  std::memcpy(req + NLMSG_HDRLEN, &ifi, sizeof ifi);
  std::memcpy(req + NLMSG_SPACE(sizeof ifi), &rta, sizeof rta);
  std::memcpy(req + NLMSG_SPACE(sizeof ifi) + RTA_LENGTH(0), kName, sizeof kName);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  while (::sendto(sock.get(), req, kLen, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) <
         0) {
    if (errno != EINTR) return Error::last("send RTM_NEWLINK");
  }
  // The acknowledgement is an NLMSG_ERROR message (error 0 on success) that
  // echoes our request.
  alignas(nlmsghdr) char ack[NLMSG_SPACE(sizeof(nlmsgerr)) + kLen];
  ssize_t n = 0;
  while ((n = ::recv(sock.get(), ack, sizeof ack, 0)) < 0) {
    if (errno != EINTR) return Error::last("receive the RTM_NEWLINK acknowledgement");
  }
  nlmsghdr got{};
  nlmsgerr err{};
  if (static_cast<size_t>(n) < NLMSG_SPACE(sizeof err)) {
    return Error::make(ErrorKind::Protocol, "short rtnetlink acknowledgement ({} bytes)", n);
  }
  std::memcpy(&got, ack, sizeof got);
  std::memcpy(&err, ack + NLMSG_HDRLEN, sizeof err);
  if (got.nlmsg_type != NLMSG_ERROR) {
    return Error::make(ErrorKind::Protocol, "unexpected rtnetlink reply type {}", got.nlmsg_type);
  }
  if (err.error != 0) return Error::sys(-err.error, "RTM_NEWLINK lo IFF_UP");
  return {};
}

Status bring_up_new_loopback(const NamespacePlan& plan) {
  // In the final user namespace by now, which owns a new network namespace
  // and grants CAP_NET_ADMIN over it.
  if (plan.new_net) TRY_CTX(bring_up_loopback(), "linux.namespaces: network: bring up lo");
  return {};
}

Status create_late_namespaces(const NamespacePlan& plan) {
  TRY(bring_up_new_loopback(plan));
  return create_cgroup_time_namespaces(plan);
}

Status create_cgroup_time_namespaces(const NamespacePlan& plan) {
  if (plan.new_cgroup && ::unshare(CLONE_NEWCGROUP) != 0)
    return Error::last("unshare(CLONE_NEWCGROUP)");
  if (!plan.new_time) return {};
  if (::unshare(CLONE_NEWTIME) != 0) return Error::last("unshare(CLONE_NEWTIME)");
  if (!plan.timens_offsets.empty()) {
    sys::UniqueFd fd(::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC));
    if (!fd) return Error::last("open /proc/self/timens_offsets").wrap("linux.timeOffsets");
    const auto& t = plan.timens_offsets;
    if (::write(fd.get(), t.data(), t.size()) != static_cast<ssize_t>(t.size())) {
      return Error::last("write /proc/self/timens_offsets").wrap("linux.timeOffsets");
    }
  }
  sys::UniqueFd ns(::open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC));
  if (!ns) return Error::last("open /proc/self/ns/time_for_children");
  if (::setns(ns.get(), CLONE_NEWTIME) != 0)
    return Error::last("setns(time_for_children, CLONE_NEWTIME)");
  return {};
}

}  // namespace husk::linux_setup
