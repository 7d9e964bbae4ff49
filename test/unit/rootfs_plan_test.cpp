// plan_rootfs and the pure helpers under it: no root, no syscalls with effects.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>

#include "linux/lsm.hpp"
#include "linux/mountinfo.hpp"
#include "linux/paths.hpp"
#include "linux/rootfs.hpp"
#include "spec/default_spec.hpp"
#include "spec/parse.hpp"
#include "test_util.hpp"

using husk::ErrorKind;
using namespace husk::linux_setup;
namespace spec = husk::spec;

namespace {

spec::Config default_config(bool rootless = false) {
  auto c = spec::parse_config(spec::default_config_json(rootless, 1000, 1000));
  if (!c) FAIL(c.error().message());
  return std::move(c).value();
}

RootfsOptions opts() {
  RootfsOptions o;
  o.rootfs = "/bundle/rootfs";
  o.bundle = "/bundle";
  return o;
}

RootfsPlanPtr must_plan(const spec::Config& c, const RootfsOptions& o = opts()) {
  auto r = plan_rootfs(c, o);
  if (!r) FAIL(r.error().message());
  return std::move(r).value();
}

husk::Error plan_error(const spec::Config& c, const RootfsOptions& o = opts()) {
  auto r = plan_rootfs(c, o);
  REQUIRE_FALSE(r);
  return r.error();
}

const MountPlan& mount_at(const RootfsPlan& p, const std::string& dest) {
  for (const auto& m : p.mounts) {
    if (m.destination == dest) return m;
  }
  FAIL("no mount at " << dest);
  return p.mounts.front();
}

spec::Mount mnt(std::string dest, std::optional<std::string> type, std::optional<std::string> src,
                std::vector<std::string> options) {
  return husk::test::mount_entry(std::move(dest), std::move(type), std::move(src),
                                 std::move(options));
}

const DevicePlan* device_at(const RootfsPlan& p, const std::string& path) {
  for (const auto& d : p.devices) {
    if (d.path == path) return &d;
  }
  return nullptr;
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<FsParam> {
  static std::string convert(const FsParam& p) { return p.key + (p.value ? "=" + *p.value : ""); }
};
}  // namespace Catch

TEST_CASE("default config: mounts decoded in order with their kernel flags") {
  auto p = must_plan(default_config());
  REQUIRE(p->mounts.size() >= 6);
  CHECK(p->mounts[0].destination == "/proc");
  CHECK(p->mounts[0].kind == MountKind::Fresh);
  CHECK(p->mounts[0].fstype == "proc");

  const auto& dev = mount_at(*p, "/dev");
  CHECK(dev.kind == MountKind::Fresh);
  CHECK(dev.fstype == "tmpfs");
  CHECK((dev.attrs.set & MOUNT_ATTR_NOSUID) != 0);
  CHECK((dev.attrs.set & MOUNT_ATTR_STRICTATIME) == MOUNT_ATTR_STRICTATIME);
  CHECK((dev.attrs.clr & MOUNT_ATTR__ATIME) == MOUNT_ATTR__ATIME);
  CHECK(std::find(dev.params.begin(), dev.params.end(), FsParam{"mode", "755"}) !=
        dev.params.end());
  CHECK(std::find(dev.params.begin(), dev.params.end(), FsParam{"size", "65536k"}) !=
        dev.params.end());

  const auto& pts = mount_at(*p, "/dev/pts");
  CHECK(pts.fstype == "devpts");
  CHECK(std::find(pts.params.begin(), pts.params.end(), FsParam{"newinstance", std::nullopt}) !=
        pts.params.end());
  CHECK(std::find(pts.params.begin(), pts.params.end(), FsParam{"ptmxmode", "0666"}) !=
        pts.params.end());

  const auto& sys = mount_at(*p, "/sys");
  CHECK(sys.fstype == "sysfs");
  CHECK((sys.attrs.set & MOUNT_ATTR_RDONLY) != 0);

  const auto& cg = mount_at(*p, "/sys/fs/cgroup");
  CHECK(cg.kind == MountKind::Cgroup);
  CHECK((cg.attrs.set & MOUNT_ATTR_RDONLY) != 0);

  CHECK(p->setup_dev);
  CHECK(p->setup_propagation == (MS_SLAVE | MS_REC));
  CHECK_FALSE(p->root_propagation);
  CHECK_FALSE(p->masked_paths.empty());
  CHECK(std::find(p->readonly_paths.begin(), p->readonly_paths.end(), "/proc/sys") !=
        p->readonly_paths.end());
}

TEST_CASE("default devices: the six nodes with their numbers, 0666 root") {
  auto p = must_plan(default_config());
  struct Want {
    const char* path;
    unsigned major, minor;
  };
  for (auto w : {Want{"/dev/null", 1, 3}, Want{"/dev/zero", 1, 5}, Want{"/dev/full", 1, 7},
                 Want{"/dev/random", 1, 8}, Want{"/dev/urandom", 1, 9}, Want{"/dev/tty", 5, 0}}) {
    const DevicePlan* d = device_at(*p, w.path);
    REQUIRE(d != nullptr);
    CHECK(d->type == S_IFCHR);
    CHECK(d->rdev == makedev(w.major, w.minor));
    CHECK(d->mode == 0666);
    CHECK(d->uid == 0);
    CHECK(d->gid == 0);
  }
}

TEST_CASE("linux.devices are added and replace a default at the same path") {
  auto c = default_config();
  spec::Device fuse{"c", "/dev/fuse", 10, 229, 0620, 5, 6};
  spec::Device null{"c", "/dev/null", 1, 3, 0600, std::nullopt, std::nullopt};
  spec::Device fifo{"p", "/dev/myfifo", 0, 0, std::nullopt, std::nullopt, std::nullopt};
  c.linux->devices = {fuse, null, fifo};
  auto p = must_plan(c);
  const DevicePlan* f = device_at(*p, "/dev/fuse");
  REQUIRE(f != nullptr);
  CHECK(f->rdev == makedev(10, 229));
  CHECK(f->mode == 0620);
  CHECK(f->uid == 5);
  CHECK(f->gid == 6);
  CHECK(f->field == "linux.devices[0]");
  int nulls = 0;
  for (const auto& d : p->devices) nulls += d.path == "/dev/null" ? 1 : 0;
  CHECK(nulls == 1);
  CHECK(device_at(*p, "/dev/null")->mode == 0600);
  CHECK(device_at(*p, "/dev/myfifo")->type == S_IFIFO);
}

TEST_CASE("bad linux.devices name the field") {
  auto c = default_config();
  c.linux->devices = {spec::Device{"x", "/dev/foo", 1, 1, {}, {}, {}}};
  CHECK_THAT(plan_error(c).message(), Catch::Contains("linux.devices[0].type"));
  c.linux->devices = {spec::Device{"c", "dev/foo", 1, 1, {}, {}, {}}};
  CHECK_THAT(plan_error(c).message(), Catch::Contains("linux.devices[0].path"));
  c.linux->devices = {spec::Device{"c", "/dev/foo", 5000, 1, {}, {}, {}}};
  CHECK_THAT(plan_error(c).message(), Catch::Contains("linux.devices[0].major"));
  c.linux->devices = {spec::Device{"c", "/dev/a", 1, 1, {}, {}, {}},
                      spec::Device{"b", "/dev/a", 8, 0, {}, {}, {}}};
  CHECK_THAT(plan_error(c).message(), Catch::Contains("linux.devices[1].path"));
}

TEST_CASE("bind mounts: relative source from the bundle, flags split per level") {
  auto c = default_config();
  c.mounts.push_back(
      mnt("data", std::nullopt, "vol", {"rbind", "ro", "nosuid", "rnoexec", "rshared", "private"}));
  auto p = must_plan(c);
  const auto& m = p->mounts.back();
  CHECK(m.kind == MountKind::Bind);
  CHECK(m.destination == "/data");
  CHECK(m.source == "/bundle/vol");
  CHECK(m.recursive);
  CHECK(m.attrs.set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID));
  CHECK(m.rattrs.set == MOUNT_ATTR_NOEXEC);
  REQUIRE(m.propagation.size() == 2);
  CHECK(m.propagation[0] == (MS_SHARED | MS_REC));
  CHECK(m.propagation[1] == MS_PRIVATE);
}

