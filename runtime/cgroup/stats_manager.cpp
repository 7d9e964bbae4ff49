// Manager::stats and Manager::watch_oom of the cgroupfs drivers.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

#include "cgroup/fs.hpp"
#include "cgroup/manager_impl.hpp"

namespace husk::cgroup {

namespace {

class EventfdOomWatch final : public OomWatch {
 public:
  EventfdOomWatch(sys::UniqueFd efd, sys::UniqueFd oom_control)
      : efd_(std::move(efd)), oom_control_(std::move(oom_control)) {}
  [[nodiscard]] int fd() const override { return efd_.get(); }
  Result<uint64_t> consume() override {
    uint64_t n = 0;
    ssize_t r = ::read(efd_.get(), &n, sizeof n);
    if (r < 0 && errno == EAGAIN) return uint64_t{0};
    if (r != static_cast<ssize_t>(sizeof n)) return Error::last("read OOM eventfd");
    return n;
  }

 private:
  sys::UniqueFd efd_;
  sys::UniqueFd oom_control_;  // must stay open while the registration lives
};

class InotifyOomWatch final : public OomWatch {
 public:
  InotifyOomWatch(sys::UniqueFd ino, sys::UniqueFd dir, uint64_t seen)
      : ino_(std::move(ino)), dir_(std::move(dir)), seen_(seen) {}
  [[nodiscard]] int fd() const override { return ino_.get(); }
  Result<uint64_t> consume() override {
    alignas(inotify_event) char buf[4096];
    while (::read(ino_.get(), buf, sizeof buf) > 0) {
    }
    uint64_t now = TRY(read_oom_kill_count(dir_.get()));
    uint64_t delta = now > seen_ ? now - seen_ : 0;
    seen_ = now;
    return delta;
  }

 private:
  sys::UniqueFd ino_;
  sys::UniqueFd dir_;
  uint64_t seen_;
};

Result<std::unique_ptr<OomWatch>> inotify_watch(const std::string& dir) {
  auto dfd = TRY(fs::open_dir(dir));
  uint64_t seen = TRY(read_oom_kill_count(dfd.get()));
  sys::UniqueFd ino(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!ino) return Error::last("inotify_init1");
  // memory.events is a kernfs file: a change of its counters is an IN_MODIFY.
  std::string file = dir + "/memory.events";
  if (::inotify_add_watch(ino.get(), file.c_str(), IN_MODIFY) < 0) {
    return Error::last("inotify_add_watch {}", file);
  }
  return std::unique_ptr<OomWatch>(
      std::make_unique<InotifyOomWatch>(std::move(ino), std::move(dfd), seen));
}

}  // namespace

Result<Stats> V1Manager::stats() const {
  Stats s;
  auto in = [&](const char* ctrl, auto&& read) -> Status {
    const Hierarchy* h = l_.find(ctrl);
    if (h == nullptr) return {};
    int fd = TRY(open_leaf(*h));
    TRY_CTX(read(fd), "stats of cgroup {}", l_.dir(*h));
    return {};
  };
  TRY(in("cpuacct", [&](int fd) { return read_cpuacct_v1(fd, s.cpu); }));
  TRY(in("cpu", [&](int fd) { return read_cpu_stat(fd, s.cpu); }));
  TRY(in("cpuset", [&](int fd) { return read_cpuset(fd, s); }));
  TRY(in("memory", [&](int fd) { return read_memory_v1(fd, s.memory); }));
  TRY(in("pids", [&](int fd) { return read_pids(fd, s.pids); }));
  TRY(in("blkio", [&](int fd) { return read_blkio_v1(fd, s.blkio); }));
  if (l_.find("hugetlb") != nullptr) {
    TRY(in("hugetlb", [&](int fd) { return read_hugetlb_v1(fd, s.hugetlb); }));
  } else if (const Hierarchy* u = TRY(hugetlb_fallback())) {
    // Hybrid host: hugetlb lives in the cgroup2 hierarchy.
    auto fd = open_leaf(*u);
    if (fd) TRY_CTX(read_hugetlb_v2(*fd, s.hugetlb), "stats of cgroup {}", l_.dir(*u));
  }
  return s;
}

Result<std::unique_ptr<OomWatch>> V1Manager::watch_oom() const {
  const Hierarchy* h = l_.find("memory");
  if (h == nullptr) {
    return Error::make(ErrorKind::Unsupported, "the cgroup v1 memory controller is not mounted");
  }
  int dir = TRY(open_leaf(*h));
  sys::UniqueFd oc(::openat(dir, "memory.oom_control", O_RDONLY | O_CLOEXEC));
  if (!oc) return Error::last("open {}/memory.oom_control", l_.dir(*h));
  sys::UniqueFd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!efd) return Error::last("eventfd");
  // cgroup-v1 memory.txt "Memory thresholds"/"OOM control": writing
  // "<eventfd> <fd of memory.oom_control>" registers for OOM notifications.
  TRY_CTX(fs::write_at(dir, "cgroup.event_control", fmt::format("{} {}", efd.get(), oc.get())),
          "register OOM notification in {}", l_.dir(*h));
  return std::unique_ptr<OomWatch>(
      std::make_unique<EventfdOomWatch>(std::move(efd), std::move(oc)));
}

Result<Stats> V2Manager::stats() const {
  Stats s;
  const Hierarchy& h = l_.hierarchies.at(0);
  int fd = TRY(open_leaf(h));
  auto st = [&]() -> Status {
    TRY(read_cpu_stat(fd, s.cpu));
    TRY(read_cpuset(fd, s));
    TRY(read_memory_v2(fd, s.memory));
    TRY(read_pids(fd, s.pids));
    TRY(read_io_v2(fd, s.blkio));
    TRY(read_hugetlb_v2(fd, s.hugetlb));
    return {};
  }();
  if (!st) return std::move(st).error().wrap("stats of cgroup {}", l_.dir(h));
  return s;
}

Result<std::unique_ptr<OomWatch>> V2Manager::watch_oom() const {
  const Hierarchy& h = l_.hierarchies.at(0);
  int fd = TRY(open_leaf(h));
  if (!fs::exists_at(fd, "memory.events")) {
    return Error::make(ErrorKind::Unsupported, "{}: no memory controller (memory.events)",
                       l_.dir(h));
  }
  return inotify_watch(l_.dir(h));
}

}  // namespace husk::cgroup
