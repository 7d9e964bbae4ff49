// prepare_rootfs + enter_rootfs for real (root only). Each case forks a child
// that unshares a mount namespace (plus net/ipc/uts for sysctls), builds the
// container view of a tiny busybox rootfs in a tmpdir and reports what it
// sees over a pipe; the parent then checks that the host is untouched.
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "linux/rootfs.hpp"
#include "spec/default_spec.hpp"
#include "spec/parse.hpp"
#include "test_util.hpp"

using namespace husk::linux_setup;
namespace spec = husk::spec;
namespace fs = std::filesystem;

namespace {

// linux/magic.h lacks it: ipc/mqueue.c
constexpr long kMqueueMagic = 0x19800202;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& data) { std::ofstream(path) << data; }

// A scratch dir holding rootfs/ (busybox, a few dirs) and host-side bait.
struct Scratch {
  husk::test::TempDir tmp{"husk-rootfs-test"};
  std::string dir = tmp.path.string();
  std::string rootfs = dir + "/rootfs";
  Scratch() {
    for (const char* d : {"", "/bin", "/proc", "/sys", "/dev", "/etc", "/tmp", "/opt"}) {
      fs::create_directories(rootfs + d);
    }
    fs::copy_file("/bin/busybox", rootfs + "/bin/busybox");
    fs::create_symlink("busybox", rootfs + "/bin/sh");
    // host-side bait: a secret file only root may read
    spit(dir + "/secret", "host secret\n");
    ::chmod((dir + "/secret").c_str(), 0600);
    fs::create_directories(dir + "/vol");
    spit(dir + "/vol/hello", "hi\n");
  }
};

spec::Config default_config() {
  auto c = spec::parse_config(spec::default_config_json(false));
  if (!c) FAIL(c.error().message());
  return std::move(c).value();
}

void drop_mount(spec::Config& c, const std::string& dest) {
  std::erase_if(c.mounts, [&](const spec::Mount& m) { return m.destination == dest; });
}

spec::Mount mnt(std::string dest, std::optional<std::string> type, std::optional<std::string> src,
                std::vector<std::string> options) {
  return husk::test::mount_entry(std::move(dest), std::move(type), std::move(src),
                                 std::move(options));
}

// Runs fn in a forked child with its own mount (and net/ipc/uts)
// namespace; returns what fn reported, as key=value lines.
std::map<std::string, std::string> in_child(const std::function<std::string()>& fn,
                                            int extra_flags = CLONE_NEWNET | CLONE_NEWIPC |
                                                              CLONE_NEWUTS) {
  auto r = husk::test::fork_and_read([&](int fd) {
    std::string out = ::unshare(CLONE_NEWNS | extra_flags) != 0 ? "fatal=unshare failed\n" : fn();
    (void)!::write(fd, out.data(), out.size());
  });
  REQUIRE(r.exited());
  return husk::test::parse_kv_lines(r.out);
}

// ---- what the child checks (runs in the container view) ----

std::string dev_info(const char* path) {
  struct stat st {};
  if (::lstat(path, &st) != 0) return "missing";
  const char* kind = S_ISCHR(st.st_mode)   ? "c"
                     : S_ISBLK(st.st_mode) ? "b"
                     : S_ISLNK(st.st_mode) ? "l"
                                           : "?";
  std::ostringstream o;
  o << kind << " " << major(st.st_rdev) << ":" << minor(st.st_rdev) << " " << std::oct
    << (st.st_mode & 07777) << std::dec << " " << st.st_uid << ":" << st.st_gid;
  return o.str();
}

std::string link_of(const char* path) {
  char buf[256];
  ssize_t n = ::readlink(path, buf, sizeof buf);
  return n < 0 ? "none" : std::string(buf, static_cast<size_t>(n));
}

std::string fs_of(const char* path) {
  struct statfs s {};
  if (::statfs(path, &s) != 0) return "missing";
  switch (s.f_type) {
    case TMPFS_MAGIC:
      return "tmpfs";
    case PROC_SUPER_MAGIC:
      return "proc";
    case SYSFS_MAGIC:
      return "sysfs";
    case DEVPTS_SUPER_MAGIC:
      return "devpts";
    case kMqueueMagic:
      return "mqueue";
    case CGROUP_SUPER_MAGIC:
      return "cgroup";
    case CGROUP2_SUPER_MAGIC:
      return "cgroup2";
    default:
      return "other";
  }
}

