// The container's /etc/passwd as husk reads it: passwd_home (the init's
// streaming reader with a fixed 8 KiB buffer, fed here in read sizes chosen
// by the input) must agree with a plain scan of the whole text, lines longer
// than its buffer aside; passwd_name (list's OWNER) must not crash. The uids
// looked up are 0, 1000, 65534 and the one of the first line.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "linux/passwd.hpp"

namespace {

constexpr size_t kMaxLine = 8190;  // passwd_home's buffer less the newline

struct Source {
  std::string_view rest;
  uint32_t seed;
  static ssize_t read(void* ctx, char* buf, size_t len) {
    auto* s = static_cast<Source*>(ctx);
    s->seed = s->seed * 1103515245 + 12345;
    size_t n = std::min({len, s->rest.size(), size_t{1} + (s->seed >> 16) % 4096});
    std::memcpy(buf, s->rest.data(), n);
    s->rest.remove_prefix(n);
    return static_cast<ssize_t>(n);
  }
};

std::optional<std::string> reference_home(std::string_view text, uid_t uid, size_t out_size) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.size() > kMaxLine) continue;
    auto home = husk::linux_setup::passwd_field(line, uid, 5);
    if (!home) continue;
    if (home->empty() || home->size() >= out_size) return std::nullopt;
    return std::string(home->substr(0, home->find('\0')));
  }
  return std::nullopt;
}

void check(std::string_view text, uid_t uid) {
  constexpr size_t kOut = 256;
  char out[kOut];
  Source src{text, uid ^ static_cast<uint32_t>(text.size())};
  bool found = husk::linux_setup::passwd_home(Source::read, &src, uid, out, kOut);
  auto want = reference_home(text, uid, kOut);
  if (found != want.has_value() || (found && *want != out)) std::abort();
  (void)husk::linux_setup::passwd_name(text, uid);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (uid_t uid : {0U, 1000U, 65534U}) check(text, uid);
  // The first line's uid field (the third).
  std::string_view field = text.substr(0, text.find('\n'));
  for (int i = 0; i < 2; ++i) {
    size_t colon = field.find(':');
    field.remove_prefix(colon == std::string_view::npos ? field.size() : colon + 1);
  }
  field = field.substr(0, field.find(':'));
  uid_t uid = 0;
  if (std::from_chars(field.data(), field.data() + field.size(), uid).ec == std::errc()) {
    check(text, uid);
  }
  return 0;
}
