#include <sys/mount.h>

#include <catch2/catch.hpp>

#include "spec/mount_options.hpp"

using husk::spec::IdmapMode;
using husk::spec::MountOptions;
using husk::spec::parse_mount_options;

namespace {
MountOptions parse(std::initializer_list<std::string> opts) {
  return parse_mount_options(std::vector<std::string>(opts));
}
}  // namespace

TEST_CASE("mount options: flag-setting options") {
  struct Case {
    const char* opt;
    unsigned long flag;
  };
  const Case cases[] = {
      {"ro", MS_RDONLY},          {"nosuid", MS_NOSUID},
      {"nodev", MS_NODEV},        {"noexec", MS_NOEXEC},
      {"sync", MS_SYNCHRONOUS},   {"dirsync", MS_DIRSYNC},
      {"remount", MS_REMOUNT},    {"mand", MS_MANDLOCK},
      {"noatime", MS_NOATIME},    {"nodiratime", MS_NODIRATIME},
      {"relatime", MS_RELATIME},  {"strictatime", MS_STRICTATIME},
      {"iversion", MS_I_VERSION}, {"lazytime", MS_LAZYTIME},
      {"silent", MS_SILENT},      {"nosymfollow", MS_NOSYMFOLLOW},
  };
  for (const auto& c : cases) {
    INFO(c.opt);
    auto m = parse({c.opt});
    CHECK(m.flags == c.flag);
    CHECK(m.clear == 0);
    CHECK(m.data.empty());
    CHECK_FALSE(m.bind);
  }
}

TEST_CASE("mount options: clearing options") {
  struct Case {
    const char* opt;
    unsigned long flag;
  };
  const Case cases[] = {
      {"rw", MS_RDONLY},
      {"suid", MS_NOSUID},
      {"dev", MS_NODEV},
      {"exec", MS_NOEXEC},
      {"async", MS_SYNCHRONOUS},
      {"nomand", MS_MANDLOCK},
      {"atime", MS_NOATIME},
      {"diratime", MS_NODIRATIME},
      {"norelatime", MS_RELATIME},
      {"nostrictatime", MS_STRICTATIME},
      {"noiversion", MS_I_VERSION},
      {"nolazytime", MS_LAZYTIME},
      {"loud", MS_SILENT},
      {"symfollow", MS_NOSYMFOLLOW},
  };
  for (const auto& c : cases) {
    INFO(c.opt);
    auto m = parse({c.opt});
    CHECK(m.flags == 0);
    CHECK(m.clear == c.flag);
  }
}

TEST_CASE("mount options: the later of two opposite options wins") {
  auto m = parse({"ro", "rw"});
  CHECK((m.flags & MS_RDONLY) == 0);
  CHECK((m.clear & MS_RDONLY) != 0);
  m = parse({"rw", "nosuid", "ro"});
  CHECK(m.flags == (MS_RDONLY | MS_NOSUID));
  CHECK(m.clear == 0);
}

TEST_CASE("mount options: defaults is a no-op, empty strings are skipped") {
  auto m = parse({"defaults", "", "nodev"});
  CHECK(m.flags == MS_NODEV);
  CHECK(m.data.empty());
}

TEST_CASE("mount options: bind and rbind") {
  auto b = parse({"bind"});
  CHECK(b.bind);
  CHECK_FALSE(b.recursive);
  CHECK(b.flags == MS_BIND);
  auto rb = parse({"rbind", "ro"});
  CHECK(rb.bind);
  CHECK(rb.recursive);
  CHECK(rb.flags == (MS_BIND | MS_REC | MS_RDONLY));
  auto both = parse({"bind", "rbind"});
  CHECK(both.recursive);
}

TEST_CASE("mount options: propagation keeps order and the r* forms add MS_REC") {
  auto m = parse(
      {"rprivate", "shared", "rslave", "unbindable", "runbindable", "private", "rshared", "slave"});
  CHECK(m.propagation == std::vector<unsigned long>{
                             MS_PRIVATE | MS_REC, MS_SHARED, MS_SLAVE | MS_REC, MS_UNBINDABLE,
                             MS_UNBINDABLE | MS_REC, MS_PRIVATE, MS_SHARED | MS_REC, MS_SLAVE});
  CHECK(m.flags == 0);
}