// errno name of opening for writing (creating) path, or "ok".
std::string write_result(const char* path) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno == EROFS ? "EROFS" : "errno " + std::to_string(errno);
  ::close(fd);
  return "ok";
}

std::string run_busybox(const char* script) {
  std::string out = husk::test::fork_and_read([&](int fd) {
                      ::dup2(fd, 1);
                      ::execl("/bin/busybox", "sh", "-c", script, static_cast<char*>(nullptr));
                      ::_exit(127);
                    }).out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string setup(const RootfsPlan& plan) {
  if (auto s = prepare_rootfs(plan); !s) return "error=prepare: " + s.error().message() + "\n";
  if (auto s = enter_rootfs(plan); !s) return "error=enter: " + s.error().message() + "\n";
  return "";
}

RootfsPlanPtr must_plan(const spec::Config& c, const std::string& rootfs, bool console = false,
                        bool no_pivot = false) {
  RootfsOptions o;
  o.rootfs = rootfs;
  o.bundle = fs::path(rootfs).parent_path();
  o.console = console;
  o.no_pivot = no_pivot;
  auto r = plan_rootfs(c, o);
  if (!r) FAIL(r.error().message());
  return std::move(r).value();
}

bool host_has_mount_under(const std::string& dir) {
  return slurp("/proc/self/mountinfo").find(dir) != std::string::npos;
}

}  // namespace

