#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>

#include "cgroup/fs.hpp"
#include "cgroup/manager_impl.hpp"

namespace husk::cgroup {

namespace {

std::string join_prefix(const std::vector<std::string>& comps, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += "/" + comps[i];
  return out;
}

// rmdir(2) of a cgroup fails with EBUSY while tasks (even exiting ones) are
// still attached; give them a moment.
Status rmdir_retry(const std::string& path) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || std::chrono::steady_clock::now() > deadline) {
      return Error::last("rmdir {}", path);
    }
    backoff_sleep(attempt);
  }
}

// rmdir(2) first: a container seldom makes cgroups of its own, so one call
// usually removes its directory. cgroupfs refuses with EBUSY both while
// tasks are attached and while child cgroups exist (a plain directory says
// ENOTEMPTY); only then are sub-cgroups listed and removed, deepest first.
Status remove_tree(const std::string& path) {
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return {};
  if (errno != EBUSY && errno != ENOTEMPTY) return Error::last("rmdir {}", path);
  auto fd = fs::open_dir(path);
  if (!fd && fd.error().kind() == ErrorKind::NotFound) return {};
  if (!fd) return std::move(fd).error();
  auto subs = TRY(fs::subdirs(fd->get()));
  for (const auto& sub : subs) TRY(remove_tree(fmt::format("{}/{}", path, sub)));
  return rmdir_retry(path);
}

// A cgroup removed after its directory was opened, as systemd removes a
// scope's cgroup once its last process exited: the removed kernfs directory
// has no files left (ENOENT), or answers ENODEV. It holds no process.
bool removed_meanwhile(const Error& e) { return e.err() == ENOENT || e.err() == ENODEV; }

Status collect_pids(int dirfd, std::vector<pid_t>& out) {
  auto read = fs::read_at(dirfd, "cgroup.procs");
  if (!read && removed_meanwhile(read.error())) return {};
  auto procs = TRY(std::move(read));
  for (const auto& w : fs::split_words(procs)) {
    pid_t pid = 0;
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), pid);
    if (ec == std::errc() && p == w.data() + w.size()) out.push_back(pid);
  }
  auto listed = fs::subdirs(dirfd);
  if (!listed && removed_meanwhile(listed.error())) return {};
  auto subs = TRY(std::move(listed));
  for (const auto& sub : subs) {
    auto fd = fs::open_dir_at(dirfd, sub);
    if (!fd && removed_meanwhile(fd.error())) continue;
    if (!fd) return std::move(fd).error();
    TRY(collect_pids(fd->get(), out));
  }
  return {};
}

Result<std::optional<Driver>> driver_from_env() {
  const char* d = std::getenv("HUSK_CGROUP_DRIVER");
  if (d == nullptr || *d == '\0') return std::optional<Driver>();
  std::string_view v = d;
  if (v == "v1") return std::optional<Driver>(Driver::V1);
  if (v == "v2") return std::optional<Driver>(Driver::V2);
  return Error::arg("HUSK_CGROUP_DRIVER: expected \"v1\" or \"v2\", got \"{}\"", v);
}

}  // namespace

std::unique_ptr<FsManager> make_fs_manager(Layout l) {
  if (l.driver == Driver::V1) return std::make_unique<V1Manager>(std::move(l));
  return std::make_unique<V2Manager>(std::move(l));
}

