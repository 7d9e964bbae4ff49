#include <catch2/catch.hpp>
#include <string>

#include "spec/parse.hpp"
#include "spec/validate.hpp"

using husk::ErrorKind;
using husk::spec::Config;
using husk::spec::IdMapping;
using husk::spec::Namespace;
using husk::spec::NamespaceType;
using husk::spec::Resources;
using husk::spec::validate;
using husk::spec::validate_resources;

namespace {

Config base() {
  auto r = husk::spec::parse_config(R"({
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs"},
    "process": {"args": ["sh"], "cwd": "/", "env": ["PATH=/bin"]},
    "hostname": "h",
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"},
                             {"type": "uts"}, {"type": "network"}]}
  })");
  REQUIRE(r.has_value());
  return std::move(r).value();
}

std::string error_of(const Config& c) {
  std::vector<std::string> warnings;
  auto s = validate(c, &warnings);
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().kind() == ErrorKind::InvalidSpec);
  return s.error().message();
}

std::vector<std::string> warnings_of(const Config& c) {
  std::vector<std::string> warnings;
  auto s = validate(c, &warnings);
  if (!s) FAIL(s.error().message());
  return warnings;
}

void add_ns(Config& c, NamespaceType t, std::optional<std::string> path = std::nullopt) {
  c.linux->namespaces.push_back(Namespace{t, std::move(path)});
}

void add_userns(Config& c) {
  add_ns(c, NamespaceType::User);
  c.linux->uid_mappings = {IdMapping{0, 100000, 65536}};
  c.linux->gid_mappings = {IdMapping{0, 100000, 65536}};
}

}  // namespace

TEST_CASE("validate accepts a plain config without warnings") {
  CHECK(warnings_of(base()).empty());
  CHECK(validate(base(), nullptr).has_value());
}

TEST_CASE("validate: root, process, args and cwd") {
  Config c = base();
  c.root.reset();
  CHECK(error_of(c) == "root: required");
  c = base();
  c.root->path.clear();
  CHECK(error_of(c) == "root.path: must not be empty");
  c = base();
  c.process.reset();
  CHECK(error_of(c) == "process: required");
  c = base();
  c.process->args.clear();
  CHECK(error_of(c) == "process.args: must not be empty");
  c = base();
  c.process->args = {""};
  CHECK(error_of(c) == "process.args[0]: must not be empty");
  c = base();
  c.process->cwd = "work";
  CHECK(error_of(c) == "process.cwd: must be an absolute path, got \"work\"");
  c.process->cwd = "";
  CHECK(error_of(c) == "process.cwd: must be an absolute path, got \"\"");
}

TEST_CASE("validate: env entries are KEY=value") {
  Config c = base();
  c.process->env = {"A=1", "B=", "NOEQUALS"};
  CHECK(error_of(c) == "process.env[2]: expected KEY=value, got \"NOEQUALS\"");
  c.process->env = {"=x"};
  CHECK(error_of(c) == "process.env[0]: expected KEY=value, got \"=x\"");
  c.process->env = {"A=1", "B="};
  CHECK(validate(c, nullptr).has_value());
}

