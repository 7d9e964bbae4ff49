#include "linux/mountinfo.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "sys/fd.hpp"

namespace husk::linux_setup {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) j = s.size();
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// The kernel escapes space, tab, newline and backslash as \ooo (show_path).
std::string unescape(std::string_view s) {
  auto oct = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += s[i];
  }
  return out;
}

bool parse_mountinfo_line(std::string_view line, MountInfoEntry& e) {
  auto f = split(line, ' ');
  auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
  if (f.size() < 10 || dash == f.end() || dash - f.begin() < 6 || f.end() - dash < 4) return false;
  e.root = unescape(f[3]);
  e.mount_point = unescape(f[4]);
  e.fstype = std::string(dash[1]);
  e.source = unescape(dash[2]);
  e.super_options = std::string(dash[3]);
  return true;
}

}  // namespace

std::vector<MountInfoEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountInfoEntry> out;
  for (auto line : split(text, '\n')) {
    MountInfoEntry e;
    if (!line.empty() && parse_mountinfo_line(line, e)) out.push_back(std::move(e));
  }
  return out;
}

std::vector<CgroupEntry> parse_proc_cgroup(std::string_view text) {
  std::vector<CgroupEntry> out;
  for (auto line : split(text, '\n')) {
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    CgroupEntry e;
    auto id = line.substr(0, a);
    auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), e.id);
    if (ec != std::errc() || p != id.data() + id.size()) continue;
    e.controllers = std::string(line.substr(a + 1, b - a - 1));
    e.path = std::string(line.substr(b + 1));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> split_controllers(std::string_view list) {
  std::vector<std::string> out;
  for (auto c : split(list, ',')) {
    if (!c.empty()) out.emplace_back(c);
  }
  return out;
}

bool cgroup_mount_matches(const CgroupEntry& cg, const MountInfoEntry& mi) {
  if (cg.v2()) return mi.fstype == "cgroup2";
  if (mi.fstype != "cgroup" || cg.controllers.empty()) return false;
  auto opts = split_controllers(mi.super_options);
  for (const auto& c : split_controllers(cg.controllers)) {
    if (std::find(opts.begin(), opts.end(), c) == opts.end()) return false;
  }
  return true;
}

Result<std::string> cgroup_host_path(const CgroupEntry& cg, const MountInfoEntry& mi) {
  if (cg.path.empty() || cg.path[0] != '/' || cg.path.find("/..") != std::string::npos) {
    return Error::sys(EINVAL, "cgroup path \"{}\" is not below the cgroup namespace root", cg.path);
  }
  std::string rest;
  if (mi.root == "/") {
    rest = cg.path;
  } else if (cg.path == mi.root || cg.path.rfind(mi.root + "/", 0) == 0) {
    rest = cg.path.substr(mi.root.size());
  } else {
    return Error::sys(ENOENT, "cgroup {} is not visible under {} (root {})", cg.path,
                      mi.mount_point, mi.root);
  }
  if (rest == "/") rest.clear();
  return mi.mount_point + rest;
}

Result<std::string> read_small_file(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::last("open {}", path);
  sys::UniqueFd f(fd);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::last("read {}", path);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace husk::linux_setup