TEST_CASE("a read-only /dev is mounted read-write and made read-only after setup") {
  auto c = default_config();
  for (auto& m : c.mounts) {
    if (m.destination == "/dev") m.options.push_back("ro");
  }
  c.mounts.push_back(mnt("/tmp", "tmpfs", "tmpfs", {"ro"}));
  auto plan = must_plan(c);
  for (const auto& m : plan->mounts) {
    if (m.destination == "/dev") {
      CHECK((m.attrs.set & MOUNT_ATTR_RDONLY) == 0);
      CHECK(m.readonly_after_setup);
    } else if (m.destination == "/tmp") {
      CHECK((m.attrs.set & MOUNT_ATTR_RDONLY) != 0);  // nothing is made in it
      CHECK_FALSE(m.readonly_after_setup);
    }
  }
}

TEST_CASE("clearing options on a bind become attr_clr") {
  auto c = default_config();
  c.mounts.push_back(mnt("/x", "bind", "/src", {"bind", "rw", "exec", "suid", "dev", "atime"}));
  // The plan must outlive m: a reference into a temporary dangles.
  auto plan = must_plan(c);
  const auto& m = plan->mounts.back();
  CHECK(m.kind == MountKind::Bind);
  CHECK_FALSE(m.recursive);
  CHECK((m.attrs.clr & MOUNT_ATTR_RDONLY) != 0);
  CHECK((m.attrs.clr & MOUNT_ATTR_NOEXEC) != 0);
  CHECK((m.attrs.clr & MOUNT_ATTR_NOSUID) != 0);
  CHECK((m.attrs.clr & MOUNT_ATTR_NODEV) != 0);
  CHECK((m.attrs.set & MOUNT_ATTR__ATIME) == MOUNT_ATTR_RELATIME);
}