TEST_CASE("validate: rlimits must be known, unique and soft <= hard") {
  Config c = base();
  c.process->rlimits = {{"RLIMIT_NOFILE", 10, 5}, {"RLIMIT_FOO", 1, 1}};
  CHECK(error_of(c) == "process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"");
  c.process->rlimits = {{"RLIMIT_NOFILE", 10, 5}, {"RLIMIT_CORE", 1, 1}, {"RLIMIT_NOFILE", 1, 1}};
  CHECK(error_of(c) == "process.rlimits[2].type: duplicate rlimit \"RLIMIT_NOFILE\"");
  c.process->rlimits = {{"RLIMIT_NOFILE", 10, 11}};
  CHECK(error_of(c) == "process.rlimits[0]: soft limit 11 exceeds hard limit 10");
  c.process->rlimits = {{"RLIMIT_NOFILE", UINT64_MAX, UINT64_MAX}, {"RLIMIT_RTTIME", 1, 0}};
  CHECK(validate(c, nullptr).has_value());
}

// Capability names are resolved with libcap when the process is planned,
// where an unknown one is an error (capabilities_test.cpp); validate, which
// has no table, neither warns about nor refuses them.
TEST_CASE("validate: capability names are left to the process plan") {
  Config c = base();
  c.process->capabilities = husk::spec::Capabilities{};
  c.process->capabilities->bounding = {"CAP_KILL", "CAP_TEST"};
  c.process->capabilities->ambient = {"cap_kill"};
  CHECK(warnings_of(c).empty());
}

TEST_CASE("validate: umask, oomScoreAdj, consoleSize") {
  Config c = base();
  // umask(2) keeps the permission bits of any value; runc passes 01777 on.
  c.process->user.umask = 01777;
  CHECK(validate(c, nullptr).has_value());
  c = base();
  c.process->oom_score_adj = 1001;
  CHECK(error_of(c) == "process.oomScoreAdj: must be in -1000..1000, got 1001");
  c.process->oom_score_adj = -1000;
  CHECK(validate(c, nullptr).has_value());
  c.process->console_size = husk::spec::ConsoleSize{24, 80};
  auto w = warnings_of(c);
  REQUIRE(w.size() == 1);
  CHECK(w[0] == "process.consoleSize: ignored because process.terminal is false");
  c.process->terminal = true;
  CHECK(warnings_of(c).empty());
}

TEST_CASE("validate: scheduler") {
  Config c = base();
  husk::spec::Scheduler s;
  s.policy = "SCHED_FIFO";
  s.priority = 10;
  c.process->scheduler = s;
  CHECK(validate(c, nullptr).has_value());
  c.process->scheduler->policy = "SCHED_FAST";
  CHECK(error_of(c) == "process.scheduler.policy: unknown policy \"SCHED_FAST\"");
  c.process->scheduler->policy = "SCHED_RR";
  c.process->scheduler->priority = 0;
  CHECK(error_of(c) == "process.scheduler.priority: SCHED_RR needs a priority in 1..99, got 0");
  c.process->scheduler->policy = "SCHED_OTHER";
  c.process->scheduler->priority = 5;
  CHECK(error_of(c) == "process.scheduler.priority: must be 0 for SCHED_OTHER, got 5");
  c.process->scheduler->priority.reset();
  c.process->scheduler->nice = 20;
  CHECK(error_of(c) == "process.scheduler.nice: must be in -20..19, got 20");
  c.process->scheduler->nice = -20;
  c.process->scheduler->flags = {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_TURBO"};
  CHECK(error_of(c) == "process.scheduler.flags[1]: unknown flag \"SCHED_FLAG_TURBO\"");
  c.process->scheduler->flags = {"SCHED_FLAG_RESET_ON_FORK"};
  c.process->scheduler->runtime = 5;
  CHECK(error_of(c) == "process.scheduler: runtime, deadline and period need SCHED_DEADLINE");
  c.process->scheduler->policy = "SCHED_DEADLINE";
  CHECK(error_of(c) == "process.scheduler: SCHED_DEADLINE needs non-zero runtime and deadline");
  c.process->scheduler->deadline = 4;
  CHECK(error_of(c) == "process.scheduler: SCHED_DEADLINE needs runtime <= deadline <= period");
  c.process->scheduler->deadline = 10;
  c.process->scheduler->period = 8;
  CHECK(error_of(c) == "process.scheduler: SCHED_DEADLINE needs runtime <= deadline <= period");
  c.process->scheduler->period = 10;
  CHECK(validate(c, nullptr).has_value());
}

TEST_CASE("validate: ioPriority and execCPUAffinity") {
  Config c = base();
  c.process->io_priority = husk::spec::IoPriority{"IOPRIO_CLASS_RT", 7};
  CHECK(validate(c, nullptr).has_value());
  c.process->io_priority->priority = 8;
  CHECK(error_of(c) == "process.ioPriority.priority: must be in 0..7, got 8");
  c.process->io_priority = husk::spec::IoPriority{"IOPRIO_CLASS_NONE", 0};
  CHECK(error_of(c) == "process.ioPriority.class: unknown class \"IOPRIO_CLASS_NONE\"");
  c = base();
  c.process->exec_cpu_affinity = husk::spec::ExecCpuAffinity{"0-3,7", "5-2"};
  CHECK(error_of(c) ==
        "process.execCPUAffinity.final: invalid list \"5-2\" (expected e.g. \"0-3,6\")");
}

TEST_CASE("check_cpu_list accepts the kernel's cpulist format only") {
  for (const char* ok : {"", "0", "0-3", "0-3,8", "1,3,5-7,9"}) {
    INFO(ok);
    CHECK(husk::spec::check_cpu_list(ok, "x").has_value());
  }
  for (const char* bad : {"a", "1-", "-1", "1,,2", "1,", "3-1", "1 ,2", "0x1", "1-2-3"}) {
    INFO(bad);
    CHECK_FALSE(husk::spec::check_cpu_list(bad, "x").has_value());
  }
}

TEST_CASE("validate: namespaces unique, paths absolute, every type may be inherited") {
  Config c = base();
  add_ns(c, NamespaceType::Pid);
  CHECK(error_of(c) == "linux.namespaces[5].type: duplicate namespace \"pid\"");
  c = base();
  add_ns(c, NamespaceType::Cgroup, "proc/1/ns/cgroup");
  CHECK(error_of(c) ==
        "linux.namespaces[5].path: must be an absolute path, got \"proc/1/ns/cgroup\"");
  c = base();
  c.linux->namespaces.erase(c.linux->namespaces.begin() + 1);  // mount: inherited
  CHECK(validate(c, nullptr).has_value());
  c = base();
  c.linux.reset();  // every namespace inherited
  c.hostname.reset();
  CHECK(validate(c, nullptr).has_value());
}

TEST_CASE("validate: hostname and domainname need a UTS namespace") {
  Config c = base();
  c.linux->namespaces.erase(c.linux->namespaces.begin() + 3);  // uts
  CHECK(error_of(c) == "hostname: unable to set hostname without a private UTS namespace");
  c.hostname.reset();
  c.domainname = "example.org";
  CHECK(error_of(c) == "domainname: unable to set domainname without a private UTS namespace");
  c.domainname = "";
  CHECK(validate(c, nullptr).has_value());
}

TEST_CASE("validate: uid/gid mappings and user namespaces") {
  Config c = base();
  c.linux->uid_mappings = {IdMapping{0, 1000, 1}};
  CHECK(error_of(c) == "linux.uidMappings: mappings need a user namespace in linux.namespaces");
  c = base();
  add_ns(c, NamespaceType::User);
  CHECK(error_of(c) == "linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  c.linux->uid_mappings = {IdMapping{0, 1000, 1}};
  CHECK(error_of(c) == "linux.gidMappings: a new user namespace needs uidMappings and gidMappings");
  c.linux->gid_mappings = {IdMapping{0, 1000, 1}};
  CHECK(validate(c, nullptr).has_value());
  // Joining an existing user namespace needs no mappings.
  c = base();
  add_ns(c, NamespaceType::User, "/proc/1/ns/user");
  CHECK(validate(c, nullptr).has_value());
}

TEST_CASE("validate: mapping ranges") {
  Config c = base();
  add_userns(c);
  c.linux->uid_mappings = {IdMapping{0, 1000, 0}};
  CHECK(error_of(c) == "linux.uidMappings[0].size: must be > 0");
  c.linux->uid_mappings = {IdMapping{0, 4294967295U, 2}};
  CHECK(error_of(c) == "linux.uidMappings[0]: range exceeds the 32-bit id space");
  c.linux->uid_mappings = {IdMapping{0, 1000, 10}, IdMapping{5, 5000, 10}};
  CHECK(error_of(c) == "linux.uidMappings[1]: overlaps linux.uidMappings[0]");
  c.linux->uid_mappings = {IdMapping{0, 1000, 10}, IdMapping{10, 1005, 10}};
  CHECK(error_of(c) == "linux.uidMappings[1]: overlaps linux.uidMappings[0]");
  c.linux->uid_mappings = {IdMapping{0, 1000, 10}, IdMapping{10, 1010, 10}};
  CHECK(validate(c, nullptr).has_value());
  c.linux->gid_mappings.assign(341, IdMapping{0, 0, 1});
  CHECK(error_of(c) == "linux.gidMappings: at most 340 mappings are allowed, got 341");
}

TEST_CASE("validate: timeOffsets need a new time namespace and known clocks") {
  Config c = base();
  c.linux->time_offsets["monotonic"] = {5, 0};
  CHECK(error_of(c) == "linux.timeOffsets: need a time namespace in linux.namespaces");
  add_ns(c, NamespaceType::Time, "/proc/1/ns/time");
  CHECK(error_of(c) == "linux.timeOffsets: cannot set offsets of an existing time namespace");
  c.linux->namespaces.back().path.reset();
  CHECK(validate(c, nullptr).has_value());
  c.linux->time_offsets["realtime"] = {1, 0};
  CHECK(error_of(c) == "linux.timeOffsets[\"realtime\"]: unknown clock (monotonic or boottime)");
  c.linux->time_offsets.erase("realtime");
  c.linux->time_offsets["boottime"] = {1, 1000000000};
  CHECK(error_of(c) ==
        "linux.timeOffsets[\"boottime\"].nanosecs: must be < 1000000000, got 1000000000");
}

TEST_CASE("validate: devices") {
  Config c = base();
  husk::spec::Device d;
  d.type = "c";
  d.path = "/dev/fuse";
  d.major = 10;
  d.minor = 229;
  c.linux->devices = {d};
  CHECK(validate(c, nullptr).has_value());
  c.linux->devices[0].type = "x";
  CHECK(error_of(c) == "linux.devices[0].type: must be one of c, b, u, p, got \"x\"");
  c.linux->devices[0].type = "c";
  for (const char* bad : {"fuse", "/dev/", "/dev/../etc/x", "/dev", "/", "//"}) {
    c.linux->devices[0].path = bad;
    CHECK(error_of(c) ==
          std::string("linux.devices[0].path: must be an absolute path of a file, got \"") + bad +
              "\"");
  }
  // Outside /dev too, as runc 1.1.5 makes it.
  for (const char* good : {"/dev/net/tun", "/tmp/fuse", "/mydev/null"}) {
    c.linux->devices[0].path = good;
    CHECK(validate(c, nullptr).has_value());
  }
  c.linux->devices[0].path = "/dev/net/tun";
  // A fifo's major/minor are optional, not forbidden: ignored.
  c.linux->devices[0].type = "p";
  CHECK(validate(c, nullptr).has_value());
  c.linux->devices[0].major = c.linux->devices[0].minor = 0;
  CHECK(validate(c, nullptr).has_value());
  c.linux->devices[0].type = "b";
  c.linux->devices[0].minor = -1;
  CHECK(error_of(c) == "linux.devices[0]: major and minor must be >= 0, got 0:-1");
  c.linux->devices[0].minor = 0;
  c.linux->devices[0].file_mode = 0100666;
  CHECK(error_of(c) ==
        "linux.devices[0].fileMode: only permission bits and the file type of \"b\" (060000) "
        "allowed, got 0100666");
  c.linux->devices[0].file_mode = 0020666;  // a char device's type for a block device
  CHECK(error_of(c) ==
        "linux.devices[0].fileMode: only permission bits and the file type of \"b\" (060000) "
        "allowed, got 020666");
  // podman copies the host node's st_mode, type bits included (runc accepts it).
  c.linux->devices[0].file_mode = 0060660;
  CHECK(validate(c, nullptr).has_value());
  c.linux->devices[0].type = "c";
  c.linux->devices[0].file_mode = 0020600;
  CHECK(validate(c, nullptr).has_value());
  c.linux->devices[0].type = "b";
  c.linux->devices[0].file_mode = 0666;
  c.linux->devices.push_back(c.linux->devices[0]);
  auto w = warnings_of(c);
  REQUIRE(w.size() == 1);
  CHECK(w[0] == "linux.devices[1].path: device \"/dev/net/tun\" listed more than once");
}

TEST_CASE("validate: mounts") {
  Config c = base();
  c.mounts[0].destination = "";
  CHECK(error_of(c) == "mounts[0].destination: must not be empty");
  c = base();
  c.mounts[0].type.reset();
  CHECK(error_of(c) == "mounts[0].type: required unless the mount is a bind mount");
  c.mounts[0].options = {"rbind"};
  c.mounts[0].source.reset();
  CHECK(error_of(c) == "mounts[0].source: required for a bind mount");
  c.mounts[0].source = "/srv";
  CHECK(warnings_of(c).empty());
  c.mounts[0].type = "bind";
  c.mounts[0].options = {"ro"};
  CHECK(warnings_of(c).empty());
}

TEST_CASE("validate: mount warnings") {
  Config c = base();
  c.mounts[0] = {"data", "bind", "/srv", {"bind", "size=10", "mode=0755"}, {}, {}};
  auto w = warnings_of(c);
  REQUIRE(w.size() == 2);
  CHECK(w[0] == "mounts[0].destination: relative path \"data\" is deprecated; taken relative to /");
  CHECK(w[1] == "mounts[0].options: \"size=10,mode=0755\" has no effect on a bind mount");
  c.mounts[0] = {"/run", "proc", "proc", {"tmpcopyup"}, {}, {}};
  w = warnings_of(c);
  REQUIRE(w.size() == 1);
  CHECK(w[0] == "mounts[0].options: tmpcopyup ignored on a mount that is not tmpfs");
  c.mounts[0].type = "tmpfs";
  CHECK(warnings_of(c).empty());
}

TEST_CASE("validate: idmapped mounts") {
  Config c = base();
  c.mounts[0] = {"/data", "bind", "/srv", {"rbind", "idmap"}, {}, {}};
  CHECK(error_of(c) ==
        "mounts[0].options: idmap/ridmap need uidMappings and gidMappings on the "
        "mount or a user namespace");
  c.mounts[0].options = {"rbind", "ridmap"};
  CHECK(error_of(c).starts_with("mounts[0].options: idmap/ridmap need"));
  add_userns(c);
  CHECK(validate(c, nullptr).has_value());  // the container's mapping is used
  c = base();
  c.mounts[0] = {"/data", "bind", "/srv", {"rbind", "idmap"}, {IdMapping{0, 1000, 10}}, {}};
  CHECK(error_of(c) == "mounts[0]: uidMappings and gidMappings must be given together");
  c.mounts[0].gid_mappings = {IdMapping{0, 1000, 0}};
  CHECK(error_of(c) == "mounts[0].gidMappings[0].size: must be > 0");
  c.mounts[0].gid_mappings = {IdMapping{0, 1000, 10}};
  CHECK(warnings_of(c).empty());
  c.mounts[0].options = {"rbind"};
  auto w = warnings_of(c);
  REQUIRE(w.size() == 1);
  CHECK(w[0] == "mounts[0]: uidMappings without idmap or ridmap; treated as idmap");
}

TEST_CASE("validate: hooks") {
  Config c = base();
  c.hooks = husk::spec::Hooks{};
  c.hooks->poststart = {{"/bin/ok", {}, {}, 1}, {"bin/relative", {}, {}, std::nullopt}};
  CHECK(error_of(c) == "hooks.poststart[1].path: must be an absolute path, got \"bin/relative\"");
  c.hooks->poststart.pop_back();
  c.hooks->create_runtime = {{"/bin/x", {}, {}, 0}};
  CHECK(error_of(c) == "hooks.createRuntime[0].timeout: must be > 0, got 0");
  c.hooks->create_runtime[0].timeout = -5;
  CHECK(error_of(c) == "hooks.createRuntime[0].timeout: must be > 0, got -5");
  c.hooks->create_runtime[0].timeout = 30;
  CHECK(validate(c, nullptr).has_value());
}

TEST_CASE("validate: annotation keys must not be empty") {
  Config c = base();
  c.annotations[""] = "x";
  CHECK(error_of(c) == "annotations: keys must not be empty");
}

TEST_CASE("validate: seccomp actions, errnoRet, arches, flags, args") {
  Config c = base();
  husk::spec::Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = 1;
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"};
  s.flags = {"SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  s.syscalls = {{{"read"}, "SCMP_ACT_ALLOW", std::nullopt, {}},
                {{"ptrace"}, "SCMP_ACT_TRACE", 5, {{0, 1, 0, "SCMP_CMP_MASKED_EQ"}}}};
  c.linux->seccomp = s;
  CHECK(validate(c, nullptr).has_value());

  auto with = [&](auto mutate) {
    Config x = c;
    mutate(*x.linux->seccomp);
    return error_of(x);
  };
  CHECK(with([](auto& sc) { sc.default_action = "SCMP_ACT_NOPE"; }) ==
        "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
  CHECK(with([](auto& sc) { sc.default_action = "SCMP_ACT_KILL"; }) ==
        "linux.seccomp.defaultAction: defaultErrnoRet only valid with SCMP_ACT_ERRNO or "
        "SCMP_ACT_TRACE, not SCMP_ACT_KILL");
  CHECK(with([](auto& sc) { sc.syscalls[0].errno_ret = 1; }) ==
        "linux.seccomp.syscalls[0].action: errnoRet only valid with SCMP_ACT_ERRNO or "
        "SCMP_ACT_TRACE, not SCMP_ACT_ALLOW");
  CHECK(with([](auto& sc) { sc.syscalls[1].errno_ret = 70000; }) ==
        "linux.seccomp.syscalls[1].action: errnoRet must be <= 65535, got 70000");
  CHECK(with([](auto& sc) { sc.architectures.push_back("SCMP_ARCH_VAX"); }) ==
        "linux.seccomp.architectures[2]: unknown architecture \"SCMP_ARCH_VAX\"");
  CHECK(with([](auto& sc) { sc.flags = {"SECCOMP_FILTER_FLAG_NEW_LISTENER"}; }) ==
        "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\"");
  CHECK(with([](auto& sc) { sc.syscalls[1].args[0].index = 6; }) ==
        "linux.seccomp.syscalls[1].args[0].index: must be < 6, got 6");
  CHECK(with([](auto& sc) { sc.syscalls[1].args[0].op = "SCMP_CMP_BETWEEN"; }) ==
        "linux.seccomp.syscalls[1].args[0].op: unknown operator \"SCMP_CMP_BETWEEN\"");
  CHECK(with([](auto& sc) {
          sc.syscalls[0].names = {"read", ""};
        }) == "linux.seccomp.syscalls[0].names[1]: must not be empty");
  CHECK(with([](auto& sc) { sc.syscalls[0].action = "SCMP_ACT_KILL_ALL"; }) ==
        "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_KILL_ALL\"");
}

TEST_CASE("validate: seccomp notify needs an absolute listenerPath and a non-notify default") {
  Config c = base();
  husk::spec::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = {{{"mount"}, "SCMP_ACT_NOTIFY", std::nullopt, {}}};
  c.linux->seccomp = s;
  CHECK(error_of(c) == "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
  c.linux->seccomp->listener_path = "agent.sock";
  CHECK(error_of(c) == "linux.seccomp.listenerPath: must be an absolute path, got \"agent.sock\"");
  c.linux->seccomp->listener_path = "/run/agent.sock";
  CHECK(validate(c, nullptr).has_value());
  c.linux->seccomp->default_action = "SCMP_ACT_NOTIFY";
  CHECK(error_of(c) == "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
}

TEST_CASE("validate: NOTIFY is refused for the syscalls that hand its fd over") {
  Config c = base();
  husk::spec::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.listener_path = "/run/agent.sock";
  s.syscalls = {{{"mkdir"}, "SCMP_ACT_ALLOW", std::nullopt, {}},
                {{"mkdir", "sendmsg"}, "SCMP_ACT_NOTIFY", std::nullopt, {}}};
  c.linux->seccomp = s;
  CHECK(error_of(c) ==
        "linux.seccomp.syscalls[1].names[1]: SCMP_ACT_NOTIFY cannot be used for sendmsg: husk "
        "needs it to hand the notification fd over");
  c.linux->seccomp->syscalls[1].names = {"write"};
  CHECK(error_of(c).find("linux.seccomp.syscalls[1].names[0]: SCMP_ACT_NOTIFY cannot be used "
                         "for write") == 0);
  // Other actions on them are the profile's business.
  c.linux->seccomp->syscalls[1].action = "SCMP_ACT_ERRNO";
  CHECK(validate(c, nullptr).has_value());
}

TEST_CASE("validate: listenerMetadata needs listenerPath") {
  Config c = base();
  husk::spec::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.listener_metadata = "opaque";
  c.linux->seccomp = s;
  CHECK(error_of(c) == "linux.seccomp.listenerMetadata: must not be set without listenerPath");
  // Without NOTIFY rules, listenerPath is ignored (config-linux.md), not refused.
  c.linux->seccomp->listener_path = "/run/agent.sock";
  CHECK(validate(c, nullptr).has_value());
}

TEST_CASE("validate: sysctls must be scoped by a namespace the container has") {
  Config c = base();
  c.linux->sysctl = {{"net.ipv4.ip_forward", "1"},
                     {"kernel.shmmax", "1"},
                     {"fs.mqueue.msg_max", "10"},
                     {"net/ipv4/conf/eth0.1/forwarding", "1"},
                     {"kernel.domainname", "x"}};
  CHECK(validate(c, nullptr).has_value());
  c.linux->sysctl = {{"kernel.core_pattern", "|/evil"}};
  CHECK(error_of(c) ==
        "linux.sysctl[\"kernel.core_pattern\"]: sysctl \"kernel.core_pattern\" is "
        "not in a separate kernel namespace");
  c.linux->sysctl = {{"vm.overcommit_memory", "1"}};
  CHECK(error_of(c).ends_with("is not in a separate kernel namespace"));
  c.linux->sysctl = {{"user.max_user_namespaces", "0"}};
  CHECK(error_of(c) ==
        "linux.sysctl[\"user.max_user_namespaces\"]: sysctl "
        "\"user.max_user_namespaces\" needs a user namespace");
  add_userns(c);
  CHECK(validate(c, nullptr).has_value());
  c = base();
  c.linux->namespaces.pop_back();  // network
  c.linux->sysctl = {{"net.core.somaxconn", "1024"}};
  CHECK(error_of(c) ==
        "linux.sysctl[\"net.core.somaxconn\"]: sysctl \"net.core.somaxconn\" needs "
        "a network namespace");
  for (const char* bad : {"", "net..x", ".net.x", "net.x.", "net/../../x", "net.a b", "net//x"}) {
    c = base();
    c.linux->sysctl = {{bad, "1"}};
    INFO(bad);
    CHECK(error_of(c) == "linux.sysctl[\"" + std::string(bad) + "\"]: invalid sysctl name");
  }
}

TEST_CASE("validate: netDevices need a network namespace and valid names") {
  Config c = base();
  c.linux->net_devices["eth1"] = {"ctr1"};
  c.linux->net_devices["dummy0"] = {};
  CHECK(validate(c, nullptr).has_value());
  c.linux->net_devices["eth1"].name = "a/b";
  CHECK(error_of(c) == "linux.netDevices[\"eth1\"].name: invalid interface name \"a/b\"");
  c.linux->net_devices.erase("eth1");
  c.linux->net_devices["this-name-is-too-long"] = {};
  CHECK(error_of(c) == "linux.netDevices[\"this-name-is-too-long\"]: invalid interface name");
  c = base();
  c.linux->namespaces.pop_back();
  c.linux->net_devices["eth1"] = {};
  CHECK(error_of(c) == "linux.netDevices: need a network namespace in linux.namespaces");
}

TEST_CASE("validate: masked/readonly paths, rootfsPropagation, memoryPolicy, personality") {
  Config c = base();
  c.linux->masked_paths = {"/proc/kcore", "proc/keys"};
  CHECK(error_of(c) == "linux.maskedPaths[1]: must be an absolute path, got \"proc/keys\"");
  c = base();
  c.linux->readonly_paths = {"sys"};
  CHECK(error_of(c) == "linux.readonlyPaths[0]: must be an absolute path, got \"sys\"");
  c = base();
  c.linux->rootfs_propagation = "rshared";
  CHECK(validate(c, nullptr).has_value());
  c.linux->rootfs_propagation = "recursive";
  CHECK(error_of(c) == "linux.rootfsPropagation: unknown propagation \"recursive\"");
  c = base();
  c.linux->memory_policy = husk::spec::MemoryPolicy{"MPOL_INTERLEAVE", "0-1", {}};
  CHECK(validate(c, nullptr).has_value());
  c.linux->memory_policy->mode = "MPOL_RANDOM";
  CHECK(error_of(c) == "linux.memoryPolicy.mode: unknown mode \"MPOL_RANDOM\"");
  c.linux->memory_policy->mode = "MPOL_BIND";
  c.linux->memory_policy->flags = {"MPOL_F_STATIC_NODES", "MPOL_F_X"};
  CHECK(error_of(c) == "linux.memoryPolicy.flags[1]: unknown flag \"MPOL_F_X\"");
  c.linux->memory_policy->flags.clear();
  c.linux->memory_policy->nodes = "0,a";
  CHECK(error_of(c).starts_with("linux.memoryPolicy.nodes: invalid list"));
  c = base();
  c.linux->personality = husk::spec::Personality{"LINUX64", {}};
  CHECK(error_of(c) == "linux.personality.domain: unknown domain \"LINUX64\"");
  c.linux->personality = husk::spec::Personality{"LINUX", {"ADDR_NO_RANDOMIZE"}};
  CHECK(error_of(c) == "linux.personality.flags[0]: unknown flag \"ADDR_NO_RANDOMIZE\"");
}

TEST_CASE("validate: linux.resources is checked with its path") {
  Config c = base();
  c.linux->resources = Resources{};
  c.linux->resources->memory = husk::spec::Memory{};
  c.linux->resources->memory->limit = 2048;
  c.linux->resources->memory->swap = 1024;
  CHECK(error_of(c) ==
        "linux.resources.memory.swap: memory+swap limit 1024 must be >= memory limit 2048");
}

TEST_CASE("validate_resources: devices") {
  Resources r;
  r.devices = {{false, std::nullopt, std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, -1, "rw"}};
  CHECK(validate_resources(r, "", nullptr).has_value());
  r.devices[1].type = "u";
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "devices[1].type: must be one of a, c, b, got \"u\"");
  r.devices[1].type = "a";
  r.devices[1].access = "rwx";
  CHECK(validate_resources(r, "linux.resources", nullptr).error().message() ==
        "linux.resources.devices[1].access: must be a combination of r, w, m, got \"rwx\"");
  // Any order and repetition of r, w, m, as runc 1.1.5 takes them.
  for (const char* ok : {"wr", "mr", "mwr", "rrw", "rwmrwm"}) {
    r.devices[1].access = ok;
    CHECK(validate_resources(r, "", nullptr).has_value());
  }
  r.devices[1].access = "";
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "devices[1].access: must not be empty (a combination of r, w, m)");
  r.devices[1].access = "m";
  r.devices[1].major = -2;
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "devices[1]: major/minor must be >= 0, or -1 for any");
}

TEST_CASE("validate_resources: memory") {
  Resources r;
  r.memory = husk::spec::Memory{};
  r.memory->limit = 100;
  r.memory->swap = -1;
  CHECK(validate_resources(r, "", nullptr).has_value());
  r.memory->swap = 100;
  CHECK(validate_resources(r, "", nullptr).has_value());
  r.memory->swap = 99;
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "memory.swap: memory+swap limit 99 must be >= memory limit 100");
  r.memory->swap.reset();
  r.memory->reservation = -2;
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "memory.reservation: must be -1 (unlimited) or >= 0, got -2");
  r.memory->reservation.reset();
  r.memory->swappiness = 101;
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "memory.swappiness: must be in 0..100, got 101");
}

