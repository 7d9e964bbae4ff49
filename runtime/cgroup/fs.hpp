// File access inside cgroup directories, always relative to a directory fd.
// cgroupfs control files take one "command" per write(2): each call below is
// exactly one write, so multi-rule files (devices.allow, io.max) get one rule
// per call. Files are opened O_APPEND without O_CREAT: cgroupfs ignores the
// offset, a plain directory (unit tests) accumulates every write, and a
// missing file means the controller or feature is absent.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sys/fd.hpp"

namespace husk::cgroup::fs {

// Directory fds: O_RDONLY|O_DIRECTORY|O_CLOEXEC (open_dir_at also O_NOFOLLOW).
Result<sys::UniqueFd> open_dir(const std::string& path);
Result<sys::UniqueFd> open_dir_at(int dirfd, const std::string& name);

[[nodiscard]] bool exists_at(int dirfd, const std::string& name);

// One write(2) of `data` to dirfd/name. ENOENT => ErrorKind::NotFound.
Status write_at(int dirfd, const std::string& name, std::string_view data);
// A control file opened for writing once, for several commands (one
// write_fd each), e.g. one device rule after another. ENOENT => NotFound.
Result<sys::UniqueFd> open_control(int dirfd, const std::string& name);
// One write(2) of `data` to an open control file; `name` is for messages.
Status write_fd(int fd, const std::string& name, std::string_view data);
// write_at of `data` + "\n" for a config field (cgroup files strip one
// trailing newline; a plain file in a test then holds one write per line).
// A missing file is ErrorKind::Unsupported; every error is prefixed with the
// JSON path of the field.
Status write_field(int dirfd, const std::string& name, std::string_view data,
                   std::string_view field);
// write_field's error wording for a write through write_fd / open_control.
Status field_status(Status st, const std::string& name, std::string_view field);

// Whole file, trailing newline removed. ENOENT => ErrorKind::NotFound.
Result<std::string> read_at(int dirfd, const std::string& name);
// A control file holding one short word (freezer.state): one open by path
// and one read. Its single-record seq_file hands over all of it at once,
// so the read that would return 0 is skipped. Trailing blanks trimmed.
Result<std::string> read_word(const std::string& path);

// The names in a directory (not "." or ".."): its subdirectories, or
// everything else (the files of a cgroup). Reads dirfd itself from offset 0
// (so a cgroup's long-lived directory fd can be listed again and again).
enum class EntryKind { Dirs, Files };
Result<std::vector<std::string>> entries(int dirfd, EntryKind kind);
Result<std::vector<std::string>> subdirs(int dirfd);

// Space/newline separated tokens ("cpu io memory" -> {cpu, io, memory}).
std::vector<std::string> split_words(std::string_view s);

}  // namespace husk::cgroup::fs
