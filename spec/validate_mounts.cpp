// mounts[]: destination, type, source, idmapped mounts, and the option
// combinations runc takes with a warning.
#include <fmt/format.h>

#include "spec/mount_options.hpp"
#include "spec/validate.hpp"
#include "spec/validate_internal.hpp"

namespace husk::spec::validation {
namespace {

void check_mount_idmap(Checker& ck, const Mount& m, const MountOptions& mo,
                       const std::string& path) {
  const bool uid = !m.uid_mappings.empty();
  const bool gid = !m.gid_mappings.empty();
  if (uid != gid) {
    ck.take(Error::spec("{}: uidMappings and gidMappings must be given together", path));
  }
  check_mappings(ck, m.uid_mappings, path + ".uidMappings");
  check_mappings(ck, m.gid_mappings, path + ".gidMappings");
  if (mo.idmap != IdmapMode::None && !uid && !ck.has_ns(NamespaceType::User)) {
    ck.take(
        Error::spec("{}.options: idmap/ridmap need uidMappings and gidMappings on the mount "
                    "or a user namespace",
                    path));
  }
}

void warn_mount(Checker& ck, const Mount& m, const MountOptions& mo, const std::string& path) {
  if (!is_abs(m.destination)) {
    ck.warn("{}.destination: relative path \"{}\" is deprecated; taken relative to /", path,
            m.destination);
  }
  if (mo.bind && !mo.data.empty()) {
    ck.warn("{}.options: \"{}\" has no effect on a bind mount", path, mo.data);
  }
  if (mo.tmpcopyup && m.type.value_or("") != "tmpfs") {
    ck.warn("{}.options: tmpcopyup ignored on a mount that is not tmpfs", path);
  }
  if (!m.uid_mappings.empty() && mo.idmap == IdmapMode::None) {
    ck.warn("{}: uidMappings without idmap or ridmap; treated as idmap", path);
  }
}

void check_mount(Checker& ck, const Mount& m, const std::string& path) {
  if (m.destination.empty()) ck.take(Error::spec("{}.destination: must not be empty", path));
  const MountOptions mo = parse_mount_options(m.options);
  const bool bind = mo.bind || m.type.value_or("") == "bind";
  if (!bind && m.type.value_or("").empty()) {
    ck.take(Error::spec("{}.type: required unless the mount is a bind mount", path));
  }
  if (bind && m.source.value_or("").empty()) {
    ck.take(Error::spec("{}.source: required for a bind mount", path));
  }
  check_mount_idmap(ck, m, mo, path);
  warn_mount(ck, m, mo, path);
}

}  // namespace

void check_mounts(Checker& ck) {
  const auto& mounts = ck.config().mounts;
  for (size_t i = 0; i < mounts.size(); ++i) check_mount(ck, mounts[i], idx("mounts", i));
}

}  // namespace husk::spec::validation
