// cgroup statistics readers (events --stats) against fixture files laid out
// as cgroupfs shows them, for both cgroup versions.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <limits>

#include "cgroup/stats.hpp"
#include "cgroup_test_util.hpp"
#include "lifecycle/events.hpp"

using cgtest::FakeCgroupDir;
namespace cg = husk::cgroup;

TEST_CASE("cgroup v1 cpuacct: usage, percpu, kernel/user from usage_all and stat ticks",
          "[cgroup][stats]") {
  FakeCgroupDir d(
      cgtest::Files{{"cpuacct.usage", "3000\n"},
                    {"cpuacct.usage_percpu", "1000 2000 \n"},
                    {"cpuacct.usage_all", "cpu user system\n0 600 400\n1 1500 500\n"},
                    {"cpuacct.stat", "user 7\nsystem 3\n"},
                    {"cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 5555\n"}});
  cg::CpuStats c;
  REQUIRE(cg::read_cpuacct_v1(d.fd(), c));
  REQUIRE(cg::read_cpu_stat(d.fd(), c));
  uint64_t tick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  CHECK(c.total == 3000);
  CHECK(c.percpu == std::vector<uint64_t>{1000, 2000});
  CHECK(c.percpu_user == std::vector<uint64_t>{600, 1500});
  CHECK(c.percpu_kernel == std::vector<uint64_t>{400, 500});
  CHECK(c.user == 7 * tick);
  CHECK(c.kernel == 3 * tick);
  CHECK(c.periods == 10);
  CHECK(c.throttled_periods == 2);
  CHECK(c.throttled_time == 5555);
}

TEST_CASE("cgroup v1 cpuacct: percpu_sys/user files when usage_all is absent", "[cgroup][stats]") {
  FakeCgroupDir d(
      cgtest::Files{{"cpuacct.usage_percpu_sys", "1 2\n"}, {"cpuacct.usage_percpu_user", "3 4\n"}});
  cg::CpuStats c;
  REQUIRE(cg::read_cpuacct_v1(d.fd(), c));
  CHECK(c.percpu_kernel == std::vector<uint64_t>{1, 2});
  CHECK(c.percpu_user == std::vector<uint64_t>{3, 4});
  CHECK(c.total == 0);
}

TEST_CASE("cgroup v2 cpu.stat: usage in microseconds becomes nanoseconds", "[cgroup][stats]") {
  FakeCgroupDir d(cgtest::Files{{"cpu.stat",
                                 "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\n"
                                 "nr_throttled 1\nthrottled_usec 20\n"}});
  cg::CpuStats c;
  REQUIRE(cg::read_cpu_stat(d.fd(), c));
  CHECK(c.total == 1500000);
  CHECK(c.user == 1000000);
  CHECK(c.kernel == 500000);
  CHECK(c.periods == 4);
  CHECK(c.throttled_periods == 1);
  CHECK(c.throttled_time == 20000);
  CHECK(c.percpu.empty());
}

TEST_CASE("cgroup v1 memory: usage, memsw as swap, kmem, raw stat and cache", "[cgroup][stats]") {
  FakeCgroupDir d(cgtest::Files{{"memory.stat", "cache 4096\nrss 8192\ntotal_cache 4096\n"},
                                {"memory.usage_in_bytes", "12288\n"},
                                {"memory.max_usage_in_bytes", "20480\n"},
                                {"memory.failcnt", "3\n"},
                                {"memory.limit_in_bytes", "67108864\n"},
                                {"memory.memsw.usage_in_bytes", "12288\n"},
                                {"memory.memsw.limit_in_bytes", "134217728\n"},
                                {"memory.memsw.failcnt", "0\n"},
                                {"memory.memsw.max_usage_in_bytes", "20480\n"}});
  cg::MemoryStats m;
  REQUIRE(cg::read_memory_v1(d.fd(), m));
  CHECK(m.cache == 4096);
  CHECK(m.raw.at("rss") == 8192);
  CHECK(m.usage.usage == 12288);
  CHECK(m.usage.max == 20480);
  CHECK(m.usage.failcnt == 3);
  CHECK(m.usage.limit == 67108864);
  CHECK(m.swap.limit == 134217728);
  CHECK(m.swap.usage == 12288);
  // No kmem files (kernel >= 6.x): zeros, not an error.
  CHECK(m.kernel.usage == 0);
  CHECK(m.kernel_tcp.limit == 0);
}