TEST_CASE("mount errors name mounts[i] and the field") {
  auto c = default_config();
  size_t i = c.mounts.size();
  c.mounts.push_back(mnt("/x", std::nullopt, "/src", {"bind", "sync"}));
  auto e = plan_error(c);
  CHECK_THAT(e.message(), Catch::Contains("mounts[" + std::to_string(i) + "].options"));
  CHECK_THAT(e.message(), Catch::Contains("\"sync\""));

  c.mounts.back() = mnt("/", "tmpfs", "tmpfs", {});
  CHECK_THAT(plan_error(c).message(), Catch::Contains("].destination"));

  c.mounts.back() = mnt("/proc/self/attr", std::nullopt, "/x", {"bind"});
  CHECK_THAT(plan_error(c).message(), Catch::Contains("inside /proc"));

  c.mounts.back() = mnt("/x", "tmpfs", "tmpfs", {"iversion"});
  CHECK(plan_error(c).kind() == ErrorKind::Unsupported);

  c.mounts.back() = mnt("/x", "tmpfs", "tmpfs", {});
  c.mounts.back().uid_mappings = {{0, 1000, 1}};
  c.mounts.back().gid_mappings = {{0, 1000, 1}};
  CHECK(plan_error(c).kind() == ErrorKind::Unsupported);
}

TEST_CASE("lxcfs-style binds over /proc files are allowed") {
  auto c = default_config();
  c.mounts.push_back(mnt("/proc/meminfo", "bind", "/var/lib/lxcfs/proc/meminfo", {"bind"}));
  CHECK(must_plan(c)->mounts.back().destination == "/proc/meminfo");
}

TEST_CASE("fresh filesystems: superblock flags go to fsconfig, silent is dropped") {
  auto c = default_config();
  c.mounts.push_back(mnt("/t", "tmpfs", "tmpfs",
                         {"sync", "dirsync", "silent", "size=1m", "noatime", "tmpcopyup"}));
  // The plan must outlive m: a reference into a temporary dangles.
  auto plan = must_plan(c);
  const auto& m = plan->mounts.back();
  std::vector<FsParam> want;
  want.push_back(FsParam{"size", std::string("1m")});
  want.push_back(FsParam{"sync", std::nullopt});
  want.push_back(FsParam{"dirsync", std::nullopt});
  CHECK(m.params == want);
  CHECK((m.attrs.set & MOUNT_ATTR__ATIME) == MOUNT_ATTR_NOATIME);
  CHECK(m.tmpcopyup);
}

