// apply_process / exec_process in a forked child (root only): the child
// applies a plan and reports what the kernel says over a pipe.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "linux/process.hpp"
#include "seccomp_podman_profile.hpp"
#include "test_util.hpp"

using namespace husk::linux_setup;
namespace spec = husk::spec;
namespace fs = std::filesystem;

namespace {

using husk::test::TempDir;

struct ChildResult {
  std::map<std::string, std::string> report;  // key -> value, one "key=value" line each
  int status = -1;                            // raw wait status
  [[nodiscard]] int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  [[nodiscard]] std::string get(const std::string& k) const {
    auto it = report.find(k);
    return it == report.end() ? std::string("<missing>") : it->second;
  }
};

// Runs body(report_fd) in a forked child; the child exits 0 when body returns.
ChildResult run_child(const std::function<void(int)>& body) {
  auto out = husk::test::fork_and_read(body);
  REQUIRE(out.status >= 0);
  return {husk::test::parse_kv_lines(out.out), out.status};
}

void report(int fd, const std::string& key, const std::string& value) {
  std::string line = key + "=" + value + "\n";
  (void)!::write(fd, line.data(), line.size());
}

// In the child: a failed step is reported and ends the child with 99.
void check_or_exit(int fd, const husk::Status& s, const char* what) {
  if (!s) {
    report(fd, what, s.error().message());
    ::_exit(99);
  }
}

// "Uid:\t0\t0..." -> "0\t0...", for the named /proc/self/status fields.
void report_status_fields(int fd, std::initializer_list<const char*> keys) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    for (const char* k : keys) {
      std::string prefix = std::string(k) + ":\t";
      if (line.rfind(prefix, 0) == 0) report(fd, k, line.substr(prefix.size()));
    }
  }
}

std::string errno_of(long rc) { return rc < 0 ? std::to_string(errno) : "ok"; }

spec::Process base_process() {
  spec::Process p;
  p.args = {"/bin/busybox", "true"};
  p.env = {"PATH=/usr/bin:/bin"};
  p.cwd = "/";
  return p;
}

ProcessPlanPtr must_plan(const spec::Process& p, const ProcessOptions& opts = {}) {
  return husk::test::must(plan_process(p, opts));
}

std::string hex_caps(uint64_t mask) { return fmt::format("{:016x}", mask); }

}  // namespace

TEST_CASE("apply_process sets identity, all five capability sets, limits and no_new_privs",
          "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  TempDir tmp{"husk-process-test"};
  auto p = base_process();
  p.user.uid = 1000;
  p.user.gid = 1001;
  p.user.additional_gids = {10, 20};
  p.user.umask = 027;
  p.cwd = (tmp.path / "work/dir").string();  // missing: created for init, as runc does
  p.capabilities = spec::Capabilities{};
  p.capabilities->bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_BIND_SERVICE"};
  p.capabilities->permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  p.capabilities->effective = {"CAP_CHOWN", "CAP_KILL"};
  p.capabilities->inheritable = {"CAP_NET_BIND_SERVICE"};
  p.capabilities->ambient = {"CAP_NET_BIND_SERVICE"};
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 512}, {"RLIMIT_CORE", 0, 0}};
  p.oom_score_adj = 500;
  p.no_new_privileges = true;
  auto plan = must_plan(p);
  REQUIRE(plan->warnings.empty());

  auto r = run_child([&](int fd) {
    check_or_exit(fd, apply_process(*plan, {0, {fd, -1, -1, -1}}), "error");
    report_status_fields(fd, {"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd",
                              "CapAmb", "NoNewPrivs", "Umask"});
    rlimit nofile{};
    rlimit core{};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    ::getrlimit(RLIMIT_CORE, &core);
    report(fd, "nofile", fmt::format("{}/{}", nofile.rlim_cur, nofile.rlim_max));
    report(fd, "core", fmt::format("{}/{}", core.rlim_cur, core.rlim_max));
    std::ifstream oom("/proc/self/oom_score_adj");
    std::string v;
    oom >> v;
    report(fd, "oom", v);
    char cwd[4096];
    report(fd, "cwd", ::getcwd(cwd, sizeof cwd) ? cwd : "?");
  });
  INFO(r.get("error"));
  REQUIRE(r.exit_code() == 0);
  CHECK(r.get("Uid") == "1000\t1000\t1000\t1000");
  CHECK(r.get("Gid") == "1001\t1001\t1001\t1001");
  CHECK(r.get("Groups") == "10 20 ");
  constexpr uint64_t chown = 1 << 0, kill = 1 << 5, setuid = 1 << 7, nbs = 1 << 10;
  CHECK(r.get("CapBnd") == hex_caps(chown | kill | setuid | nbs));
  CHECK(r.get("CapPrm") == hex_caps(chown | kill | nbs));
  CHECK(r.get("CapEff") == hex_caps(chown | kill));
  CHECK(r.get("CapInh") == hex_caps(nbs));
  CHECK(r.get("CapAmb") == hex_caps(nbs));
  CHECK(r.get("NoNewPrivs") == "1");
  CHECK(r.get("Umask") == "0027");
  CHECK(r.get("nofile") == "512/1024");
  CHECK(r.get("core") == "0/0");
  CHECK(r.get("oom") == "500");
  CHECK(r.get("cwd") == p.cwd);
}

