// Thin wrappers over the mount and *at(2) syscalls the rootfs code uses.
// Each returns Result, retries EINTR, and names the call and its arguments in
// the error. Needs Linux >= 5.12 (openat2 5.6, fsopen/open_tree/move_mount
// 5.2, mount_setattr 5.12).
#pragma once

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "sys/fd.hpp"

namespace husk::sys {

// ---- classic API ----
Status mount(const char* source, const char* target, const char* fstype, unsigned long flags,
             const char* data);
Status umount2(const char* target, int flags);
Status pivot_root(const char* new_root, const char* put_old);
Status chroot(const char* path);
Status fchdir(int fd);

// ---- new mount API (fd based: nothing is re-resolved by path) ----
Result<UniqueFd> open_tree(int dirfd, const char* path, unsigned flags);
Status move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path,
                  unsigned flags);
// Moves the detached/attached mount `from` onto the object `to` refers to.
Status move_mount_fd(int from, int to);
Status mount_setattr(int dirfd, const char* path, unsigned flags, const mount_attr& attr);
Result<UniqueFd> fsopen(const char* fstype);
// FSCONFIG_SET_FLAG when value is null, FSCONFIG_SET_STRING otherwise. On
// failure the kernel's fs_context log for `fsfd` is appended to the message.
Status fsconfig_set(int fsfd, const char* key, const char* value);
Status fsconfig_create(int fsfd);
Result<UniqueFd> fsmount(int fsfd, unsigned attr_flags);
// Drains the messages the kernel queued on an fs_context fd ("e ...", "w ...").
std::string fs_context_log(int fsfd);

// ---- *at(2) file operations ----
// openat2(2) with RESOLVE_* flags; O_CLOEXEC is always added.
Result<UniqueFd> openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode,
                         uint64_t resolve);
Result<UniqueFd> openat(int dirfd, const char* path, int flags, mode_t mode = 0);
Status mkdirat(int dirfd, const char* name, mode_t mode);
Status mknodat(int dirfd, const char* name, mode_t mode, dev_t dev);
Status symlinkat(const char* target, int dirfd, const char* name);
Status unlinkat(int dirfd, const char* name, int flags);
// readlinkat(fd, ""): the target of the symlink an O_PATH|O_NOFOLLOW fd holds.
Result<std::string> readlink_fd(int fd);
Result<struct stat> fstat(int fd);
Result<struct statfs> fstatfs(int fd);
// fchownat(fd, "", AT_EMPTY_PATH): works on O_PATH fds, never follows.
Status fchown_fd(int fd, uid_t uid, gid_t gid);
// chmod of exactly the inode `fd` holds (fchmodat2 AT_EMPTY_PATH, Linux 6.6;
// else /proc/self/fd/N, which names that inode rather than re-resolving).
Status fchmod_fd(int fd, mode_t mode);

// "/proc/self/fd/N": a path the kernel resolves to exactly what fd N holds.
std::string fd_path(int fd);

}  // namespace husk::sys