TEST_CASE("a bind over /dev turns off device creation") {
  auto c = default_config();
  c.mounts.push_back(mnt("/dev/", "bind", "/dev", {"rbind"}));
  CHECK_FALSE(must_plan(c)->setup_dev);
}

TEST_CASE("rootfsPropagation: private keeps setup private; shared is applied after pivot") {
  auto c = default_config();
  c.linux->rootfs_propagation = "rprivate";
  auto p = must_plan(c);
  CHECK(p->setup_propagation == (MS_PRIVATE | MS_REC));
  CHECK(p->root_propagation == (MS_PRIVATE | MS_REC));
  c.linux->rootfs_propagation = "shared";
  p = must_plan(c);
  CHECK(p->setup_propagation == (MS_SLAVE | MS_REC));
  CHECK(p->root_propagation == MS_SHARED);
  c.linux->rootfs_propagation = "sideways";
  CHECK_THAT(plan_error(c).message(), Catch::Contains("linux.rootfsPropagation"));
}

TEST_CASE("sysctl names become procfs paths") {
  auto c = default_config();
  c.linux->sysctl = {{"net.ipv4.ip_forward", "1"}, {"net/ipv4/conf/eth0.100/forwarding", "0"}};
  auto p = must_plan(c);
  REQUIRE(p->sysctl.size() == 2);
  // std::map order: '.' sorts before '/'.
  CHECK(p->sysctl[0].path == "sys/net/ipv4/ip_forward");
  CHECK(p->sysctl[0].value == "1");
  CHECK(p->sysctl[1].path == "sys/net/ipv4/conf/eth0.100/forwarding");
  c.linux->sysctl = {{"net..x", "1"}};
  CHECK_THAT(plan_error(c).message(), Catch::Contains("linux.sysctl[\"net..x\"]"));
  c.linux->sysctl = {{"net/../../x", "1"}};
  CHECK_THAT(plan_error(c).message(), Catch::Contains("invalid sysctl name"));
}

TEST_CASE("no mount namespace of its own: planned, rootfsPropagation only private") {
  auto c = default_config();
  auto o = opts();
  o.shared_mount_ns = true;
  CHECK(must_plan(c, o)->shared_mount_ns);
  c.linux->rootfs_propagation = "rprivate";
  CHECK(must_plan(c, o)->root_propagation.has_value());
  c.linux->rootfs_propagation = "rshared";
  auto e = plan_error(c, o);
  CHECK(e.kind() == ErrorKind::InvalidSpec);
  CHECK_THAT(e.message(), Catch::Contains("linux.rootfsPropagation: \"rshared\" needs a mount "
                                          "namespace of the container's own"));
}

TEST_CASE("linux.mountLabel needs SELinux on the host, else an Unsupported error naming it") {
  auto c = default_config();
  c.linux->mount_label = "system_u:object_r:container_file_t:s0";
  if (selinux_enabled()) {
    // Which context the loaded policy knows is the guest test's business
    // (test_selinux.py); a malformed one is refused whatever the policy.
    c.linux->mount_label = "not a context";
    auto e = plan_error(c);
    CHECK(e.kind() == ErrorKind::InvalidSpec);
    CHECK_THAT(e.message(),
               Catch::StartsWith("linux.mountLabel: \"not a context\" is not a valid"));
  } else {
    auto e = plan_error(c);
    CHECK(e.kind() == ErrorKind::Unsupported);
    CHECK_THAT(e.message(), Catch::StartsWith("linux.mountLabel: SELinux is not enabled"));
  }
  c.linux->mount_label = std::string("system_u:object_r:t:s0\nx");
  CHECK(plan_error(c).kind() == ErrorKind::InvalidSpec);
}

