// `exec`: the process object (--process FILE) and the CLI form's merge with
// config.json's process, env de-duplication, --cgroup parsing.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lifecycle/exec.hpp"
#include "lifecycle/exec_cgroup.hpp"
#include "linux/lsm.hpp"
#include "spec/parse.hpp"

using husk::ErrorKind;
using husk::lifecycle::dedupe_env;
using husk::lifecycle::ExecOverrides;
using husk::lifecycle::merge_exec_process;
using husk::lifecycle::parse_sub_cgroups;
using husk::spec::parse_process;
using husk::spec::Process;

namespace {

Process base_process() {
  Process p;
  p.args = {"/init"};
  p.cwd = "/";
  p.env = {"PATH=/bin", "A=1"};
  p.terminal = true;
  p.user.uid = 5;
  p.user.gid = 6;
  p.user.additional_gids = {7};
  p.capabilities.emplace();
  p.capabilities->bounding = {"CAP_CHOWN", "CAP_KILL"};
  p.capabilities->effective = {"CAP_CHOWN"};
  p.capabilities->permitted = {"CAP_CHOWN"};
  p.capabilities->inheritable = {"CAP_KILL"};
  return p;
}

}  // namespace

TEST_CASE("parse_process reads a top-level OCI process object") {
  auto p = parse_process(R"({"terminal": true, "consoleSize": {"height": 10, "width": 20},
      "user": {"uid": 1, "gid": 2, "additionalGids": [3]}, "args": ["sh", "-c", "x"],
      "env": ["A=b"], "cwd": "/tmp", "noNewPrivileges": true,
      "capabilities": {"bounding": ["CAP_KILL"]},
      "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 5}],
      "apparmorProfile": "", "unknownField": 1})");
  REQUIRE(p.has_value());
  CHECK(p->terminal);
  CHECK(p->console_size->height == 10);
  CHECK(p->console_size->width == 20);
  CHECK(p->user.uid == 1);
  CHECK(p->user.gid == 2);
  CHECK(p->user.additional_gids == std::vector<uint32_t>{3});
  CHECK(p->args == std::vector<std::string>{"sh", "-c", "x"});
  CHECK(p->env == std::vector<std::string>{"A=b"});
  CHECK(p->cwd == "/tmp");
  CHECK(p->no_new_privileges);
  CHECK(p->capabilities->bounding == std::vector<std::string>{"CAP_KILL"});
  CHECK(p->rlimits.at(0).soft == 5);
  CHECK_FALSE(p->apparmor_profile.has_value());  // "" is unset, as runc
}

TEST_CASE("parse_process: errors name the field, relative to the object") {
  auto bad_uid = parse_process(R"({"args": ["x"], "cwd": "/", "user": {"uid": "a", "gid": 0}})");
  REQUIRE_FALSE(bad_uid.has_value());
  CHECK(bad_uid.error().kind() == ErrorKind::InvalidSpec);
  CHECK(bad_uid.error().message().starts_with("user.uid: "));
  auto no_cwd = parse_process(R"({"args": ["x"]})");
  REQUIRE_FALSE(no_cwd.has_value());
  CHECK(no_cwd.error().message() == "cwd: required");
  auto no_args = parse_process(R"({"cwd": "/"})");
  REQUIRE_FALSE(no_args.has_value());
  CHECK(no_args.error().message() == "args: required");
  auto env = parse_process(R"({"args": ["x"], "cwd": "/", "env": [1]})");
  REQUIRE_FALSE(env.has_value());
  CHECK(env.error().message().starts_with("env[0]: "));
  auto arr = parse_process("[]");
  REQUIRE_FALSE(arr.has_value());
  CHECK(arr.error().message() == "document: expected an object, got an array");
  auto broken = parse_process("{\"args\": ");
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().message().starts_with("invalid JSON at offset"));
}

