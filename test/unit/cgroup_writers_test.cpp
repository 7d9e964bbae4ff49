// Per-controller writers against a plain directory: exact file contents.
#include <catch2/catch.hpp>

#include "cgroup/writers.hpp"
#include "cgroup_test_util.hpp"

using cgtest::FakeCgroupDir;
using husk::ErrorKind;
namespace cg = husk::cgroup;
namespace spec = husk::spec;

TEST_CASE("cgroup v1 memory: limit, swap, reservation, swappiness, oom, kernel", "[cgroup]") {
  FakeCgroupDir d({{"memory.limit_in_bytes", ""},
                   {"memory.memsw.limit_in_bytes", "9223372036854771712\n"},
                   {"memory.soft_limit_in_bytes", ""},
                   {"memory.swappiness", ""},
                   {"memory.oom_control", ""},
                   {"memory.kmem.limit_in_bytes", ""},
                   {"memory.kmem.tcp.limit_in_bytes", ""}});
  spec::Memory m;
  m.limit = 1 << 20;
  m.swap = 2 << 20;
  m.reservation = 512 << 10;
  m.swappiness = 0;
  m.disable_oom_killer = true;
  m.kernel = 4 << 20;
  m.kernel_tcp = -1;
  REQUIRE(cg::write_memory_v1(d.fd(), m));
  CHECK(d.written("memory.limit_in_bytes") == "1048576\n");
  CHECK(d.written("memory.memsw.limit_in_bytes") == "2097152\n");
  CHECK(d.written("memory.soft_limit_in_bytes") == "524288\n");
  CHECK(d.written("memory.swappiness") == "0\n");
  CHECK(d.written("memory.oom_control") == "1\n");
  CHECK(d.written("memory.kmem.limit_in_bytes") == "4194304\n");
  CHECK(d.written("memory.kmem.tcp.limit_in_bytes") == "-1\n");
}

TEST_CASE("cgroup v1 memory: zero means unset, disableOOMKiller=false writes nothing", "[cgroup]") {
  FakeCgroupDir d({{"memory.limit_in_bytes", ""}, {"memory.oom_control", ""}});
  spec::Memory m;
  m.limit = 0;
  m.disable_oom_killer = false;
  REQUIRE(cg::write_memory_v1(d.fd(), m));
  CHECK(d.written("memory.limit_in_bytes").empty());
  CHECK(d.written("memory.oom_control").empty());
}

TEST_CASE("cgroup v1 memory: swap without memsw accounting is Unsupported naming the field",
          "[cgroup]") {
  FakeCgroupDir d(cgtest::Files{{"memory.limit_in_bytes", ""}});
  spec::Memory m;
  m.limit = 1 << 20;
  m.swap = 2 << 20;
  auto r = cg::write_memory_v1(d.fd(), m);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::Unsupported);
  CHECK_THAT(r.error().message(), Catch::StartsWith("linux.resources.memory.swap:"));
}

TEST_CASE("cgroup v1 memory: a missing kmem file is Unsupported naming memory.kernel", "[cgroup]") {
  FakeCgroupDir d(cgtest::Files{});
  spec::Memory m;
  m.kernel = 1 << 20;
  auto r = cg::write_memory_v1(d.fd(), m);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::Unsupported);
  CHECK(
      r.error().message() ==
      "linux.resources.memory.kernel: memory.kmem.limit_in_bytes is not available in this cgroup");
}

TEST_CASE("cgroup v1 memory: checkBeforeUpdate refuses a limit below usage", "[cgroup]") {
  FakeCgroupDir d({{"memory.limit_in_bytes", ""}, {"memory.usage_in_bytes", "5000000\n"}});
  spec::Memory m;
  m.limit = 1 << 20;
  m.check_before_update = true;
  auto r = cg::write_memory_v1(d.fd(), m);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::Contains("below the current usage 5000000"));
  CHECK(d.written("memory.limit_in_bytes").empty());
}

