#include "linux/paths.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>

#include "base/strings.hpp"
#include "sys/mount_api.hpp"

namespace husk::linux_setup {

namespace {

// path_resolution(7): more than 40 symlinks in one lookup is ELOOP.
constexpr int kMaxSymlinks = 40;
// Bounds the create/open retry loop a concurrent rename could otherwise spin.
constexpr int kMaxSteps = 4096;

// Raw components, keeping "." and ".." (symlink targets are interpreted
// component by component).
void push_components(std::deque<std::string>& out, std::string_view path) {
  auto parts = path_components(path);
  out.insert(out.begin(), parts.begin(), parts.end());
}

// Walk state: the directory fds from the root down to the current one. ".."
// pops, so it can never climb above the root, whatever the tree looks like or
// how it is renamed meanwhile: no ".." lookup is ever done by the kernel.
class Walker {
 public:
  explicit Walker(int rootfd) : rootfd_(rootfd) {}
  int cur() const { return stack_.empty() ? rootfd_ : stack_.back().get(); }
  void up() {
    if (!stack_.empty()) stack_.pop_back();
  }
  void reset() { stack_.clear(); }
  void push(sys::UniqueFd fd) { stack_.push_back(std::move(fd)); }
  Result<sys::UniqueFd> dup_cur() const { return sys::openat(cur(), ".", O_PATH | O_DIRECTORY); }