TEST_CASE("mount label: context= on new filesystems but procfs, sysfs and binds") {
  MountEnv env{"/bundle", false, nullptr, nullptr, "system_u:object_r:container_file_t:s0:c1,c2"};
  const FsParam label{"context", env.mount_label};
  auto plan = [&](const spec::Mount& m) {
    auto r = plan_mount(m, 0, env);
    if (!r) FAIL(r.error().message());
    return std::move(r).value();
  };
  auto tmpfs = plan(mnt("/t", "tmpfs", "tmpfs", {"nosuid", "size=1m"}));
  CHECK(tmpfs.params == std::vector<FsParam>{{"size", std::string("1m")}, label});
  // mount(2)'s data string: the commas of the MCS categories stay inside quotes.
  REQUIRE(tmpfs.classic);
  CHECK(tmpfs.classic_data == "size=1m,context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
  for (const char* type : {"mqueue", "devpts", "ramfs"}) {
    CHECK(plan(mnt("/m", type, type, {})).params == std::vector<FsParam>{label});
  }
  CHECK(plan(mnt("/proc", "proc", "proc", {})).params.empty());
  CHECK(plan(mnt("/sys", "sysfs", "sysfs", {})).params.empty());
  CHECK(plan(mnt("/b", "bind", "/src", {"rbind"})).params.empty());
  // The tmpfs holding a v1 host's hierarchies.
  CHECK(plan(mnt("/sys/fs/cgroup", "cgroup", "cgroup", {})).params == std::vector<FsParam>{label});
  // The mount's own context= is kept, quoted commas and all.
  auto own = plan(mnt("/o", "tmpfs", "tmpfs", {"context=\"system_u:object_r:tmp_t:s0:c3,c4\""}));
  CHECK(own.params ==
        std::vector<FsParam>{{"context", std::string("system_u:object_r:tmp_t:s0:c3,c4")}});
  env.mount_label.clear();
  CHECK(plan(mnt("/t", "tmpfs", "tmpfs", {})).params.empty());
}

TEST_CASE("split_fs_data: commas inside double quotes do not split, the quotes go") {
  CHECK(split_fs_data("a=1,,b,c=\"x,y\",d") == std::vector<FsParam>{{"a", std::string("1")},
                                                                    {"b", std::nullopt},
                                                                    {"c", std::string("x,y")},
                                                                    {"d", std::nullopt}});
}

TEST_CASE("masked and readonly paths are cleaned and must be absolute") {
  auto c = default_config();
  c.linux->masked_paths = {"/proc//kcore/", "/a/../b"};
  auto p = must_plan(c);
  CHECK(p->masked_paths == std::vector<std::string>{"/proc/kcore", "/b"});
  c.linux->readonly_paths = {"proc/sys"};
  CHECK_THAT(plan_error(c).message(), Catch::Contains("linux.readonlyPaths[0]"));
}

TEST_CASE("clean_path never climbs above /") {
  CHECK(clean_path("/../../etc/./passwd") == "/etc/passwd");
  CHECK(clean_path("a/b/../c/") == "/a/c");
  CHECK(clean_path("") == "/");
  CHECK(clean_path("/..") == "/");
  CHECK(split_path("/a/b") == std::vector<std::string>{"a", "b"});
}

TEST_CASE("ms_to_mount_attrs: access-time modes replace the whole field") {
  auto a = ms_to_mount_attrs(MS_RDONLY | MS_NOATIME, MS_NOSUID);
  CHECK(a.set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME));
  CHECK(a.clr == (MOUNT_ATTR_NOSUID | MOUNT_ATTR__ATIME));
  a = ms_to_mount_attrs(0, MS_RELATIME);  // "norelatime"
  CHECK(a.set == MOUNT_ATTR_STRICTATIME);
  a = ms_to_mount_attrs(MS_NODEV, 0);
  CHECK(a.clr == 0);
}