TEST_CASE("cgroup v1 cpu: shares, cfs, burst, rt, idle", "[cgroup]") {
  FakeCgroupDir d({{"cpu.shares", ""},
                   {"cpu.cfs_quota_us", "-1\n"},
                   {"cpu.cfs_period_us", "100000\n"},
                   {"cpu.cfs_burst_us", ""},
                   {"cpu.rt_runtime_us", ""},
                   {"cpu.rt_period_us", ""},
                   {"cpu.idle", ""}});
  spec::Cpu c;
  c.shares = 512;
  c.quota = 50000;
  c.period = 100000;
  c.burst = 1000;
  c.realtime_runtime = 950;
  c.realtime_period = 1000;
  c.idle = 0;
  REQUIRE(cg::write_cpu_v1(d.fd(), c));
  CHECK(d.written("cpu.shares") == "512\n");
  CHECK(d.written("cpu.cfs_quota_us") == "50000\n");
  CHECK(d.written("cpu.cfs_period_us") == "100000\n");
  CHECK(d.written("cpu.cfs_burst_us") == "1000\n");
  CHECK(d.written("cpu.rt_runtime_us") == "950\n");
  CHECK(d.written("cpu.rt_period_us") == "1000\n");
  CHECK(d.written("cpu.idle") == "0\n");
}

TEST_CASE("cgroup v1 write plans: memsw before the limit only when it rises", "[cgroup]") {
  CHECK(cg::swap_before_limit_v1(64 << 20, 128 << 20));
  CHECK(cg::swap_before_limit_v1(64 << 20, -1));
  CHECK_FALSE(cg::swap_before_limit_v1(64 << 20, 32 << 20));
  CHECK_FALSE(cg::swap_before_limit_v1(64 << 20, 64 << 20));
}

TEST_CASE("cgroup v1 write plans: the CFS state between the two writes stays schedulable",
          "[cgroup]") {
  using P = cg::CfsPair;
  // 0.5 CPU both ways, halving the period: the quota first (25000/100000,
  // not 50000/50000 = 1 CPU, which a parent at 0.5 CPU refuses).
  CHECK(cg::quota_before_period_v1(P{50000, 100000}, P{25000, 50000}));
  // Doubling it: the period first (50000/200000, not 100000/100000).
  CHECK_FALSE(cg::quota_before_period_v1(P{50000, 100000}, P{100000, 200000}));
  // Unlimited fits under any parent: go through it.
  CHECK(cg::quota_before_period_v1(P{50000, 100000}, P{-1, 50000}));
  CHECK_FALSE(cg::quota_before_period_v1(P{-1, 100000}, P{25000, 50000}));
}

TEST_CASE("cgroup v1 memory: an unlimited limit alone lifts memsw first", "[cgroup]") {
  FakeCgroupDir d({{"memory.limit_in_bytes", ""}, {"memory.memsw.limit_in_bytes", "67108864\n"}});
  spec::Memory m;
  m.limit = -1;
  REQUIRE(cg::write_memory_v1(d.fd(), m));
  CHECK(d.written("memory.memsw.limit_in_bytes") == "-1\n");
  CHECK(d.written("memory.limit_in_bytes") == "-1\n");
}

TEST_CASE("cgroup v1 memory: a limit alone above memsw fails naming the field, writing nothing",
          "[cgroup]") {
  FakeCgroupDir d({{"memory.limit_in_bytes", ""}, {"memory.memsw.limit_in_bytes", "67108864\n"}});
  spec::Memory m;
  m.limit = 128 << 20;
  auto r = cg::write_memory_v1(d.fd(), m);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::StartsWith("linux.resources.memory.limit: 134217728"));
  CHECK(d.written("memory.limit_in_bytes").empty());
}

TEST_CASE("cgroup v1 cpu: negative quota is -1; idle without cpu.idle is Unsupported", "[cgroup]") {
  FakeCgroupDir d(cgtest::Files{{"cpu.cfs_quota_us", ""}});
  spec::Cpu c;
  c.quota = -5;
  REQUIRE(cg::write_cpu_v1(d.fd(), c));
  CHECK(d.written("cpu.cfs_quota_us") == "-1\n");
  c.idle = 1;
  auto r = cg::write_cpu_v1(d.fd(), c);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::Unsupported);
  CHECK_THAT(r.error().message(), Catch::StartsWith("linux.resources.cpu.idle: cpu.idle"));
}