TEST_CASE("cgroup v2 memory: current/max/peak, swap reported as memory+swap like v1",
          "[cgroup][stats]") {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  SECTION("limits set") {
    FakeCgroupDir d(cgtest::Files{{"memory.stat", "anon 100\nfile 200\n"},
                                  {"memory.current", "1000\n"},
                                  {"memory.max", "4000\n"},
                                  {"memory.peak", "1500\n"},
                                  {"memory.events", "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n"},
                                  {"memory.swap.current", "50\n"},
                                  {"memory.swap.max", "6000\n"}});
    cg::MemoryStats m;
    REQUIRE(cg::read_memory_v2(d.fd(), m));
    CHECK(m.cache == 200);
    CHECK(m.raw.at("anon") == 100);
    CHECK(m.usage.usage == 1000);
    CHECK(m.usage.limit == 4000);
    CHECK(m.usage.max == 1500);
    CHECK(m.usage.failcnt == 7);
    CHECK(m.swap.usage == 1050);
    CHECK(m.swap.limit == 10000);
    auto oom = cg::read_oom_kill_count(d.fd());
    REQUIRE(oom);
    CHECK(*oom == 1);
  }
  SECTION("no limits: max stays max") {
    FakeCgroupDir d(cgtest::Files{{"memory.current", "1000\n"},
                                  {"memory.max", "max\n"},
                                  {"memory.swap.current", "0\n"},
                                  {"memory.swap.max", "max\n"}});
    cg::MemoryStats m;
    REQUIRE(cg::read_memory_v2(d.fd(), m));
    CHECK(m.usage.limit == kMax);
    CHECK(m.swap.limit == kMax);
    CHECK(m.swap.usage == 1000);
  }
}

TEST_CASE("cgroup pids: current and limit, max reported as 0", "[cgroup][stats]") {
  FakeCgroupDir a(cgtest::Files{{"pids.current", "3\n"}, {"pids.max", "max\n"}});
  FakeCgroupDir b(cgtest::Files{{"pids.current", "5\n"}, {"pids.max", "64\n"}});
  cg::PidsStats pa, pb;
  REQUIRE(cg::read_pids(a.fd(), pa));
  REQUIRE(cg::read_pids(b.fd(), pb));
  CHECK(pa.current == 3);
  CHECK(pa.limit == 0);
  CHECK(pb.current == 5);
  CHECK(pb.limit == 64);
}

TEST_CASE("cgroup v1 blkio: throttle counters when CFQ files are empty, Total dropped",
          "[cgroup][stats]") {
  FakeCgroupDir d(
      cgtest::Files{{"blkio.io_service_bytes_recursive", "Total 0\n"},
                    {"blkio.throttle.io_service_bytes_recursive",
                     "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total "
                     "12288\nTotal 12288\n"},
                    {"blkio.throttle.io_serviced_recursive", "8:16 Read 2\nTotal 2\n"},
                    {"blkio.sectors_recursive", "8:0 24\n"}});
  cg::BlkioStats b;
  REQUIRE(cg::read_blkio_v1(d.fd(), b));
  REQUIRE(b.service_bytes.size() == 5);
  CHECK(b.service_bytes[0] == cg::BlkioEntry{8, 0, "Read", 4096});
  CHECK(b.service_bytes[4] == cg::BlkioEntry{8, 0, "Total", 12288});
  REQUIRE(b.serviced.size() == 1);
  CHECK(b.serviced[0] == cg::BlkioEntry{8, 16, "Read", 2});
  REQUIRE(b.sectors.size() == 1);
  CHECK(b.sectors[0] == cg::BlkioEntry{8, 0, "", 24});
  CHECK(b.queued.empty());
}

