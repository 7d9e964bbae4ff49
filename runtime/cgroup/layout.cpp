#include "cgroup/layout.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cstdlib>

#include "cgroup/fs.hpp"

namespace husk::cgroup {

namespace {

// Controllers of the v1 kernel; other super options (rw, relatime, xattr,
// clone_children, ...) are mount flags.
constexpr std::string_view kV1Controllers[] = {
    "cpu",      "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls",
    "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc"};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(sep, b);
    if (e == std::string_view::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo (proc(5)).
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        ok = ok && c >= '0' && c <= '7';
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

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

// By path: O_NOFOLLOW applies to "mountinfo" only, and /proc/self resolves
// to this process as an opened /proc/self directory would (one open and
// close fewer). The read itself is the expensive part: the kernel formats
// every mount of the namespace, ~4 us per line here.
Result<std::string> read_mountinfo() { return fs::read_at(AT_FDCWD, "/proc/self/mountinfo"); }

Status discover_v1(Layout& l, const Options& opts) {
  auto mi = TRY(read_mountinfo());
  l.hierarchies = parse_v1_mounts(mi, opts.mount_root);
  if (l.hierarchies.empty()) {
    return Error::make(ErrorKind::Unsupported, "no cgroup v1 hierarchy is mounted under {}",
                       opts.mount_root);
  }
  // Hybrid layout (systemd's default before v2): processes are also placed in
  // the cgroup2 hierarchy mounted at <root>/unified, as runc does. The
  // mountinfo just read says so (no statfs of the directory).
  std::string unified = opts.mount_root + "/unified";
  if (cgroup2_mounted_at(mi, unified)) l.hierarchies.push_back({unified, {}, true, 0});
  return {};
}

}  // namespace

bool Hierarchy::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::vector<std::string> Layout::components() const {
  std::vector<std::string> out;
  for (auto c : split(path, '/')) {
    if (!c.empty()) out.emplace_back(c);
  }
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
  for (auto c : split(p, '/')) {
    if (c.empty() || c == ".") continue;
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
  std::vector<Hierarchy> out;
  std::vector<std::string> seen_devs;
  for (auto line : split(mountinfo, '\n')) {
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto pre = split(line.substr(0, dash), ' ');
    auto post = split(line.substr(dash + 3), ' ');
    if (pre.size() < 6 || post.size() < 3 || post[0] != "cgroup") continue;
    std::string mount = unescape(pre[4]);
    if (mount.size() <= mount_root.size() + 1 || !mount.starts_with(mount_root + "/") ||
        mount.find('/', mount_root.size() + 1) != std::string::npos) {
      continue;
    }
    std::string dev(pre[2]);
    if (std::find(seen_devs.begin(), seen_devs.end(), dev) != seen_devs.end()) continue;
    auto ctrls = v1_controllers_of(post[2]);
    if (ctrls.empty()) continue;
    seen_devs.push_back(dev);
    out.push_back({mount, std::move(ctrls), false, 0});
  }
  return out;
}

bool cgroup2_mounted_at(std::string_view mountinfo, const std::string& path) {
  // Later lines are later mounts: the last one at `path` is what a lookup
  // of `path` reaches (what statfs(2) of it would report).
  bool cgroup2 = false;
  for (auto line : split(mountinfo, '\n')) {
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto pre = split(line.substr(0, dash), ' ');
    if (pre.size() < 6 || unescape(pre[4]) != path) continue;
    auto post = split(line.substr(dash + 3), ' ');
    cgroup2 = !post.empty() && post[0] == "cgroup2";
  }
  return cgroup2;
}

Result<Layout> discover(const Options& opts) {
  if (opts.systemd) {
    return Error::make(ErrorKind::Unsupported,
                       "--systemd-cgroup: the systemd cgroup manager is not supported");
  }
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
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  w.Key("driver");
  w.String(l.driver == Driver::V1 ? "v1" : "v2");
  w.Key("root");
  w.String(l.root.c_str());
  w.Key("path");
  w.String(l.path.c_str());
  w.Key("hierarchies");
  w.StartArray();
  for (const auto& h : l.hierarchies) {
    w.StartObject();
    w.Key("mount");
    w.String(h.mount.c_str());
    w.Key("controllers");
    w.StartArray();
    for (const auto& c : h.controllers) w.String(c.c_str());
    w.EndArray();
    w.Key("unified");
    w.Bool(h.unified);
    w.Key("created");
    w.Int(h.created);
    w.EndObject();
  }
  w.EndArray();
  if (l.rootless) {
    w.Key("rootless");
    w.Bool(true);
  }
  w.EndObject();
  return buf.GetString();
}

namespace {

// The member's value, or nullptr (RapidJSON's operator[] asserts on absence).
const rapidjson::Value* member(const rapidjson::Value& o, const char* key) {
  return o.HasMember(key) ? &o[key] : nullptr;
}

Result<std::string> get_string(const rapidjson::Value& o, const char* key) {
  const auto* v = member(o, key);
  if (v == nullptr || !v->IsString()) {
    return Error::arg("cgroup record: \"{}\" must be a string", key);
  }
  return std::string(v->GetString(), v->GetStringLength());
}

Result<Hierarchy> parse_hierarchy(const rapidjson::Value& v, size_t ncomp) {
  if (!v.IsObject()) return Error::arg("cgroup record: hierarchy must be an object");
  Hierarchy h;
  h.mount = TRY(get_string(v, "mount"));
  if (h.mount.empty() || h.mount[0] != '/' || h.mount.find("process_api") != std::string::npos) {
    return Error::arg("cgroup record: invalid mount \"{}\"", h.mount);
  }
  const auto* c = member(v, "controllers");
  if (c == nullptr || !c->IsArray()) return Error::arg("cgroup record: controllers");
  for (const auto& s : c->GetArray()) {
    if (!s.IsString()) return Error::arg("cgroup record: controllers must be strings");
    h.controllers.emplace_back(s.GetString(), s.GetStringLength());
  }
  const auto* u = member(v, "unified");
  const auto* n = member(v, "created");
  if (u == nullptr || !u->IsBool() || n == nullptr || !n->IsInt() || n->GetInt() < 0 ||
      static_cast<size_t>(n->GetInt()) > ncomp) {
    return Error::arg("cgroup record: invalid hierarchy \"{}\"", h.mount);
  }
  h.unified = u->GetBool();
  h.created = n->GetInt();
  return h;
}

}  // namespace

Result<Layout> parse_layout(std::string_view s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  if (d.HasParseError() || !d.IsObject()) return Error::arg("cgroup record: not a JSON object");
  Layout l;
  auto driver = TRY(get_string(d, "driver"));
  if (driver != "v1" && driver != "v2")
    return Error::arg("cgroup record: unknown driver {}", driver);
  l.driver = driver == "v1" ? Driver::V1 : Driver::V2;
  l.root = TRY(get_string(d, "root"));
  std::string path = TRY(get_string(d, "path"));
  l.path = TRY_CTX(normalize_cgroups_path(path, ""), "cgroup record");
  if (l.path != path) return Error::arg("cgroup record: path \"{}\" is not normalized", path);
  const auto* hs = member(d, "hierarchies");
  if (hs == nullptr || !hs->IsArray() || hs->Empty()) {
    return Error::arg("cgroup record: \"hierarchies\" must be a non-empty array");
  }
  size_t ncomp = l.components().size();
  for (const auto& h : hs->GetArray()) l.hierarchies.push_back(TRY(parse_hierarchy(h, ncomp)));
  const auto* rootless = member(d, "rootless");
  l.rootless = rootless != nullptr && rootless->IsBool() && rootless->GetBool();
  return l;
}

}  // namespace husk::cgroup