TEST_CASE("live rootfs: default config, devices, masks, read-only, sysctl, binds",
          "[rootfs][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::busybox);
  Scratch s;
  const std::string escape = "/tmp/husk-escape-" + std::to_string(::getpid());
  fs::remove_all(escape);
  // Hostile rootfs: a /dev/null symlink to a host secret (hidden by the /dev
  // tmpfs, but nothing may follow it), and mount destinations that are
  // symlinks climbing out of the root.
  fs::create_symlink(s.dir + "/secret", s.rootfs + "/dev/null");
  fs::create_symlink("/../../../" + escape.substr(1), s.rootfs + "/abs-link");
  fs::create_symlink("../../../../../../" + escape.substr(1) + "-rel", s.rootfs + "/rel-link");
  spit(s.rootfs + "/opt/data.txt", "copied\n");
  fs::create_symlink("/etc/x", s.rootfs + "/opt/link");

  auto c = default_config();
  drop_mount(c, "/sys/fs/cgroup");
  c.root->readonly = true;
  c.mounts.push_back(mnt("/abs-link", "tmpfs", "tmpfs", {"size=1m"}));
  c.mounts.push_back(mnt("/rel-link", "tmpfs", "tmpfs", {}));
  c.mounts.push_back(mnt("/vol", "bind", s.dir + "/vol", {"rbind", "ro"}));
  c.mounts.push_back(mnt("/etc/hello", "bind", s.dir + "/vol/hello", {"bind"}));
  c.mounts.push_back(mnt("/opt", "tmpfs", "tmpfs", {"tmpcopyup"}));
  c.linux->devices = {spec::Device{"c", "/dev/fuse", 10, 229, 0620, 5, 6}};
  c.linux->masked_paths.push_back("/proc/does-not-exist");
  c.linux->masked_paths.push_back("/abs-link/../opt/data.txt");
  c.linux->sysctl = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmni", "1234"}};
  auto plan = must_plan(c, s.rootfs, /*console=*/true);

  auto r = in_child([&] {
    std::string out = setup(*plan);
    if (!out.empty()) return out;
    std::ostringstream o;
    for (const char* d : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                          "/dev/tty", "/dev/fuse"}) {
      o << d << "=" << dev_info(d) << "\n";
    }
    o << "ptmx=" << link_of("/dev/ptmx") << "\nfd=" << link_of("/dev/fd")
      << "\nstderr=" << link_of("/dev/stderr") << "\n";
    o << "console=" << (fs::is_regular_file("/dev/console") ? "file" : "other") << "\n";
    o << "timer_list=" << slurp("/proc/timer_list").size() << " " << dev_info("/proc/timer_list")
      << "\n";
    o << "acpi=" << fs_of("/proc/acpi") << " " << fs::is_empty("/proc/acpi") << " "
      << write_result("/proc/acpi/x") << "\n";
    o << "masked_opt=[" << slurp("/opt/data.txt") << "]\n";
    o << "proc_sys_write=" << write_result("/proc/sys/kernel/domainname") << "\n";
    o << "root_write=" << write_result("/newfile") << "\n";
    o << "vol_write=" << write_result("/vol/new") << "\nvol_read=" << slurp("/vol/hello");
    o << "file_bind=" << slurp("/etc/hello");
    o << "escape_fs=" << fs_of(escape.c_str()) << "\nrel_fs=" << fs_of((escape + "-rel").c_str())
      << "\n";
    o << "host_dir_visible=" << fs::exists(s.dir) << "\n";
    o << "fs_proc=" << fs_of("/proc") << " fs_sys=" << fs_of("/sys")
      << " fs_pts=" << fs_of("/dev/pts") << " fs_shm=" << fs_of("/dev/shm")
      << " fs_mq=" << fs_of("/dev/mqueue") << " fs_opt=" << fs_of("/opt") << "\n";
    o << "opt_link=" << link_of("/opt/link") << "\n";
    o << "ip_forward=" << slurp("/proc/sys/net/ipv4/ip_forward");
    o << "shmmni=" << slurp("/proc/sys/kernel/shmmni");
    o << "busybox=" << run_busybox("cat /dev/null; echo ok-$(cat /etc/hello)") << "\n";
    return o.str();
  });

  REQUIRE(r.count("fatal") == 0);
  INFO(r["error"]);
  REQUIRE(r["error"].empty());
  CHECK(r["/dev/null"] == "c 1:3 666 0:0");
  CHECK(r["/dev/zero"] == "c 1:5 666 0:0");
  CHECK(r["/dev/full"] == "c 1:7 666 0:0");
  CHECK(r["/dev/random"] == "c 1:8 666 0:0");
  CHECK(r["/dev/urandom"] == "c 1:9 666 0:0");
  CHECK(r["/dev/tty"] == "c 5:0 666 0:0");
  CHECK(r["/dev/fuse"] == "c 10:229 620 5:6");
  CHECK(r["ptmx"] == "pts/ptmx");
  CHECK(r["fd"] == "/proc/self/fd");
  CHECK(r["stderr"] == "/proc/self/fd/2");
  CHECK(r["console"] == "file");
  CHECK(r["timer_list"] == "0 c 1:3 666 0:0");
  CHECK(r["acpi"] == "tmpfs 1 EROFS");
  CHECK(r["masked_opt"] == "[]");
  CHECK(r["proc_sys_write"] == "EROFS");
  CHECK(r["root_write"] == "EROFS");
  CHECK(r["vol_write"] == "EROFS");
  CHECK(r["vol_read"] == "hi");
  CHECK(r["file_bind"] == "hi");
  CHECK(r["escape_fs"] == "tmpfs");
  CHECK(r["rel_fs"] == "tmpfs");
  CHECK(r["host_dir_visible"] == "0");
  CHECK(r["fs_proc"] == "proc fs_sys=sysfs fs_pts=devpts fs_shm=tmpfs fs_mq=mqueue fs_opt=tmpfs");
  CHECK(r["opt_link"] == "/etc/x");
  CHECK(r["ip_forward"] == "1");
  CHECK(r["shmmni"] == "1234");
  CHECK(r["busybox"] == "ok-hi");

  // The host: no mount leaked, nothing created or changed outside the rootfs.
  CHECK_FALSE(host_has_mount_under(s.dir));
  CHECK_FALSE(fs::exists(escape));
  CHECK_FALSE(fs::exists(escape + "-rel"));
  CHECK(fs::is_directory(s.rootfs + escape));  // created inside the root instead
  CHECK(slurp(s.dir + "/secret") == "host secret\n");
  struct stat st {};
  REQUIRE(::stat((s.dir + "/secret").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(S_ISREG(st.st_mode));
  CHECK(slurp(s.rootfs + "/opt/data.txt") == "copied\n");  // the copy-up source is intact
}

TEST_CASE("live rootfs: a hostile /dev without tmpfs fails instead of following symlinks",
          "[rootfs][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::busybox);
  Scratch s;
  fs::create_symlink(s.dir + "/secret", s.rootfs + "/dev/null");
  auto c = default_config();
  for (const char* d : {"/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys/fs/cgroup"}) {
    drop_mount(c, d);
  }
  c.linux->masked_paths = {"/etc/masked"};
  auto plan = must_plan(c, s.rootfs);
  auto r = in_child([&] { return setup(*plan); });
  CHECK_THAT(r["error"], Catch::Contains("/dev/null already exists and is not"));
  CHECK(slurp(s.dir + "/secret") == "host secret\n");
  struct stat st {};
  REQUIRE(::stat((s.dir + "/secret").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
  CHECK_FALSE(host_has_mount_under(s.dir));
}

TEST_CASE("live rootfs: /dev itself a symlink to a host directory stays inside the root",
          "[rootfs][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::busybox);
  Scratch s;
  fs::create_directories(s.dir + "/hostdev");
  fs::remove(s.rootfs + "/dev");
  fs::create_symlink(s.dir + "/hostdev", s.rootfs + "/dev");
  auto c = default_config();
  drop_mount(c, "/sys/fs/cgroup");
  auto plan = must_plan(c, s.rootfs);
  auto r = in_child([&] {
    std::string out = setup(*plan);
    if (!out.empty()) return out;
    return "null=" + dev_info("/dev/null") + "\nfs_dev=" + fs_of("/dev") + "\n";
  });
  INFO(r["error"]);
  CHECK(r["null"] == "c 1:3 666 0:0");
  CHECK(r["fs_dev"] == "tmpfs");
  CHECK(fs::is_empty(s.dir + "/hostdev"));
  CHECK(fs::is_directory(s.rootfs + s.dir + "/hostdev"));  // the in-root resolution
  CHECK_FALSE(host_has_mount_under(s.dir));
}

TEST_CASE("live rootfs: no_pivot and rootfsPropagation", "[rootfs][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::busybox);
  Scratch s;
  auto c = default_config();
  drop_mount(c, "/sys/fs/cgroup");
  c.linux->rootfs_propagation = "rshared";
  auto plan = must_plan(c, s.rootfs, false, /*no_pivot=*/true);
  auto r = in_child([&] {
    std::string out = setup(*plan);
    if (!out.empty()) return out;
    std::string mi = slurp("/proc/self/mountinfo");
    std::string root_line;
    std::istringstream in(mi);
    for (std::string line; std::getline(in, line);) {
      std::istringstream f(line);
      std::string id, parent, devno, root, point;
      f >> id >> parent >> devno >> root >> point;
      if (point == "/") root_line = line;
    }
    return "root_shared=" + std::to_string(root_line.find("shared:") != std::string::npos) +
           "\nbusybox=" + run_busybox("echo in-root") + "\n";
  });
  INFO(r["error"]);
  CHECK(r["root_shared"] == "1");
  CHECK(r["busybox"] == "in-root");
  CHECK_FALSE(host_has_mount_under(s.dir));
}

namespace {

// The child's own cgroup in every hierarchy of this hybrid host, under
// /husk-test only; removed by the destructor once the child has exited.
struct TestCgroup {
  std::string rel;
  std::vector<std::string> dirs;
  TestCgroup() : rel("/husk-test/rootfs-" + std::to_string(::getpid())) {
    for (const auto& e : fs::directory_iterator("/sys/fs/cgroup")) {
      std::string base = e.path().string();
      if (!fs::exists(base + "/cgroup.procs")) continue;
      std::string dir = base + rel;
      fs::create_directories(dir);
      if (fs::exists(base + "/cpuset.cpus")) {
        // cpuset(7) v1: a cgroup takes no task until cpus and mems are set.
        for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
          std::string v = slurp(base + "/" + f);
          spit(base + "/husk-test/" + f, v);
          spit(dir + "/" + f, v);
        }
      }
      dirs.push_back(dir);
    }
  }
  ~TestCgroup() {
    for (const auto& d : dirs) {
      ::rmdir(d.c_str());
      ::rmdir(fs::path(d).parent_path().c_str());  // /husk-test, if empty
    }
  }
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;
  // In the child: join every hierarchy.
  bool join() const {
    for (const auto& d : dirs) {
      int fd = ::open((d + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return false;
      bool ok = ::write(fd, "0", 1) == 1;
      ::close(fd);
      if (!ok) return false;
    }
    return true;
  }
};

std::string cgroup_view() {
  std::ostringstream o;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator("/sys/fs/cgroup"))
    names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  o << "entries=";
  for (const auto& n : names) o << n << " ";
  o << "\nfs_top=" << fs_of("/sys/fs/cgroup") << " pids=" << fs_of("/sys/fs/cgroup/pids")
    << " unified=" << fs_of("/sys/fs/cgroup/unified") << "\n";
  std::string procs = slurp("/sys/fs/cgroup/pids/cgroup.procs");
  while (!procs.empty() && procs.back() == '\n') procs.pop_back();
  o << "procs_is_self=" << (procs == std::to_string(::getpid())) << "\n";
  o << "unified_procs_is_self="
    << (slurp("/sys/fs/cgroup/unified/cgroup.procs") == std::to_string(::getpid()) + "\n") << "\n";
  o << "pids_write=" << write_result("/sys/fs/cgroup/pids/pids.max") << "\n";
  o << "mkdir=" << (::mkdir("/sys/fs/cgroup/memory/x", 0755) == 0 ? "ok" : std::to_string(errno))
    << "\n";
  o << "sees_other="
    << (fs::exists("/sys/fs/cgroup/memory/process_api") ||
        fs::exists("/sys/fs/cgroup/pids/husk-test"))
    << "\n";
  return o.str();
}

void check_cgroup_view(std::map<std::string, std::string>& r) {
  INFO(r["error"]);
  REQUIRE(r["error"].empty());
  CHECK(r["fs_top"] == "tmpfs pids=cgroup unified=cgroup2");
  CHECK_THAT(r["entries"], Catch::Contains("memory ") && Catch::Contains("pids ") &&
                               Catch::Contains("systemd ") && Catch::Contains("unified "));
  CHECK(r["procs_is_self"] == "1");
  CHECK(r["unified_procs_is_self"] == "1");
  CHECK(r["pids_write"] == "EROFS");
  CHECK(r["mkdir"] == std::to_string(EROFS));
  CHECK(r["sees_other"] == "0");
}

}  // namespace

TEST_CASE("live rootfs: cgroup mount binds only the container's own cgroups (no cgroupns)",
          "[rootfs][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::busybox, Host::cgroup_v1);
  Scratch s;
  TestCgroup cg;
  auto c = default_config();
  std::erase_if(c.linux->namespaces,
                [](const spec::Namespace& n) { return n.type == spec::NamespaceType::Cgroup; });
  auto plan = must_plan(c, s.rootfs);
  REQUIRE_FALSE(plan->cgroup_ns);
  auto r = in_child([&] {
    if (!cg.join()) return std::string("error=join test cgroups\n");
    std::string out = setup(*plan);
    return out.empty() ? cgroup_view() : out;
  });
  check_cgroup_view(r);
  CHECK_FALSE(host_has_mount_under(s.dir));
}

TEST_CASE("live rootfs: cgroup mount in a cgroup namespace", "[rootfs][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::busybox, Host::cgroup_v1);
  Scratch s;
  TestCgroup cg;
  auto c = default_config();
  if (std::none_of(
          c.linux->namespaces.begin(), c.linux->namespaces.end(),
          [](const spec::Namespace& n) { return n.type == spec::NamespaceType::Cgroup; })) {
    c.linux->namespaces.push_back(spec::Namespace{spec::NamespaceType::Cgroup, std::nullopt});
  }
  auto plan = must_plan(c, s.rootfs);
  REQUIRE(plan->cgroup_ns);
  auto r = in_child([&] {
    if (!cg.join()) return std::string("error=join test cgroups\n");
    // cgroup_namespaces(7): the namespace root is the creator's cgroup now.
    if (::unshare(CLONE_NEWCGROUP) != 0) return std::string("error=unshare cgroup\n");
    std::string out = setup(*plan);
    return out.empty() ? cgroup_view() : out;
  });
  check_cgroup_view(r);
  CHECK_FALSE(host_has_mount_under(s.dir));
}

namespace {

bool write_file(const char* path, const std::string& data) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fd);
  return ok;
}

// In a user namespace mapping only root to root (what a process may map for
// itself), with its own pid/net/ipc/uts namespaces as a container would have.
std::string in_userns(const std::function<std::string()>& fn) {
  if (::unshare(CLONE_NEWUSER) != 0) return "error=unshare user\n";
  if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", "0 0 1") ||
      !write_file("/proc/self/gid_map", "0 0 1")) {
    return "error=id maps\n";
  }
  if (::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
    return "error=unshare in userns\n";
  }
  // The child is pid 1 of the new pid namespace.
  return husk::test::fork_and_read([&](int fd) {
           std::string out = fn();
           (void)!::write(fd, out.data(), out.size());
         })
      .out;
}

}  // namespace

