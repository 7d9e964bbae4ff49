#include "cgroup/layout.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cstdlib>

#include "base/strings.hpp"
#include "cgroup/fs.hpp"
#include "spec/json_read.hpp"
#include "spec/json_write.hpp"
#include "sys/mountinfo.hpp"

namespace husk::cgroup {

namespace json = spec::json;

namespace {

// Controllers of the v1 kernel; other super options (rw, relatime, xattr,
// clone_children, ...) are mount flags.
constexpr std::string_view kV1Controllers[] = {
    "cpu",      "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls",
    "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc"};

std::vector<std::string> v1_controllers_of(std::string_view super_opts) {
  std::vector<std::string> out;
  for (auto opt : split(super_opts, ',')) {
    bool known = std::find(std::begin(kV1Controllers), std::end(kV1Controllers), opt) !=
                 std::end(kV1Controllers);
    if (known || opt.starts_with("name=")) out.emplace_back(opt);
  }
  return out;
}

Result<long> fs_magic(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) return Error::last("statfs {}", path);
  return static_cast<long>(st.f_type);
}

std::vector<Hierarchy> v1_mounts(const std::vector<sys::MountInfoEntry>& mounts,
                                 const std::string& mount_root) {
  std::vector<Hierarchy> out;
  std::vector<std::string> seen_devs;
  for (const auto& m : mounts) {
    if (m.fstype != "cgroup") continue;
    if (m.mount_point.size() <= mount_root.size() + 1 ||
        !m.mount_point.starts_with(mount_root + "/") ||
        m.mount_point.find('/', mount_root.size() + 1) != std::string::npos) {
      continue;
    }
    if (std::find(seen_devs.begin(), seen_devs.end(), m.dev) != seen_devs.end()) continue;
    auto ctrls = v1_controllers_of(m.super_options);
    if (ctrls.empty()) continue;
    seen_devs.push_back(m.dev);
    out.push_back({m.mount_point, std::move(ctrls), false, 0});
  }
  return out;
}

bool cgroup2_at(const std::vector<sys::MountInfoEntry>& mounts, const std::string& path) {
  // Later lines are later mounts: the last one at `path` is what a lookup
  // of `path` reaches (what statfs(2) of it would report).
  bool cgroup2 = false;
  for (const auto& m : mounts) {
    if (m.mount_point == path) cgroup2 = m.fstype == "cgroup2";
  }
  return cgroup2;
}

// By path: O_NOFOLLOW applies to "mountinfo" only, and /proc/self resolves
// to this process as an opened /proc/self directory would (one open and
// close fewer). The read itself is the expensive part: the kernel formats
// every mount of the namespace, ~4 us per line here.
Result<std::string> read_mountinfo() { return fs::read_at(AT_FDCWD, "/proc/self/mountinfo"); }

Status discover_v1(Layout& l, const Options& opts) {
  auto mounts = sys::parse_mountinfo(TRY(read_mountinfo()));
  l.hierarchies = v1_mounts(mounts, opts.mount_root);
  if (l.hierarchies.empty()) {
    return Error::make(ErrorKind::Unsupported, "no cgroup v1 hierarchy is mounted under {}",
                       opts.mount_root);
  }
  // Hybrid layout (systemd's default before v2): processes are also placed in
  // the cgroup2 hierarchy mounted at <root>/unified, as runc does. The
  // mountinfo just read says so (no statfs of the directory).
  std::string unified = opts.mount_root + "/unified";
  if (cgroup2_at(mounts, unified)) l.hierarchies.push_back({unified, {}, true, 0});
  return {};
}

}  // namespace

bool Hierarchy::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::vector<std::string> Layout::components() const {
  std::vector<std::string> out;
  for (auto c : path_components(path)) out.emplace_back(c);
  return out;
}

const Hierarchy* Layout::find(std::string_view controller) const {
  for (const auto& h : hierarchies) {
    if (!h.unified && h.has(controller)) return &h;
  }
  return nullptr;
}

const Hierarchy* Layout::unified() const {
  for (const auto& h : hierarchies) {
    if (h.unified) return &h;
  }
  return nullptr;
}

Result<std::string> normalize_cgroups_path(const std::string& cgroups_path, const std::string& id) {
  std::string p = cgroups_path.empty() ? "/husk/" + id : cgroups_path;
  if (p.find("process_api") != std::string::npos) {
    return Error::spec("linux.cgroupsPath: \"{}\" is reserved (contains \"process_api\")", p);
  }
  std::string out;
  for (auto c : path_components(p)) {
    if (c == ".") continue;
    if (c == "..") return Error::spec("linux.cgroupsPath: \"..\" is not allowed, got \"{}\"", p);
    if (std::any_of(c.begin(), c.end(),
                    [](char ch) { return static_cast<unsigned char>(ch) < 0x20; })) {
      return Error::spec("linux.cgroupsPath: control characters are not allowed");
    }
    out += '/';
    out += c;
  }
  if (out.empty()) {
    return Error::spec(
        "linux.cgroupsPath: \"{}\" is the cgroup root, a container needs its own cgroup", p);
  }
  return out;
}

