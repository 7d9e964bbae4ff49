// The container's /etc/passwd, read as runc reads it without NSS: HOME for a
// process whose env has none, and the OWNER column of `list`. Pure: the
// callers open the file; these functions only see its bytes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace husk::linux_setup {

// Field `index` (0 name ... 5 home, 6 shell) of one /etc/passwd line
// ("name:password:uid:gid:gecos:home:shell") when its uid is `uid`. No
// allocation.
std::optional<std::string_view> passwd_field(std::string_view line, uid_t uid, size_t index);

// A source of bytes with read(2)'s contract: up to `len` bytes into `buf`,
// the count, 0 at the end, -1 with errno on error (EINTR is retried).
using ReadFn = ssize_t (*)(void* ctx, char* buf, size_t len);

// The home directory of the first line for `uid`, copied NUL-terminated into
// out[0, out_size). Reads through an 8 KiB stack buffer and never allocates:
// the container's init calls it between clone and exec. A line longer than
// the buffer (8190 bytes) is skipped. False when there is no such line, its
// home is empty or does not fit, or reading fails.
bool passwd_home(ReadFn read, void* ctx, uid_t uid, char* out, size_t out_size);

// The name of `uid` in a whole /etc/passwd; nullopt when it has none.
std::optional<std::string> passwd_name(std::string_view text, uid_t uid);

}  // namespace husk::linux_setup
