// The systemd driver's pure half: cgroupsPath "slice:prefix:name" -> unit,
// and spec resources -> unit properties (runtime/cgroup/systemd_unit.hpp).
#include <catch2/catch.hpp>

#include "cgroup/layout.hpp"
#include "cgroup/systemd_unit.hpp"

using husk::ErrorKind;
namespace cg = husk::cgroup;
namespace spec = husk::spec;

namespace {

const cg::PropertyValue* find(const std::vector<cg::UnitProperty>& props, const std::string& n) {
  for (const auto& p : props) {
    if (p.name == n) return &p.value;
  }
  return nullptr;
}

uint64_t u64(const std::vector<cg::UnitProperty>& props, const std::string& n) {
  const auto* v = find(props, n);
  REQUIRE(v != nullptr);
  REQUIRE(std::holds_alternative<uint64_t>(*v));
  return std::get<uint64_t>(*v);
}

std::vector<cg::UnitProperty> props_of(const spec::Resources& r, bool v2 = true) {
  cg::PropertyHost h;
  h.v2 = v2;
  h.char_majors = {{136, "pts"}, {5, "/dev/tty"}};
  auto p = cg::resource_properties(r, h);
  REQUIRE(p);
  return *p;
}

}  // namespace

TEST_CASE("systemd placement: slice:prefix:name and runc's defaults", "[cgroup][systemd]") {
  auto p = cg::place_unit("system.slice:husk:c3", "id", false);
  REQUIRE(p);
  CHECK(p->unit == "husk-c3.scope");
  CHECK(p->slice == "system.slice");
  CHECK(p->path == "/system.slice/husk-c3.scope");

  auto nested = cg::place_unit("machine-pods-p1.slice::c4", "id", false);
  REQUIRE(nested);
  CHECK(nested->unit == "c4.scope");
  CHECK(nested->path == "/machine.slice/machine-pods.slice/machine-pods-p1.slice/c4.scope");

  auto empty_slice = cg::place_unit(":husk:c5", "id", false);
  REQUIRE(empty_slice);
  CHECK(empty_slice->slice == "system.slice");
  auto rootless = cg::place_unit(":husk:c5", "id", true);
  REQUIRE(rootless);
  CHECK(rootless->slice == "user.slice");
  CHECK(rootless->path == "/user.slice/husk-c5.scope");

  auto dflt = cg::place_unit("", "abc", false);
  REQUIRE(dflt);
  CHECK(dflt->unit == "husk-abc.scope");
  CHECK(dflt->path == "/system.slice/husk-abc.scope");

  auto root_slice = cg::place_unit("-.slice:p:n", "id", false);
  REQUIRE(root_slice);
  CHECK(root_slice->path == "/p-n.scope");
}

TEST_CASE("systemd placement: a name ending in .slice is a pod's slice", "[cgroup][systemd]") {
  auto pod = cg::place_unit("machine.slice:husk:machine-pod1.slice", "id", false);
  REQUIRE(pod);
  CHECK(pod->is_slice());
  CHECK(pod->unit == "machine-pod1.slice");
  CHECK(pod->path == "/machine.slice/machine-pod1.slice");
  auto implied = cg::place_unit("::pod2.slice", "id", false);
  REQUIRE(implied);
  CHECK(implied->path == "/pod2.slice");
  // A slice given with it that is not its parent by name.
  auto wrong = cg::place_unit("system.slice::machine-pod1.slice", "id", false);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind() == ErrorKind::InvalidSpec);
}

TEST_CASE("systemd placement: bad cgroupsPath is an error naming it", "[cgroup][systemd]") {
  for (const char* bad : {"/husk/c1", "a:b", "a:b:c:d", "system:husk:c1", "a--b.slice:p:n",
                          "-a.slice:p:n", "a/b.slice:p:n", "system.slice:husk:", "s.slice:p:a/b"}) {
    INFO(bad);
    auto p = cg::place_unit(bad, "id", false);
    REQUIRE_FALSE(p);
    CHECK(p.error().kind() == ErrorKind::InvalidSpec);
    CHECK_THAT(p.error().message(), Catch::Contains("linux.cgroupsPath"));
  }
  auto fmt = cg::place_unit("/husk/c1", "id", false);
  REQUIRE_FALSE(fmt);
  CHECK_THAT(fmt.error().message(),
             Catch::Contains("expected cgroupsPath to be of format \"slice:prefix:name\""));
}

