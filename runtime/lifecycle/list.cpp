#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <vector>

#include "lifecycle/lifecycle.hpp"
#include "linux/passwd.hpp"
#include "sys/fd.hpp"

namespace husk::lifecycle {

namespace {

// runc's OWNER column: the user name owning the state directory, "#uid" when
// it has none. Read from /etc/passwd directly, as Go's os/user does without
// cgo: husk is one static binary and does not load NSS modules.
std::string user_name(uid_t uid) {
  std::string text;
  if (sys::UniqueFd fd(::open("/etc/passwd", O_RDONLY | O_CLOEXEC)); fd) {
    char buf[8192];
    ssize_t n = 0;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  }
  if (auto name = linux_setup::passwd_name(text, uid)) return *std::move(name);
  return "#" + std::to_string(uid);
}

}  // namespace

Result<std::vector<ListEntry>> list(const Context &ctx) {
  auto store = TRY(open_store(ctx));
  std::vector<ListEntry> out;
  // One passwd lookup per owner, not per container: without nscd each one
  // opens and scans /etc/passwd, which dominated `list` with 1000 containers.
  std::map<uid_t, std::string> owners;
  for (const auto &id : TRY(store.list())) {
    auto dir = store.open_container(id);
    if (!dir) {
      if (dir.error().kind() == ErrorKind::NotFound) continue;  // deleted meanwhile
      return std::move(dir).error();
    }
    auto o = observe(*dir);
    if (!o) {
      // No record yet: a create in its first steps (runc lists it neither).
      if (o.error().kind() != ErrorKind::NotFound) ctx.warn(o.error().message());
      continue;
    }
    if (o->status == state::Status::Stopped) o->st.pid = 0;
    auto uid = dir->owner_uid();
    if (uid) {
      auto it = owners.find(*uid);
      if (it == owners.end()) it = owners.emplace(*uid, user_name(*uid)).first;
      o->st.owner = it->second;
    }
    out.push_back(ListEntry{std::move(o->st), o->status});
  }
  return out;
}

}  // namespace husk::lifecycle
