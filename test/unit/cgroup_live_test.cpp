// Real cgroups (root only): /husk-test/<unique> on the host's v1 hierarchies
// and on the cgroup2 mount at /sys/fs/cgroup/unified. Every test removes its
// cgroups and kills the processes it started, also when an assertion fails.
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "cgroup/cgroup.hpp"
#include "cgroup/layout.hpp"
#include "cgroup_test_util.hpp"
#include "test_util.hpp"

namespace cg = husk::cgroup;
namespace spec = husk::spec;
using cgtest::slurp;

namespace {

const std::string kRoot = "/sys/fs/cgroup";

bool exists(const std::string& p) { return cgtest::FakeCgroupDir::exists(p); }

std::string unique_path() {
  std::random_device rd;
  return fmt::format("/husk-test/unit-{}-{:08x}", ::getpid(), rd());
}

// Every place a test cgroup can exist on this host.
std::vector<std::string> all_dirs(const std::string& rel) {
  std::vector<std::string> out;
  for (const char* h : {"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids",
                        "systemd", "unified"}) {
    out.push_back(kRoot + "/" + h + rel);
  }
  return out;
}

void kill_procs_in(const std::string& dir) {
  std::stringstream ss(slurp(dir + "/cgroup.procs"));
  for (pid_t pid; ss >> pid;) ::kill(pid, SIGKILL);
}

void rm_tree(const std::string& dir) {
  if (!exists(dir)) return;
  kill_procs_in(dir);
  ::nftw(
      dir.c_str(),
      [](const char* p, const struct stat*, int type, struct FTW*) {
        if (type == FTW_DP) {
          for (int i = 0; i < 100 && ::rmdir(p) != 0 && errno == EBUSY; ++i) ::usleep(10000);
        }
        return 0;
      },
      8, FTW_DEPTH | FTW_PHYS);
}

// Removes the test's cgroup everywhere (and /husk-test when empty).
struct CgroupCleanup {
  std::string rel;
  ~CgroupCleanup() {
    if (rel.find("process_api") != std::string::npos || !rel.starts_with("/husk-test/")) return;
    for (const auto& d : all_dirs(rel)) rm_tree(d);
    for (const auto& d : all_dirs("/husk-test")) ::rmdir(d.c_str());
  }
};

// A forked process that waits for "go", runs `body`, reports its int result,
// then runs `after` (default: sleep) until killed. The destructor kills and
// reaps it.
class Child {
 public:
  explicit Child(const std::function<int()>& body, const std::function<void()>& after = {}) {
    int go[2], res[2];
    REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(res, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // Catch2's fatal-signal handlers must not report from the child.
      for (int sig : {SIGINT, SIGILL, SIGFPE, SIGSEGV, SIGTERM, SIGABRT}) ::signal(sig, SIG_DFL);
      char c;
      if (::read(go[0], &c, 1) != 1) ::_exit(1);
      int v = body();
      if (::write(res[1], &v, sizeof v) != sizeof v) ::_exit(1);
      if (after) after();
      for (;;) ::pause();
    }
    ::close(go[0]);
    ::close(res[1]);
    go_ = go[1];
    res_ = res[0];
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(go_);
    ::close(res_);
  }
  [[nodiscard]] pid_t pid() const { return pid_; }
  int run() {
    REQUIRE(::write(go_, "g", 1) == 1);
    int v = -1;
    REQUIRE(::read(res_, &v, sizeof v) == sizeof v);
    return v;
  }
  // Waits for exit; returns the wait status.
  int reap() {
    int st = 0;
    REQUIRE(::waitpid(pid_, &st, 0) == pid_);
    pid_ = -1;
    return st;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1, res_ = -1;
};

// Shared counter a child bumps every millisecond: frozen children don't.
struct Counter {
  volatile uint64_t* v = static_cast<volatile uint64_t*>(
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ~Counter() { ::munmap(const_cast<uint64_t*>(v), 4096); }
  bool moves() const {
    uint64_t a = *v;
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    return *v != a;
  }
};

// Forks a grandchild (in the same cgroup) and reports its pid.
int fork_grandchild() {
  pid_t g = ::fork();
  if (g == 0) {
    for (;;) ::pause();
  }
  return g;
}

std::function<void()> ticking(Counter& c) {
  return [&c] {
    for (;;) {
      *c.v = *c.v + 1;
      ::usleep(1000);
    }
  };
}

std::string cgroup_line(pid_t pid, const std::string& prefix) {
  std::stringstream ss(slurp(fmt::format("/proc/{}/cgroup", pid)));
  for (std::string line; std::getline(ss, line);) {
    auto colon = line.find(':');
    if (line.compare(colon + 1, prefix.size(), prefix) == 0) return line.substr(colon + 1);
  }
  return "";
}

std::unique_ptr<cg::Manager> must(husk::Result<std::unique_ptr<cg::Manager>> r) {
  if (!r) FAIL(r.error().message());
  return std::move(r).value();
}

void must(const husk::Status& s) {
  if (!s) FAIL(s.error().message());
}

// kill_all(SIGKILL) kills the child, and the cgroup empties.
void kill_all_and_check(cg::Manager& m, Child& child) {
  must(m.kill_all(SIGKILL));
  int st = child.reap();
  CHECK((WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL));
  for (int i = 0; i < 200 && !m.pids().value_or(std::vector<pid_t>{1}).empty(); ++i) {
    ::usleep(10000);
  }
  CHECK(m.pids().value_or(std::vector<pid_t>{1}).empty());
}

uint32_t attached_device_programs(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  uint32_t ids[16];
  bpf_attr q{};
  q.query.target_fd = static_cast<uint32_t>(fd);
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = reinterpret_cast<uintptr_t>(ids);
  q.query.prog_cnt = 16;
  long r = ::syscall(SYS_bpf, BPF_PROG_QUERY, &q, sizeof q);
  ::close(fd);
  return r == 0 ? q.query.prog_cnt : 999;
}

}  // namespace

TEST_CASE("live v1: create, limits, membership, freeze, kill, destroy", "[cgroup][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::hybrid_cgroups);
  CgroupCleanup cleanup{unique_path()};
  const std::string& rel = cleanup.rel;
  cg::Options o;
  o.id = "live-v1";
  o.cgroups_path = rel;
  spec::Resources r = cg::container_resources(nullptr);
  r.pids = spec::Pids{7};
  r.memory = spec::Memory{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  r.cpu = spec::Cpu{};
  r.cpu->shares = 512;
  r.cpu->quota = 20000;
  r.cpu->period = 100000;
  r.hugepage_limits = {{"2MB", 4 << 20}};
  auto m = must(cg::Manager::plan(o, &r));
  REQUIRE(m->driver() == cg::Driver::V1);
  CHECK_FALSE(exists(kRoot + "/pids" + rel));  // plan has no side effects
  must(m->create());
  for (const auto& d : all_dirs(rel)) CHECK(exists(d));
  must(m->apply(r));

  CHECK(slurp(kRoot + "/pids" + rel + "/pids.max") == "7\n");
  CHECK(slurp(kRoot + "/memory" + rel + "/memory.limit_in_bytes") == "67108864\n");
  CHECK(slurp(kRoot + "/memory" + rel + "/memory.memsw.limit_in_bytes") == "134217728\n");
  CHECK(slurp(kRoot + "/cpu" + rel + "/cpu.shares") == "512\n");
  CHECK(slurp(kRoot + "/cpu" + rel + "/cpu.cfs_quota_us") == "20000\n");
  CHECK(slurp(kRoot + "/cpuset" + rel + "/cpuset.cpus") == slurp(kRoot + "/cpuset/cpuset.cpus"));
  std::string devs = slurp(kRoot + "/devices" + rel + "/devices.list");
  CHECK_THAT(devs, Catch::Contains("c 1:3 rwm") && Catch::Contains("c 136:* rwm"));
  CHECK_THAT(devs, !Catch::Contains("a *:* rwm") && !Catch::Contains("b 8:"));
  // hugetlb exists only in the cgroup2 hierarchy on this host
  CHECK(slurp(kRoot + "/unified" + rel + "/hugetlb.2MB.max") == "4194304\n");

  // Raising then lowering memory+swap needs memsw and limit written in the
  // right order each time, or the kernel refuses.
  spec::Resources up;
  up.memory = spec::Memory{};
  up.memory->limit = 256 << 20;
  up.memory->swap = 512 << 20;
  must(m->apply(up));
  CHECK(slurp(kRoot + "/memory" + rel + "/memory.memsw.limit_in_bytes") == "536870912\n");
  up.memory->limit = 32 << 20;
  up.memory->swap = 64 << 20;
  must(m->apply(up));
  CHECK(slurp(kRoot + "/memory" + rel + "/memory.limit_in_bytes") == "33554432\n");
  CHECK(slurp(kRoot + "/memory" + rel + "/memory.memsw.limit_in_bytes") == "67108864\n");

  Counter counter;
  Child child(fork_grandchild, ticking(counter));
  must(m->add_pid(child.pid()));
  CHECK(cgroup_line(child.pid(), "pids:") == "pids:" + rel);
  CHECK(cgroup_line(child.pid(), ":") == ":" + rel);  // the unified placement
  pid_t grandchild = child.run();
  auto pids = m->pids();
  REQUIRE(pids);
  std::vector<pid_t> want = {child.pid(), grandchild};
  std::sort(want.begin(), want.end());
  CHECK(*pids == want);

  CHECK(counter.moves());
  must(m->freeze());
  CHECK(m->frozen().value_or(false));
  CHECK(slurp(kRoot + "/freezer" + rel + "/freezer.state") == "FROZEN\n");
  CHECK_FALSE(counter.moves());
  must(m->thaw());
  CHECK_FALSE(m->frozen().value_or(true));
  CHECK(counter.moves());

  // A paused container still dies on kill_all(SIGKILL).
  must(m->freeze());
  kill_all_and_check(*m, child);

  // The state record reloads into a manager that can remove everything.
  auto again = must(cg::Manager::load(m->serialize()));
  CHECK(again->path("memory") == kRoot + "/memory" + rel);
  must(again->destroy());
  for (const auto& d : all_dirs(rel)) CHECK_FALSE(exists(d));
}

TEST_CASE("live v1: cpuset levels without CPUs get their nearest ancestor's", "[cgroup][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::hybrid_cgroups);
  CgroupCleanup cleanup{unique_path()};
  const std::string cpuset = kRoot + "/cpuset";
  // Levels someone else made with mkdir alone: no CPUs, no memory nodes.
  ::mkdir((cpuset + "/husk-test").c_str(), 0755);
  REQUIRE(::mkdir((cpuset + cleanup.rel).c_str(), 0755) == 0);
  REQUIRE(::mkdir((cpuset + cleanup.rel + "/theirs").c_str(), 0755) == 0);
  REQUIRE(slurp(cpuset + cleanup.rel + "/theirs/cpuset.cpus") == "\n");
  cg::Options o;
  o.id = "live-v1-cpuset";
  o.cgroups_path = cleanup.rel + "/theirs/mine/leaf";
  auto m = must(cg::Manager::plan(o, nullptr));
  must(m->create());
  for (const char* knob : {"/cpuset.cpus", "/cpuset.mems"}) {
    std::string want = slurp(cpuset + knob);
    REQUIRE(want != "\n");
    for (const char* level : {"", "/theirs", "/theirs/mine", "/theirs/mine/leaf"}) {
      CHECK(slurp(cpuset + cleanup.rel + level + knob) == want);
    }
  }
  Child child([] { return 0; });
  must(m->add_pid(child.pid()));  // a cpuset without CPUs refuses tasks (ENOSPC)
  CHECK(cgroup_line(child.pid(), "cpuset:") == "cpuset:" + o.cgroups_path);
  child.run();
  ::kill(child.pid(), SIGKILL);
  child.reap();
  for (int i = 0; i < 200 && !m->pids().value_or(std::vector<pid_t>{1}).empty(); ++i) {
    ::usleep(10000);
  }
  must(m->destroy());
  // What this container made is gone; the level it found stays.
  CHECK_FALSE(exists(cpuset + cleanup.rel + "/theirs/mine"));
  CHECK(exists(cpuset + cleanup.rel + "/theirs"));
  auto removed = m->removed_parents();
  auto has = [&](const std::string& p) {
    return std::find(removed.begin(), removed.end(), p) != removed.end();
  };
  CHECK(has(cpuset + cleanup.rel + "/theirs/mine"));
  CHECK_FALSE(has(cpuset + cleanup.rel + "/theirs"));
  CHECK(has(kRoot + "/pids" + cleanup.rel + "/theirs"));  // made there, by this container
}

TEST_CASE("live v1: create counts exactly the directories it made", "[cgroup][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::hybrid_cgroups);
  CgroupCleanup cleanup{unique_path()};
  auto created = [](const cg::Manager& m) {
    auto l = cg::parse_layout(m.serialize());
    REQUIRE(l);
    std::map<std::string, int> out;
    for (const auto& h : l->hierarchies) out[h.mount] = h.created;
    return out;
  };
  cg::Options o;
  o.id = "live-v1-created";
  o.cgroups_path = cleanup.rel + "/first";
  {
    // Nothing below /husk-test exists: the parent is missing everywhere.
    auto m = must(cg::Manager::plan(o, nullptr));
    for (const auto& [mount, n] : created(*m)) CHECK(n == 0);  // nothing made yet
    must(m->create());
    for (const auto& [mount, n] : created(*m)) CHECK(n >= 2);
    must(m->destroy());
  }
  // The parent in every hierarchy but pids, a leaf of someone else in memory.
  for (const auto& d : all_dirs("/husk-test")) ::mkdir(d.c_str(), 0755);
  for (const auto& d : all_dirs(cleanup.rel)) {
    if (d != kRoot + "/pids" + cleanup.rel) REQUIRE(::mkdir(d.c_str(), 0755) == 0);
  }
  REQUIRE(::mkdir((kRoot + "/memory" + cleanup.rel + "/second").c_str(), 0755) == 0);
  o.cgroups_path = cleanup.rel + "/second";
  auto m = must(cg::Manager::plan(o, nullptr));
  must(m->create());
  auto made = created(*m);
  CHECK(made.at(kRoot + "/memory") == 0);  // found, so never removed by this container
  CHECK(made.at(kRoot + "/cpu") == 1);
  CHECK(made.at(kRoot + "/pids") == 2);  // the parent made too
  auto parents = m->created_parents();
  CHECK(std::find(parents.begin(), parents.end(), kRoot + "/pids" + cleanup.rel) != parents.end());
  must(m->destroy());
  CHECK(exists(kRoot + "/memory" + cleanup.rel + "/second"));
  CHECK_FALSE(exists(kRoot + "/cpu" + cleanup.rel + "/second"));
}

TEST_CASE("live v1: controllers this host lacks are Unsupported at plan time", "[cgroup][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::hybrid_cgroups);
  cg::Options o;
  o.id = "live-v1-unsupported";
  o.cgroups_path = unique_path();
  spec::Resources r;
  r.rdma["mlx5_0"] = {1, 2};
  auto m = cg::Manager::plan(o, &r);
  REQUIRE_FALSE(m);
  CHECK(m.error().kind() == husk::ErrorKind::Unsupported);
  CHECK(m.error().message() ==
        "linux.resources.rdma: rdma controller is not mounted (cgroup v1 hierarchies under "
        "/sys/fs/cgroup)");
  r = {};
  r.unified = {{"memory.high", "1"}};
  CHECK_FALSE(cg::Manager::plan(o, &r));
  CHECK_FALSE(exists(kRoot + "/pids" + o.cgroups_path));
}

TEST_CASE("live v2 (unified mount): devices eBPF, hugetlb, unified, freeze, kill",
          "[cgroup][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::hybrid_cgroups);
  CgroupCleanup cleanup{unique_path()};
  const std::string& rel = cleanup.rel;
  const std::string dir = kRoot + "/unified" + rel;
  ::setenv("HUSK_CGROUP_DRIVER", "v2", 1);
  ::setenv("HUSK_CGROUP_ROOT", (kRoot + "/unified").c_str(), 1);
  auto opts = cg::options_from_env({});
  ::unsetenv("HUSK_CGROUP_DRIVER");
  ::unsetenv("HUSK_CGROUP_ROOT");
  REQUIRE(opts);
  opts->id = "live-v2";
  opts->cgroups_path = rel;

  spec::Resources bad;
  bad.memory = spec::Memory{};
  bad.memory->limit = 1 << 20;
  auto refused = cg::Manager::plan(*opts, &bad);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() ==
        "linux.resources.memory.limit: memory controller not available in cgroup v2 hierarchy "
        "/sys/fs/cgroup/unified");

  spec::Resources r;
  r.devices = {{true, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")},
               {false, std::string("c"), 1, 3, std::string("rwm")}};
  r.hugepage_limits = {{"2MB", 2 << 20}};
  r.unified = {{"cgroup.max.depth", "3"}};
  auto m = must(cg::Manager::plan(*opts, &r));
  REQUIRE(m->driver() == cg::Driver::V2);
  must(m->create());
  must(m->apply(r));
  must(m->apply(r));  // re-applying replaces the device program
  CHECK(attached_device_programs(dir) == 1);
  CHECK(slurp(dir + "/hugetlb.2MB.max") == "2097152\n");
  CHECK(slurp(dir + "/cgroup.max.depth") == "3\n");

  auto probe = [] {
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int null_err = null_fd < 0 ? errno : 0;
    int zero_fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
    int zero_err = zero_fd < 0 ? errno : 0;
    return null_err * 1000 + zero_err;
  };
  Counter counter;
  Child child(probe, ticking(counter));
  must(m->add_pid(child.pid()));
  CHECK(cgroup_line(child.pid(), "hugetlb:").empty());
  CHECK(cgroup_line(child.pid(), ":") == ":" + rel);
  CHECK(child.run() == EPERM * 1000 + 0);
  CHECK(::open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0);  // the test itself is not confined

  must(m->freeze());
  CHECK(m->frozen().value_or(false));
  CHECK_THAT(slurp(dir + "/cgroup.events"), Catch::Contains("frozen 1"));
  CHECK_FALSE(counter.moves());
  must(m->thaw());
  CHECK(counter.moves());

  must(m->kill_all(SIGTERM));  // not SIGKILL: freeze, signal each, thaw
  int st = child.reap();
  CHECK((WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM));
  must(m->destroy());
  CHECK_FALSE(exists(dir));
}

TEST_CASE("live v2: cgroup.kill takes the whole tree", "[cgroup][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::hybrid_cgroups);
  CgroupCleanup cleanup{unique_path()};
  cg::Options o;
  o.id = "live-v2-kill";
  o.cgroups_path = cleanup.rel;
  o.mount_root = kRoot + "/unified";
  o.force_driver = cg::Driver::V2;
  auto m = must(cg::Manager::plan(o, nullptr));
  must(m->create());
  Child child(fork_grandchild);
  must(m->add_pid(child.pid()));
  child.run();
  REQUIRE(m->pids().value_or(std::vector<pid_t>{}).size() == 2);
  kill_all_and_check(*m, child);
  must(m->destroy());
  CHECK_FALSE(exists(kRoot + "/unified" + cleanup.rel));
}

// systemd removes a scope's cgroup as soon as its last process exits, which
// can fall between delete --force opening the cgroup and listing it.
TEST_CASE("live v1: a cgroup removed after it was opened holds no process", "[cgroup][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::hybrid_cgroups);
  CgroupCleanup cleanup{unique_path()};
  cg::Options o;
  o.id = "live-v1-removed";
  o.cgroups_path = cleanup.rel + "/gone";
  auto m = must(cg::Manager::plan(o, nullptr));
  must(m->create());
  auto before = m->pids();  // opens (and keeps) the leaf's directory
  REQUIRE(before);
  CHECK(before->empty());
  for (const auto& d : all_dirs(o.cgroups_path)) {
    if (exists(d)) REQUIRE(::rmdir(d.c_str()) == 0);
  }
  auto pids = m->pids();
  REQUIRE(pids);
  CHECK(pids->empty());
  auto killed = m->kill_all(SIGKILL);
  INFO((killed ? std::string() : killed.error().message()));
  CHECK(killed);
}
