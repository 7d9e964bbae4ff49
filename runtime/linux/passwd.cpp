#include "linux/passwd.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>

namespace husk::linux_setup {

std::optional<std::string_view> passwd_field(std::string_view line, uid_t uid, size_t index) {
  std::string_view field[7];
  size_t n = 0;
  while (n < 7) {
    size_t colon = n == 6 ? std::string_view::npos : line.find(':');
    field[n++] = line.substr(0, colon);
    if (colon == std::string_view::npos) break;
    line.remove_prefix(colon + 1);
  }
  if (index >= n || n < 3 || field[2].empty()) return std::nullopt;
  uid_t v = 0;
  const char* end = field[2].data() + field[2].size();
  auto [ptr, ec] = std::from_chars(field[2].data(), end, v);
  if (ec != std::errc() || ptr != end || v != uid) return std::nullopt;
  return field[index];
}

namespace {

// The first line's verdict: nullopt to go on, else whether `out` was filled.
std::optional<bool> home_of_line(std::string_view line, uid_t uid, char* out, size_t out_size) {
  auto home = passwd_field(line, uid, 5);
  if (!home) return std::nullopt;
  if (home->empty() || home->size() >= out_size) return false;
  std::memcpy(out, home->data(), home->size());
  out[home->size()] = '\0';
  return true;
}

}  // namespace

bool passwd_home(ReadFn read, void* ctx, uid_t uid, char* out, size_t out_size) {
  char buf[8192];
  size_t have = 0;
  bool skipping = false;  // inside a line longer than the buffer
  for (;;) {
    ssize_t n = read(ctx, buf + have, sizeof buf - 1 - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (have == 0 || skipping) return false;
      buf[have] = '\n';  // last line without a newline
      n = 1;
    }
    have += static_cast<size_t>(n);
    size_t start = 0;
    for (size_t i = 0; i < have; ++i) {
      if (buf[i] != '\n') continue;
      if (!skipping) {
        auto found = home_of_line(std::string_view(buf + start, i - start), uid, out, out_size);
        if (found) return *found;
      }
      skipping = false;
      start = i + 1;
    }
    if (start == 0 && have == sizeof buf - 1) {
      skipping = true;  // a line that does not fit: ignore it
      have = 0;
      continue;
    }
    std::memmove(buf, buf + start, have - start);
    have -= start;
  }
}

std::optional<std::string> passwd_name(std::string_view text, uid_t uid) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    auto name = passwd_field(text.substr(0, nl), uid, 0);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (name && !name->empty()) return std::string(*name);
  }
  return std::nullopt;
}

}  // namespace husk::linux_setup