TEST_CASE("mountinfo and /proc/self/cgroup parsing, hierarchy pairing") {
  const char* mi =
      "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "40 31 0:37 /sub /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:5 - cgroup2 cgroup2 rw\n"
      "42 27 0:40 / /mnt/with\\040space rw - tmpfs tmpfs rw\n"
      "garbage\n";
  auto mounts = parse_mountinfo(mi);
  REQUIRE(mounts.size() == 6);
  CHECK(mounts[5].mount_point == "/mnt/with space");
  CHECK(mounts[4].fstype == "cgroup2");

  auto cgs =
      parse_proc_cgroup("3:cpu,cpuacct:/husk-test/c1\n9:name=systemd:/sub/x\n0::/husk-test/c1\n");
  REQUIRE(cgs.size() == 3);
  CHECK_FALSE(cgroup_mount_matches(cgs[0], mounts[1]));  // cpu alone lacks cpuacct
  CHECK(cgroup_mount_matches(cgs[0], mounts[2]));
  CHECK(cgroup_mount_matches(cgs[1], mounts[3]));
  CHECK(cgs[2].v2());
  CHECK(cgroup_mount_matches(cgs[2], mounts[4]));

  CHECK(*cgroup_host_path(cgs[0], mounts[2]) == "/sys/fs/cgroup/cpu,cpuacct/husk-test/c1");
  CHECK(*cgroup_host_path(cgs[1], mounts[3]) == "/sys/fs/cgroup/systemd/x");
  CgroupEntry outside{4, "memory", "/other"};
  MountInfoEntry rooted{"/sub", "/m", "cgroup", "cgroup", "rw,memory", "0:40"};
  CHECK_FALSE(cgroup_host_path(outside, rooted));
  CgroupEntry escape{0, "", "/../x"};
  CHECK_FALSE(cgroup_host_path(escape, mounts[4]));
}

TEST_CASE("idmap: the mount's own mappings, else the container's") {
  auto c = default_config(/*rootless=*/true);
  REQUIRE(!c.linux->uid_mappings.empty());
  c.mounts.push_back(mnt("/a", "bind", "/src", {"rbind", "idmap"}));
  auto own = mnt("/b", "bind", "/src", {"bind", "ridmap"});
  own.uid_mappings = {{0, 1000, 10}};
  own.gid_mappings = {{0, 2000, 10}, {10, 3000, 1}};
  c.mounts.push_back(own);
  auto p = must_plan(c);
  const auto& a = mount_at(*p, "/a");
  CHECK(a.idmap);
  CHECK_FALSE(a.idmap_recursive);
  CHECK(a.idmap_uid_map == id_map_text(c.linux->uid_mappings));
  CHECK_FALSE(a.prepared);
  const auto& b = mount_at(*p, "/b");
  CHECK(b.idmap_recursive);
  CHECK(b.idmap_uid_map == "0 1000 10\n");
  CHECK(b.idmap_gid_map == "0 2000 10\n10 3000 1\n");

  auto plain = default_config();
  plain.mounts.push_back(mnt("/a", "bind", "/src", {"bind", "idmap"}));
  CHECK_THAT(plan_error(plain).message(), Catch::Contains("idmap"));
}