 private:
  int rootfd_;
  std::vector<sys::UniqueFd> stack_;
};

// Create the missing component `name` in dir. EEXIST is not an error: another
// process (or a racing rename) made it; the caller looks it up again.
Status create_component(int dir, const char* name, bool as_file) {
  if (as_file) {
    auto fd = sys::openat(dir, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0644);
    if (!fd && fd.error().err() != EEXIST) return std::move(fd).error();
    return {};
  }
  auto r = sys::mkdirat(dir, name, 0755);
  if (!r && r.error().err() != EEXIST) return r;
  return {};
}

Status check_final_type(const struct stat& st, CreateAs want) {
  if (want == CreateAs::Dir && !S_ISDIR(st.st_mode)) {
    return Error::sys(ENOTDIR, "exists and is not a directory");
  }
  if (want == CreateAs::File && S_ISDIR(st.st_mode)) {
    return Error::sys(EISDIR, "exists and is a directory");
  }
  return {};
}

// ---- the fast path of mkdir_in_root ----

// A path the kernel may resolve as written: no empty, "." or ".." component
// (the walker's ".." pops its own stack, and "a/.." must not need "a"), no
// trailing slash, shorter than PATH_MAX. Leading slashes are skipped: the
// path is relative to the root either way.
bool plain_path(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty() || path.size() >= PATH_MAX || path.back() == '/') return false;
  for (auto c : split(path, '/')) {
    if (c.empty() || c == "." || c == "..") return false;
  }
  return true;
}

// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) resolves every symlink as
// the walker does (absolute targets from the root, ".." never above it, at
// most 40) in one call, and refuses magic links. fd, or -errno.
int open_resolved(int rootfd, const char* rel, CreateAs last) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC | (last == CreateAs::Dir ? O_DIRECTORY : 0);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd = 0;
  do {
    fd = ::syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

// rel[0..len) (NUL-terminated, written to and restored) resolved in the
// root; a missing final component is made in its parent, itself resolved
// (and made) the same way, and the path resolved again. -errno on anything
// else: the caller then walks, and reports what the walker finds.
int resolve_or_create(int rootfd, char* rel, size_t len, CreateAs last) {
  int fd = open_resolved(rootfd, rel, last);
  if (fd != -ENOENT) return fd;
  char* slash = static_cast<char*>(::memrchr(rel, '/', len));
  sys::UniqueFd parent;
  int dir = rootfd;
  const char* name = rel;
  if (slash != nullptr) {
    *slash = '\0';
    int p = resolve_or_create(rootfd, rel, static_cast<size_t>(slash - rel), CreateAs::Dir);
    *slash = '/';
    if (p < 0) return p;
    parent = sys::UniqueFd(p);
    dir = p;
    name = slash + 1;
  }
  // In the directory the path resolves through: a name that now exists as
  // anything (e.g. a dangling symlink) is resolved again, and left to the
  // walker if it still does not resolve.
  if (!create_component(dir, name, last == CreateAs::File)) return -EIO;
  return open_resolved(rootfd, rel, last);
}

// The fast path: -1 when the walker must run.
int mkdir_fast(int rootfd, std::string_view path, CreateAs last, struct stat* st_out) {
  if (!plain_path(path)) return -1;
  while (path.front() == '/') path.remove_prefix(1);
  char rel[PATH_MAX];
  std::memcpy(rel, path.data(), path.size());
  rel[path.size()] = '\0';
  int fd = resolve_or_create(rootfd, rel, path.size(), last);
  if (fd < 0) return -1;
  sys::UniqueFd out(fd);
  if (st_out != nullptr || last == CreateAs::File) {
    struct stat st {};
    // A directory where a file is wanted: the walker reports it.
    if (::fstat(fd, &st) != 0 || (last == CreateAs::File && S_ISDIR(st.st_mode))) return -1;
    if (st_out != nullptr) *st_out = st;
  }
  return out.release();
}

}  // namespace

namespace {

// The components of `path` with "." and empty ones dropped and ".." applied;
// *escaped is set when a ".." had nothing left to remove (it is then
// dropped: at "/" it stays at "/").
std::vector<std::string_view> clean_parts(std::string_view path, bool* escaped) {
  std::vector<std::string_view> parts;
  for (auto c : path_components(path)) {
    if (c == "..") {
      if (!parts.empty()) {
        parts.pop_back();
      } else if (escaped != nullptr) {
        *escaped = true;
      }
    } else if (c != ".") {
      parts.push_back(c);
    }
  }
  return parts;
}

}  // namespace

std::string clean_path(std::string_view path) {
  std::string out;
  for (auto c : clean_parts(path, nullptr)) {
    out += '/';
    out += c;
  }
  return out.empty() ? "/" : out;
}

std::optional<std::string> clean_below(std::string_view path) {
  bool escaped = false;
  auto parts = clean_parts(path, &escaped);
  if (escaped) return std::nullopt;
  std::string out;
  for (auto c : parts) {
    if (!out.empty()) out += '/';
    out += c;
  }
  return out;
}

std::vector<std::string> split_path(std::string_view clean) {
  auto parts = path_components(clean);
  return {parts.begin(), parts.end()};
}

Result<sys::UniqueFd> open_in_root(int rootfd, std::string_view path, InRootOpen how) {
  const std::string clean = clean_path(path);
  const char* rel = clean.size() > 1 ? clean.c_str() + 1 : ".";
  uint64_t flags = O_PATH | static_cast<uint64_t>(how.flags);
  if (!how.follow_last) flags |= O_NOFOLLOW;
  return sys::openat2(rootfd, rel, flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

Result<sys::UniqueFd> mkdir_in_root(int rootfd, std::string_view path, CreateAs last,
                                    struct stat* st_out) {
  // Usually the kernel resolves the whole path (1 call, 2 with fstat, 5 to
  // make a missing last directory) where the walker takes two per component
  // and a close per level.
  if (int fd = mkdir_fast(rootfd, path, last, st_out); fd >= 0) return sys::UniqueFd(fd);
  std::deque<std::string> todo;
  push_components(todo, path);
  Walker w(rootfd);
  int symlinks = 0;
  for (int step = 0; !todo.empty(); ++step) {
    if (step > kMaxSteps) return Error::sys(ELOOP, "resolve {} in the container root", path);
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp == ".") continue;
    if (comp == "..") {
      w.up();
      continue;
    }
    bool is_last = todo.empty();
    auto fd = sys::openat(w.cur(), comp.c_str(), O_PATH | O_NOFOLLOW);
    if (!fd) {
      if (fd.error().err() != ENOENT) return std::move(fd).error().wrap("resolve {}", path);
      TRY_CTX(create_component(w.cur(), comp.c_str(), is_last && last == CreateAs::File),
              "create {}", path);
      todo.push_front(std::move(comp));  // look it up again: it may now be anything
      continue;
    }
    struct stat st = TRY_CTX(sys::fstat(fd->get()), "resolve {}", path);
    if (S_ISLNK(st.st_mode)) {
      if (++symlinks > kMaxSymlinks) return Error::sys(ELOOP, "resolve {}", path);
      std::string target = TRY_CTX(sys::readlink_fd(fd->get()), "resolve {}", path);
      // An absolute target is relative to the container root, not the host's.
      if (!target.empty() && target[0] == '/') w.reset();
      push_components(todo, target);
      continue;
    }
    if (!is_last && !S_ISDIR(st.st_mode)) {
      return Error::sys(ENOTDIR, "resolve {}: component \"{}\" is not a directory", path, comp);
    }
    if (is_last) {
      TRY_CTX(check_final_type(st, last), "{}", path);
      if (st_out != nullptr) *st_out = st;
      return std::move(*fd);
    }
    w.push(std::move(*fd));
  }
  // The path resolved to a directory already on the stack (e.g. "/" or "a/..").
  if (last == CreateAs::File) return Error::sys(EISDIR, "{}: is a directory", path);
  auto fd = TRY(w.dup_cur());
  if (st_out != nullptr) *st_out = TRY(sys::fstat(fd.get()));
  return fd;
}

Result<ParentAndName> open_parent_in_root(int rootfd, std::string_view path) {
  std::string clean = clean_path(path);
  if (clean == "/") return Error::sys(EINVAL, "{}: no parent directory", path);
  size_t slash = clean.rfind('/');
  ParentAndName out;
  out.name = clean.substr(slash + 1);
  out.dir = TRY(mkdir_in_root(rootfd, clean.substr(0, slash), CreateAs::Dir));
  return out;
}

}  // namespace husk::linux_setup