TEST_CASE("cgroup v2 io.stat: bytes and ios per device as Read/Write", "[cgroup][stats]") {
  FakeCgroupDir d(cgtest::Files{{"io.stat",
                                 "8:0 rbytes=4096 wbytes=512 rios=1 wios=2 dbytes=0 dios=0\n"
                                 "253:1 rbytes=10 wbytes=0 rios=3 wios=0 dbytes=0 dios=0\n"}});
  cg::BlkioStats b;
  REQUIRE(cg::read_io_v2(d.fd(), b));
  REQUIRE(b.service_bytes.size() == 4);
  CHECK(b.service_bytes[0] == cg::BlkioEntry{8, 0, "Read", 4096});
  CHECK(b.service_bytes[1] == cg::BlkioEntry{8, 0, "Write", 512});
  CHECK(b.service_bytes[2] == cg::BlkioEntry{253, 1, "Read", 10});
  REQUIRE(b.serviced.size() == 4);
  CHECK(b.serviced[1] == cg::BlkioEntry{8, 0, "Write", 2});
}

TEST_CASE("cgroup hugetlb: page sizes found from the files, v1 and v2", "[cgroup][stats]") {
  FakeCgroupDir v1(cgtest::Files{{"hugetlb.2MB.limit_in_bytes", "max\n"},
                                 {"hugetlb.2MB.usage_in_bytes", "2097152\n"},
                                 {"hugetlb.2MB.max_usage_in_bytes", "4194304\n"},
                                 {"hugetlb.2MB.failcnt", "1\n"},
                                 {"hugetlb.2MB.rsvd.limit_in_bytes", "max\n"},
                                 {"hugetlb.1GB.limit_in_bytes", "0\n"}});
  std::map<std::string, cg::HugetlbStats> a;
  REQUIRE(cg::read_hugetlb_v1(v1.fd(), a));
  REQUIRE(a.size() == 2);
  CHECK(a.at("2MB").usage == 2097152);
  CHECK(a.at("2MB").max == 4194304);
  CHECK(a.at("2MB").failcnt == 1);
  CHECK(a.at("1GB").usage == 0);

  FakeCgroupDir v2(cgtest::Files{{"hugetlb.2MB.max", "max\n"},
                                 {"hugetlb.2MB.current", "2097152\n"},
                                 {"hugetlb.2MB.events", "max 4\n"},
                                 {"hugetlb.2MB.rsvd.max", "max\n"}});
  std::map<std::string, cg::HugetlbStats> b;
  REQUIRE(cg::read_hugetlb_v2(v2.fd(), b));
  REQUIRE(b.size() == 1);
  CHECK(b.at("2MB").usage == 2097152);
  CHECK(b.at("2MB").failcnt == 4);
}

TEST_CASE("cgroup stats: a malformed counter is an error naming the file", "[cgroup][stats]") {
  FakeCgroupDir d(cgtest::Files{{"pids.current", "lots\n"}});
  cg::PidsStats p;
  auto st = cg::read_pids(d.fd(), p);
  REQUIRE_FALSE(st);
  CHECK_THAT(st.error().message(), Catch::Contains("pids.current"));
}

TEST_CASE("cgroup cpuset lists: ranges and singles", "[cgroup][stats]") {
  auto l = cg::parse_cpu_list("0-2,5\n");
  REQUIRE(l);
  CHECK(*l == std::vector<uint16_t>{0, 1, 2, 5});
  CHECK_FALSE(cg::parse_cpu_list("3-1"));
  CHECK_FALSE(cg::parse_cpu_list("x"));
  FakeCgroupDir d(cgtest::Files{{"cpuset.cpus.effective", "0-1\n"}, {"cpuset.mems", "0\n"}});
  cg::Stats s;
  REQUIRE(cg::read_cpuset(d.fd(), s));
  CHECK(s.cpuset_cpus == std::vector<uint16_t>{0, 1});
  CHECK(s.cpuset_mems == std::vector<uint16_t>{0});
}

