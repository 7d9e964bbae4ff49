#include <fcntl.h>

#include <algorithm>
#include <chrono>

#include "cgroup/fs.hpp"
#include "cgroup/manager_impl.hpp"
#include "cgroup/writers.hpp"

namespace husk::cgroup {

namespace {

// Wait this long for the v1 freezer to leave FREEZING (tasks in
// uninterruptible sleep, e.g. on NFS or vfork, delay it).
constexpr auto kFreezeTimeout = std::chrono::seconds(10);

std::set<std::string> needed_controllers(const std::vector<Need>& needs) {
  std::set<std::string> out;
  for (const auto& n : needs) out.insert(n.controller);
  return out;
}

}  // namespace

Result<const Hierarchy*> V1Manager::hugetlb_fallback() const {
  const Hierarchy* u = l_.unified();
  if (u == nullptr) return static_cast<const Hierarchy*>(nullptr);
  auto avail = available_controllers(*u);
  if (!avail) return static_cast<const Hierarchy*>(nullptr);
  return avail->count("hugetlb") ? u : nullptr;
}

Result<std::vector<Error>> V1Manager::missing_controllers(const spec::Resources& r) const {
  std::vector<Error> out;
  for (const auto& n : TRY(needs_v1(r))) {
    if (l_.find(n.controller) != nullptr) continue;
    // Hybrid hosts may have hugetlb only in the cgroup2 hierarchy.
    const Hierarchy* fallback = n.controller == "hugetlb" ? TRY(hugetlb_fallback()) : nullptr;
    if (fallback != nullptr) continue;
    out.push_back(Error::make(ErrorKind::Unsupported,
                              "{}: {} controller is not mounted (cgroup v1 hierarchies under {})",
                              n.field, n.controller, l_.root));
  }
  return out;
}

Result<sys::UniqueFd> V1Manager::make_dirs(Hierarchy& h) {
  // v1 needs nothing written on the way down, so the leaf is made with one
  // mkdir(2) by absolute path (its parents usually exist; mkdir_level makes
  // them when it says ENOENT), and only the leaf is opened.
  auto comps = l_.components();
  TRY(mkdir_level(h, comps, comps.size()));
  auto fd = TRY(fs::open_dir(l_.dir(h)));
  if (h.has("cpuset")) TRY(inherit_cpuset(h, fd.get()));
  return fd;
}

Status V1Manager::inherit_cpuset(const Hierarchy& h, int leaf_fd) const {
  // A new cpuset starts with no CPUs and no memory nodes, and a task cannot
  // join it until both are set. The kernel keeps every v1 cpuset a subset of
  // its parent's, so a directory that has CPUs has ancestors that have them:
  // reading up from the deepest level this container did not make finds the
  // value at once, and only the levels found empty plus the ones made get it
  // written, top down (a child may only take what its parent has).
  auto comps = l_.components();
  const size_t depth = comps.size();
  auto dir_at = [&](size_t level) {
    std::string d = h.mount;
    for (size_t i = 0; i < level; ++i) d += "/" + comps[i];
    return d;
  };
  const size_t deepest_kept = depth - static_cast<size_t>(h.created);
  for (const char* name : {"cpuset.cpus", "cpuset.mems"}) {
    const std::string file = name;
    auto path_of = [&](const std::string& dir) { return fmt::format("{}/{}", dir, file); };
    std::string value;
    size_t first = deepest_kept + 1;  // the shallowest level that lacks it
    for (size_t level = deepest_kept;; --level) {
      std::string dir = dir_at(level);
      value = TRY_CTX(fs::read_at(AT_FDCWD, path_of(dir)), "prepare cgroup {}", dir);
      if (!value.empty() || level == 0) break;
      first = level;
    }
    for (size_t level = first; level <= depth; ++level) {
      std::string dir = dir_at(level);
      auto st = level == depth ? fs::write_at(leaf_fd, file, value)
                               : fs::write_at(AT_FDCWD, path_of(dir), value);
      TRY_CTX(std::move(st), "prepare cgroup {}", dir);
    }
  }
  return {};
}

const Hierarchy& V1Manager::process_hierarchy() const {
  for (const char* c : {"freezer", "pids", "memory", "cpu", "devices"}) {
    if (const Hierarchy* h = l_.find(c)) return *h;
  }
  return l_.hierarchies.at(0);
}

Status V1Manager::apply_hugetlb(const std::vector<spec::HugepageLimit>& limits) {
  if (const Hierarchy* h = l_.find("hugetlb")) return write_hugetlb_v1(TRY(open_leaf(*h)), limits);
  const Hierarchy* u = TRY(hugetlb_fallback());
  if (u == nullptr) {
    return Error::make(ErrorKind::Unsupported,
                       "linux.resources.hugepageLimits: hugetlb controller is not mounted");
  }
  TRY(enable_controllers(*u, {"hugetlb"}, {"hugetlb"}));
  return write_hugetlb_v2(TRY(open_leaf(*u)), limits);
}

Status V1Manager::apply(const spec::Resources& r) {
  TRY(check(r));
  auto needed = needed_controllers(TRY(needs_v1(r)));
  auto rules = TRY(device_rules(l_, r));
  auto with = [&](const char* ctrl, auto&& write) -> Status {
    if (needed.count(ctrl) == 0) return {};
    const Hierarchy* h = l_.find(ctrl);
    int fd = TRY(open_leaf(*h));
    Status st = write(fd);
    if (!st) return std::move(st).error().wrap("apply cgroup {}", l_.dir(*h));
    return {};
  };
  TRY(with("devices", [&](int fd) { return write_devices_v1(fd, rules); }));
  TRY(with("memory", [&](int fd) { return write_memory_v1(fd, *r.memory); }));
  TRY(with("cpu", [&](int fd) { return write_cpu_v1(fd, *r.cpu); }));
  TRY(with("cpuset", [&](int fd) { return write_cpuset(fd, *r.cpu); }));
  TRY(with("pids", [&](int fd) { return write_pids(fd, *r.pids); }));
  TRY(with("blkio", [&](int fd) { return write_blkio_v1(fd, *r.block_io); }));
  TRY(with("net_cls", [&](int fd) { return write_net_cls_v1(fd, *r.network); }));
  TRY(with("net_prio", [&](int fd) { return write_net_prio_v1(fd, *r.network); }));
  TRY(with("rdma", [&](int fd) { return write_rdma(fd, r.rdma); }));
  if (needed.count("hugetlb") != 0) TRY(apply_hugetlb(r.hugepage_limits));
  return {};
}

Status V1Manager::set_freezer_state(const char* state) {
  const Hierarchy* h = l_.find("freezer");
  if (h == nullptr) {
    return Error::make(ErrorKind::Unsupported, "the cgroup v1 freezer is not mounted under {}",
                       l_.root);
  }
  int fd = TRY(open_leaf(*h));
  auto deadline = std::chrono::steady_clock::now() + kFreezeTimeout;
  for (int attempt = 0;; ++attempt) {
    // Re-writing FROZEN retries the tasks that were not freezable last time.
    if (attempt % 10 == 0) TRY(fs::write_at(fd, "freezer.state", state));
    auto now = TRY(fs::read_at(fd, "freezer.state"));
    if (now == state) return {};
    if (std::chrono::steady_clock::now() > deadline) break;
    backoff_sleep(attempt);
  }
  return Error::sys(EBUSY, "{}/freezer.state did not become {} within {}s", l_.dir(*h), state,
                    kFreezeTimeout.count());
}

Status V1Manager::freeze() {
  auto st = set_freezer_state("FROZEN");
  if (!st) (void)set_freezer_state("THAWED");  // never leave it half frozen
  return st;
}

Status V1Manager::thaw() { return set_freezer_state("THAWED"); }

namespace {

// A v1 cgroup is frozen while it or any ancestor asks to be
// (freezer.self_freezing / parent_freezing): thawing the container's cgroup
// leaves a sub-cgroup the container froze itself frozen, and its tasks never
// act on SIGKILL. A pid namespace's init killed meanwhile then waits for
// them forever (zap_pid_ns_processes), so delete would find it alive.
Status thaw_below(int dirfd, const std::string& dir) {
  auto subs = TRY(fs::subdirs(dirfd));
  for (const auto& sub : subs) {
    std::string path = fmt::format("{}/{}", dir, sub);
    auto fd = fs::open_dir_at(dirfd, sub);
    if (!fd && fd.error().kind() == ErrorKind::NotFound) continue;  // removed meanwhile
    if (!fd) return std::move(fd).error();
    auto self = fs::read_at(fd->get(), "freezer.self_freezing");
    if (!self || *self != "0")
      TRY_CTX(fs::write_at(fd->get(), "freezer.state", "THAWED"), "thaw {}", path);
    TRY(thaw_below(fd->get(), path));
  }
  return {};
}

}  // namespace

Status V1Manager::thaw_subtree_for_kill() {
  const Hierarchy* h = l_.find("freezer");
  if (h == nullptr) return {};
  auto leaf = open_leaf(*h);
  if (!leaf && leaf.error().kind() == ErrorKind::NotFound) return {};
  return thaw_below(TRY(std::move(leaf)), l_.dir(*h));
}

Result<bool> V1Manager::frozen() const {
  const Hierarchy* h = l_.find("freezer");
  if (h == nullptr) return false;
  // By path: `state` and `list` load a manager only to ask this.
  auto state = TRY(fs::read_word(l_.dir(*h) + "/freezer.state"));
  return state == "FROZEN";
}

}  // namespace husk::cgroup