TEST_CASE("set_cgroup_dirs: the manager's leaf dirs under /sys/fs/cgroup, else the init looks") {
  auto p = must_plan(default_config());
  SECTION("v1 / hybrid: one directory per hierarchy, links for co-mounted controllers") {
    set_cgroup_dirs(*p, "/sys/fs/cgroup/", false,
                    {"/sys/fs/cgroup/cpu,cpuacct/husk/x", "/sys/fs/cgroup/systemd/husk/x",
                     "/sys/fs/cgroup/unified/husk/x"});
    const auto& c = p->cgroup_dirs;
    REQUIRE(c.known);
    CHECK_FALSE(c.unified);
    REQUIRE(c.dirs.size() == 3);
    CHECK(c.dirs[0].name == "cpu,cpuacct");
    CHECK(c.dirs[0].host == "/sys/fs/cgroup/cpu,cpuacct/husk/x");
    CHECK(c.dirs[0].links == std::vector<std::string>{"cpu", "cpuacct"});
    CHECK(c.dirs[1].name == "systemd");
    CHECK(c.dirs[1].links.empty());
    CHECK(c.dirs[2].name == "unified");
  }
  SECTION("v2 only: the one directory") {
    set_cgroup_dirs(*p, "/sys/fs/cgroup", true, {"/sys/fs/cgroup/husk/x"});
    REQUIRE(p->cgroup_dirs.known);
    CHECK(p->cgroup_dirs.unified);
    REQUIRE(p->cgroup_dirs.dirs.size() == 1);
    CHECK(p->cgroup_dirs.dirs[0].host == "/sys/fs/cgroup/husk/x");
  }
  SECTION("another hierarchy root (HUSK_CGROUP_ROOT) or an odd layout: not planned") {
    set_cgroup_dirs(*p, "/sys/fs/cgroup/unified", true, {"/sys/fs/cgroup/unified/husk/x"});
    CHECK_FALSE(p->cgroup_dirs.known);
    set_cgroup_dirs(*p, "/sys/fs/cgroup", false, {"/sys/fs/cgroup/memory"});
    CHECK_FALSE(p->cgroup_dirs.known);
    set_cgroup_dirs(*p, "/sys/fs/cgroup", false, {"/elsewhere/memory/husk/x"});
    CHECK_FALSE(p->cgroup_dirs.known);
    set_cgroup_dirs(*p, "/sys/fs/cgroup", true, {});
    CHECK_FALSE(p->cgroup_dirs.known);
  }
}

TEST_CASE("masks go before the cgroups only where the order cannot change the result") {
  // The default config: proc, dev, ... mounted before the cgroup mount;
  // masks on /proc and /sys/firmware, readonly /proc/...: all disjoint from
  // /sys/fs/cgroup, /dev and cwd "/".
  auto base = default_config();
  REQUIRE(base.linux);
  REQUIRE_FALSE(base.linux->masked_paths.empty());
  CHECK(must_plan(base)->masks_before_cgroups);

  auto without = [&](auto change) {
    auto c = default_config();
    change(c);
    return must_plan(c)->masks_before_cgroups;
  };
  // Hooks may look at or mount over what masks cover.
  CHECK_FALSE(without([](spec::Config& c) {
    c.hooks.emplace().create_container.push_back(spec::Hook{"/bin/true", {}, {}, std::nullopt});
  }));
  CHECK_FALSE(without([](spec::Config& c) {
    c.hooks.emplace().prestart.push_back(spec::Hook{"/bin/true", {}, {}, std::nullopt});
  }));
  CHECK(without([](spec::Config& c) {  // after pivot_root: no matter
    c.hooks.emplace().start_container.push_back(spec::Hook{"/bin/true", {}, {}, std::nullopt});
  }));
  // sysctls are written through /proc/sys, a readonly path, before masks.
  CHECK_FALSE(without([](spec::Config& c) { c.linux->sysctl["kernel.shmmax"] = "1"; }));
  // A path under, or above, a mount made after the cgroups.
  CHECK_FALSE(
      without([](spec::Config& c) { c.linux->masked_paths.push_back("/sys/fs/cgroup/memory"); }));
  CHECK_FALSE(without([](spec::Config& c) { c.linux->readonly_paths.push_back("/sys"); }));
  CHECK_FALSE(without([](spec::Config& c) {
    c.mounts.push_back(mnt("/mnt", "tmpfs", "tmpfs", {}));  // listed after the cgroup mount
    c.linux->masked_paths.push_back("/mnt/secret");
  }));
  CHECK(without([](spec::Config& c) {
    c.mounts.insert(c.mounts.begin(), mnt("/mnt", "tmpfs", "tmpfs", {}));  // before it
    c.linux->masked_paths.push_back("/mnt/secret");
  }));
  // /dev is filled after the cgroups; process.cwd is made after them.
  CHECK_FALSE(without([](spec::Config& c) { c.linux->masked_paths.push_back("/dev/kmsg"); }));
  CHECK_FALSE(without([](spec::Config& c) { c.process->cwd = "/proc/acpi/x"; }));
  CHECK(without([](spec::Config& c) { c.process->cwd = "/work"; }));
}