TEST_CASE("cpuset and pids writers (shared by v1 and v2)", "[cgroup]") {
  FakeCgroupDir d({{"cpuset.cpus", ""}, {"cpuset.mems", ""}, {"pids.max", ""}});
  spec::Cpu c;
  c.cpus = "0-1";
  c.mems = "";
  REQUIRE(cg::write_cpuset(d.fd(), c));
  CHECK(d.written("cpuset.cpus") == "0-1\n");
  CHECK(d.written("cpuset.mems").empty());
  REQUIRE(cg::write_pids(d.fd(), spec::Pids{0}));
  REQUIRE(cg::write_pids(d.fd(), spec::Pids{-1}));
  REQUIRE(cg::write_pids(d.fd(), spec::Pids{42}));
  CHECK(d.written("pids.max") == "0\nmax\n42\n");
}

TEST_CASE("cgroup v1 blkio: BFQ weight files when blkio.weight is absent, throttles per device",
          "[cgroup]") {
  FakeCgroupDir d({{"blkio.bfq.weight", ""},
                   {"blkio.bfq.weight_device", ""},
                   {"blkio.throttle.read_bps_device", ""},
                   {"blkio.throttle.write_iops_device", ""}});
  spec::BlockIo b;
  b.weight = 300;
  b.weight_device.push_back({8, 0, 200, std::nullopt});
  b.throttle_read_bps_device = {{8, 0, 1048576}, {8, 16, 2048}};
  b.throttle_write_iops_device = {{253, 1, 100}};
  REQUIRE(cg::write_blkio_v1(d.fd(), b));
  CHECK(d.written("blkio.bfq.weight") == "300\n");
  CHECK(d.written("blkio.bfq.weight_device") == "8:0 200\n");
  CHECK(d.written("blkio.throttle.read_bps_device") == "8:0 1048576\n8:16 2048\n");
  CHECK(d.written("blkio.throttle.write_iops_device") == "253:1 100\n");
}

TEST_CASE("cgroup v1 blkio: CFQ weight preferred; leaf weight without file is Unsupported",
          "[cgroup]") {
  FakeCgroupDir d({{"blkio.weight", ""}, {"blkio.bfq.weight", ""}});
  spec::BlockIo b;
  b.weight = 500;
  REQUIRE(cg::write_blkio_v1(d.fd(), b));
  CHECK(d.written("blkio.weight") == "500\n");
  CHECK(d.written("blkio.bfq.weight").empty());
  b.leaf_weight = 100;
  auto r = cg::write_blkio_v1(d.fd(), b);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::Unsupported);
  CHECK_THAT(r.error().message(), Catch::StartsWith("linux.resources.blockIO.leafWeight:"));
}

TEST_CASE("hugetlb writers: v1 limit_in_bytes and v2 max, rsvd when present", "[cgroup]") {
  FakeCgroupDir d({{"hugetlb.2MB.limit_in_bytes", ""},
                   {"hugetlb.2MB.rsvd.limit_in_bytes", ""},
                   {"hugetlb.1GB.max", ""}});
  REQUIRE(cg::write_hugetlb_v1(d.fd(), {{"2MB", 4194304}}));
  CHECK(d.written("hugetlb.2MB.limit_in_bytes") == "4194304\n");
  CHECK(d.written("hugetlb.2MB.rsvd.limit_in_bytes") == "4194304\n");
  REQUIRE(cg::write_hugetlb_v2(d.fd(), {{"1GB", 0}}));
  CHECK(d.written("hugetlb.1GB.max") == "0\n");
  auto r = cg::write_hugetlb_v1(d.fd(), {{"2MB", 1}, {"64KB", 1}});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::Unsupported);
  CHECK_THAT(r.error().message(), Catch::StartsWith("linux.resources.hugepageLimits[1]:"));
}

TEST_CASE("cgroup v1 network: net_cls.classid and one ifpriomap line per interface", "[cgroup]") {
  FakeCgroupDir d({{"net_cls.classid", ""}, {"net_prio.ifpriomap", ""}});
  spec::Network n;
  n.class_id = 0x100001;
  n.priorities = {{"eth0", 5}, {"lo", 2}};
  REQUIRE(cg::write_net_cls_v1(d.fd(), n));
  REQUIRE(cg::write_net_prio_v1(d.fd(), n));
  CHECK(d.written("net_cls.classid") == "1048577\n");
  CHECK(d.written("net_prio.ifpriomap") == "eth0 5\nlo 2\n");
}

