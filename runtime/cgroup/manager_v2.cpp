#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "cgroup/devices.hpp"
#include "cgroup/fs.hpp"
#include "cgroup/manager_impl.hpp"
#include "cgroup/writers.hpp"

namespace husk::cgroup {

namespace {

constexpr auto kFreezeTimeout = std::chrono::seconds(10);

// "frozen 1" line of cgroup.events (5.2+); nullopt if the key is absent.
std::optional<bool> events_frozen(const std::string& events) {
  size_t at = events.find("frozen ");
  if (at == std::string::npos || at + 7 >= events.size()) return std::nullopt;
  return events[at + 7] == '1';
}

}  // namespace

Result<std::vector<Error>> V2Manager::missing_controllers(const spec::Resources& r) const {
  std::vector<Error> out;
  auto needs = TRY(needs_v2(r));
  if (needs.empty()) return out;
  const Hierarchy& h = l_.hierarchies.at(0);
  auto avail = TRY_CTX(available_controllers(h), "cgroup v2 hierarchy {}", h.mount);
  for (const auto& n : needs) {
    if (avail.count(n.controller) == 0) {
      out.push_back(Error::make(ErrorKind::Unsupported,
                                "{}: {} controller not available in cgroup v2 hierarchy {}",
                                n.field, n.controller, h.mount));
    }
  }
  return out;
}

Result<sys::UniqueFd> V2Manager::make_dirs(Hierarchy& h) {
  // Every level's cgroup.subtree_control is written on the way down, so the
  // walk opens each directory (relative to its parent) and keeps the leaf.
  auto comps = l_.components();
  std::string dir = h.mount;
  auto fd = TRY(fs::open_dir(h.mount));
  TRY(prepare_level(fd.get(), 0));
  for (size_t i = 0; i < comps.size(); ++i) {
    dir += "/" + comps[i];
    if (::mkdirat(fd.get(), comps[i].c_str(), 0755) == 0) {
      if (h.created == 0) h.created = static_cast<int>(comps.size() - i);
    } else if (errno != EEXIST) {
      return Error::last("mkdir {}", dir);
    }
    auto child = TRY(fs::open_dir_at(fd.get(), comps[i]));
    TRY_CTX(prepare_level(child.get(), i + 1), "prepare cgroup {}", dir);
    fd = std::move(child);
  }
  return fd;
}

Status V2Manager::prepare_level(int fd, size_t depth) {
  // Like runc, delegate every available controller down to the container, so
  // limits can be added later (update) and usage is accounted (stats); one
  // that cannot be enabled here (e.g. cpu with RT tasks in the root) is skipped.
  if (depth >= l_.components().size()) return {};
  auto avail = fs::split_words(TRY(fs::read_at(fd, "cgroup.controllers")));
  auto cur = fs::split_words(TRY(fs::read_at(fd, "cgroup.subtree_control")));
  for (const auto& c : avail) {
    if (std::find(cur.begin(), cur.end(), c) == cur.end()) {
      (void)fs::write_at(fd, "cgroup.subtree_control", "+" + c);
    }
  }
  return {};
}

Status V2Manager::apply(const spec::Resources& r) {
  TRY(check(r));
  auto rules = TRY(device_rules(l_, r));
  const Hierarchy& h = l_.hierarchies.at(0);
  std::set<std::string> needed;
  for (const auto& n : TRY(needs_v2(r))) needed.insert(n.controller);
  TRY(enable_controllers(h, needed, needed));
  int fd = TRY(open_leaf(h));
  auto st = [&]() -> Status {
    if (r.memory) TRY(write_memory_v2(fd, *r.memory));
    if (r.cpu) TRY(write_cpu_v2(fd, *r.cpu));
    if (r.cpu) TRY(write_cpuset(fd, *r.cpu));
    if (r.pids) TRY(write_pids(fd, *r.pids));
    if (r.block_io) TRY(write_io_v2(fd, *r.block_io));
    TRY(write_hugetlb_v2(fd, r.hugepage_limits));
    TRY(write_rdma(fd, r.rdma));
    if (!rules.empty()) TRY_CTX(install_device_filter(fd, rules), "linux.resources.devices");
    // Last, so explicit unified values override converted ones (runtime-spec).
    return write_unified(fd, r.unified);
  }();
  if (!st) return std::move(st).error().wrap("apply cgroup {}", l_.dir(h));
  return {};
}

bool V2Manager::can_freeze() const {
  auto fd = open_leaf(l_.hierarchies.at(0));
  return fd && fs::exists_at(*fd, "cgroup.freeze");
}

Status V2Manager::set_frozen(bool frozen) {
  const Hierarchy& h = l_.hierarchies.at(0);
  int fd = TRY(open_leaf(h));
  auto st = fs::write_at(fd, "cgroup.freeze", frozen ? "1" : "0");
  if (!st && st.error().kind() == ErrorKind::NotFound) {
    return Error::make(ErrorKind::Unsupported, "{}: cgroup.freeze is not available (kernel < 5.2)",
                       l_.dir(h));
  }
  TRY(std::move(st));
  auto deadline = std::chrono::steady_clock::now() + kFreezeTimeout;
  for (int attempt = 0;; ++attempt) {
    auto events = TRY(fs::read_at(fd, "cgroup.events"));
    auto state = events_frozen(events);
    if (!state || *state == frozen) return {};
    if (std::chrono::steady_clock::now() > deadline) break;
    backoff_sleep(attempt);
  }
  return Error::sys(EBUSY, "{} did not become {} within {}s", l_.dir(h),
                    frozen ? "frozen" : "thawed", kFreezeTimeout.count());
}

Status V2Manager::freeze() {
  auto st = set_frozen(true);
  if (!st && st.error().kind() != ErrorKind::Unsupported) (void)set_frozen(false);
  return st;
}

Status V2Manager::thaw() { return set_frozen(false); }

Result<bool> V2Manager::frozen() const {
  int fd = TRY(open_leaf(l_.hierarchies.at(0)));
  auto events = fs::read_at(fd, "cgroup.events");
  if (events) {
    if (auto f = events_frozen(*events)) return *f;
  }
  auto want = fs::read_at(fd, "cgroup.freeze");
  return want && *want == "1";
}

Result<bool> V2Manager::kill_all_at_once() {
  // cgroup.kill (5.14+) SIGKILLs the whole subtree atomically, frozen or not.
  int fd = TRY(open_leaf(l_.hierarchies.at(0)));
  auto st = fs::write_at(fd, "cgroup.kill", "1");
  if (st) return true;
  // ENODEV: the cgroup was removed after it was opened (kernfs answers so
  // for a removed node), as systemd does with a scope once its last process
  // exited: nothing is left in it to kill.
  if (st.error().err() == ENODEV) return true;
  if (st.error().kind() == ErrorKind::NotFound) return false;
  return std::move(st).error().wrap("kill cgroup {}", l_.dir(l_.hierarchies.at(0)));
}

}  // namespace husk::cgroup
