// Which configs a rootless container may run without a cgroup of its own.
#include <catch2/catch.hpp>

#include "cgroup/manager_impl.hpp"

namespace cg = husk::cgroup;
namespace spec = husk::spec;

namespace {

std::string refusal(const spec::Resources& r) {
  auto s = cg::require_no_limits(r, "/sys/fs/cgroup/memory is not writable");
  return s ? std::string() : s.error().message();
}

}  // namespace

TEST_CASE("a rootless config without a cgroup may ask for no limit", "[rootless]") {
  spec::Resources r;
  CHECK(refusal(r).empty());
  // Unset values (0 means unset for these, as for runc) ask for nothing.
  r.memory = spec::Memory{};
  r.memory->limit = 0;
  r.cpu = spec::Cpu{};
  r.cpu->shares = 0;
  CHECK(refusal(r).empty());
  // Deny-all then allow rules: nothing a user namespace does not enforce.
  r.devices = {{false, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")},
               {true, std::string("c"), 1, 3, std::string("rwm")}};
  CHECK(refusal(r).empty());

  r.memory->limit = 64 << 20;
  CHECK_THAT(refusal(r), Catch::StartsWith("linux.resources.memory.limit: cannot be applied"));
  CHECK_THAT(refusal(r), Catch::Contains("/sys/fs/cgroup/memory is not writable"));
  r.memory->limit = 0;
  r.pids = spec::Pids{};
  CHECK_THAT(refusal(r), Catch::StartsWith("linux.resources.pids.limit"));
  r.pids.reset();
  r.devices.push_back({false, std::string("c"), 1, 3, std::string("w")});
  CHECK_THAT(refusal(r), Catch::StartsWith("linux.resources.devices[2]"));
  r.devices.clear();
  r.unified = {{"memory.max", "1M"}};
  CHECK_THAT(refusal(r), Catch::StartsWith("linux.resources.unified[\"memory.max\"]"));
}
