#include "cgroup/fs.hpp"
#include "cgroup/writers.hpp"

namespace husk::cgroup {

Status write_cpuset(int dirfd, const spec::Cpu& c) {
  // An empty cpuset.cpus/mems leaves no CPU or node to run on; "" = unset.
  if (c.cpus && !c.cpus->empty()) {
    TRY(fs::write_field(dirfd, "cpuset.cpus", *c.cpus, "linux.resources.cpu.cpus"));
  }
  if (c.mems && !c.mems->empty()) {
    TRY(fs::write_field(dirfd, "cpuset.mems", *c.mems, "linux.resources.cpu.mems"));
  }
  return {};
}

Status write_pids(int dirfd, const spec::Pids& p) {
  std::string v = p.limit < 0 ? "max" : std::to_string(p.limit);
  return fs::write_field(dirfd, "pids.max", v, "linux.resources.pids.limit");
}

Status write_rdma(int dirfd, const std::map<std::string, spec::Rdma>& rdma) {
  for (const auto& [dev, lim] : rdma) {
    std::string line = dev;
    if (lim.hca_handles) line += fmt::format(" hca_handle={}", *lim.hca_handles);
    if (lim.hca_objects) line += fmt::format(" hca_object={}", *lim.hca_objects);
    if (line == dev) continue;
    TRY(fs::write_field(dirfd, "rdma.max", line, fmt::format("linux.resources.rdma.{}", dev)));
  }
  return {};
}

}  // namespace husk::cgroup
