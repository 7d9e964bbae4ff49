// plan_process: pure planning in the parent (no root needed); capabilities:
// capabilities_test.cpp.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "linux/passwd.hpp"
#include "linux/process.hpp"
#include "test_util.hpp"

using husk::ErrorKind;
using namespace husk::linux_setup;
namespace spec = husk::spec;

namespace {

spec::Process base_process() {
  spec::Process p;
  p.args = {"sh", "-c", "true"};
  p.env = {"PATH=/usr/bin:/bin", "HOME=/root"};
  p.cwd = "/";
  return p;
}

ProcessPlanPtr must_plan(const spec::Process& p, const ProcessOptions& opts = {}) {
  return husk::test::must(plan_process(p, opts));
}

husk::Error plan_error(const spec::Process& p, const ProcessOptions& opts = {}) {
  auto r = plan_process(p, opts);
  REQUIRE_FALSE(r);
  return r.error();
}

using husk::test::any_warning_contains;

}  // namespace

TEST_CASE("plan_process copies user, umask, oomScoreAdj and no_new_privs") {
  auto p = base_process();
  p.user.uid = 1000;
  p.user.gid = 1001;
  p.user.additional_gids = {10, 20};
  p.user.umask = 022;
  p.no_new_privileges = true;
  p.oom_score_adj = 0;  // present and zero: must be written, not skipped
  auto plan = must_plan(p);
  CHECK(plan->uid == 1000);
  CHECK(plan->gid == 1001);
  CHECK(plan->additional_gids == std::vector<gid_t>{10, 20});
  CHECK(plan->umask == mode_t{022});
  CHECK(plan->no_new_privileges);
  REQUIRE(plan->oom_score_adj);
  CHECK(*plan->oom_score_adj == 0);
  CHECK(plan->oom_score_adj_text == "0");
  CHECK_FALSE(plan->seccomp);
}

TEST_CASE("plan_process leaves umask and oomScoreAdj alone when absent") {
  auto plan = must_plan(base_process());
  CHECK_FALSE(plan->umask);
  CHECK_FALSE(plan->oom_score_adj);
}

TEST_CASE("plan_process rejects an out-of-range oomScoreAdj") {
  auto p = base_process();
  p.oom_score_adj = 1001;
  auto e = plan_error(p);
  CHECK(e.kind() == ErrorKind::InvalidSpec);
  CHECK(e.message().find("process.oomScoreAdj") != std::string::npos);
}

TEST_CASE("rlimits resolve to resource numbers") {
  auto p = base_process();
  p.rlimits = {{"RLIMIT_NOFILE", 4096, 1024}, {"RLIMIT_CORE", UINT64_MAX, UINT64_MAX}};
  auto plan = must_plan(p);
  REQUIRE(plan->rlimits.size() == 2);
  CHECK(plan->rlimits[0].resource == RLIMIT_NOFILE);
  CHECK(plan->rlimits[0].limit.rlim_cur == 1024);
  CHECK(plan->rlimits[0].limit.rlim_max == 4096);
  CHECK(plan->rlimits[1].resource == RLIMIT_CORE);
  CHECK(plan->rlimits[1].limit.rlim_cur == RLIM_INFINITY);
}

TEST_CASE("rlimit errors name the entry") {
  auto p = base_process();
  SECTION("soft above hard") {
    p.rlimits = {{"RLIMIT_NOFILE", 1024, 2048}};
    auto e = plan_error(p);
    CHECK(e.kind() == ErrorKind::InvalidSpec);
    CHECK(e.message() ==
          "process.rlimits[0]: soft limit 2048 of RLIMIT_NOFILE exceeds the hard limit 1024");
  }
  SECTION("unknown type") {
    p.rlimits = {{"RLIMIT_NOFILE", 1, 1}, {"RLIMIT_BOGUS", 1, 1}};
    auto e = plan_error(p);
    CHECK(e.message() == "process.rlimits[1].type: unknown rlimit \"RLIMIT_BOGUS\"");
  }
  SECTION("duplicate type") {
    p.rlimits = {{"RLIMIT_NOFILE", 1, 1}, {"RLIMIT_NOFILE", 2, 2}};
    auto e = plan_error(p);
    CHECK(e.message() == "process.rlimits[1].type: duplicate rlimit RLIMIT_NOFILE");
  }
}