TEST_CASE("live rootfs: in a user namespace devices are bound from the host", "[rootfs][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::busybox);
  Scratch s;
  auto c = default_config();
  drop_mount(c, "/sys/fs/cgroup");
  c.linux->namespaces.push_back(spec::Namespace{spec::NamespaceType::User, std::nullopt});
  c.linux->uid_mappings = {{0, 0, 1}};
  c.linux->gid_mappings = {{0, 0, 1}};
  c.mounts.push_back(mnt("/idvol", "bind", s.dir + "/vol", {"rbind", "idmap"}));
  auto plan = must_plan(c, s.rootfs);
  REQUIRE(plan->userns);
  // Made by the (root) parent, attached by the child inside its user namespace.
  auto prep = prepare_idmapped_mounts(*plan);
  if (!prep) FAIL(prep.error().message());
  auto r = in_child(
      [&] {
        return in_userns([&] {
          std::string out = setup(*plan);
          if (!out.empty()) return out;
          std::ostringstream o;
          o << "null=" << dev_info("/dev/null") << "\ntty=" << dev_info("/dev/tty") << "\n";
          o << "zero_read=" << run_busybox("head -c 4 /dev/zero | od -An -tx1 | tr -d ' '") << "\n";
          o << "fs=" << fs_of("/proc") << " " << fs_of("/sys") << " " << fs_of("/dev/pts") << "\n";
          o << "timer_list=" << slurp("/proc/timer_list").size() << "\n";
          o << "proc_sys_write=" << write_result("/proc/sys/kernel/domainname") << "\n";
          o << "idvol=" << slurp("/idvol/hello");
          return o.str();
        });
      },
      0);
  INFO(r["error"]);
  REQUIRE(r["error"].empty());
  CHECK(r["null"] == "c 1:3 666 0:0");
  CHECK(r["tty"] == "c 5:0 666 0:0");
  CHECK(r["zero_read"] == "00000000");
  CHECK(r["fs"] == "proc sysfs devpts");
  CHECK(r["timer_list"] == "0");
  CHECK(r["proc_sys_write"] == "EROFS");
  CHECK(r["idvol"] == "hi");
  CHECK_FALSE(host_has_mount_under(s.dir));
}

