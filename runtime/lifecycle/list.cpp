#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <map>
#include <vector>

#include "lifecycle/lifecycle.hpp"
#include "linux/passwd.hpp"
#include "sys/fd.hpp"
#include "sys/file.hpp"

namespace husk::lifecycle {

namespace {

// runc's OWNER column: the user name owning the state directory, "#uid" when
// it has none. Read from /etc/passwd directly, as Go's os/user does without
// cgo: husk is one static binary and does not load NSS modules.
std::string user_name(uid_t uid) {
  // Unreadable or missing: every owner is "#uid".
  std::string text = sys::read_file("/etc/passwd").value_or(std::string());
  if (auto name = linux_setup::passwd_name(text, uid)) return *std::move(name);
  // fmt, not "#" + std::to_string(uid): GCC 12 at -O2/-O3 inlines that
  // operator+ into an insert at offset 0 and reports a bogus overlapping
  // memcpy (a -Wrestrict false positive), which failed Release builds.
  return fmt::format("#{}", uid);
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