TEST_CASE("merge_exec_process: args replace, env appends, terminal only from --tty") {
  ExecOverrides o;
  o.args = {"ls", "-l"};
  o.env = {"B=2"};
  auto p = merge_exec_process(base_process(), o);
  REQUIRE(p.has_value());
  CHECK(p->args == std::vector<std::string>{"ls", "-l"});
  CHECK(p->env == std::vector<std::string>{"PATH=/bin", "A=1", "B=2"});
  CHECK(p->cwd == "/");
  CHECK_FALSE(p->terminal);  // runc: the config's terminal does not carry over
  CHECK(p->user.uid == 5);
  CHECK(p->user.gid == 6);
  o.tty = true;
  CHECK(merge_exec_process(base_process(), o)->terminal);
}

TEST_CASE("merge_exec_process: --cwd, --user, --additional-gids, --no-new-privs") {
  ExecOverrides o;
  o.args = {"x"};
  o.cwd = "/srv";
  o.user = "1000";
  o.extra_gids = {"10", "20"};
  o.no_new_privs = true;
  auto p = merge_exec_process(base_process(), o);
  REQUIRE(p.has_value());
  CHECK(p->cwd == "/srv");
  CHECK(p->user.uid == 1000);
  CHECK(p->user.gid == 6);  // uid alone keeps the config's gid
  CHECK(p->user.additional_gids == std::vector<uint32_t>{7, 10, 20});
  CHECK(p->no_new_privileges);
  o.user = "1:2";
  p = merge_exec_process(base_process(), o);
  REQUIRE(p.has_value());
  CHECK(p->user.uid == 1);
  CHECK(p->user.gid == 2);
}

TEST_CASE("merge_exec_process: --cap joins every set but inheritable") {
  ExecOverrides o;
  o.args = {"x"};
  o.caps = {"CAP_NET_ADMIN", "kill"};
  auto p = merge_exec_process(base_process(), o);
  REQUIRE(p.has_value());
  const auto& c = *p->capabilities;
  CHECK(c.bounding == std::vector<std::string>{"CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN"});
  CHECK(c.effective == std::vector<std::string>{"CAP_CHOWN", "CAP_NET_ADMIN", "CAP_KILL"});
  CHECK(c.permitted == std::vector<std::string>{"CAP_CHOWN", "CAP_NET_ADMIN", "CAP_KILL"});
  CHECK(c.inheritable == std::vector<std::string>{"CAP_KILL"});
  // Ambient only where the config made the capability inheritable.
  CHECK(c.ambient == std::vector<std::string>{"CAP_KILL"});
}

TEST_CASE("merge_exec_process: --cap with a name that is no capability is an error") {
  ExecOverrides o;
  o.args = {"x"};
  o.caps = {"CAP_KILL", "cap_test"};
  auto p = merge_exec_process(base_process(), o);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().kind() == ErrorKind::InvalidArgument);
  CHECK(p.error().message() == "--cap: unknown capability \"cap_test\"");
}