TEST_CASE(
    "apply_process: empty capabilities drop everything, inheritable included (CVE-2022-29162)",
    "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  auto p = base_process();
  auto plan = must_plan(p);
  auto r = run_child([&](int fd) {
    // Simulate a caller with a non-empty inheritable set: it must not leak.
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    ::syscall(SYS_capget, &hdr, data);
    data[0].inheritable = 1U << 10;
    ::syscall(SYS_capset, &hdr, data);
    check_or_exit(fd, apply_process(*plan, {0, {fd, -1, -1, -1}}), "error");
    report_status_fields(fd,
                         {"Uid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"});
  });
  INFO(r.get("error"));
  REQUIRE(r.exit_code() == 0);
  CHECK(r.get("Uid") == "0\t0\t0\t0");
  for (const char* k : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    INFO(k);
    CHECK(r.get(k) == hex_caps(0));
  }
  CHECK(r.get("NoNewPrivs") == "0");
}

TEST_CASE(
    "seccomp without no_new_privs is installed by apply_process and enforces rules and arguments",
    "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  TempDir tmp{"husk-process-test"};
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  // Native only: on x86 (32-bit) socket() is also reachable through
  // socketcall(2), whose arguments libseccomp cannot inspect, so two socket
  // rules with different actions would collide there (EEXIST).
  sc.architectures = {"SCMP_ARCH_X86_64"};
  sc.syscalls.push_back({{"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", std::nullopt, {}});
  // Two different arguments: both must match (AND).
  sc.syscalls.push_back({{"socket"},
                         "SCMP_ACT_ERRNO",
                         uint32_t{EPROTONOSUPPORT},
                         {{0, AF_INET, 0, "SCMP_CMP_EQ"}, {1, SOCK_DGRAM, 0, "SCMP_CMP_EQ"}}});
  // The same argument twice: either may match (one rule each, as runc).
  sc.syscalls.push_back({{"socket"},
                         "SCMP_ACT_ERRNO",
                         uint32_t{EAFNOSUPPORT},
                         {{0, AF_UNIX, 0, "SCMP_CMP_EQ"}, {0, AF_NETLINK, 0, "SCMP_CMP_EQ"}}});
  // (mask & 07) == 02
  sc.syscalls.push_back(
      {{"umask"}, "SCMP_ACT_ERRNO", uint32_t{E2BIG}, {{0, 07, 02, "SCMP_CMP_MASKED_EQ"}}});
  auto p = base_process();
  ProcessOptions opts;
  opts.seccomp = &sc;
  auto plan = must_plan(p, opts);
  REQUIRE(plan->seccomp);
  CHECK(plan->seccomp_early);
  std::string dir = (tmp.path / "blocked").string();

  auto r = run_child([&](int fd) {
    check_or_exit(fd, apply_process(*plan, {0, {fd, -1, -1, -1}}), "error");
    report_status_fields(fd, {"Seccomp"});
    report(fd, "mkdir", errno_of(::syscall(SYS_mkdir, dir.c_str(), 0755)));
    report(fd, "mkdirat", errno_of(::syscall(SYS_mkdirat, AT_FDCWD, dir.c_str(), 0755)));
    report(fd, "getpid", ::syscall(SYS_getpid) > 0 ? "ok" : "fail");
    report(fd, "inet_stream", errno_of(::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0)));
    report(fd, "inet_dgram", errno_of(::syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0)));
    report(fd, "inet6_dgram", errno_of(::syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0)));
    report(fd, "unix", errno_of(::syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0)));
    report(fd, "netlink", errno_of(::syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0)));
    report(fd, "umask022", errno_of(::syscall(SYS_umask, 022)));
    report(fd, "umask027", errno_of(::syscall(SYS_umask, 027)));
  });
  INFO(r.get("error"));
  REQUIRE(r.exit_code() == 0);
  CHECK(r.get("Seccomp") == "2");
  CHECK(r.get("mkdir") == std::to_string(EPERM));
  CHECK(r.get("mkdirat") == std::to_string(EPERM));
  CHECK_FALSE(fs::exists(dir));
  CHECK(r.get("getpid") == "ok");
  CHECK(r.get("inet_stream") == "ok");
  CHECK(r.get("inet_dgram") == std::to_string(EPROTONOSUPPORT));
  CHECK(r.get("inet6_dgram") == "ok");
  CHECK(r.get("unix") == std::to_string(EAFNOSUPPORT));
  CHECK(r.get("netlink") == std::to_string(EAFNOSUPPORT));
  CHECK(r.get("umask022") == std::to_string(E2BIG));
  CHECK(r.get("umask027") == "ok");
}

