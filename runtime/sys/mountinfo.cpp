#include "sys/mountinfo.hpp"

#include <algorithm>

#include "base/strings.hpp"

namespace husk::sys {

namespace {

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

// Six fixed fields, optional ones up to a lone "-", then fstype, source and
// the superblock options.
bool parse_line(std::string_view line, MountInfoEntry& e) {
  auto f = split(line, ' ');
  auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
  if (f.size() < 10 || dash == f.end() || dash - f.begin() < 6 || f.end() - dash < 4) return false;
  e.dev = std::string(f[2]);
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
    if (!line.empty() && parse_line(line, e)) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace husk::sys
