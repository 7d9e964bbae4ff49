// Pure planning: validation, per-driver controller needs, conversions, path
// rules, mountinfo parsing, the state record, and plan() on a fake hierarchy.
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>

#include "cgroup/cgroup.hpp"
#include "cgroup/layout.hpp"
#include "cgroup/systemd_bus.hpp"
#include "cgroup_test_util.hpp"

using husk::ErrorKind;
namespace cg = husk::cgroup;
namespace spec = husk::spec;

namespace {

std::string error_of(const husk::Status& s) { return s ? std::string() : s.error().message(); }

spec::Resources with_memory(std::optional<int64_t> limit, std::optional<int64_t> swap) {
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = limit;
  r.memory->swap = swap;
  return r;
}

}  // namespace

TEST_CASE("validate_resources rejects invalid values naming the field", "[cgroup]") {
  spec::Resources r = with_memory(100, 50);
  CHECK(error_of(cg::validate_resources(r)) ==
        "linux.resources.memory.swap: memory+swap limit 50 is lower than memory limit 100");
  r = with_memory(-2, std::nullopt);
  CHECK_THAT(error_of(cg::validate_resources(r)),
             Catch::StartsWith("linux.resources.memory.limit:"));
  r = {};
  r.memory = spec::Memory{};
  r.memory->swappiness = 101;
  CHECK_THAT(error_of(cg::validate_resources(r)),
             Catch::StartsWith("linux.resources.memory.swappiness"));
  r = {};
  r.hugepage_limits = {{"2MB", 1}, {"2M", 1}};
  CHECK_THAT(error_of(cg::validate_resources(r)),
             Catch::StartsWith("linux.resources.hugepageLimits[1].pageSize"));
  r = {};
  r.unified = {{"../../etc/passwd", "x"}};
  CHECK_THAT(error_of(cg::validate_resources(r)), Catch::StartsWith("linux.resources.unified"));
  r = {};
  r.devices = {{true, std::string("x"), 1, 3, std::string("r")}};
  CHECK_THAT(error_of(cg::validate_resources(r)),
             Catch::StartsWith("linux.resources.devices[0].type"));
  r.devices = {{true, std::string("c"), 1, 3, std::string("rwx")}};
  CHECK_THAT(error_of(cg::validate_resources(r)),
             Catch::StartsWith("linux.resources.devices[0].access"));
  r.devices = {{true, std::string("c"), -2, 3, std::nullopt}};
  CHECK_THAT(error_of(cg::validate_resources(r)),
             Catch::StartsWith("linux.resources.devices[0].major"));
  r.devices = {{true, std::string("c"), -1, 3, std::nullopt}};
  CHECK(cg::validate_resources(r));
}

TEST_CASE("needs_v1: controllers per field; unified is an error on v1", "[cgroup]") {
  spec::Resources r = with_memory(1 << 20, std::nullopt);
  r.cpu = spec::Cpu{};
  r.cpu->cpus = "0";
  r.pids = spec::Pids{0};
  r.network = spec::Network{};
  r.network->class_id = 1;
  auto n = cg::needs_v1(r);
  REQUIRE(n);
  std::vector<std::string> ctrls;
  for (const auto& x : *n) ctrls.push_back(x.controller + "=" + x.field);
  CHECK(ctrls == std::vector<std::string>{
                     "memory=linux.resources.memory.limit", "cpuset=linux.resources.cpu.cpus",
                     "pids=linux.resources.pids.limit", "net_cls=linux.resources.network.classID"});
  r.unified = {{"memory.high", "1"}};
  auto bad = cg::needs_v1(r);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind() == ErrorKind::InvalidSpec);
  CHECK_THAT(bad.error().message(),
             Catch::StartsWith("linux.resources.unified: invalid configuration: cannot use "
                               "unified on cgroup v1"));
}