TEST_CASE("with no_new_privs, seccomp is loaded by exec_process right before execve", "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  TempDir tmp{"husk-process-test"};
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.syscalls.push_back({{"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", std::nullopt, {}});
  std::string dir = (tmp.path / "made").string();
  auto p = base_process();
  p.args = {"/bin/busybox", "mkdir", dir};
  p.user.uid = 0;
  p.no_new_privileges = true;
  p.capabilities = spec::Capabilities{};
  p.capabilities->bounding = p.capabilities->permitted =
      p.capabilities->effective = {"CAP_DAC_OVERRIDE"};

  auto run = [&](const spec::Seccomp* filter) {
    ProcessOptions opts;
    opts.seccomp = filter;
    auto plan = must_plan(p, opts);
    CHECK_FALSE(plan->seccomp_early);
    return run_child([&](int fd) {
      int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      ::dup3(devnull, STDERR_FILENO, 0);  // busybox's complaint is expected
      check_or_exit(fd, apply_process(*plan, {0, {fd, -1, -1, -1}}), "error");
      auto s = exec_process(*plan);
      report(fd, "error", s ? "returned" : s.error().message());
      ::_exit(99);
    });
  };
  // Control: without the filter busybox creates the directory.
  auto ok = run(nullptr);
  INFO(ok.get("error"));
  CHECK(ok.exit_code() == 0);
  CHECK(fs::is_directory(dir));
  fs::remove(dir);

  auto blocked = run(&sc);
  INFO(blocked.get("error"));
  CHECK(blocked.exit_code() == 1);  // busybox: "can't create directory: Operation not permitted"
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("exec_process refuses the runtime binary, however it is reached (CVE-2019-5736)",
          "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  TempDir tmp{"husk-process-test"};
  auto fake = tmp.path / "fake-husk";
  fs::copy_file("/bin/busybox", fake);
  fs::permissions(fake, fs::perms(0755));
  fs::create_hard_link(fake, tmp.path / "hardlink");
  fs::create_symlink(fake, tmp.path / "symlink");
  {
    std::ofstream script(tmp.path / "script");
    script << "#!" << fake.string() << " sh\nexit 0\n";
    std::ofstream nested(tmp.path / "nested");
    nested << "#!  " << (tmp.path / "script").string() << "\n";
  }
  fs::permissions(tmp.path / "script", fs::perms(0755));
  fs::permissions(tmp.path / "nested", fs::perms(0755));
  struct stat st {};
  REQUIRE(::stat(fake.c_str(), &st) == 0);
  ProcessOptions opts;
  opts.runtime_binary = FileIdentity{st.st_dev, st.st_ino};

  auto exec_in_child = [&](std::vector<std::string> args, std::vector<std::string> env,
                           const ProcessOptions& o) {
    auto p = base_process();
    p.args = std::move(args);
    p.env = std::move(env);
    auto plan = must_plan(p, o);
    return run_child([&](int fd) {
      auto s = exec_process(*plan);
      report(fd, "error", s ? "returned" : s.error().message());
      ::_exit(99);
    });
  };
  auto refused = [](const ChildResult& r) {
    return r.exit_code() == 99 &&
           r.get("error").find("refusing to execute the container runtime binary") !=
               std::string::npos;
  };
  CHECK(refused(exec_in_child({fake.string(), "true"}, {}, opts)));
  CHECK(refused(exec_in_child({"fake-husk", "true"}, {"PATH=" + tmp.path.string()}, opts)));
  CHECK(refused(exec_in_child({(tmp.path / "hardlink").string()}, {}, opts)));
  CHECK(refused(exec_in_child({(tmp.path / "symlink").string()}, {}, opts)));
  CHECK(refused(exec_in_child({(tmp.path / "script").string()}, {}, opts)));
  CHECK(refused(exec_in_child({(tmp.path / "nested").string()}, {}, opts)));
  // The test binary itself plays husk when no identity is given.
  CHECK(refused(exec_in_child({"/proc/self/exe"}, {}, ProcessOptions{})));
  // Control: another binary still runs.
  auto ok = exec_in_child({"/bin/busybox", "true"}, {}, opts);
  INFO(ok.get("error"));
  CHECK(ok.exit_code() == 0);
}

TEST_CASE("exec_process: PATH search, scripts, and runc's error wording", "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  TempDir tmp{"husk-process-test"};
  auto plain = tmp.path / "not-executable";
  std::ofstream(plain) << "data\n";
  fs::permissions(plain, fs::perms(0644));
  auto script = tmp.path / "script.sh";
  std::ofstream(script) << "#!/bin/busybox sh\nexit 7\n";
  fs::permissions(script, fs::perms(0755));

  auto exec_in_child = [&](std::vector<std::string> args, std::vector<std::string> env) {
    auto p = base_process();
    p.args = std::move(args);
    p.env = std::move(env);
    auto plan = must_plan(p);
    return run_child([&](int fd) {
      auto s = exec_process(*plan);
      report(fd, "error", s ? "returned" : s.error().message());
      ::_exit(99);
    });
  };
  auto r = exec_in_child({"nonexistent-cmd"}, {"PATH=/usr/bin:/bin"});
  CHECK(r.get("error") == "exec: \"nonexistent-cmd\": executable file not found in $PATH");
  r = exec_in_child({"/nonexistent"}, {});
  CHECK(r.get("error") == "exec: \"/nonexistent\": no such file or directory");
  r = exec_in_child({plain.string()}, {});
  CHECK(r.get("error") == fmt::format("exec: \"{}\": permission denied", plain.string()));
  r = exec_in_child({tmp.path.string()}, {});
  CHECK(r.get("error") == fmt::format("exec: \"{}\": is a directory", tmp.path.string()));
  // A non-executable file earlier in PATH is skipped, as execvp does.
  fs::copy_file(plain, tmp.path / "busybox");
  r = exec_in_child({"busybox", "sh", "-c", "exit 3"},
                    {"PATH=/nonexistent:" + tmp.path.string() + ":/bin"});
  INFO(r.get("error"));
  CHECK(r.exit_code() == 3);
  // #! scripts cannot run through execveat of an O_CLOEXEC fd; the path is used.
  r = exec_in_child({script.string()}, {});
  INFO(r.get("error"));
  CHECK(r.exit_code() == 7);
}

TEST_CASE("apply_process refuses a cwd outside the root (CVE-2024-21626)", "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  TempDir tmp{"husk-process-test"};
  fs::create_directories(tmp.path / "root/proc");
  constexpr int kLeakedFd = 100;
  auto run = [&](const std::string& cwd) {
    auto p = base_process();
    p.cwd = cwd;
    auto plan = must_plan(p);
    return run_child([&](int fd) {
      // A container whose root is tmp/root, with its own /proc and an fd to a
      // host directory that leaked into it.
      if (::unshare(CLONE_NEWNS) != 0 ||
          ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          ::mount("proc", (tmp.path / "root/proc").c_str(), "proc", 0, nullptr) != 0) {
        report(fd, "setup", std::strerror(errno));
        ::_exit(98);
      }
      int host_dir = ::open("/tmp", O_RDONLY | O_DIRECTORY);
      ::dup2(host_dir, kLeakedFd);
      if (::chroot((tmp.path / "root").c_str()) != 0 || ::chdir("/") != 0) ::_exit(98);
      check_or_exit(fd, apply_process(*plan, {0, {fd, -1, -1, -1}}), "error");
    });
  };
  auto escaped = run(fmt::format("/proc/self/fd/{}", kLeakedFd));
  INFO(escaped.get("setup"));
  CHECK(escaped.exit_code() == 99);
  CHECK(escaped.get("error").find("outside the container's root") != std::string::npos);
  auto inside = run("/proc");
  INFO(inside.get("error"));
  CHECK(inside.exit_code() == 0);
}

TEST_CASE("exec's cwd is not created, and the error uses runc's wording", "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  auto p = base_process();
  p.cwd = "/nonexistent-husk-cwd";
  ProcessOptions opts;
  opts.is_exec = true;
  auto plan = must_plan(p, opts);
  auto r = run_child([&](int fd) {
    check_or_exit(fd, apply_process(*plan, {0, {fd, -1, -1, -1}}), "error");
  });
  CHECK(r.exit_code() == 99);
  CHECK(r.get("error") ==
        "chdir to cwd (\"/nonexistent-husk-cwd\") set in config.json failed: No such file or "
        "directory");
  CHECK_FALSE(fs::exists(p.cwd));
}

TEST_CASE("apply_process sets the scheduler, I/O priority and CPU affinity", "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  std::string allowed;
  {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("Cpus_allowed_list:\t", 0) == 0) allowed = line.substr(19);
    }
  }
  auto p = base_process();
  p.scheduler = spec::Scheduler{"SCHED_BATCH", 5, std::nullopt, {}, {}, {}, {}};
  p.io_priority = spec::IoPriority{"IOPRIO_CLASS_BE", 6};
  auto plan = must_plan(p);
  auto r = run_child([&](int fd) {
    // A caller pinned to one CPU: init must not inherit that (runc#4041).
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    ::sched_setaffinity(0, sizeof one, &one);
    check_or_exit(fd, apply_process(*plan, {0, {fd, -1, -1, -1}}), "error");
    report(fd, "policy", std::to_string(::sched_getscheduler(0)));
    errno = 0;
    report(fd, "nice", std::to_string(::getpriority(PRIO_PROCESS, 0)));
    report(fd, "ioprio", std::to_string(::syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0)));
    report_status_fields(fd, {"Cpus_allowed_list"});
  });
  INFO(r.get("error"));
  REQUIRE(r.exit_code() == 0);
  CHECK(r.get("policy") == std::to_string(SCHED_BATCH));
  CHECK(r.get("nice") == "5");
  CHECK(r.get("ioprio") == std::to_string(2 << 13 | 6));  // IOPRIO_CLASS_BE, level 6
  CHECK(r.get("Cpus_allowed_list") == allowed);
}