TEST_CASE("live rootfs: idmap bind mount with its own mappings", "[rootfs][host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::busybox);
  Scratch s;
  REQUIRE(::chown((s.dir + "/vol/hello").c_str(), 0, 0) == 0);
  REQUIRE(::chown((s.dir + "/vol").c_str(), 2000, 2000) == 0);
  auto c = default_config();
  drop_mount(c, "/sys/fs/cgroup");
  auto m = mnt("/idvol", "bind", s.dir + "/vol", {"rbind", "ridmap", "ro"});
  m.uid_mappings = {{0, 1000, 1}, {2000, 3000, 1}};
  m.gid_mappings = {{0, 1500, 1}, {2000, 3000, 1}};
  c.mounts.push_back(m);
  auto plan = must_plan(c, s.rootfs);
  auto prep = prepare_idmapped_mounts(*plan);
  if (!prep) FAIL(prep.error().message());
  auto r = in_child([&] {
    std::string out = setup(*plan);
    if (!out.empty()) return out;
    struct stat f {
    }, d{};
    ::stat("/idvol/hello", &f);
    ::stat("/idvol", &d);
    return "file=" + std::to_string(f.st_uid) + ":" + std::to_string(f.st_gid) +
           "\ndir=" + std::to_string(d.st_uid) + ":" + std::to_string(d.st_gid) +
           "\nwrite=" + write_result("/idvol/new") + "\n";
  });
  INFO(r["error"]);
  REQUIRE(r["error"].empty());
  // containerID -> hostID: what the filesystem stores as 0 is seen as 1000.
  CHECK(r["file"] == "1000:1500");
  CHECK(r["dir"] == "3000:3000");
  CHECK(r["write"] == "EROFS");
  struct stat st {};
  REQUIRE(::stat((s.dir + "/vol/hello").c_str(), &st) == 0);
  CHECK(st.st_uid == 0);  // the host's view is unchanged
  CHECK_FALSE(host_has_mount_under(s.dir));
}
