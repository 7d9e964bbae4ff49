#include "lifecycle/cgroup_parents.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "sys/file.hpp"

namespace husk::lifecycle {

namespace {

Result<std::set<std::string>> read_set(int fd) {
  std::string text = TRY(sys::read_all(fd, kCgroupParentsFile, {.from_start = true}));
  std::set<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) out.emplace(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

Status write_set(int fd, const std::set<std::string>& s) {
  std::string text;
  for (const auto& p : s) text += p + "\n";
  if (::ftruncate(fd, 0) != 0) return Error::last("truncate {}", kCgroupParentsFile);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::last("write {}", kCgroupParentsFile);
    done += static_cast<size_t>(n);
  }
  return {};
}

std::string dirname(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string() : p.substr(0, slash);
}

}  // namespace

// The record exists only while it lists something: the holder of the lock
// removes it once empty, so a root with no container left holds nothing of
// husk's. A process that opened the file before that unlink and then got the
// lock holds a file no path leads to; it sees st_nlink 0 and starts over
// with a new file, so nothing is ever recorded where nobody will read it.
Result<CgroupParents> CgroupParents::lock(const Context& ctx) {
  std::string path = ctx.root + "/" + kCgroupParentsFile;
  for (;;) {
    sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return Error::last("open {}", path);
    while (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return Error::last("lock {}", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error::last("fstat {}", path);
    if (st.st_nlink > 0) return CgroupParents(std::move(fd), std::move(path));
  }
}

CgroupParents::~CgroupParents() {
  if (!fd_) return;
  struct stat st {};
  // Still locked: nobody can be adding to it while it goes.
  if (::fstat(fd_.get(), &st) == 0 && st.st_size == 0 && st.st_nlink > 0) {
    (void)::unlink(path_.c_str());
  }
}

Status CgroupParents::remember(const cgroup::Manager& mgr) {
  auto made = mgr.created_parents();
  if (made.empty()) return {};
  auto set = TRY(read_set(fd_.get()));
  set.insert(made.begin(), made.end());
  return write_set(fd_.get(), set);
}

void CgroupParents::prune(const Context& ctx, const cgroup::Manager& mgr) {
  auto set = read_set(fd_.get());
  if (!set) {
    ctx.warn(set.error().message());
    return;
  }
  if (set->empty()) return;
  bool changed = false;
  // What destroy() already removed is only forgotten: another rmdir(2) of it
  // would just say ENOENT.
  const auto removed = mgr.removed_parents();
  auto gone = [&removed](const std::string& p) {
    return std::find(removed.begin(), removed.end(), p) != removed.end();
  };
  for (const auto& leaf : mgr.leaf_dirs()) {
    for (std::string p = dirname(leaf); !p.empty() && set->count(p) != 0; p = dirname(p)) {
      if (!gone(p) && ::rmdir(p.c_str()) != 0 && errno != ENOENT) {
        // EBUSY / ENOTEMPTY: another container still lives below it.
        if (errno != EBUSY && errno != ENOTEMPTY) {
          ctx.warn(fmt::format("remove parent cgroup {}: {}", p, std::strerror(errno)));
        }
        break;
      }
      set->erase(p);
      changed = true;
    }
  }
  if (changed) {
    if (auto st = write_set(fd_.get(), *set); !st) ctx.warn(st.error().message());
  }
}

}  // namespace husk::lifecycle
