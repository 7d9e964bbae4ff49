#include "lifecycle/exec_cgroup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "base/strings.hpp"
#include "cgroup/layout.hpp"
#include "linux/paths.hpp"
#include "sys/fd.hpp"

namespace husk::lifecycle {

namespace {

// The sub-cgroup is taken lexically, as a path below the container's cgroup
// ("a/../b" is "b", "/a" is "a"): the kernel would resolve ".." in the
// cgroupfs path to a cgroup outside the container's, so a path whose cleaned
// form climbs out is refused, with runc's wording.
Result<std::string> sub_path(const std::string& value, std::string_view path) {
  auto below = linux_setup::clean_below(path);
  if (!below) return Error::arg("--cgroup {:?}: {} is not a sub cgroup path", value, path);
  std::string clean = *std::move(below);
  if (clean.find("process_api") != std::string::npos) {
    return Error::arg("--cgroup: {:?}: refusing a path naming process_api", value);
  }
  return clean;
}

}  // namespace

Result<std::map<std::string, std::string>> parse_sub_cgroups(
    const std::vector<std::string>& values) {
  std::map<std::string, std::string> out;
  for (const auto& v : values) {
    size_t colon = v.find(':');
    if (colon != std::string::npos && v.find(':', colon + 1) != std::string::npos) {
      return Error::arg("invalid --cgroup argument: {}", v);
    }
    if (colon == std::string::npos) {
      if (values.size() != 1) {
        return Error::arg("invalid --cgroup argument: {} (missing <controller>: prefix)", v);
      }
      out[""] = TRY(sub_path(v, v));
      continue;
    }
    std::string path = TRY(sub_path(v, std::string_view(v).substr(colon + 1)));
    for (auto c : split(std::string_view(v).substr(0, colon), ',')) {
      if (c.empty()) return Error::arg("invalid --cgroup argument: {} (empty controller)", v);
      out[std::string(c)] = path;
    }
  }
  return out;
}

Result<std::vector<std::string>> sub_cgroup_dirs(const state::ContainerState& st,
                                                 const std::vector<std::string>& values) {
  std::vector<std::string> dirs;
  if (values.empty()) return dirs;
  auto subs = TRY(parse_sub_cgroups(values));
  if (st.cgroup.empty()) return Error::arg("--cgroup: the container has no cgroup");
  auto layout = TRY_CTX(cgroup::parse_layout(st.cgroup), "cgroup of container {}", st.id);
  std::set<std::string> used;
  for (const auto& h : layout.hierarchies) {
    const std::string* sub = nullptr;
    if (!h.unified) {
      for (const auto& c : h.controllers) {
        auto it = subs.find(c);
        if (it != subs.end()) {
          sub = &it->second;
          used.insert(c);
        }
      }
    }
    if (sub == nullptr) {
      auto it = subs.find("");
      if (it != subs.end()) sub = &it->second;
    }
    if (sub == nullptr) continue;
    std::string dir = sub->empty() ? layout.dir(h) : layout.dir(h) + "/" + *sub;
    struct stat s {};
    if (::stat(dir.c_str(), &s) != 0 || !S_ISDIR(s.st_mode)) {
      return Error::last("--cgroup: sub-cgroup {:?} of the container: {}", *sub, dir);
    }
    dirs.push_back(dir);
  }
  for (const auto& [ctrl, path] : subs) {
    if (!ctrl.empty() && used.count(ctrl) == 0) {
      return Error::arg(
          "--cgroup: unknown controller {} (the container has no such cgroup v1 "
          "hierarchy)",
          ctrl);
    }
  }
  return dirs;
}

Status join_sub_cgroups(const std::vector<std::string>& dirs, pid_t pid) {
  std::string text = std::to_string(pid);
  for (const auto& d : dirs) {
    std::string procs = d + "/cgroup.procs";
    sys::UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return Error::last("add pid {} to {}", pid, procs).wrap("--cgroup");
    }
  }
  return {};
}

}  // namespace husk::lifecycle
