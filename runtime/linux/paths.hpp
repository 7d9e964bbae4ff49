// Path resolution inside a container rootfs that is treated as hostile: its
// symlinks (absolute or with "..") resolve as if the rootfs were "/", magic
// links (/proc/<pid>/fd/*, /proc/<pid>/root) are never followed, and nothing
// is ever created outside it (CVE-2021-30465, CVE-2024-45310). Every result
// is an O_PATH fd, so a later mount targets exactly the inode checked.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sys/fd.hpp"

namespace husk::linux_setup {

// Lexical cleanup of a container path: "/", no "." / ".." / empty components
// (".." at the top stays at "/"), relative paths taken relative to "/".
std::string clean_path(std::string_view path);
// The same cleanup for a path taken below some directory: no leading "/"
// ("" is the directory itself); none when a ".." climbs above it.
std::optional<std::string> clean_below(std::string_view path);
// The components of a cleaned path ("/a/b" -> {"a", "b"}; "/" -> {}).
std::vector<std::string> split_path(std::string_view clean);

struct InRootOpen {
  int flags = 0;            // extra open flags besides O_PATH|O_CLOEXEC (e.g. O_DIRECTORY)
  bool follow_last = true;  // false: a final symlink is opened itself (O_NOFOLLOW)
};

// openat2(root, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
// NotFound-style errors keep errno (ENOENT, ENOTDIR) for callers that skip
// missing paths.
Result<sys::UniqueFd> open_in_root(int rootfd, std::string_view path, InRootOpen how = {});

enum class CreateAs { Dir, File };

// mkdir -p inside the root: walks one component at a time with openat under
// the current directory fd, expands symlinks itself (at most 40, as the
// kernel's ELOOP limit) with absolute targets restarting at the root and ".."
// never going above it, and creates what is missing (directories 0755, a
// final file 0644 when `last` is File). Returns an O_PATH fd of the result,
// and its fstat in *st when st is not null (the walker has it already).
Result<sys::UniqueFd> mkdir_in_root(int rootfd, std::string_view path, CreateAs last,
                                    struct stat* st = nullptr);

// The parent directory of `path` (created like mkdir_in_root) and the final
// name, for operations that must not follow the final component (mknodat,
// symlinkat). path must not be "/".
struct ParentAndName {
  sys::UniqueFd dir;
  std::string name;
};
Result<ParentAndName> open_parent_in_root(int rootfd, std::string_view path);

}  // namespace husk::linux_setup
