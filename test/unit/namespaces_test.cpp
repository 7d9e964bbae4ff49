// Namespace planning: which namespaces clone3 creates, which the init
// unshares or joins, when the intermediate path is needed, and the errors.
#include "linux/namespaces.hpp"

#include <sched.h>

#include <catch2/catch.hpp>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

using namespace husk;
using husk::spec::NamespaceType;

namespace {

spec::Config config(std::vector<spec::Namespace> nss) {
  spec::Config c;
  c.linux.emplace();
  c.linux->namespaces = std::move(nss);
  return c;
}

spec::Namespace ns(NamespaceType t, std::string path = {}) {
  spec::Namespace n;
  n.type = t;
  if (!path.empty()) n.path = std::move(path);
  return n;
}

std::vector<spec::IdMapping> one_map() { return {{0, 100000, 65536}}; }

std::string plan_error(const spec::Config& c) {
  auto p = linux_setup::plan_namespaces(c);
  REQUIRE_FALSE(p.has_value());
  return p.error().message();
}

}  // namespace

TEST_CASE("namespaces: the usual set is created by clone3 itself", "[namespaces]") {
  auto c = config({ns(NamespaceType::Pid), ns(NamespaceType::Network), ns(NamespaceType::Ipc),
                   ns(NamespaceType::Uts), ns(NamespaceType::Mount), ns(NamespaceType::Cgroup)});
  auto p = linux_setup::plan_namespaces(c);
  REQUIRE(p.has_value());
  CHECK(p->clone_flags ==
        (CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS));
  CHECK(p->unshare_flags == 0);
  CHECK(p->new_cgroup);  // later, once the init is in its cgroup
  CHECK_FALSE(p->intermediate);
  CHECK(p->joins.empty());
}

TEST_CASE("namespaces: a new user namespace comes with the others and its maps", "[namespaces]") {
  auto c = config({ns(NamespaceType::Pid), ns(NamespaceType::Mount), ns(NamespaceType::User)});
  c.linux->uid_mappings = one_map();
  c.linux->gid_mappings = {{0, 200000, 1000}, {1000, 1000, 1}};
  auto p = linux_setup::plan_namespaces(c);
  REQUIRE(p.has_value());
  CHECK(p->clone_flags == (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS));
  CHECK(p->uid_map == "0 100000 65536\n");
  CHECK(p->gid_map == "0 200000 1000\n1000 1000 1\n");
}

TEST_CASE("namespaces: joins before a new user namespace move creation into the init",
          "[namespaces]") {
  auto c = config({ns(NamespaceType::Mount), ns(NamespaceType::User),
                   ns(NamespaceType::Network, "/run/netns/x")});
  c.linux->uid_mappings = c.linux->gid_mappings = one_map();
  auto p = linux_setup::plan_namespaces(c);
  REQUIRE(p.has_value());
  CHECK(p->clone_flags == 0);
  CHECK(p->unshare_flags == (CLONE_NEWUSER | CLONE_NEWNS));
  CHECK_FALSE(p->intermediate);  // no new pid namespace
  REQUIRE(p->joins.size() == 1);
  CHECK(p->joins[0].type == NamespaceType::Network);
  CHECK(p->joins[0].index == 2);
}

TEST_CASE(
    "namespaces: a new pid namespace inside a joined user namespace needs the "
    "intermediate path",
    "[namespaces]") {
  auto c = config({ns(NamespaceType::Pid), ns(NamespaceType::Mount),
                   ns(NamespaceType::User, "/proc/1/ns/user")});
  auto p = linux_setup::plan_namespaces(c);
  REQUIRE(p.has_value());
  CHECK(p->intermediate);
  CHECK(p->clone_flags == 0);
  CHECK(p->unshare_flags == CLONE_NEWNS);  // never CLONE_NEWPID
  REQUIRE(p->user_join.has_value());
  CHECK(p->user_join->path == "/proc/1/ns/user");
  CHECK(p->uid_map.empty());  // a joined namespace's maps are not written
}

TEST_CASE("namespaces: a pid namespace path is the parent's to join", "[namespaces]") {
  auto c = config({ns(NamespaceType::Pid, "/proc/42/ns/pid"), ns(NamespaceType::Mount)});
  auto p = linux_setup::plan_namespaces(c);
  REQUIRE(p.has_value());
  REQUIRE(p->pid_join.has_value());
  CHECK(p->joins.empty());
  CHECK(p->clone_flags == CLONE_NEWNS);
  CHECK_FALSE(p->new_pid);
}

TEST_CASE("namespaces: time offsets become timens_offsets lines", "[namespaces]") {
  auto c = config({ns(NamespaceType::Mount), ns(NamespaceType::Time)});
  c.linux->time_offsets["boottime"] = {86400, 5};
  c.linux->time_offsets["monotonic"] = {-10, 0};
  auto p = linux_setup::plan_namespaces(c);
  REQUIRE(p.has_value());
  CHECK(p->new_time);
  CHECK((p->clone_flags & CLONE_NEWTIME) == 0);  // offsets must be set before anyone enters
  CHECK(p->timens_offsets == "boottime 86400 5\nmonotonic -10 0\n");
}