TEST_CASE("needs_v2: what cgroup v2 cannot express is Unsupported", "[cgroup]") {
  auto unsupported = [](const spec::Resources& r) {
    auto n = cg::needs_v2(r);
    return n ? std::string("ok") : n.error().message();
  };
  spec::Resources r;
  r.network = spec::Network{};
  r.network->class_id = 3;
  CHECK_THAT(unsupported(r), Catch::StartsWith("linux.resources.network:"));
  r = with_memory(std::nullopt, std::nullopt);
  r.memory->kernel = 1 << 20;
  CHECK_THAT(unsupported(r), Catch::StartsWith("linux.resources.memory.kernel:"));
  r = with_memory(std::nullopt, std::nullopt);
  r.memory->swappiness = 10;
  CHECK_THAT(unsupported(r), Catch::StartsWith("linux.resources.memory.swappiness:"));
  r = {};
  r.cpu = spec::Cpu{};
  r.cpu->realtime_runtime = 100;
  CHECK_THAT(unsupported(r), Catch::StartsWith("linux.resources.cpu.realtimeRuntime:"));
  r = with_memory(std::nullopt, std::nullopt);
  r.memory->disable_oom_killer = false;  // the default: nothing to do
  CHECK(unsupported(r) == "ok");
}

TEST_CASE("needs_v2: unified keys need their controller, cgroup.* none; devices none", "[cgroup]") {
  spec::Resources r;
  r.unified = {{"memory.high", "1"}, {"cgroup.max.depth", "2"}, {"io.latency", "8:0 target=10"}};
  r.devices = {{false, std::nullopt, std::nullopt, std::nullopt, std::nullopt}};
  auto n = cg::needs_v2(r);
  REQUIRE(n);
  REQUIRE(n->size() == 2);
  CHECK((*n)[0].controller == "io");
  CHECK((*n)[0].field == "linux.resources.unified[\"io.latency\"]");
  CHECK((*n)[1].controller == "memory");
}

TEST_CASE("cpu.shares -> cpu.weight uses the quadratic log2 fit", "[cgroup]") {
  CHECK(cg::shares_to_weight(0) == 0);
  CHECK(cg::shares_to_weight(1) == 1);
  CHECK(cg::shares_to_weight(2) == 1);
  CHECK(cg::shares_to_weight(102) == 17);
  CHECK(cg::shares_to_weight(256) == 35);
  CHECK(cg::shares_to_weight(512) == 59);
  CHECK(cg::shares_to_weight(1024) == 100);
  CHECK(cg::shares_to_weight(2048) == 174);
  CHECK(cg::shares_to_weight(262143) == 10000);
  CHECK(cg::shares_to_weight(262144) == 10000);
  CHECK(cg::shares_to_weight(1000000) == 10000);
}

TEST_CASE("blkio weight -> io.weight is linear from 10..1000 to 1..10000", "[cgroup]") {
  CHECK(cg::blkio_to_io_weight(0) == 0);
  CHECK(cg::blkio_to_io_weight(10) == 1);
  CHECK(cg::blkio_to_io_weight(500) == 4950);
  CHECK(cg::blkio_to_io_weight(1000) == 10000);
}

TEST_CASE("memory.swap.max is swap minus limit", "[cgroup]") {
  auto v = [](std::optional<int64_t> l, std::optional<int64_t> s) {
    spec::Memory m;
    m.limit = l;
    m.swap = s;
    auto r = cg::swap_max_value(m);
    if (!r) return "error: " + r.error().message();
    return r->value_or("unset");
  };
  CHECK(v(100, 300) == "200");
  CHECK(v(100, 100) == "0");
  CHECK(v(100, -1) == "max");
  CHECK(v(100, std::nullopt) == "unset");
  CHECK(v(100, 0) == "unset");
  CHECK_THAT(v(std::nullopt, 300), Catch::StartsWith("error: linux.resources.memory.swap:"));
  CHECK_THAT(v(-1, 300), Catch::StartsWith("error: linux.resources.memory.swap:"));
  CHECK_THAT(v(300, 100), Catch::Contains("lower than memory limit"));
}