void backoff_sleep(int attempt) {
  long ms = attempt < 5 ? (1L << attempt) : 20;
  struct timespec ts = {0, ms * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

Result<Options> options_from_env(Options base) {
  auto d = TRY(driver_from_env());
  if (d) base.force_driver = d;
  if (const char* root = std::getenv("HUSK_CGROUP_ROOT"); root != nullptr && *root != '\0') {
    if (root[0] != '/') {
      return Error::arg("HUSK_CGROUP_ROOT: expected an absolute path, got \"{}\"", root);
    }
    base.mount_root = root;
  }
  return base;
}

Result<std::unique_ptr<Manager>> Manager::plan(const Options& opts,
                                               const spec::Resources* resources) {
  if (opts.systemd) return plan_systemd(opts, resources);
  auto layout = TRY(discover(opts));
  if (opts.rootless && !opts.systemd) return plan_rootless(std::move(layout), resources);
  auto m = make_fs_manager(std::move(layout));
  if (resources != nullptr) TRY(m->check(*resources));
  return std::unique_ptr<Manager>(std::move(m));
}

Result<std::unique_ptr<Manager>> Manager::load(const std::string& serialized) {
  auto layout = TRY(parse_layout(serialized));
  if (!layout.systemd_unit.empty()) return load_systemd(std::move(layout));
  return std::unique_ptr<Manager>(make_fs_manager(std::move(layout)));
}

Status FsManager::check(const spec::Resources& r) const {
  TRY(validate_resources(r));
  auto missing = TRY(missing_controllers(r));
  if (!missing.empty()) return std::move(missing.front());
  return {};
}

Result<int> FsManager::open_leaf(const Hierarchy& h) const {
  auto i = static_cast<size_t>(&h - l_.hierarchies.data());
  if (leaf_fds_.size() != l_.hierarchies.size()) leaf_fds_.resize(l_.hierarchies.size());
  sys::UniqueFd& fd = leaf_fds_.at(i);
  if (!fd) fd = TRY(fs::open_dir(l_.dir(h)));
  return fd.get();
}

Status FsManager::mkdir_level(Hierarchy& h, const std::vector<std::string>& comps, size_t n) {
  std::string dir = h.mount + join_prefix(comps, n);
  for (bool above_made = false;; above_made = true) {
    if (::mkdir(dir.c_str(), 0755) == 0) {
      if (h.created == 0) h.created = static_cast<int>(comps.size() - n + 1);
      return {};
    }
    if (errno == EEXIST) return {};
    // ENOENT: a level above is missing (removed since plan time).
    if (errno != ENOENT || n == 1 || above_made) return Error::last("mkdir {}", dir);
    TRY(mkdir_level(h, comps, n - 1));
  }
}

Status FsManager::create() {
  for (auto& h : l_.hierarchies) h.created = 0;
  leaf_fds_.clear();
  leaf_fds_.resize(l_.hierarchies.size());
  sys::ScopeGuard rollback([this] { (void)destroy(); });
  for (size_t i = 0; i < l_.hierarchies.size(); ++i) {
    auto& h = l_.hierarchies[i];
    leaf_fds_[i] = TRY_CTX(make_dirs(h), "create cgroup {}", l_.dir(h));
  }
  rollback.dismiss();
  return {};
}

Status FsManager::destroy() {
  Status first;
  removed_parents_.clear();
  for (auto& h : l_.hierarchies) {
    if (h.created == 0) continue;
    std::string dir = l_.dir(h);
    Status st = remove_tree(dir);
    // Parents this container created: gone once empty, kept while another
    // container still uses them.
    for (int k = 1; st && k < h.created; ++k) {
      dir.resize(dir.rfind('/'));
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) {
        removed_parents_.push_back(dir);
        continue;
      }
      if (errno == EBUSY || errno == ENOTEMPTY) break;
      st = Error::last("rmdir {}", dir);
    }
    if (!st && first) first = std::move(st).error().wrap("destroy cgroup {}", l_.dir(h));
  }
  // Held directories of removed cgroups answer nothing but ENOENT.
  leaf_fds_.clear();
  return first;
}

Status FsManager::add_pid(pid_t pid) {
  for (const auto& h : l_.hierarchies) {
    int fd = TRY_CTX(open_leaf(h), "add pid {} to cgroup", pid);
    TRY_CTX(fs::write_at(fd, "cgroup.procs", std::to_string(pid)), "add pid {} to cgroup {}", pid,
            l_.dir(h));
  }
  return {};
}

Result<std::vector<pid_t>> FsManager::pids() const {
  const Hierarchy& h = process_hierarchy();
  int fd = TRY_CTX(open_leaf(h), "list processes of cgroup");
  std::vector<pid_t> out;
  TRY_CTX(collect_pids(fd, out), "list processes of cgroup {}", l_.dir(h));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status FsManager::kill_all(int sig) {
  // A cgroup that is already gone holds no process to signal.
  auto leaf = open_leaf(process_hierarchy());
  if (!leaf && leaf.error().kind() == ErrorKind::NotFound) return {};
  if (sig == SIGKILL) {
    bool done = TRY(kill_all_at_once());
    if (done) return {};
  }
  bool can = can_freeze();
  bool was_frozen = can && frozen().value_or(false);
  // Frozen, the tree cannot fork between listing and signalling.
  bool froze = can && !was_frozen && freeze().has_value();
  Status st;
  auto list = pids();
  if (list) {
    for (pid_t pid : *list) {
      if (::kill(pid, sig) != 0 && errno != ESRCH && st) st = Error::last("kill({}, {})", pid, sig);
    }
  } else {
    st = std::move(list).error();
  }
  // v1 frozen tasks act on SIGKILL only once thawed.
  if (froze || (was_frozen && sig == SIGKILL)) {
    auto t = thaw();
    if (!t && st) st = std::move(t);
  }
  if (sig == SIGKILL) {
    auto t = thaw_subtree_for_kill();
    if (!t && st) st = std::move(t);
  }
  // Removed while we worked (systemd's scopes): nothing is left to signal.
  if (!st && removed_meanwhile(st.error())) return {};
  return st;
}

std::string FsManager::path(const std::string& controller) const {
  if (l_.driver == Driver::V2) return l_.dir(l_.hierarchies.at(0));
  const Hierarchy* h = l_.find(controller);
  return h ? l_.dir(*h) : std::string();
}

Result<std::set<std::string>> FsManager::available_controllers(const Hierarchy& h) {
  auto fd = TRY(fs::open_dir(h.mount));
  auto words = fs::split_words(TRY(fs::read_at(fd.get(), "cgroup.controllers")));
  return std::set<std::string>(words.begin(), words.end());
}

Status FsManager::enable_controllers(const Hierarchy& h, const std::set<std::string>& wanted,
                                     const std::set<std::string>& required) const {
  auto comps = l_.components();
  for (size_t depth = 0; depth < comps.size(); ++depth) {
    std::string dir = h.mount + join_prefix(comps, depth);
    auto fd = TRY(fs::open_dir(dir));
    auto cur = fs::split_words(TRY(fs::read_at(fd.get(), "cgroup.subtree_control")));
    for (const auto& c : wanted) {
      if (std::find(cur.begin(), cur.end(), c) != cur.end()) continue;
      auto st = fs::write_at(fd.get(), "cgroup.subtree_control", "+" + c);
      if (!st && required.count(c) != 0) {
        return std::move(st).error().wrap("enable the {} controller in {}", c, dir);
      }
    }
  }
  return {};
}

}  // namespace husk::cgroup