TEST_CASE("cgroup cpuset v1 flags, the relax level signed", "[cgroup][stats]") {
  FakeCgroupDir d(cgtest::Files{{"cpuset.cpus", "0\n"},
                                {"cpuset.sched_load_balance", "1\n"},
                                {"cpuset.mem_hardwall", "1\n"},
                                {"cpuset.sched_relax_domain_level", "-1\n"}});
  cg::Stats s;
  REQUIRE(cg::read_cpuset(d.fd(), s));
  CHECK(s.cpuset_flags.sched_load_balance == 1);
  CHECK(s.cpuset_flags.mem_hardwall == 1);
  CHECK(s.cpuset_flags.cpu_exclusive == 0);
  CHECK(s.cpuset_flags.sched_relax_domain_level == -1);
  FakeCgroupDir bad(cgtest::Files{{"cpuset.sched_relax_domain_level", "low\n"}});
  CHECK_FALSE(cg::read_cpuset(bad.fd(), s));
}

TEST_CASE("events JSON: runc's field names and omitempty rules", "[events]") {
  cg::Stats s;
  s.cpu.total = 10;
  s.cpu.percpu = {4, 6};
  s.memory.usage.limit = 100;
  s.memory.raw["rss"] = 1;
  s.pids.current = 2;
  s.blkio.service_bytes.push_back({8, 0, "Read", 5});
  s.hugetlb["2MB"] = {};
  std::string j = husk::lifecycle::stats_event_json("c1", s);
  CHECK(j.rfind(R"({"type":"stats","id":"c1","data":{"cpu":{"usage":{"total":10,)", 0) == 0);
  CHECK_THAT(j, Catch::Contains(R"("percpu":[4,6],"kernel":0,"user":0},"throttling":{}})"));
  CHECK_THAT(j, Catch::Contains(R"("memory":{"usage":{"limit":100,"failcnt":0},)"));
  CHECK_THAT(j, Catch::Contains(R"("raw":{"rss":1})"));
  CHECK_THAT(j, Catch::Contains(R"("pids":{"current":2})"));
  CHECK_THAT(j, Catch::Contains(
                    R"("blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":5}]})"));
  CHECK_THAT(j, Catch::Contains(
                    R"("cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,)"
                    R"("memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,)"
                    R"("memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0})"));
  CHECK_THAT(j, Catch::Contains(R"("hugetlb":{"2MB":{"failcnt":0}},)"
                                R"("intel_rdt":{},"network_interfaces":null}})"));
  CHECK(husk::lifecycle::oom_event_json("c1") == R"({"type":"oom","id":"c1"})");
}

TEST_CASE("events --interval: Go duration strings", "[events]") {
  using std::chrono::nanoseconds;
  auto p = [](const char* s) { return husk::lifecycle::parse_go_duration(s); };
  CHECK(*p("5s") == nanoseconds(5000000000));
  CHECK(*p("100ms") == nanoseconds(100000000));
  CHECK(*p("1m30s") == nanoseconds(90000000000));
  CHECK(*p("1.5h") == nanoseconds(5400000000000));
  CHECK(*p("250us") == nanoseconds(250000));
  CHECK(*p("0") == nanoseconds(0));
  CHECK(*p("-1s") == nanoseconds(-1000000000));
  CHECK_FALSE(p("5"));
  CHECK_FALSE(p("s"));
  CHECK_FALSE(p("5x"));
  CHECK_FALSE(p(""));
  CHECK_FALSE(p("1..2s"));
}