TEST_CASE("validate_resources: cpu") {
  Resources r;
  r.cpu = husk::spec::Cpu{};
  r.cpu->quota = 50000;
  r.cpu->burst = 50000;
  CHECK(validate_resources(r, "", nullptr).has_value());
  r.cpu->burst = 50001;
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "cpu.burst: burst 50001 must not exceed quota 50000");
  r.cpu->quota = -1;  // unlimited quota: any burst
  CHECK(validate_resources(r, "", nullptr).has_value());
  r.cpu->idle = 2;
  CHECK(validate_resources(r, "", nullptr).error().message() == "cpu.idle: must be 0 or 1, got 2");
  r.cpu->idle = 0;
  r.cpu->cpus = "0-";
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "cpu.cpus: invalid list \"0-\" (expected e.g. \"0-3,6\")");
  r.cpu->cpus = "0-1";
  r.cpu->mems = "x";
  CHECK(validate_resources(r, "", nullptr).error().message().starts_with("cpu.mems: invalid list"));
}

TEST_CASE("validate_resources: blockIO weights") {
  Resources r;
  r.block_io = husk::spec::BlockIo{};
  r.block_io->weight = 10;
  r.block_io->leaf_weight = 1000;
  CHECK(validate_resources(r, "", nullptr).has_value());
  // 0: not set (runc writes nothing for it).
  r.block_io->weight = 0;
  r.block_io->weight_device = {{8, 0, 0, std::nullopt}};
  CHECK(validate_resources(r, "", nullptr).has_value());
  r.block_io->weight_device.clear();
  r.block_io->weight = 9;
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "blockIO.weight: must be in 10..1000, got 9");
  r.block_io->weight = 500;
  r.block_io->weight_device = {{8, 0, 1001, std::nullopt}};
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "blockIO.weightDevice[0].weight: must be in 10..1000, got 1001");
}

