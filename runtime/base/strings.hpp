// Splitting text into fields and paths into components: the one place for
// both (mountinfo, /proc/<pid>/cgroup, option lists, cgroup and rootfs paths).
#pragma once

#include <string_view>
#include <vector>

namespace husk {

// Every field between separators, empty ones included: "a,,b" -> {"a", "",
// "b"}, "" -> {""}, "a\n" -> {"a", ""}.
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t end = s.find(sep);
    out.push_back(s.substr(0, end));
    if (end == std::string_view::npos) return out;
    s.remove_prefix(end + 1);
  }
}

// The components of a path as written, without the empty ones: "/a//./b/"
// -> {"a", ".", "b"}; "." and ".." are kept for the caller to interpret.
inline std::vector<std::string_view> path_components(std::string_view path) {
  std::vector<std::string_view> out;
  for (auto c : split(path, '/')) {
    if (!c.empty()) out.push_back(c);
  }
  return out;
}

}  // namespace husk
