// FsManager::leaf_dirs / created_parents / removed_parents: what lifecycle's registry of
// husk-made parent cgroups needs to know about one container.
#include "cgroup/manager_impl.hpp"

namespace husk::cgroup {

std::vector<std::string> FsManager::leaf_dirs() const {
  std::vector<std::string> out;
  for (const auto& h : l_.hierarchies) out.push_back(l_.dir(h));
  return out;
}

std::vector<std::string> FsManager::created_parents() const {
  std::vector<std::string> out;
  for (const auto& h : l_.hierarchies) {
    std::string dir = l_.dir(h);
    // created counts the leaf too: levels 1 .. created-1 above it are parents.
    for (int k = 1; k < h.created; ++k) {
      dir.resize(dir.rfind('/'));
      out.push_back(dir);
    }
  }
  return out;
}

std::vector<std::string> FsManager::removed_parents() const { return removed_parents_; }

}  // namespace husk::cgroup
