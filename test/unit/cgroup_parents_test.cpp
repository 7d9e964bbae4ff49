// What a container's cgroup says about the directories it made (the record
// lifecycle keeps of husk-made parent cgroups).
#include <catch2/catch.hpp>

#include "cgroup/cgroup.hpp"
#include "cgroup/layout.hpp"

namespace cg = husk::cgroup;

TEST_CASE("cgroup parents: leaf dirs and the parents create made, per hierarchy", "[cgroup]") {
  cg::Layout l;
  l.driver = cg::Driver::V1;
  l.root = "/sys/fs/cgroup";
  l.path = "/a/b/c";
  l.hierarchies.push_back({"/sys/fs/cgroup/memory", {"memory"}, false, 3});
  l.hierarchies.push_back({"/sys/fs/cgroup/pids", {"pids"}, false, 1});
  l.hierarchies.push_back({"/sys/fs/cgroup/cpu", {"cpu"}, false, 0});
  auto m = cg::Manager::load(cg::serialize_layout(l));
  REQUIRE(m);
  CHECK((*m)->leaf_dirs() == std::vector<std::string>{"/sys/fs/cgroup/memory/a/b/c",
                                                      "/sys/fs/cgroup/pids/a/b/c",
                                                      "/sys/fs/cgroup/cpu/a/b/c"});
  // memory: made c, b and a (a and b are parents); pids: only the leaf; cpu: nothing.
  CHECK((*m)->created_parents() ==
        std::vector<std::string>{"/sys/fs/cgroup/memory/a/b", "/sys/fs/cgroup/memory/a"});
}