TEST_CASE("validate_resources: hugepage sizes") {
  Resources r;
  r.hugepage_limits = {{"2MB", 1}, {"1GB", 2}, {"64KB", 3}};
  CHECK(validate_resources(r, "", nullptr).has_value());
  for (const char* bad : {"2M", "2mb", "0MB", "MB", "2 MB", "../../x", "2MB.rsvd", "2XB"}) {
    r.hugepage_limits = {{bad, 1}};
    INFO(bad);
    CHECK(
        validate_resources(r, "", nullptr).error().message() ==
        std::string("hugepageLimits[0].pageSize: expected a size like \"2MB\" or \"1GB\", got \"") +
            bad + "\"");
  }
  r.hugepage_limits = {{"2MB", 1}, {"2MB", 2}};
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "hugepageLimits[1].pageSize: duplicate page size \"2MB\"");
}

TEST_CASE("validate_resources: unified keys must be plain cgroup file names") {
  Resources r;
  r.unified = {{"memory.high", "1G"}, {"cgroup.freeze", "0"}};
  CHECK(validate_resources(r, "", nullptr).has_value());
  for (const char* bad : {"../../etc/passwd", "memory", ".high", "memory.", "a/b.c"}) {
    r.unified = {{bad, "1"}};
    INFO(bad);
    CHECK(validate_resources(r, "", nullptr).error().message() ==
          std::string("unified[\"") + bad + "\"]: not a cgroup file name");
  }
}

TEST_CASE("validate_resources: network priorities and rdma names") {
  Resources r;
  r.network = husk::spec::Network{};
  r.network->priorities = {{"eth0", 5}, {"", 1}};
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "network.priorities[1].name: invalid interface name \"\"");
  r.network.reset();
  r.rdma["mlx/5"] = {};
  CHECK(validate_resources(r, "", nullptr).error().message() ==
        "rdma[\"mlx/5\"]: invalid device name");
}