TEST_CASE("apply_process pins an exec'd process to execCPUAffinity.final", "[host]") {
  HUSK_SKIP_UNLESS(Host::root, Host::two_cpus);
  auto p = base_process();
  p.exec_cpu_affinity = spec::ExecCpuAffinity{std::nullopt, "1"};
  ProcessOptions opts;
  opts.is_exec = true;
  auto plan = must_plan(p, opts);
  auto r = run_child([&](int fd) {
    check_or_exit(fd, apply_process(*plan, {0, {fd, -1, -1, -1}}), "error");
    report_status_fields(fd, {"Cpus_allowed_list"});
  });
  INFO(r.get("error"));
  REQUIRE(r.exit_code() == 0);
  CHECK(r.get("Cpus_allowed_list") == "1");
}

TEST_CASE("set_oom_score_adj writes the child's value from the parent", "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  auto p = base_process();
  p.oom_score_adj = 321;
  auto plan = must_plan(p);
  int go[2];
  REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    char c;
    ::close(go[1]);
    (void)!::read(go[0], &c, 1);  // wait for the parent's write
    std::ifstream in("/proc/self/oom_score_adj");
    int v = 0;
    in >> v;
    // apply_process finds the value in place; it must still succeed.
    ::_exit(v == 321 && apply_process(*plan, {}) ? 0 : 1);
  }
  ::close(go[0]);
  auto s = set_oom_score_adj(*plan, pid);
  ::close(go[1]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(s);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("podman's default profile lets the rest of the setup and the exec run", "[host]") {
  HUSK_SKIP_UNLESS(Host::root);
  TempDir tmp{"husk-process-test"};
  auto sc = husk_test::podman_default_profile();
  std::string dir = (tmp.path / "made").string();
  auto p = base_process();
  p.args = {"/bin/busybox", "sh", "-c", "mkdir " + dir + " && exit 5"};
  p.user.additional_gids = {10};
  p.capabilities = spec::Capabilities{};
  p.capabilities->bounding = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
                              "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",   "CAP_SETGID",
                              "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};
  p.capabilities->permitted = p.capabilities->effective = p.capabilities->bounding;
  for (bool nnp : {false, true}) {
    INFO("noNewPrivileges " << nnp);
    p.no_new_privileges = nnp;
    ProcessOptions opts;
    opts.seccomp = &sc;
    auto plan = must_plan(p, opts);
    CHECK(plan->seccomp_early == !nnp);
    auto r = run_child([&](int fd) {
      check_or_exit(fd, apply_process(*plan, {0, {fd, -1, -1, -1}}), "error");
      auto s = exec_process(*plan);
      report(fd, "error", s ? "returned" : s.error().message());
      ::_exit(99);
    });
    INFO(r.get("error"));
    CHECK(r.exit_code() == 5);
    CHECK(fs::is_directory(dir));
    fs::remove(dir);
  }
}

TEST_CASE("check_executable reports at create time what exec_process would refuse") {
  auto p = base_process();
  CHECK(check_executable(*must_plan(p)));
  p.args = {"nonexistent-cmd"};
  auto s = check_executable(*must_plan(p));
  REQUIRE_FALSE(s);
  CHECK(s.error().message() == "exec: \"nonexistent-cmd\": executable file not found in $PATH");
  p.args = {"/proc/self/exe"};
  s = check_executable(*must_plan(p));
  REQUIRE_FALSE(s);
  CHECK(s.error().message().find("refusing to execute the container runtime binary") !=
        std::string::npos);
}