TEST_CASE("LSM labels are explicit Unsupported errors naming the field") {
  auto p = base_process();
  SECTION("apparmor") {
    p.apparmor_profile = "docker-default";
    if (apparmor_enabled()) {
      // The request the child writes to its attr/exec file.
      auto plan = plan_process(p, ProcessOptions{});
      REQUIRE(plan);
      REQUIRE((*plan)->apparmor);
      CHECK((*plan)->apparmor->value == "exec docker-default");
    } else {
      auto e = plan_error(p);
      CHECK(e.kind() == ErrorKind::Unsupported);
      CHECK(e.message().starts_with("process.apparmorProfile: AppArmor is not enabled"));
    }
  }
  SECTION("an apparmor profile name the kernel would cut short") {
    p.apparmor_profile = std::string("husk\nunconfined");
    auto e = plan_error(p);
    CHECK(e.kind() == ErrorKind::InvalidSpec);
    CHECK(e.message().starts_with("process.apparmorProfile: profile name"));
    p.apparmor_profile = std::string("husk\0x", 6);
    CHECK(plan_error(p).kind() == ErrorKind::InvalidSpec);
  }
  SECTION("selinux") {
    // With SELinux, a context the loaded policy lacks; without, any label.
    const bool on = selinux_enabled();
    p.selinux_label = on ? "not a context" : "system_u:system_r:container_t:s0";
    auto e = plan_error(p);
    CHECK(e.kind() == (on ? ErrorKind::InvalidSpec : ErrorKind::Unsupported));
    CHECK(
        e.message().starts_with(on ? "process.selinuxLabel: \"not a context\" is not a valid"
                                   : "process.selinuxLabel: SELinux is not enabled on this host"));
  }
  SECTION("an selinux label the kernel would cut short") {
    p.selinux_label = std::string("system_u:system_r:t:s0\nx");
    auto e = plan_error(p);
    CHECK(e.kind() == ErrorKind::InvalidSpec);
    CHECK(e.message().starts_with("process.selinuxLabel: label"));
  }
  SECTION("empty labels mean none") {
    p.apparmor_profile = "";
    p.selinux_label = "";
    CHECK(plan_process(p, ProcessOptions{}));
  }
}

TEST_CASE("argv and envp are NULL-terminated arrays over the plan's strings") {
  auto plan = must_plan(base_process());
  REQUIRE(plan->argv.size() == 4);
  CHECK(std::string(plan->argv[0]) == "sh");
  CHECK(std::string(plan->argv[2]) == "true");
  CHECK(plan->argv[3] == nullptr);
  REQUIRE(plan->envp.size() == 3);
  CHECK(std::string(plan->envp[1]) == "HOME=/root");
  CHECK(plan->envp[2] == nullptr);
}

TEST_CASE("args, env and cwd are validated") {
  auto p = base_process();
  SECTION("no args") {
    p.args.clear();
    CHECK(plan_error(p).message() == "process.args: must contain at least one entry");
  }
  SECTION("env without =") {
    p.env.push_back("JUSTAKEY");
    CHECK(plan_error(p).message() == "process.env[2]: \"JUSTAKEY\" is not KEY=VALUE");
  }
  SECTION("env with empty name") {
    p.env = {"=x"};
    CHECK(plan_error(p).message().find("process.env[0]") == 0);
  }
  SECTION("relative cwd") {
    p.cwd = "work";
    CHECK(plan_error(p).message() == "process.cwd: \"work\" is not an absolute path");
  }
}

TEST_CASE("exec candidates follow execvp: PATH from process.env, last PATH wins") {
  auto p = base_process();
  p.env = {"PATH=/nope", "PATH=/usr/bin::/bin"};
  auto plan = must_plan(p);
  CHECK(plan->exec_search);
  CHECK(plan->exec_candidates == std::vector<std::string>{"/usr/bin/sh", "./sh", "/bin/sh"});
}