TEST_CASE("namespaces: errors name the field", "[namespaces]") {
  SECTION("duplicate") {
    auto c = config({ns(NamespaceType::Pid), ns(NamespaceType::Pid)});
    CHECK(plan_error(c) == "linux.namespaces[1]: duplicate pid namespace");
  }
  SECTION("relative path") {
    auto c = config({ns(NamespaceType::Network, "netns/x")});
    CHECK(plan_error(c).rfind("linux.namespaces[0].path: must be absolute", 0) == 0);
  }
  SECTION("mappings without a user namespace") {
    auto c = config({ns(NamespaceType::Mount)});
    c.linux->uid_mappings = one_map();
    CHECK(plan_error(c).rfind("linux.uidMappings: ", 0) == 0);
  }
  SECTION("a new user namespace without gid mappings") {
    auto c = config({ns(NamespaceType::User)});
    c.linux->uid_mappings = one_map();
    CHECK(plan_error(c).rfind("linux.gidMappings: ", 0) == 0);
  }
  SECTION("an empty mapping") {
    auto c = config({ns(NamespaceType::User)});
    c.linux->uid_mappings = c.linux->gid_mappings = {{0, 1000, 0}};
    CHECK(plan_error(c) == "linux.uidMappings[0].size: must be greater than 0");
  }
  SECTION("time offsets without a time namespace") {
    auto c = config({ns(NamespaceType::Mount)});
    c.linux->time_offsets["boottime"] = {1, 0};
    CHECK(plan_error(c).rfind("linux.timeOffsets: ", 0) == 0);
  }
  SECTION("an unknown clock") {
    auto c = config({ns(NamespaceType::Time)});
    c.linux->time_offsets["realtime"] = {1, 0};
    CHECK(plan_error(c).rfind("linux.timeOffsets.realtime: ", 0) == 0);
  }
  SECTION("hostname without a UTS namespace") {
    auto c = config({ns(NamespaceType::Mount)});
    c.hostname = "box";
    CHECK(plan_error(c) == "hostname: unable to set hostname without a private UTS namespace");
  }
}

TEST_CASE("namespaces: a path of the wrong type is refused when opened", "[namespaces]") {
  auto c = config({ns(NamespaceType::Mount), ns(NamespaceType::Ipc, "/proc/self/ns/net")});
  auto p = linux_setup::plan_namespaces(c);
  REQUIRE(p.has_value());
  auto s = linux_setup::open_namespace_paths(*p);
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().message() ==
        "linux.namespaces[1].path: /proc/self/ns/net is a network namespace, not a ipc namespace");

  auto c2 = config({ns(NamespaceType::Network, "/proc/self/status")});
  auto p2 = linux_setup::plan_namespaces(c2);
  REQUIRE(p2.has_value());
  auto s2 = linux_setup::open_namespace_paths(*p2);
  REQUIRE_FALSE(s2.has_value());
  CHECK(s2.error().message() == "linux.namespaces[0].path: /proc/self/status is not a namespace");
}

TEST_CASE("namespaces: none listed means every one is inherited", "[namespaces]") {
  auto p = linux_setup::plan_namespaces(config({}));
  REQUIRE(p.has_value());
  CHECK(p->clone_flags == 0);
  CHECK(p->unshare_flags == 0);
  CHECK_FALSE(p->new_mount);
  CHECK_FALSE(p->join_mount);
  CHECK(p->joins.empty());
  p = linux_setup::plan_namespaces(spec::Config{});  // no linux section at all
  REQUIRE(p.has_value());
  CHECK(p->clone_flags == 0);
}

TEST_CASE("namespaces: a mount namespace joined by path is the init's to join", "[namespaces]") {
  auto c = config({ns(NamespaceType::Pid), ns(NamespaceType::Mount, "/proc/42/ns/mnt")});
  auto p = linux_setup::plan_namespaces(c);
  REQUIRE(p.has_value());
  CHECK(p->clone_flags == CLONE_NEWPID);
  CHECK(p->join_mount);
  CHECK_FALSE(p->new_mount);
  REQUIRE(p->joins.size() == 1);
  CHECK(p->joins[0].type == NamespaceType::Mount);
}

TEST_CASE("namespaces: a user namespace needs a mount namespace it can return to", "[namespaces]") {
  auto c = config({ns(NamespaceType::Pid), ns(NamespaceType::User)});
  c.linux->uid_mappings = c.linux->gid_mappings = one_map();
  CHECK_THAT(plan_error(c), Catch::Contains("linux.namespaces: a new user namespace needs a new "
                                            "mount namespace too"));
  c.linux->namespaces.push_back(ns(NamespaceType::Mount, "/proc/42/ns/mnt"));
  CHECK_THAT(plan_error(c), Catch::Contains("joined mount namespace"));
  c = config({ns(NamespaceType::User, "/proc/42/ns/user")});
  CHECK_THAT(plan_error(c), Catch::Contains("linux.namespaces: a user namespace joined by path"));
  c.linux->namespaces.push_back(ns(NamespaceType::Mount, "/proc/42/ns/mnt"));
  CHECK(linux_setup::plan_namespaces(c).has_value());
}
