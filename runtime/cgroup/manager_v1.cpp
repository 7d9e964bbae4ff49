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

Status V1Manager::check(const spec::Resources& r) const {
  TRY(validate_resources(r));
  for (const auto& n : TRY(needs_v1(r))) {
    if (l_.find(n.controller) != nullptr) continue;
    // Hybrid hosts may have hugetlb only in the cgroup2 hierarchy.
    const Hierarchy* fallback = n.controller == "hugetlb" ? TRY(hugetlb_fallback()) : nullptr;
    if (fallback != nullptr) continue;
    return Error::make(ErrorKind::Unsupported,
                       "{}: {} controller is not mounted (cgroup v1 hierarchies under {})", n.field,
                       n.controller, l_.root);
  }
  return {};
}

Status V1Manager::prepare_level(const Hierarchy& h, int parent_fd, int fd, size_t depth) {
  // A new cpuset starts with no CPUs and no memory nodes, and a task cannot
  // join it until both are set: inherit the parent's.
  if (!h.has("cpuset") || depth == 0) return {};
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    auto own = TRY(fs::read_at(fd, file));
    if (!own.empty()) continue;
    auto inherited = TRY(fs::read_at(parent_fd, file));
    TRY(fs::write_at(fd, file, inherited));
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
  if (const Hierarchy* h = l_.find("hugetlb")) {
    auto fd = TRY(open_leaf(*h));
    return write_hugetlb_v1(fd.get(), limits);
  }
  const Hierarchy* u = TRY(hugetlb_fallback());
  if (u == nullptr) {
    return Error::make(ErrorKind::Unsupported,
                       "linux.resources.hugepageLimits: hugetlb controller is not mounted");
  }
  TRY(enable_controllers(*u, {"hugetlb"}, {"hugetlb"}));
  auto fd = TRY(open_leaf(*u));
  return write_hugetlb_v2(fd.get(), limits);
}

Status V1Manager::apply(const spec::Resources& r) {
  TRY(check(r));
  auto needed = needed_controllers(TRY(needs_v1(r)));
  auto rules = TRY(normalize_device_rules(r.devices));
  auto with = [&](const char* ctrl, auto&& write) -> Status {
    if (needed.count(ctrl) == 0) return {};
    const Hierarchy* h = l_.find(ctrl);
    auto fd = TRY(open_leaf(*h));
    Status st = write(fd.get());
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
  auto fd = TRY(open_leaf(*h));
  auto deadline = std::chrono::steady_clock::now() + kFreezeTimeout;
  for (int attempt = 0;; ++attempt) {
    // Re-writing FROZEN retries the tasks that were not freezable last time.
    if (attempt % 10 == 0) TRY(fs::write_at(fd.get(), "freezer.state", state));
    auto now = TRY(fs::read_at(fd.get(), "freezer.state"));
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

Result<bool> V1Manager::frozen() const {
  const Hierarchy* h = l_.find("freezer");
  if (h == nullptr) return false;
  auto fd = TRY(open_leaf(*h));
  auto state = TRY(fs::read_at(fd.get(), "freezer.state"));
  return state == "FROZEN";
}

}  // namespace husk::cgroup
