// StateStore owns husk's state directory: <root>/<id>/ per container, holding
//   state.json   the ContainerState (replaced atomically: tmp + rename; not
//                fsynced, see store.cpp)
//   config.json  a copy of the bundle's config (delete/poststop need no
//                bundle), written once by create
//   exec.fifo    exists from create until start ("created"); `run` makes none
//   .lock        the per-container lock file
// Nothing else in husk touches these paths; everything goes through a dirfd.
//
// Locking: every verb that changes a container (create, start, delete, pause,
// resume, update) holds an exclusive lock for its duration. Readers (state,
// list, ps, kill) take no lock: state.json only ever changes by rename(2), so a
// reader sees the old or the new record, never a torn one.
// The lock is a POSIX record lock (fcntl F_SETLKW), not flock(2): flock and OFD
// locks belong to the open file description, which the init child inherits
// when cloned, so a blocked-on-exec.fifo init would hold create's lock until
// `start`. POSIX locks belong to the process (fcntl(2) "Record locks are not
// inherited by a child created via fork(2)") and die with it. Consequences:
// at most one ContainerDir per container per process may hold the lock, and
// nothing else in the process may open .lock (closing any fd on the file
// drops the process's locks on it); locked_by_other() reads /proc/locks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "state/container_state.hpp"
#include "sys/fd.hpp"

namespace husk::state {

// --root if given, else /run/husk for euid 0, else $XDG_RUNTIME_DIR/husk
// (falling back to /run/husk when XDG_RUNTIME_DIR is unset or empty).
std::string default_root();

// runc's rule: [A-Za-z0-9_+.-]+, at most NAME_MAX bytes; and no leading '.'
// (".", "..", and the root's own .seccomp-cache and the like).
// Error (InvalidArgument): "invalid id format: X"; empty: "container id cannot be empty".
husk::Status validate_id(std::string_view id);

inline constexpr const char* kStateFile = "state.json";
inline constexpr const char* kConfigFile = "config.json";
inline constexpr const char* kFifoFile = "exec.fifo";
inline constexpr const char* kLockFile = ".lock";

class ContainerDir {
 public:
  ContainerDir(std::string id, std::string path, sys::UniqueFd dir, sys::UniqueFd root);

  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] const std::string& path() const { return path_; }  // <root>/<id>
  [[nodiscard]] int fd() const { return dir_.get(); }

  // Exclusive lock, blocking. Fails with NotFound if the directory was
  // removed while we waited (a concurrent delete won).
  husk::Status lock();
  [[nodiscard]] bool locked() const { return lock_.valid(); }
  void unlock() { lock_.reset(); }
  // Whether another process holds the lock right now (a create in progress).
  [[nodiscard]] Result<bool> locked_by_other() const;

  husk::Status write_state(const ContainerState& st);
  // NotFound when there is no state.json (create died before writing one).
  [[nodiscard]] Result<ContainerState> read_state() const;
  husk::Status save_config(std::string_view bytes);
  [[nodiscard]] Result<std::string> read_config() const;

  [[nodiscard]] std::string fifo_path() const;
  [[nodiscard]] Result<bool> fifo_exists() const;
  husk::Status make_fifo();  // mkfifo 0622 (EEXIST is an error)
  // open(2) of the fifo with the given flags (+O_CLOEXEC).
  [[nodiscard]] Result<sys::UniqueFd> open_fifo(int flags) const;
  husk::Status unlink_fifo();  // ENOENT is fine

  // uid owning the directory (list's OWNER column).
  [[nodiscard]] Result<uid_t> owner_uid() const;

  // Remove everything under the directory, then the directory itself. The
  // lock (if held) is released last.
  husk::Status remove();

 private:
  std::string id_;
  std::string path_;
  sys::UniqueFd dir_;
  sys::UniqueFd root_;
  sys::UniqueFd lock_;
};

class StateStore {
 public:
  // mkdir -p root (0700) and open it. An unusable root is an error naming it.
  static Result<StateStore> open(const std::string& root);

  [[nodiscard]] const std::string& root() const { return root_; }
  [[nodiscard]] int fd() const { return fd_.get(); }

  // mkdir <root>/<id> 0700 and take its lock.
  // AlreadyExists: "container with id exists: ID".
  Result<ContainerDir> create_container(std::string_view id) const;
  // NotFound: `container "ID" does not exist`.
  [[nodiscard]] Result<ContainerDir> open_container(std::string_view id) const;
  // Ids of every directory under root (sorted), whether or not it holds a state.json.
  [[nodiscard]] Result<std::vector<std::string>> list() const;

 private:
  StateStore(std::string root, sys::UniqueFd fd) : root_(std::move(root)), fd_(std::move(fd)) {}
  std::string root_;
  sys::UniqueFd fd_;
};

// Whether /proc/locks (content given) shows a lock on device:inode held by
// anyone but process `self` (exposed for tests).
bool lock_held_by_other(std::string_view proc_locks, unsigned dev_major, unsigned dev_minor,
                        uint64_t ino, pid_t self);

// Error helpers with runc's wording (used by lifecycle as well).
Error not_exist_error(std::string_view id);

}  // namespace husk::state
