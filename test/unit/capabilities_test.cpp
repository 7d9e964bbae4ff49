// Capability names (libcap's table) and the plan's rules: unknown names,
// capabilities newer than the kernel, capabilities husk itself lacks.
#include "linux/capabilities.hpp"

#include <linux/capability.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "linux/process.hpp"
#include "test_util.hpp"

using husk::ErrorKind;
using namespace husk::linux_setup;
namespace spec = husk::spec;

namespace {

constexpr uint64_t bit(int c) { return uint64_t{1} << c; }

// A host whose kernel's last capability is `last_cap` and whose bounding set
// holds all of them but `missing`.
CapabilityLimits limits(int last_cap = 40, std::initializer_list<int> missing = {}) {
  CapabilityLimits l{last_cap, bit(last_cap + 1) - 1};
  for (int c : missing) l.bounding &= ~bit(c);
  return l;
}

CapabilityPlan must_resolve(const spec::Capabilities& c, const CapabilityLimits& l,
                            std::vector<std::string>& warnings) {
  auto r = resolve_capabilities(c, l, warnings);
  if (!r) FAIL(r.error().message());
  return std::move(r).value();
}

husk::Error resolve_error(const spec::Capabilities& c, const CapabilityLimits& l) {
  std::vector<std::string> warnings;
  auto r = resolve_capabilities(c, l, warnings);
  REQUIRE_FALSE(r);
  return r.error();
}

using husk::test::any_warning_contains;

bool in_set(const CapabilityPlan& p, cap_flag_t flag, int cap) {
  cap_flag_value_t v = CAP_CLEAR;
  REQUIRE(cap_get_flag(p.sets.get(), cap, flag, &v) == 0);
  return v == CAP_SET;
}

}  // namespace

TEST_CASE("capability names resolve through libcap to the kernel's numbers") {
  CHECK(capability_from_name("CAP_CHOWN") == CAP_CHOWN);
  CHECK(capability_from_name("CAP_NET_BIND_SERVICE") == CAP_NET_BIND_SERVICE);
  CHECK(capability_from_name("CAP_SYS_ADMIN") == CAP_SYS_ADMIN);
  CHECK(capability_from_name("CAP_AUDIT_READ") == CAP_AUDIT_READ);
  CHECK(capability_from_name("CAP_PERFMON") == CAP_PERFMON);
  CHECK(capability_from_name("CAP_BPF") == CAP_BPF);
  CHECK(capability_from_name("CAP_CHECKPOINT_RESTORE") == CAP_CHECKPOINT_RESTORE);
  // cap_from_name itself accepts each of these; config.json's spelling is exact.
  for (std::string_view bad : {"cap_chown", "Cap_Chown", "CHOWN", "chown", "12", "0x3",
                               "CAP_CHOWN+ep", "CAP_CHOWN,CAP_KILL", "CAP_CHOWN ", " CAP_CHOWN",
                               "CAP_TEST", "CAP_FUTURE", "CAP_12", "", "all"}) {
    INFO(bad);
    CHECK_FALSE(capability_from_name(bad));
  }
  CHECK_FALSE(capability_from_name(std::string_view("CAP_KILL\0x", 10)));
}

TEST_CASE("capability numbers render as libcap's names") {
  CHECK(capability_name(0) == "CAP_CHOWN");
  CHECK(capability_name(CAP_NET_RAW) == "CAP_NET_RAW");
  CHECK(capability_name(55) == "CAP_55");
}

TEST_CASE("known_capability_names: libcap's table, in number order") {
  const auto all = known_capability_names();
  // libcap 2.66 (Debian 12) names 0..40, CAP_CHECKPOINT_RESTORE last.
  REQUIRE(all.size() >= 41);
  CHECK(all.front() == "CAP_CHOWN");
  CHECK(all[CAP_CHECKPOINT_RESTORE] == "CAP_CHECKPOINT_RESTORE");
  for (size_t i = 0; i < all.size(); ++i) {
    INFO(i);
    CHECK(all[i].starts_with("CAP_"));
    CHECK(capability_from_name(all[i]) == static_cast<int>(i));
  }
}