TEST_CASE("exec candidates: default PATH without one in env, verbatim with a slash") {
  auto p = base_process();
  p.env = {"HOME=/"};
  auto plan = must_plan(p);
  REQUIRE(plan->exec_candidates.size() == 6);
  CHECK(plan->exec_candidates.front() == "/usr/local/sbin/sh");
  CHECK(plan->exec_candidates.back() == "/bin/sh");
  p.args[0] = "./bin/tool";
  plan = must_plan(p);
  CHECK_FALSE(plan->exec_search);
  CHECK(plan->exec_candidates == std::vector<std::string>{"./bin/tool"});
}

TEST_CASE("the runtime binary defaults to /proc/self/exe") {
  struct stat st {};
  REQUIRE(::stat("/proc/self/exe", &st) == 0);
  auto plan = must_plan(base_process());
  CHECK(plan->runtime_binary.dev == st.st_dev);
  CHECK(plan->runtime_binary.ino == st.st_ino);
  ProcessOptions opts;
  opts.runtime_binary = FileIdentity{1, 2};
  plan = must_plan(base_process(), opts);
  CHECK(plan->runtime_binary == FileIdentity{1, 2});
}

TEST_CASE("scheduler and ioPriority are planned") {
  auto p = base_process();
  p.scheduler =
      spec::Scheduler{"SCHED_FIFO", std::nullopt, 10, {"SCHED_FLAG_RESET_ON_FORK"}, {}, {}, {}};
  p.io_priority = spec::IoPriority{"IOPRIO_CLASS_BE", 4};
  auto plan = must_plan(p);
  REQUIRE(plan->scheduler);
  CHECK(plan->scheduler->policy == 1);
  CHECK(plan->scheduler->priority == 10);
  CHECK(plan->scheduler->flags == 1);
  REQUIRE(plan->io_priority);
  CHECK(*plan->io_priority == (2 << 13 | 4));  // IOPRIO_CLASS_BE, level 4
}

TEST_CASE("scheduler and ioPriority errors name the field") {
  auto p = base_process();
  SECTION("SCHED_ISO is not in Linux") {
    p.scheduler = spec::Scheduler{"SCHED_ISO", {}, {}, {}, {}, {}, {}};
    auto e = plan_error(p);
    CHECK(e.kind() == ErrorKind::Unsupported);
    CHECK(e.message().find("process.scheduler.policy") == 0);
  }
  SECTION("priority for a non-realtime policy") {
    p.scheduler = spec::Scheduler{"SCHED_OTHER", 5, 3, {}, {}, {}, {}};
    CHECK(plan_error(p).message().find("process.scheduler.priority") == 0);
  }
  SECTION("unknown flag") {
    p.scheduler = spec::Scheduler{"SCHED_BATCH", {}, {}, {"SCHED_FLAG_NOPE"}, {}, {}, {}};
    CHECK(plan_error(p).message() ==
          "process.scheduler.flags[0]: unknown flag \"SCHED_FLAG_NOPE\"");
  }
  SECTION("io class") {
    p.io_priority = spec::IoPriority{"IOPRIO_CLASS_NONE", 0};
    CHECK(plan_error(p).message().find("process.ioPriority.class") == 0);
  }
  SECTION("io level") {
    p.io_priority = spec::IoPriority{"IOPRIO_CLASS_RT", 8};
    CHECK(plan_error(p).message().find("process.ioPriority.priority") == 0);
  }
}

TEST_CASE("execCPUAffinity: ignored with a warning for init, parsed for exec") {
  auto p = base_process();
  p.exec_cpu_affinity = spec::ExecCpuAffinity{"0", "0-2,5"};
  auto plan = must_plan(p);
  CHECK(any_warning_contains(plan->warnings, "process.execCPUAffinity"));
  CHECK(plan->initial_cpu_affinity.empty());
  CHECK(plan->cpu_affinity[0] == ~0UL);  // "reset to all CPUs"
  CHECK_FALSE(plan->cpu_affinity_required);

  ProcessOptions opts;
  opts.is_exec = true;
  plan = must_plan(p, opts);
  CHECK(plan->warnings.empty());
  REQUIRE_FALSE(plan->initial_cpu_affinity.empty());
  CHECK(plan->initial_cpu_affinity[0] == 0x1UL);
  CHECK(plan->cpu_affinity[0] == 0x27UL);
  CHECK(plan->cpu_affinity_required);
  CHECK_FALSE(plan->create_cwd);

  // "initial" alone: the affinity is left alone after joining the cgroup.
  p.exec_cpu_affinity = spec::ExecCpuAffinity{"1", std::nullopt};
  plan = must_plan(p, opts);
  CHECK(plan->initial_cpu_affinity[0] == 0x2UL);
  CHECK(plan->cpu_affinity.empty());
  CHECK_FALSE(plan->cpu_affinity_required);

  p.exec_cpu_affinity = spec::ExecCpuAffinity{std::nullopt, "3-1"};
  auto r = plan_process(p, opts);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "process.execCPUAffinity.final: invalid CPU list \"3-1\"");
}