TEST_CASE("rdma.max: one line per device with the set limits", "[cgroup]") {
  FakeCgroupDir d(cgtest::Files{{"rdma.max", ""}});
  std::map<std::string, spec::Rdma> r;
  r["mlx5_0"] = {3, 1000};
  r["mlx4_0"] = {std::nullopt, 7};
  REQUIRE(cg::write_rdma(d.fd(), r));
  CHECK(d.written("rdma.max") == "mlx4_0 hca_object=7\nmlx5_0 hca_handle=3 hca_object=1000\n");
}

TEST_CASE("cgroup v1 devices: deny-all first, then rules in order", "[cgroup]") {
  FakeCgroupDir d({{"devices.allow", ""}, {"devices.deny", ""}});
  std::vector<spec::DeviceCgroup> in = {
      {false, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")},
      {true, std::string("c"), 1, 3, std::string("rwm")},
      {true, std::string("c"), 136, std::nullopt, std::nullopt},
      {false, std::string("c"), 1, 3, std::string("w")},
      {true, std::string("a"), std::nullopt, std::nullopt, std::string("m")},
  };
  auto rules = cg::normalize_device_rules(in);
  REQUIRE(rules);
  REQUIRE(cg::write_devices_v1(d.fd(), *rules));
  // The config's own deny-all is the reset: "a" is written once.
  CHECK(d.written("devices.deny") == "a\nc 1:3 w\n");
  CHECK(d.written("devices.allow") == "c 1:3 rwm\nc 136:* rwm\nc *:* m\nb *:* m\n");
}

TEST_CASE("cgroup v1 devices: the deny-all reset comes first when the rules lack it", "[cgroup]") {
  FakeCgroupDir d({{"devices.allow", ""}, {"devices.deny", ""}});
  // A narrowed type-a deny is two lines, not the reset.
  std::vector<spec::DeviceCgroup> in = {
      {false, std::nullopt, std::nullopt, std::nullopt, std::string("w")},
      {true, std::string("c"), 1, 3, std::string("rwm")},
      {false, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")},
  };
  auto rules = cg::normalize_device_rules(in);
  REQUIRE(rules);
  REQUIRE(cg::write_devices_v1(d.fd(), *rules));
  CHECK(d.written("devices.deny") == "a\nc *:* w\nb *:* w\na\n");
  CHECK(d.written("devices.allow") == "c 1:3 rwm\n");
}

TEST_CASE("cgroup v1 devices: a missing control file is Unsupported naming the field", "[cgroup]") {
  FakeCgroupDir d(cgtest::Files{{"devices.deny", ""}});
  std::vector<spec::DeviceCgroup> in = {
      {false, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")},
      {true, std::string("c"), 1, 3, std::string("rwm")},
  };
  auto rules = cg::normalize_device_rules(in);
  REQUIRE(rules);
  auto st = cg::write_devices_v1(d.fd(), *rules);
  REQUIRE_FALSE(st);
  CHECK(st.error().kind() == ErrorKind::Unsupported);
  CHECK(st.error().message() ==
        "linux.resources.devices[1]: devices.allow is not available in this cgroup");
  CHECK(d.written("devices.deny") == "a\n");
}

TEST_CASE("cgroup v1 devices: no rules writes nothing (update keeps device access)", "[cgroup]") {
  FakeCgroupDir d({{"devices.allow", ""}, {"devices.deny", ""}});
  REQUIRE(cg::write_devices_v1(d.fd(), {}));
  CHECK(d.written("devices.deny").empty());
}

TEST_CASE("cgroup v2 memory: max, low, swap.max = swap - limit", "[cgroup]") {
  FakeCgroupDir d({{"memory.max", ""}, {"memory.low", ""}, {"memory.swap.max", ""}});
  spec::Memory m;
  m.limit = 100 << 20;
  m.reservation = 50 << 20;
  m.swap = 300 << 20;
  REQUIRE(cg::write_memory_v2(d.fd(), m));
  CHECK(d.written("memory.max") == "104857600\n");
  CHECK(d.written("memory.low") == "52428800\n");
  CHECK(d.written("memory.swap.max") == "209715200\n");
}

TEST_CASE("cgroup v2 memory: unlimited limit also lifts swap; swap -1 is max", "[cgroup]") {
  FakeCgroupDir d({{"memory.max", ""}, {"memory.swap.max", ""}});
  spec::Memory m;
  m.limit = -1;
  REQUIRE(cg::write_memory_v2(d.fd(), m));
  m.limit = 1 << 20;
  m.swap = -1;
  REQUIRE(cg::write_memory_v2(d.fd(), m));
  CHECK(d.written("memory.max") == "max\n1048576\n");
  CHECK(d.written("memory.swap.max") == "max\nmax\n");
}

TEST_CASE("cgroup v2 cpu: weight from shares, cpu.max keeps the unset half", "[cgroup]") {
  FakeCgroupDir d({{"cpu.weight", ""}, {"cpu.max", "max 100000\n"}, {"cpu.max.burst", ""}});
  spec::Cpu c;
  c.shares = 1024;
  c.quota = 20000;
  c.burst = 500;
  REQUIRE(cg::write_cpu_v2(d.fd(), c));
  CHECK(d.written("cpu.weight") == "100\n");
  CHECK(d.written("cpu.max") == "20000 100000\n");
  CHECK(d.written("cpu.max.burst") == "500\n");
}

TEST_CASE("cgroup v2 io: io.weight scaled, io.max one line per throttle", "[cgroup]") {
  FakeCgroupDir d({{"io.weight", ""}, {"io.max", ""}});
  spec::BlockIo b;
  b.weight = 1000;
  b.weight_device.push_back({8, 0, 10, std::nullopt});
  b.throttle_read_bps_device = {{8, 0, 1000}};
  b.throttle_write_bps_device = {{8, 0, 2000}};
  b.throttle_read_iops_device = {{8, 0, 30}};
  b.throttle_write_iops_device = {{8, 0, 40}};
  REQUIRE(cg::write_io_v2(d.fd(), b));
  CHECK(d.written("io.weight") == "10000\n8:0 1\n");
  CHECK(d.written("io.max") == "8:0 rbps=1000\n8:0 wbps=2000\n8:0 riops=30\n8:0 wiops=40\n");
}

TEST_CASE("cgroup v2 io: BFQ weight takes the v1 range unscaled", "[cgroup]") {
  FakeCgroupDir d({{"io.bfq.weight", ""}, {"io.weight", ""}});
  spec::BlockIo b;
  b.weight = 500;
  REQUIRE(cg::write_io_v2(d.fd(), b));
  CHECK(d.written("io.bfq.weight") == "500\n");
  CHECK(d.written("io.weight").empty());
}

TEST_CASE("cgroup v2 unified: values verbatim; a missing file is Unsupported naming the key",
          "[cgroup]") {
  FakeCgroupDir d({{"memory.high", ""}, {"cgroup.max.depth", ""}});
  REQUIRE(cg::write_unified(d.fd(), {{"memory.high", "50000000"}, {"cgroup.max.depth", "3\n"}}));
  CHECK(d.written("memory.high") == "50000000");
  CHECK(d.written("cgroup.max.depth") == "3\n");
  auto r = cg::write_unified(d.fd(), {{"memory.oom.group", "1"}});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::Unsupported);
  CHECK_THAT(r.error().message(),
             Catch::StartsWith("linux.resources.unified[\"memory.oom.group\"]"));
}

TEST_CASE("unlimited swap without swap accounting is not an error (v1 and v2)", "[cgroup]") {
  FakeCgroupDir d(cgtest::Files{{"memory.limit_in_bytes", ""}, {"memory.max", ""}});
  spec::Memory m;
  m.limit = 1 << 20;
  m.swap = -1;
  REQUIRE(cg::write_memory_v1(d.fd(), m));
  REQUIRE(cg::write_memory_v2(d.fd(), m));
  CHECK(d.written("memory.limit_in_bytes") == "1048576\n");
  CHECK(d.written("memory.max") == "1048576\n");
  m.swap = 2 << 20;
  auto r = cg::write_memory_v2(d.fd(), m);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::Unsupported);
  CHECK_THAT(r.error().message(), Catch::StartsWith("linux.resources.memory.swap:"));
}