TEST_CASE("read_capability_limits: the running kernel and husk's own bounding set") {
  auto r = read_capability_limits();
  REQUIRE(r);
  // Every 5.9+ kernel knows CAP_CHECKPOINT_RESTORE (40).
  CHECK(r->last_cap >= 40);
  CHECK(r->last_cap < 64);
  std::ifstream status("/proc/self/status");
  std::string line;
  uint64_t cap_bnd = 0;
  while (std::getline(status, line)) {
    if (line.starts_with("CapBnd:")) cap_bnd = std::stoull(line.substr(7), nullptr, 16);
  }
  CHECK(r->bounding == cap_bnd);
}

TEST_CASE("capabilities: names become bits and a libcap state") {
  spec::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.effective = {"CAP_CHOWN", "CAP_KILL"};
  c.inheritable = {"CAP_KILL"};
  c.ambient = {"CAP_KILL"};
  std::vector<std::string> warnings;
  auto plan = must_resolve(c, limits(), warnings);
  CHECK(plan.bounding == (bit(0) | bit(5) | bit(10)));
  CHECK(plan.permitted == (bit(0) | bit(5) | bit(10)));
  CHECK(plan.effective == (bit(0) | bit(5)));
  CHECK(plan.inheritable == bit(5));
  CHECK(plan.ambient == bit(5));
  CHECK(plan.last_cap == 40);
  CHECK(warnings.empty());
  REQUIRE(plan.sets);
  CHECK(in_set(plan, CAP_EFFECTIVE, CAP_CHOWN));
  CHECK_FALSE(in_set(plan, CAP_EFFECTIVE, CAP_NET_BIND_SERVICE));
  CHECK(in_set(plan, CAP_PERMITTED, CAP_NET_BIND_SERVICE));
  CHECK(in_set(plan, CAP_INHERITABLE, CAP_KILL));
  CHECK_FALSE(in_set(plan, CAP_INHERITABLE, CAP_CHOWN));
}

TEST_CASE("capabilities: a name that is no capability is an error naming the field") {
  // runtime-tools' process_capabilities_fail: create must fail for CAP_TEST.
  spec::Capabilities c;
  c.bounding = {"CAP_KILL", "CAP_TEST"};
  auto e = resolve_error(c, limits());
  CHECK(e.kind() == ErrorKind::InvalidSpec);
  CHECK(e.message() == "process.capabilities.bounding: unknown capability \"CAP_TEST\"");
  spec::Capabilities lower;
  lower.ambient = {"cap_kill"};
  CHECK(resolve_error(lower, limits()).message() ==
        "process.capabilities.ambient: unknown capability \"cap_kill\"");
}

TEST_CASE("capabilities newer than the kernel are dropped with a warning") {
  spec::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};
  c.permitted = {"CAP_CHOWN", "CAP_BPF"};
  std::vector<std::string> warnings;
  // Pretend to run on a kernel whose last capability is CAP_PERFMON (38),
  // with a bounding set holding everything it has.
  auto plan = must_resolve(c, limits(38), warnings);
  CHECK(plan.bounding == bit(0));
  CHECK(plan.permitted == bit(0));
  CHECK(plan.last_cap == 38);
  REQUIRE(warnings.size() == 3);
  CHECK(warnings[0] ==
        "process.capabilities.bounding: ignoring CAP_BPF, not supported by this kernel (its last "
        "capability is CAP_PERFMON)");
  CHECK(any_warning_contains(warnings, "bounding: ignoring CAP_CHECKPOINT_RESTORE"));
  CHECK(any_warning_contains(warnings, "permitted: ignoring CAP_BPF"));
}