TEST_CASE("passwd_field: a field of the line whose uid matches") {
  using husk::linux_setup::passwd_field;
  std::string_view line = "alice:x:1000:1000:Alice A:/home/alice:/bin/sh";
  CHECK(passwd_field(line, 1000, 0) == std::optional<std::string_view>("alice"));
  CHECK(passwd_field(line, 1000, 5) == std::optional<std::string_view>("/home/alice"));
  CHECK(passwd_field(line, 1000, 6) == std::optional<std::string_view>("/bin/sh"));
  CHECK_FALSE(passwd_field(line, 1001, 0));
  CHECK_FALSE(passwd_field("bob:x:-1:0::/:/bin/sh", static_cast<uid_t>(-1), 0));
  CHECK_FALSE(passwd_field("bob:x:4294967296:0::/:/bin/sh", 0, 0));  // beyond uid_t
  CHECK_FALSE(passwd_field("bob:x:12a:0::/:/bin/sh", 12, 0));
  CHECK_FALSE(passwd_field("bob:x::0::/:/bin/sh", 0, 0));
  CHECK_FALSE(passwd_field("bob:x:7:0:gecos", 7, 5));  // no home field
  CHECK(passwd_field("bob:x:7", 7, 0) == std::optional<std::string_view>("bob"));
  CHECK(passwd_field(":x:7:0::/h:/s", 7, 0) == std::optional<std::string_view>(""));
}

namespace {

// A read(2) over a string, at most `chunk` bytes a call.
struct StringSource {
  std::string_view rest;
  size_t chunk;
  static ssize_t read(void* ctx, char* buf, size_t len) {
    auto* s = static_cast<StringSource*>(ctx);
    size_t n = std::min({len, s->chunk, s->rest.size()});
    std::memcpy(buf, s->rest.data(), n);
    s->rest.remove_prefix(n);
    return static_cast<ssize_t>(n);
  }
};

std::optional<std::string> home_of(std::string_view text, uid_t uid, size_t chunk,
                                   size_t out_size = 64) {
  StringSource src{text, chunk};
  std::string out(out_size, 'x');
  if (!husk::linux_setup::passwd_home(StringSource::read, &src, uid, out.data(), out_size)) {
    return std::nullopt;
  }
  return std::string(out.c_str());
}

}  // namespace

TEST_CASE("passwd_home: the first line of the uid, whatever the read sizes") {
  std::string text = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n" +
                     std::string(9000, 'l') + "\nbob:x:7:7::/b:/bin/sh";  // no final newline
  for (size_t chunk : {1, 3, 100, 8191, 100000}) {
    CAPTURE(chunk);
    CHECK(home_of(text, 0, chunk) == "/root");
    CHECK(home_of(text, 1000, chunk) == "/home/alice");
    CHECK(home_of(text, 7, chunk) == "/b");  // after a line longer than the buffer
    CHECK_FALSE(home_of(text, 8, chunk));
  }
  CHECK_FALSE(home_of("a:x:5:5:::\n", 5, 4));            // empty home
  CHECK_FALSE(home_of("a:x:5:5::/abcdef:\n", 5, 4, 7));  // does not fit
  CHECK(home_of("a:x:5:5::/abcde:\n", 5, 4, 7) == "/abcde");
}

TEST_CASE("passwd_name: the first non-empty name of the uid") {
  using husk::linux_setup::passwd_name;
  CHECK(passwd_name(":x:7:7::/:\nseven:x:7:7::/:\n", 7) == "seven");
  CHECK(passwd_name("root:x:0:0::/root:/bin/sh", 0) == "root");
  CHECK_FALSE(passwd_name("root:x:0:0::/root:/bin/sh\n", 1));
}