TEST_CASE("systemd properties: memory, cpu, pids and io", "[cgroup][systemd]") {
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 64 << 20;
  r.memory->reservation = 32 << 20;
  r.memory->swap = 96 << 20;
  r.cpu = spec::Cpu{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0-2,9";
  r.cpu->mems = "0";
  r.pids = spec::Pids{42};
  r.block_io = spec::BlockIo{};
  r.block_io->weight = 500;
  r.block_io->weight_device.push_back({8, 0, 100, std::nullopt});
  auto p = props_of(r);
  CHECK(u64(p, "MemoryMax") == 64 << 20);
  CHECK(u64(p, "MemoryLow") == 32 << 20);
  CHECK(u64(p, "MemorySwapMax") == 32 << 20);  // memory+swap minus memory
  CHECK(u64(p, "CPUWeight") == 100);           // shares 1024 -> weight 100
  CHECK(u64(p, "CPUQuotaPerSecUSec") == 500000);
  CHECK(u64(p, "CPUQuotaPeriodUSec") == 100000);
  CHECK(u64(p, "TasksMax") == 42);
  CHECK(u64(p, "IOWeight") == 1 + (500 - 10) * 9999 / 990);
  CHECK(std::get<std::vector<uint8_t>>(*find(p, "AllowedCPUs")) ==
        std::vector<uint8_t>{0x07, 0x02});
  CHECK(std::get<std::vector<uint8_t>>(*find(p, "AllowedMemoryNodes")) ==
        std::vector<uint8_t>{0x01});
  using Weights = std::vector<std::pair<std::string, uint64_t>>;
  CHECK(std::get<Weights>(*find(p, "IODeviceWeight")) ==
        Weights{{"/dev/block/8:0", 1 + (100 - 10) * 9999 / 990}});
}

TEST_CASE("systemd properties: unlimited values and quota rounding", "[cgroup][systemd]") {
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = -1;
  r.memory->swap = -1;
  r.cpu = spec::Cpu{};
  r.cpu->quota = 33333;  // 33.333% of a CPU: systemd counts in 1% steps, rounded up
  r.pids = spec::Pids{-1};
  auto p = props_of(r);
  CHECK(u64(p, "MemoryMax") == cg::kInfinity);
  CHECK(u64(p, "TasksMax") == cg::kInfinity);
  CHECK(u64(p, "CPUQuotaPerSecUSec") == 340000);
  CHECK(find(p, "CPUQuotaPeriodUSec") == nullptr);
  r.cpu->quota = -1;
  CHECK(u64(props_of(r), "CPUQuotaPerSecUSec") == cg::kInfinity);
  // Nothing set: no property (systemd keeps its defaults).
  CHECK(props_of(spec::Resources{}).empty());
}

TEST_CASE("systemd properties: cgroup v1 names", "[cgroup][systemd]") {
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 1 << 20;
  r.cpu = spec::Cpu{};
  r.cpu->shares = 512;
  r.cpu->cpus = "0";
  r.block_io = spec::BlockIo{};
  r.block_io->weight = 300;
  auto p = props_of(r, false);
  CHECK(u64(p, "MemoryLimit") == 1 << 20);
  CHECK(u64(p, "CPUShares") == 512);
  CHECK(u64(p, "BlockIOWeight") == 300);
  CHECK(find(p, "MemoryMax") == nullptr);
  CHECK(find(p, "AllowedCPUs") == nullptr);  // systemd has no v1 cpuset
}

TEST_CASE("systemd properties: device rules as an allow list", "[cgroup][systemd]") {
  spec::Resources r;
  auto rule = [](bool allow, std::string type, std::optional<int64_t> major,
                 std::optional<int64_t> minor, std::string access) {
    spec::DeviceCgroup d;
    d.allow = allow;
    d.type = std::move(type);
    d.major = major;
    d.minor = minor;
    d.access = std::move(access);
    return d;
  };
  r.devices = {
      rule(false, "a", std::nullopt, std::nullopt, "rwm"), rule(true, "c", 1, 3, "rw"),
      rule(true, "c", 136, std::nullopt, "rwm"),           rule(true, "c", 200, std::nullopt, "r"),
      rule(true, "b", std::nullopt, std::nullopt, "m"),    rule(true, "c", 1, 3, "rw")};
  auto p = props_of(r);
  CHECK(std::get<std::string>(*find(p, "DevicePolicy")) == "strict");
  using Allow = std::vector<std::pair<std::string, std::string>>;
  CHECK(std::get<Allow>(*find(p, "DeviceAllow")) ==
        Allow{{"/dev/char/1:3", "rw"}, {"char-pts", "rwm"}, {"char-*", "r"}, {"block-*", "m"}});
}

TEST_CASE("systemd: /proc/devices and the record naming the unit", "[cgroup][systemd]") {
  cg::PropertyHost h;
  cg::parse_proc_devices("Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n", h);
  CHECK(h.char_majors.at(136) == "pts");
  CHECK(h.block_majors.at(8) == "sd");
  CHECK(h.char_majors.count(8) == 0);

  cg::Layout l;
  l.path = "/system.slice/husk-c3.scope";
  l.hierarchies.push_back({"/sys/fs/cgroup", {}, true, 0});
  l.systemd_unit = "husk-c3.scope";
  auto back = cg::parse_layout(cg::serialize_layout(l));
  REQUIRE(back);
  CHECK(back->systemd_unit == "husk-c3.scope");
  l.systemd_unit.clear();
  CHECK(cg::serialize_layout(l).find("systemdUnit") == std::string::npos);
}

TEST_CASE("systemd unit properties: scope and slice", "[cgroup][systemd]") {
  auto scope = cg::place_unit("system.slice:husk:c3", "c3", false);
  REQUIRE(scope);
  auto p = cg::unit_properties(*scope, "c3", 1234, cg::PropertyHost{});
  CHECK(std::get<std::string>(*find(p, "Slice")) == "system.slice");
  CHECK(std::get<bool>(*find(p, "Delegate")));
  CHECK_FALSE(std::get<bool>(*find(p, "DefaultDependencies")));
  CHECK(std::get<std::vector<uint32_t>>(*find(p, "PIDs")) == std::vector<uint32_t>{1234});
  auto slice = cg::place_unit("::pod.slice", "p", false);
  REQUIRE(slice);
  auto sp = cg::unit_properties(*slice, "p", 1234, cg::PropertyHost{});
  CHECK(find(sp, "PIDs") == nullptr);
  CHECK(find(sp, "Slice") == nullptr);
  CHECK(find(sp, "Delegate") == nullptr);  // systemd delegates scopes and services only
}