TEST_CASE("merge_exec_process: bad flags are errors naming the flag") {
  ExecOverrides o;
  auto empty = merge_exec_process(base_process(), o);
  REQUIRE_FALSE(empty.has_value());
  CHECK(empty.error().message() == "process args cannot be empty");
  o.args = {"x"};
  for (const char* u : {"root", "1:", ":1", "1:2:3", "-1", "99999999999", "4294967295",
                        "0:4294967295", " 0", "0 "}) {
    o.user = u;
    auto p = merge_exec_process(base_process(), o);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().kind() == ErrorKind::InvalidArgument);
    CHECK(p.error().message().starts_with("--user: invalid"));
  }
  o.user.reset();
  o.extra_gids = {"-3"};
  auto g = merge_exec_process(base_process(), o);
  REQUIRE_FALSE(g.has_value());
  CHECK(g.error().message().starts_with("--additional-gids: \"-3\""));
  o.extra_gids = {"4294967295"};
  CHECK_FALSE(merge_exec_process(base_process(), o).has_value());
  o.extra_gids.clear();
  o.env = {"NOEQUALS"};
  auto e = merge_exec_process(base_process(), o);
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().message() == "--env: \"NOEQUALS\" is not KEY=VALUE");
  o.env.clear();
  o.apparmor = "docker-default";
  auto aa = merge_exec_process(base_process(), o);
  if (husk::linux_setup::apparmor_enabled()) {
    REQUIRE(aa.has_value());  // --apparmor replaces the process's profile
    CHECK(aa->apparmor_profile == "docker-default");
  } else {
    REQUIRE_FALSE(aa.has_value());
    CHECK(aa.error().kind() == ErrorKind::Unsupported);
    CHECK(aa.error().message().starts_with("--apparmor: "));
  }
  o.apparmor = "";  // empty means unset, as in runc
  CHECK(merge_exec_process(base_process(), o).has_value());
  o.process_label = "system_u:system_r:container_t:s0";
  auto se = merge_exec_process(base_process(), o);
  if (husk::linux_setup::selinux_enabled()) {
    o.process_label = "not a context";
    se = merge_exec_process(base_process(), o);
  }
  REQUIRE_FALSE(se.has_value());  // no SELinux, or a context the policy lacks
  CHECK(se.error().message().starts_with("--process-label: "));
  if (!husk::linux_setup::selinux_enabled()) CHECK(se.error().kind() == ErrorKind::Unsupported);
  o.process_label = "";
  CHECK_FALSE(merge_exec_process(base_process(), o)->selinux_label.has_value());
}

TEST_CASE("dedupe_env: a later entry replaces an earlier one in place") {
  CHECK(dedupe_env({"A=1", "B=2", "A=3", "C=", "B=4"}) ==
        std::vector<std::string>{"A=3", "B=4", "C="});
  CHECK(dedupe_env({}).empty());
  CHECK(dedupe_env({"AB=1", "A=2"}) == std::vector<std::string>{"AB=1", "A=2"});
}

TEST_CASE("parse_sub_cgroups: runc's [controllers:]path forms") {
  auto plain = parse_sub_cgroups({"sub/x"});
  REQUIRE(plain.has_value());
  CHECK(plain->size() == 1);
  CHECK(plain->at("") == "sub/x");
  auto per = parse_sub_cgroups({"cpu,cpuacct:a", "memory:b"});
  REQUIRE(per.has_value());
  CHECK(per->at("cpu") == "a");
  CHECK(per->at("cpuacct") == "a");
  CHECK(per->at("memory") == "b");
  CHECK(per->count("") == 0);
}

TEST_CASE("parse_sub_cgroups: paths are cleaned; climbing out is runc's \"not a sub cgroup\"") {
  auto cleaned = parse_sub_cgroups({"cpu:/a/./b/../c", "memory:a/..", "pids:"});
  REQUIRE(cleaned.has_value());
  CHECK(cleaned->at("cpu") == "a/c");
  CHECK(cleaned->at("memory").empty());  // the container's own cgroup, as in runc
  CHECK(cleaned->at("pids").empty());
  auto up = parse_sub_cgroups({"cpu:a/../../x"});
  REQUIRE_FALSE(up.has_value());
  CHECK(up.error().message() == "--cgroup \"cpu:a/../../x\": a/../../x is not a sub cgroup path");
}

TEST_CASE("parse_sub_cgroups: malformed or escaping paths are refused") {
  auto two_plain = parse_sub_cgroups({"a", "memory:b"});
  REQUIRE_FALSE(two_plain.has_value());
  CHECK(two_plain.error().message() ==
        "invalid --cgroup argument: a (missing <controller>: prefix)");
  auto colons = parse_sub_cgroups({"a:b:c"});
  REQUIRE_FALSE(colons.has_value());
  CHECK(colons.error().message() == "invalid --cgroup argument: a:b:c");
  for (const char* v : {"../x", "a/../../b", "memory:..", ":x"}) {
    auto r = parse_sub_cgroups({v});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind() == ErrorKind::InvalidArgument);
    CHECK(r.error().message().find("--cgroup") != std::string::npos);
  }
}
