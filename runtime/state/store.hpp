// StateStore owns husk's state directory: <root>/<id>/ per container, holding
//   config.json  a copy of the bundle's config (delete/poststop need no
//                bundle), written once by create; also the container's lock
//   state.json   the ContainerState, written once by create as soon as the
//                init is in its cgroups (lifecycle/create.cpp, persist_record;
//                tmp + rename; not fsynced, see store.cpp); replaced the same
//                way on the rare later change
//   exec.fifo    exists from create until start ("created"); `run` makes none
// Nothing else in husk touches these paths; everything goes through a dirfd.
// Each inode costs a journal update on a disk-backed root (and a discard when
// freed), so there are no others: no lock file, no interim record.
//
// Locking: every verb that changes a container (create, start, delete, pause,
// resume, update) holds an exclusive lock on byte 0 of config.json for its
// duration. create also holds byte 1 until it is done: that is how `state`
// tells "creating" from "created" without a second record. Readers (state,
// list, ps, kill) take no lock: state.json only ever changes by rename(2), so a
// reader sees the old or the new record, never a torn one.
// The locks are POSIX record locks (fcntl F_SETLKW), not flock(2): flock and
// OFD locks belong to the open file description, which the init child inherits
// when cloned, so a blocked-on-exec.fifo init would hold create's lock until
// `start`. POSIX locks belong to the process (fcntl(2) "Record locks are not
// inherited by a child created via fork(2)") and die with it. But closing ANY
// fd on the file drops every lock the process holds on it: so the fd holding
// the locks is registered process-wide, and a ContainerDir of a container this
// process has locked (through another ContainerDir) reads through that fd
// instead of opening the file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "state/container_state.hpp"
#include "sys/fd.hpp"

namespace husk::state {

// The --root default: linux_setup::default_state_root (linux/rootless.hpp).
std::string default_root();

// runc's rule: [A-Za-z0-9_+.-]+, at most NAME_MAX bytes; and no leading '.'
// (".", "..", and the root's own .seccomp-cache and the like).
// Error (InvalidArgument): "invalid id format: X"; empty: "container id cannot be empty".
husk::Status validate_id(std::string_view id);

inline constexpr const char* kStateFile = "state.json";
inline constexpr const char* kConfigFile = "config.json";
inline constexpr const char* kFifoFile = "exec.fifo";

class ContainerDir {
 public:
  ContainerDir(std::string id, std::string path, sys::UniqueFd dir,
               std::shared_ptr<const sys::UniqueFd> root);

  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] const std::string& path() const { return path_; }  // <root>/<id>
  [[nodiscard]] int fd() const { return dir_.get(); }

  // Exclusive lock, blocking. NotFound if the directory has no config.json
  // (a create in its first step, or killed there) or was removed while we
  // waited (a concurrent delete won).
  husk::Status lock();
  [[nodiscard]] bool locked() const { return lock_.valid(); }
  void unlock() {
    lock_.reset();
    creating_ = false;
  }
  // create is done: release its "creating" mark, keep the lock.
  husk::Status finish_creating();
  // Whether another process's create is still working on this container.
  [[nodiscard]] Result<bool> create_in_progress() const;

  husk::Status write_state(const ContainerState& st);
  // NotFound when there is no state.json (create died before writing one).
  [[nodiscard]] Result<ContainerState> read_state() const;
  // Only right after StateStore::create_container, once.
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
  // rmdir the directory if it is empty (a create killed between its mkdir
  // and config.json); false if it is not.
  [[nodiscard]] Result<bool> remove_if_empty();
  // Whether the directory is gone (removed since we opened it).
  [[nodiscard]] Result<bool> removed() const;

 private:
  friend class StateStore;

  // config.json, opened read-write, while it holds this process's locks on
  // the file; registered (store.cpp) from take() until reset().
  class LockFd {
   public:
    LockFd() = default;
    LockFd(const LockFd&) = delete;
    LockFd& operator=(const LockFd&) = delete;
    LockFd(LockFd&& o) noexcept : fd_(std::move(o.fd_)) {}
    LockFd& operator=(LockFd&& o) noexcept {
      if (this != &o) {
        reset();
        fd_ = std::move(o.fd_);
      }
      return *this;
    }
    ~LockFd() { reset(); }
    // Lock [start, start+len) of fd (blocking), then own and register fd.
    husk::Status take(sys::UniqueFd fd, off_t start, off_t len, const std::string& shown);
    void reset();
    [[nodiscard]] int get() const { return fd_.get(); }
    [[nodiscard]] bool valid() const { return fd_.valid(); }
    explicit operator bool() const { return valid(); }

   private:
    sys::UniqueFd fd_;
  };

  // The fd through which this process holds config.json's locks, if it does
  // (through this or another ContainerDir of the container); else -1.
  [[nodiscard]] int held_fd() const;

  std::string id_;
  std::string path_;
  sys::UniqueFd dir_;
  std::shared_ptr<const sys::UniqueFd> root_;  // the store's, shared
  LockFd lock_;
  bool creating_ = false;
};

class StateStore {
 public:
  // mkdir -p root (0700) and open it. An unusable root is an error naming it.
  static Result<StateStore> open(const std::string& root);

  [[nodiscard]] const std::string& root() const { return root_; }
  [[nodiscard]] int fd() const { return fd_->get(); }

  // mkdir <root>/<id> 0700, create its config.json and take the lock and the
  // "creating" mark. AlreadyExists: "container with id exists: ID".
  Result<ContainerDir> create_container(std::string_view id) const;
  // NotFound: `container "ID" does not exist`.
  [[nodiscard]] Result<ContainerDir> open_container(std::string_view id) const;
  // Ids of every directory under root (sorted), whether or not it holds a state.json.
  [[nodiscard]] Result<std::vector<std::string>> list() const;

 private:
  StateStore(std::string root, std::shared_ptr<const sys::UniqueFd> fd)
      : root_(std::move(root)), fd_(std::move(fd)) {}
  std::string root_;
  // Shared with every ContainerDir opened from it, which may outlive the
  // store (create hands its directory on to `run`).
  std::shared_ptr<const sys::UniqueFd> fd_;
};

// Error helpers with runc's wording (used by lifecycle as well).
Error not_exist_error(std::string_view id);

}  // namespace husk::state