TEST_CASE("capabilities husk itself lacks are an error naming the capability and the set") {
  // As this sandbox: CAP_SYS_RESOURCE missing from the bounding set.
  const auto host = limits(40, {CAP_SYS_RESOURCE});
  spec::Capabilities c;
  c.bounding = {"CAP_CHOWN"};
  c.permitted = {"CAP_CHOWN", "CAP_SYS_RESOURCE"};
  auto e = resolve_error(c, host);
  CHECK(e.kind() == ErrorKind::InvalidSpec);
  CHECK(e.message() ==
        "process.capabilities.permitted: CAP_SYS_RESOURCE cannot be granted: it is not in "
        "husk's own bounding set");
  // In the bounding set too: no set can hold what husk's bounding set lacks.
  spec::Capabilities bounding_only;
  bounding_only.bounding = {"CAP_SYS_RESOURCE"};
  CHECK(resolve_error(bounding_only, host)
            .message()
            .starts_with("process.capabilities.bounding: CAP_SYS_RESOURCE cannot be granted"));
  // Everything else is fine.
  spec::Capabilities rest;
  rest.bounding = rest.permitted = rest.effective = {"CAP_CHOWN", "CAP_SYS_ADMIN"};
  std::vector<std::string> warnings;
  CHECK(must_resolve(rest, host, warnings).permitted == (bit(CAP_CHOWN) | bit(CAP_SYS_ADMIN)));
  CHECK(warnings.empty());
}

TEST_CASE("a capability newer than the kernel is a warning even outside the bounding set") {
  // The kernel has no CAP_BPF, so neither does any bounding set: the
  // newer-kernel rule applies, not the lacking-capability one.
  spec::Capabilities c;
  c.permitted = {"CAP_BPF"};
  std::vector<std::string> warnings;
  auto plan = must_resolve(c, limits(38), warnings);
  CHECK(plan.permitted == 0);
  CHECK(warnings.size() == 1);
}

TEST_CASE("capabilities the kernel would refuse are dropped with a warning") {
  spec::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_KILL"};
  c.permitted = {"CAP_CHOWN"};
  c.effective = {"CAP_CHOWN", "CAP_KILL"};         // KILL not permitted
  c.inheritable = {"CAP_CHOWN", "CAP_SYS_ADMIN"};  // SYS_ADMIN not in bounding
  c.ambient = {"CAP_CHOWN", "CAP_KILL"};           // KILL neither permitted nor inheritable
  std::vector<std::string> warnings;
  auto plan = must_resolve(c, limits(), warnings);
  CHECK(plan.effective == bit(0));
  CHECK(plan.inheritable == bit(0));
  CHECK(plan.ambient == bit(0));
  CHECK(warnings.size() == 3);
  CHECK(any_warning_contains(warnings, "effective: ignoring CAP_KILL"));
  CHECK(any_warning_contains(warnings, "inheritable: ignoring CAP_SYS_ADMIN"));
  CHECK(any_warning_contains(warnings, "ambient: ignoring CAP_KILL"));
  CHECK_FALSE(in_set(plan, CAP_EFFECTIVE, CAP_KILL));
  CHECK_FALSE(in_set(plan, CAP_INHERITABLE, CAP_SYS_ADMIN));
}

TEST_CASE("absent capabilities mean five empty sets") {
  std::vector<std::string> warnings;
  auto r = resolve_capabilities(std::nullopt, limits(), warnings);
  REQUIRE(r);
  CHECK(r->bounding == 0);
  CHECK(r->permitted == 0);
  CHECK(r->effective == 0);
  CHECK(r->inheritable == 0);
  CHECK(r->ambient == 0);
  REQUIRE(r->sets);  // capset still writes three empty sets
  for (cap_flag_t f : {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE}) {
    CHECK_FALSE(in_set(*r, f, CAP_CHOWN));
  }
  CHECK(warnings.empty());
}

TEST_CASE("plan_process refuses an unknown capability before anything is done") {
  spec::Process p;
  p.args = {"true"};
  p.cwd = "/";
  p.capabilities = spec::Capabilities{};
  p.capabilities->effective = {"CAP_TEST"};
  auto r = plan_process(p, ProcessOptions{});
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "process.capabilities.effective: unknown capability \"CAP_TEST\"");
}