TEST_CASE("cpu.max keeps the half that is not being set", "[cgroup]") {
  spec::Cpu c;
  CHECK_FALSE(cg::cpu_max_value(c, "max 100000"));
  c.period = 200000;
  CHECK(cg::cpu_max_value(c, "50000 100000") == "50000 200000");
  c = {};
  c.quota = 25000;
  CHECK(cg::cpu_max_value(c, "") == "25000 100000");
  c.quota = -1;
  CHECK(cg::cpu_max_value(c, "25000 50000") == "max 50000");
}

TEST_CASE("v1 device lines: wildcards, and narrowed type-a rules split into c and b", "[cgroup]") {
  auto lines = [](const spec::DeviceCgroup& d) {
    auto r = cg::normalize_device_rules({d});
    REQUIRE(r);
    return cg::device_rule_lines_v1((*r)[0]);
  };
  using V = std::vector<std::string>;
  CHECK(lines({false, std::nullopt, std::nullopt, std::nullopt, std::nullopt}) == V{"a"});
  CHECK(lines({true, std::string("a"), 1, std::nullopt, std::string("rw")}) ==
        V{"c 1:* rw", "b 1:* rw"});
  CHECK(lines({true, std::string("b"), 8, 0, std::string("mwr")}) == V{"b 8:0 rwm"});
  CHECK(lines({true, std::string("c"), -1, -1, std::string("m")}) == V{"c *:* m"});
}