std::vector<Hierarchy> parse_v1_mounts(std::string_view mountinfo, const std::string& mount_root) {
  return v1_mounts(sys::parse_mountinfo(mountinfo), mount_root);
}

bool cgroup2_mounted_at(std::string_view mountinfo, const std::string& path) {
  return cgroup2_at(sys::parse_mountinfo(mountinfo), path);
}

Result<Layout> discover(const Options& opts) {
  if (opts.mount_root.empty() || opts.mount_root[0] != '/') {
    return Error::arg("cgroup mount root must be an absolute path, got \"{}\"", opts.mount_root);
  }
  Layout l;
  l.root = opts.mount_root;
  while (l.root.size() > 1 && l.root.back() == '/') l.root.pop_back();
  Options o = opts;
  o.mount_root = l.root;
  l.path = TRY(normalize_cgroups_path(opts.cgroups_path, opts.id));
  auto driver = opts.force_driver;
  if (!driver) {
    long magic = TRY(fs_magic(l.root));
    driver = magic == static_cast<long>(CGROUP2_SUPER_MAGIC) ? Driver::V2 : Driver::V1;
  }
  l.driver = *driver;
  if (l.driver == Driver::V1) {
    TRY(discover_v1(l, o));
  } else if (l.driver == Driver::V2) {
    TRY(fs::open_dir(l.root));
    l.hierarchies.push_back({l.root, {}, true, 0});
  } else {
    return Error::make(ErrorKind::Unsupported, "cgroup driver \"none\" is not implemented");
  }
  return l;
}

std::string serialize_layout(const Layout& l) {
  json::Buffer buf;
  json::Compact w(buf);
  w.StartObject();
  json::key(w, "version");
  w.Int(1);
  json::kv(w, "driver", l.driver == Driver::V1 ? "v1" : "v2");
  json::kv(w, "root", l.root);
  json::kv(w, "path", l.path);
  json::key(w, "hierarchies");
  w.StartArray();
  for (const auto& h : l.hierarchies) {
    w.StartObject();
    json::kv(w, "mount", h.mount);
    json::key(w, "controllers");
    json::str_array(w, h.controllers);
    json::key(w, "unified");
    w.Bool(h.unified);
    json::key(w, "created");
    w.Int(h.created);
    w.EndObject();
  }
  w.EndArray();
  if (!l.systemd_unit.empty()) {
    w.Key("systemdUnit");
    w.String(l.systemd_unit.c_str());
  }
  if (l.rootless) {
    w.Key("rootless");
    w.Bool(true);
  }
  w.EndObject();
  return json::take(buf);
}

namespace {

Result<Hierarchy> parse_hierarchy(const json::Value& v, const json::Path& path, size_t ncomp) {
  auto o = TRY(json::Object::of(v, path));
  Hierarchy h;
  TRY(o.req("mount", h.mount));
  TRY(o.req("controllers", h.controllers));
  TRY(o.req("unified", h.unified));
  TRY(o.req("created", h.created));
  if (h.mount.empty() || h.mount[0] != '/' || h.mount.find("process_api") != std::string::npos) {
    return Error::arg("invalid mount \"{}\"", h.mount);
  }
  if (h.created < 0 || static_cast<size_t>(h.created) > ncomp) {
    return Error::arg("invalid hierarchy \"{}\"", h.mount);
  }
  return h;
}

Result<Layout> read_layout(std::string_view s) {
  rapidjson::Document d;
  TRY(json::parse_document(s, d));
  auto o = TRY(json::Object::of(d, ""));
  Layout l;
  std::string driver;
  TRY(o.req("driver", driver));
  if (driver != "v1" && driver != "v2") return Error::arg("unknown driver {}", driver);
  l.driver = driver == "v1" ? Driver::V1 : Driver::V2;
  TRY(o.req("root", l.root));
  std::string path;
  TRY(o.req("path", path));
  l.path = TRY(normalize_cgroups_path(path, ""));
  if (l.path != path) return Error::arg("path \"{}\" is not normalized", path);
  const json::Value* hs = o.find("hierarchies");
  if (hs == nullptr || !hs->IsArray() || hs->Empty()) {
    return Error::arg("\"hierarchies\" must be a non-empty array");
  }
  const json::Path hs_path = o.path_of("hierarchies");
  size_t ncomp = l.components().size();
  for (rapidjson::SizeType i = 0; i < hs->Size(); ++i) {
    l.hierarchies.push_back(TRY(parse_hierarchy((*hs)[i], json::Path::index(hs_path, i), ncomp)));
  }
  const json::Value* rootless = o.find("rootless");
  l.rootless = rootless != nullptr && rootless->IsBool() && rootless->GetBool();
  TRY(o.opt("systemdUnit", l.systemd_unit));
  return l;
}

}  // namespace

Result<Layout> parse_layout(std::string_view s) { return TRY_CTX(read_layout(s), "cgroup record"); }

}  // namespace husk::cgroup