TEST_CASE("mount options: recursive attributes for mount_setattr") {
  auto m = parse({"rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"});
  CHECK(m.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                       MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
  CHECK(m.attr_clr == 0);
  CHECK(m.flags == 0);
  CHECK(m.has_recursive_attrs());
  auto c = parse({"rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"});
  CHECK(c.attr_set == 0);
  CHECK(c.attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                       MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
  auto last = parse({"rro", "rrw"});
  CHECK(last.attr_set == 0);
  CHECK(last.attr_clr == MOUNT_ATTR_RDONLY);
  CHECK_FALSE(parse({"ro"}).has_recursive_attrs());
}

TEST_CASE("mount options: recursive atime options pick one kernel atime mode") {
  struct Case {
    const char* opt;
    uint64_t mode;
  };
  const Case cases[] = {
      {"rnoatime", MOUNT_ATTR_NOATIME},        {"rstrictatime", MOUNT_ATTR_STRICTATIME},
      {"rrelatime", MOUNT_ATTR_RELATIME},      {"ratime", MOUNT_ATTR_RELATIME},
      {"rnostrictatime", MOUNT_ATTR_RELATIME}, {"rnorelatime", MOUNT_ATTR_STRICTATIME},
  };
  for (const auto& c : cases) {
    INFO(c.opt);
    auto m = parse({c.opt});
    // mount_setattr(2): an atime change needs all of MOUNT_ATTR__ATIME in attr_clr.
    CHECK(m.attr_clr == MOUNT_ATTR__ATIME);
    CHECK(m.attr_set == c.mode);
    CHECK(m.has_recursive_attrs());
  }
  auto m = parse({"rnoatime", "rro", "rrelatime"});
  CHECK(m.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_RELATIME));
  CHECK(m.attr_clr == MOUNT_ATTR__ATIME);
}

TEST_CASE("mount options: idmap, ridmap, tmpcopyup") {
  CHECK(parse({}).idmap == IdmapMode::None);
  CHECK(parse({"idmap"}).idmap == IdmapMode::Idmap);
  CHECK(parse({"ridmap"}).idmap == IdmapMode::Ridmap);
  CHECK(parse({"tmpcopyup"}).tmpcopyup);
  auto m = parse({"idmap", "tmpcopyup"});
  CHECK(m.flags == 0);
  CHECK(m.data.empty());
}

TEST_CASE("mount options: unknown options become data in order") {
  auto m = parse({"nosuid", "mode=755", "size=65536k", "noexec", "newinstance", "ptmxmode=0666",
                  "rfoo", "NOSUID"});
  CHECK(m.flags == (MS_NOSUID | MS_NOEXEC));
  CHECK(m.data == "mode=755,size=65536k,newinstance,ptmxmode=0666,rfoo,NOSUID");
}

TEST_CASE("known mount options cover the runtime-spec v1.3.0 list") {
  const char* required[] = {
      "async",        "atime",      "bind",        "defaults",      "dev",
      "diratime",     "dirsync",    "exec",        "iversion",      "lazytime",
      "loud",         "noatime",    "nodev",       "nodiratime",    "noexec",
      "noiversion",   "nolazytime", "norelatime",  "nostrictatime", "nosuid",
      "private",      "rbind",      "relatime",    "remount",       "ro",
      "rprivate",     "rshared",    "rslave",      "runbindable",   "rw",
      "shared",       "silent",     "slave",       "strictatime",   "suid",
      "sync",         "unbindable", "nosymfollow", "symfollow",     "rro",
      "rrw",          "rnosuid",    "rsuid",       "rnodev",        "rdev",
      "rnoexec",      "rexec",      "ratime",      "rnoatime",      "rdiratime",
      "rnodiratime",  "rrelatime",  "rnorelatime", "rstrictatime",  "rnostrictatime",
      "rnosymfollow", "rsymfollow", "idmap",       "ridmap",        "mand",
      "nomand",       "tmpcopyup"};
  const auto known = husk::spec::known_mount_options();
  CHECK(known.size() == std::size(required));
  for (const char* o : required) {
    INFO(o);
    CHECK(husk::spec::is_known_mount_option(o));
    CHECK(std::find(known.begin(), known.end(), o) != known.end());
  }
  CHECK(std::is_sorted(known.begin(), known.end()));
  CHECK_FALSE(husk::spec::is_known_mount_option("size=1"));
  CHECK_FALSE(husk::spec::is_known_mount_option(""));
}

TEST_CASE("rootfsPropagation values") {
  using husk::spec::parse_rootfs_propagation;
  CHECK(*parse_rootfs_propagation("shared") == MS_SHARED);
  CHECK(*parse_rootfs_propagation("slave") == MS_SLAVE);
  CHECK(*parse_rootfs_propagation("private") == MS_PRIVATE);
  CHECK(*parse_rootfs_propagation("unbindable") == MS_UNBINDABLE);
  CHECK(*parse_rootfs_propagation("rshared") == (MS_SHARED | MS_REC));
  CHECK(*parse_rootfs_propagation("rslave") == (MS_SLAVE | MS_REC));
  CHECK(*parse_rootfs_propagation("rprivate") == (MS_PRIVATE | MS_REC));
  CHECK(*parse_rootfs_propagation("runbindable") == (MS_UNBINDABLE | MS_REC));
  auto bad = parse_rootfs_propagation("Shared");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message() == "linux.rootfsPropagation: unknown propagation \"Shared\"");
}
