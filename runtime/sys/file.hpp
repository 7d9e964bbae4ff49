// Reading a whole file into memory: configs, records, control files, /proc;
// and the one-request write those control files take.
#pragma once

#include <fcntl.h>

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace husk::sys {

struct ReadAll {
  // pread(2) from offset 0: the fd's own offset is left where it is (an fd
  // shared with writers, or one holding record locks).
  bool from_start = false;
  // A regular file reads short only at its end (read(2)): stop there, without
  // a last read to hear end-of-file. Not for /proc, pipes or sockets.
  bool short_read_is_end = false;
};

// Everything `fd` holds, read straight into the string (no big stack buffer:
// a 64 KiB one made its caller's frame that large, and the stack-clash probes
// touched, so faulted in, every page of it). EINTR is retried. Errors are
// "read <name>".
Result<std::string> read_all(int fd, std::string_view name, ReadAll how = {});

// open(2) of `path` relative to `dirfd` (AT_FDCWD: the cwd) read-only and
// close-on-exec with `flags` added (O_NOFOLLOW, ...), then read_all. Errors
// are "open <name>" / "read <name>", name being `path` when empty.
Result<std::string> read_file(int dirfd, const char* path, int flags = 0,
                              std::string_view name = {}, ReadAll how = {});
inline Result<std::string> read_file(const std::string& path) {
  return read_file(AT_FDCWD, path.c_str());
}

// One write(2) of all of `data` to `fd` (EINTR retried): a /proc or sysfs
// control file takes each write as one request, so a short write is an error
// (EIO), never continued. Errors are "write <name>", with the kernel's errno.
Status write_once(int fd, std::string_view name, std::string_view data);

}  // namespace husk::sys