TEST_CASE("container_device_rules: config rules first, then defaults; linux.devices add none",
          "[cgroup]") {
  spec::Linux linux;
  linux.resources = spec::Resources{};
  linux.resources->devices = {
      {false, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")}};
  linux.devices.push_back({"c", "/dev/kmsg", 1, 11, std::nullopt, std::nullopt, std::nullopt});
  linux.devices.push_back({"p", "/dev/fifo", 0, 0, std::nullopt, std::nullopt, std::nullopt});
  linux.devices.push_back({"b", "/dev/loop9", 7, 9, std::nullopt, std::nullopt, std::nullopt});
  auto rules = cg::normalize_device_rules(cg::container_device_rules(&linux));
  REQUIRE(rules);
  REQUIRE(rules->size() == 1 + 11);
  CHECK_FALSE(rules->front().allow);
  for (const auto& r : *rules) {
    CHECK_FALSE((r.major == 1 && r.minor == 11));
    CHECK_FALSE((r.type == 'b' && r.major == 7));
  }
  auto res = cg::container_resources(nullptr);
  CHECK(res.devices.size() == 11);
}

TEST_CASE("cgroupsPath rules: relative to the root, default /husk/<id>, no escapes", "[cgroup]") {
  auto norm = [](const std::string& p) {
    auto r = cg::normalize_cgroups_path(p, "ctr1");
    return r ? *r : "error: " + r.error().message();
  };
  CHECK(norm("") == "/husk/ctr1");
  CHECK(norm("/default/ctr1") == "/default/ctr1");
  CHECK(norm("relative/x") == "/relative/x");
  CHECK(norm("//a/./b//") == "/a/b");
  CHECK(norm("machine.slice:libpod:abc") == "/machine.slice:libpod:abc");
  CHECK(norm("/a/../../b") ==
        "error: linux.cgroupsPath: \"..\" is not allowed, got \"/a/../../b\"");
  CHECK_THAT(norm("/process_api/x"), Catch::StartsWith("error: linux.cgroupsPath:"));
  CHECK_THAT(norm("/"), Catch::StartsWith("error: linux.cgroupsPath:"));
  CHECK_THAT(norm("/a\nb"), Catch::StartsWith("error: linux.cgroupsPath:"));
}

TEST_CASE("parse_v1_mounts: one hierarchy per superblock directly under the root", "[cgroup]") {
  std::string mi =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
      "50 23 0:32 / /mnt/mem\\040copy rw - cgroup cgroup rw,memory\n"
      "51 31 0:32 / /sys/fs/cgroup/memory2 rw - cgroup cgroup rw,memory\n"
      "52 31 0:40 / /sys/fs/cgroup/net_cls,net_prio rw shared:5 - cgroup cgroup "
      "rw,net_cls,net_prio\n";
  auto h = cg::parse_v1_mounts(mi, "/sys/fs/cgroup");
  REQUIRE(h.size() == 4);
  CHECK(h[0].mount == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(h[0].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(h[1].controllers == std::vector<std::string>{"memory"});
  CHECK(h[2].controllers == std::vector<std::string>{"name=systemd"});
  CHECK(h[3].controllers == std::vector<std::string>{"net_cls", "net_prio"});
  auto other = cg::parse_v1_mounts(mi, "/mnt");
  REQUIRE(other.size() == 1);
  CHECK(other[0].mount == "/mnt/mem copy");
}

TEST_CASE("cgroup2_mounted_at: the last mount at the path decides", "[cgroup]") {
  std::string mi =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
      "42 31 0:39 / /mnt/a\\040b rw shared:7 - cgroup2 cgroup2 rw\n";
  CHECK(cg::cgroup2_mounted_at(mi, "/sys/fs/cgroup/unified"));
  CHECK(cg::cgroup2_mounted_at(mi, "/mnt/a b"));
  CHECK_FALSE(cg::cgroup2_mounted_at(mi, "/sys/fs/cgroup/memory"));
  CHECK_FALSE(cg::cgroup2_mounted_at(mi, "/sys/fs/cgroup"));
  CHECK_FALSE(cg::cgroup2_mounted_at(mi, "/sys/fs/cgroup/unified/x"));
  CHECK_FALSE(cg::cgroup2_mounted_at("", "/sys/fs/cgroup/unified"));
  // Something mounted over it later hides it.
  CHECK_FALSE(cg::cgroup2_mounted_at(
      mi + "60 41 0:50 / /sys/fs/cgroup/unified rw - tmpfs tmpfs rw\n", "/sys/fs/cgroup/unified"));
}

TEST_CASE("state record round-trips and rejects tampering", "[cgroup]") {
  cg::Layout l;
  l.driver = cg::Driver::V1;
  l.root = "/sys/fs/cgroup";
  l.path = "/husk/x";
  l.hierarchies = {{"/sys/fs/cgroup/memory", {"memory"}, false, 1},
                   {"/sys/fs/cgroup/unified", {}, true, 2}};
  auto s = cg::serialize_layout(l);
  auto back = cg::parse_layout(s);
  REQUIRE(back);
  CHECK(cg::serialize_layout(*back) == s);
  CHECK(back->hierarchies[1].unified);
  CHECK(back->hierarchies[1].created == 2);
  auto bad = [&](const std::string& from, const std::string& to) {
    std::string t = s;
    t.replace(t.find(from), from.size(), to);
    return !cg::parse_layout(t).has_value();
  };
  CHECK(bad("\"created\":2", "\"created\":3"));
  CHECK(bad("/husk/x", "/husk/../x"));
  CHECK(bad("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/process_api"));
  CHECK(bad("\"v1\"", "\"v3\""));
  CHECK_FALSE(cg::parse_layout("not json"));
}

TEST_CASE("options_from_env reads HUSK_CGROUP_DRIVER and HUSK_CGROUP_ROOT", "[cgroup]") {
  ::setenv("HUSK_CGROUP_DRIVER", "v2", 1);
  ::setenv("HUSK_CGROUP_ROOT", "/sys/fs/cgroup/unified", 1);
  auto o = cg::options_from_env({});
  REQUIRE(o);
  CHECK(o->force_driver == cg::Driver::V2);
  CHECK(o->mount_root == "/sys/fs/cgroup/unified");
  ::setenv("HUSK_CGROUP_DRIVER", "v3", 1);
  auto bad = cg::options_from_env({});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind() == ErrorKind::InvalidArgument);
  ::unsetenv("HUSK_CGROUP_DRIVER");
  ::setenv("HUSK_CGROUP_ROOT", "relative", 1);
  CHECK_FALSE(cg::options_from_env({}));
  ::unsetenv("HUSK_CGROUP_ROOT");
  auto def = cg::options_from_env({});
  REQUIRE(def);
  CHECK_FALSE(def->force_driver);
  CHECK(def->mount_root == "/sys/fs/cgroup");
}

TEST_CASE("plan on a v2 hierarchy: missing controllers are Unsupported before any side effect",
          "[cgroup]") {
  cgtest::FakeCgroupDir root(cgtest::Files{{"cgroup.controllers", "cpu pids\n"}});
  cg::Options o;
  o.id = "c1";
  o.cgroups_path = "/husk-test/plan";
  o.mount_root = root.path();
  o.force_driver = cg::Driver::V2;
  spec::Resources r = with_memory(1 << 20, std::nullopt);
  auto m = cg::Manager::plan(o, &r);
  REQUIRE_FALSE(m);
  CHECK(m.error().kind() == ErrorKind::Unsupported);
  CHECK(m.error().message() ==
        "linux.resources.memory.limit: memory controller not available in "
        "cgroup v2 hierarchy " +
            root.path());
  CHECK_FALSE(cgtest::FakeCgroupDir::exists(root.path() + "/husk-test"));

  r = {};
  r.pids = spec::Pids{10};
  r.unified = {{"cgroup.max.depth", "1"}};
  auto ok = cg::Manager::plan(o, &r);
  REQUIRE(ok);
  CHECK((*ok)->driver() == cg::Driver::V2);
  CHECK((*ok)->path("memory") == root.path() + "/husk-test/plan");
  auto rec = cg::parse_layout((*ok)->serialize());
  REQUIRE(rec);
  CHECK(rec->hierarchies.at(0).created == 0);  // a plan makes nothing
  CHECK_FALSE(cgtest::FakeCgroupDir::exists(root.path() + "/husk-test"));
}

TEST_CASE("plan: systemd driver without systemd and bad paths are refused", "[cgroup]") {
  cg::Options o;
  o.id = "c1";
  if (!cg::systemd_running()) {
    o.systemd = true;
    auto m = cg::Manager::plan(o, nullptr);
    REQUIRE_FALSE(m);
    CHECK(m.error().kind() == ErrorKind::Unsupported);
    CHECK_THAT(m.error().message(), Catch::Contains("systemd not running on this host"));
  }
  o.systemd = false;
  o.cgroups_path = "/x/../y";
  auto p = cg::Manager::plan(o, nullptr);
  REQUIRE_FALSE(p);
  CHECK(p.error().kind() == ErrorKind::InvalidSpec);
}

TEST_CASE("create rolls back the directories it made when a later step fails", "[cgroup]") {
  // A plain directory: the root has the files v2 create() reads, the new
  // child does not (cgroupfs would have made them), so create() fails there.
  cgtest::FakeCgroupDir root(
      cgtest::Files{{"cgroup.controllers", ""}, {"cgroup.subtree_control", ""}});
  cg::Options o;
  o.id = "c1";
  o.cgroups_path = "/husk-test/rollback";
  o.mount_root = root.path();
  o.force_driver = cg::Driver::V2;
  auto m = cg::Manager::plan(o, nullptr);
  REQUIRE(m);
  auto st = (*m)->create();
  REQUIRE_FALSE(st);
  CHECK_THAT(st.error().message(), Catch::StartsWith("create cgroup " + root.path() +
                                                     "/husk-test/rollback: prepare "
                                                     "cgroup " +
                                                     root.path() + "/husk-test"));
  CHECK_FALSE(cgtest::FakeCgroupDir::exists(root.path() + "/husk-test"));
  // Nothing left to signal or remove.
  CHECK((*m)->kill_all(SIGKILL));
  CHECK((*m)->destroy());
}
