#include "spec/parse.hpp"

#include <algorithm>
#include <string>

#include "spec/json_read.hpp"
#include "spec/names.hpp"

// One reader per config struct. They live in husk::spec (not an unnamed
// namespace) so the generic vector/map/optional readers of json_read.hpp
// find them by argument-dependent lookup.
namespace husk::spec {

using json::Object;
using json::Path;
using json::Value;

// Go omits "" for these optional strings and runc treats "" as unset; do
// the same so consumers can test the optional alone.
static void drop_empty(std::optional<std::string>& s) {
  if (s && s->empty()) s.reset();
}

static Status read(const Value& v, const Path& path, Root& r) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("path", r.path));
  return o.opt("readonly", r.readonly);
}

static Status read(const Value& v, const Path& path, IdMapping& m) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("containerID", m.container_id));
  TRY(o.req("hostID", m.host_id));
  return o.req("size", m.size);
}

static Status read(const Value& v, const Path& path, Mount& m) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("destination", m.destination));
  TRY(o.opt("type", m.type));
  TRY(o.opt("source", m.source));
  TRY(o.opt("options", m.options));
  TRY(o.opt("uidMappings", m.uid_mappings));
  return o.opt("gidMappings", m.gid_mappings);
}

static Status read(const Value& v, const Path& path, ConsoleSize& c) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("height", c.height));
  return o.req("width", c.width);
}

static Status read(const Value& v, const Path& path, Rlimit& r) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("type", r.type));
  TRY(o.req("hard", r.hard));
  return o.req("soft", r.soft);
}

static Status read(const Value& v, const Path& path, User& u) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("uid", u.uid));
  TRY(o.req("gid", u.gid));
  TRY(o.opt("umask", u.umask));
  TRY(o.opt("additionalGids", u.additional_gids));
  return o.opt("username", u.username);
}

static Status read(const Value& v, const Path& path, Capabilities& c) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("bounding", c.bounding));
  TRY(o.opt("effective", c.effective));
  TRY(o.opt("inheritable", c.inheritable));
  TRY(o.opt("permitted", c.permitted));
  return o.opt("ambient", c.ambient);
}

static Status read(const Value& v, const Path& path, Scheduler& s) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("policy", s.policy));
  TRY(o.opt("nice", s.nice));
  TRY(o.opt("priority", s.priority));
  TRY(o.opt("flags", s.flags));
  TRY(o.opt("runtime", s.runtime));
  TRY(o.opt("deadline", s.deadline));
  return o.opt("period", s.period);
}

static Status read(const Value& v, const Path& path, IoPriority& p) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("class", p.io_class));
  return o.req("priority", p.priority);
}

static Status read(const Value& v, const Path& path, ExecCpuAffinity& a) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("initial", a.initial));
  return o.opt("final", a.final_);
}

static Status read(const Value& v, const Path& path, Process& p) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("terminal", p.terminal));
  TRY(o.opt("consoleSize", p.console_size));
  TRY(o.opt("user", p.user));
  TRY(o.req("args", p.args));
  TRY(o.opt("commandLine", p.command_line));
  TRY(o.opt("env", p.env));
  TRY(o.req("cwd", p.cwd));
  TRY(o.opt("capabilities", p.capabilities));
  TRY(o.opt("rlimits", p.rlimits));
  TRY(o.opt("noNewPrivileges", p.no_new_privileges));
  TRY(o.opt("apparmorProfile", p.apparmor_profile));
  TRY(o.opt("oomScoreAdj", p.oom_score_adj));
  TRY(o.opt("scheduler", p.scheduler));
  TRY(o.opt("selinuxLabel", p.selinux_label));
  TRY(o.opt("ioPriority", p.io_priority));
  TRY(o.opt("execCPUAffinity", p.exec_cpu_affinity));
  drop_empty(p.apparmor_profile);
  drop_empty(p.selinux_label);
  return {};
}

static Status read(const Value& v, const Path& path, Hook& h) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("path", h.path));
  TRY(o.opt("args", h.args));
  TRY(o.opt("env", h.env));
  return o.opt("timeout", h.timeout);
}

static Status read(const Value& v, const Path& path, Hooks& h) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("prestart", h.prestart));
  TRY(o.opt("createRuntime", h.create_runtime));
  TRY(o.opt("createContainer", h.create_container));
  TRY(o.opt("startContainer", h.start_container));
  TRY(o.opt("poststart", h.poststart));
  return o.opt("poststop", h.poststop);
}

static Status read(const Value& v, const Path& path, Namespace& ns) {
  auto o = TRY(Object::of(v, path));
  std::string type;
  TRY(o.req("type", type));
  auto t = namespace_type_from_name(type);
  if (!t) return Error::spec("{}: unknown namespace type \"{}\"", o.path_of("type"), type);
  ns.type = *t;
  TRY(o.opt("path", ns.path));
  drop_empty(ns.path);
  return {};
}

static Status read(const Value& v, const Path& path, TimeOffset& t) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("secs", t.secs));
  return o.opt("nanosecs", t.nanosecs);
}

static Status read(const Value& v, const Path& path, Device& d) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("type", d.type));
  TRY(o.req("path", d.path));
  // major/minor stay optional: Go's omitempty drops a 0 (e.g. /dev/sda's minor).
  TRY(o.opt("major", d.major));
  TRY(o.opt("minor", d.minor));
  TRY(o.opt("fileMode", d.file_mode));
  TRY(o.opt("uid", d.uid));
  return o.opt("gid", d.gid);
}

static Status read(const Value& v, const Path& path, DeviceCgroup& d) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("allow", d.allow));
  TRY(o.opt("type", d.type));
  TRY(o.opt("major", d.major));
  TRY(o.opt("minor", d.minor));
  return o.opt("access", d.access);
}

static Status read(const Value& v, const Path& path, Memory& m) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("limit", m.limit));
  TRY(o.opt("reservation", m.reservation));
  TRY(o.opt("swap", m.swap));
  TRY(o.opt("kernel", m.kernel));
  TRY(o.opt("kernelTCP", m.kernel_tcp));
  TRY(o.opt("swappiness", m.swappiness));
  TRY(o.opt("disableOOMKiller", m.disable_oom_killer));
  TRY(o.opt("useHierarchy", m.use_hierarchy));
  return o.opt("checkBeforeUpdate", m.check_before_update);
}

static Status read(const Value& v, const Path& path, Cpu& c) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("shares", c.shares));
  TRY(o.opt("quota", c.quota));
  TRY(o.opt("burst", c.burst));
  TRY(o.opt("period", c.period));
  TRY(o.opt("realtimeRuntime", c.realtime_runtime));
  TRY(o.opt("realtimePeriod", c.realtime_period));
  TRY(o.opt("cpus", c.cpus));
  TRY(o.opt("mems", c.mems));
  return o.opt("idle", c.idle);
}

static Status read(const Value& v, const Path& path, WeightDevice& d) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("major", d.major));
  TRY(o.req("minor", d.minor));
  TRY(o.opt("weight", d.weight));
  return o.opt("leafWeight", d.leaf_weight);
}

static Status read(const Value& v, const Path& path, ThrottleDevice& d) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("major", d.major));
  TRY(o.req("minor", d.minor));
  return o.req("rate", d.rate);
}

static Status read(const Value& v, const Path& path, BlockIo& b) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("weight", b.weight));
  TRY(o.opt("leafWeight", b.leaf_weight));
  TRY(o.opt("weightDevice", b.weight_device));
  TRY(o.opt("throttleReadBpsDevice", b.throttle_read_bps_device));
  TRY(o.opt("throttleWriteBpsDevice", b.throttle_write_bps_device));
  TRY(o.opt("throttleReadIOPSDevice", b.throttle_read_iops_device));
  return o.opt("throttleWriteIOPSDevice", b.throttle_write_iops_device);
}

static Status read(const Value& v, const Path& path, HugepageLimit& h) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("pageSize", h.page_size));
  return o.req("limit", h.limit);
}

static Status read(const Value& v, const Path& path, NetworkPriority& p) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("name", p.name));
  return o.req("priority", p.priority);
}

static Status read(const Value& v, const Path& path, Network& n) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("classID", n.class_id));
  return o.opt("priorities", n.priorities);
}

static Status read(const Value& v, const Path& path, Rdma& r) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("hcaHandles", r.hca_handles));
  return o.opt("hcaObjects", r.hca_objects);
}

// pids.limit became optional with runtime-spec 1.3.0 (0 is now a real
// limit, so "unset" needs its own spelling): `"pids": {}` sets nothing.
static Status read_pids(const Object& parent, std::optional<Pids>& out) {
  const Value* v = parent.find("pids");
  if (v == nullptr) return {};
  auto o = TRY(Object::of(*v, parent.path_of("pids")));
  std::optional<int64_t> limit;
  TRY(o.opt("limit", limit));
  if (limit) out = Pids{*limit};
  return {};
}

static Status read(const Value& v, const Path& path, Resources& r) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("devices", r.devices));
  TRY(o.opt("memory", r.memory));
  TRY(o.opt("cpu", r.cpu));
  TRY(o.opt("blockIO", r.block_io));
  TRY(o.opt("hugepageLimits", r.hugepage_limits));
  TRY(o.opt("network", r.network));
  TRY(read_pids(o, r.pids));
  TRY(o.opt("rdma", r.rdma));
  return o.opt("unified", r.unified);
}

static Status read(const Value& v, const Path& path, SeccompArg& a) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("index", a.index));
  TRY(o.req("value", a.value));
  TRY(o.opt("valueTwo", a.value_two));
  return o.req("op", a.op);
}

static Status read(const Value& v, const Path& path, SeccompSyscall& s) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("names", s.names));
  TRY(o.req("action", s.action));
  TRY(o.opt("errnoRet", s.errno_ret));
  return o.opt("args", s.args);
}

static Status read(const Value& v, const Path& path, Seccomp& s) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("defaultAction", s.default_action));
  TRY(o.opt("defaultErrnoRet", s.default_errno_ret));
  TRY(o.opt("architectures", s.architectures));
  TRY(o.opt("flags", s.flags));
  TRY(o.opt("listenerPath", s.listener_path));
  TRY(o.opt("listenerMetadata", s.listener_metadata));
  TRY(o.opt("syscalls", s.syscalls));
  drop_empty(s.listener_path);
  drop_empty(s.listener_metadata);
  return {};
}

static Status read(const Value& v, const Path& path, IntelRdt& r) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("closID", r.clos_id));
  TRY(o.opt("l3CacheSchema", r.l3_cache_schema));
  TRY(o.opt("memBwSchema", r.mem_bw_schema));
  TRY(o.opt("schemata", r.schemata));
  return o.opt("enableMonitoring", r.enable_monitoring);
}

static Status read(const Value& v, const Path& path, NetDevice& d) {
  auto o = TRY(Object::of(v, path));
  return o.opt("name", d.name);
}

static Status read(const Value& v, const Path& path, MemoryPolicy& m) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("mode", m.mode));
  TRY(o.opt("nodes", m.nodes));
  return o.opt("flags", m.flags);
}

static Status read(const Value& v, const Path& path, Personality& p) {
  auto o = TRY(Object::of(v, path));
  TRY(o.req("domain", p.domain));
  return o.opt("flags", p.flags);
}

static Status read(const Value& v, const Path& path, Linux& l) {
  auto o = TRY(Object::of(v, path));
  TRY(o.opt("namespaces", l.namespaces));
  TRY(o.opt("uidMappings", l.uid_mappings));
  TRY(o.opt("gidMappings", l.gid_mappings));
  TRY(o.opt("timeOffsets", l.time_offsets));
  TRY(o.opt("devices", l.devices));
  TRY(o.opt("netDevices", l.net_devices));
  TRY(o.opt("cgroupsPath", l.cgroups_path));
  TRY(o.opt("resources", l.resources));
  TRY(o.opt("rootfsPropagation", l.rootfs_propagation));
  TRY(o.opt("seccomp", l.seccomp));
  TRY(o.opt("sysctl", l.sysctl));
  TRY(o.opt("maskedPaths", l.masked_paths));
  TRY(o.opt("readonlyPaths", l.readonly_paths));
  TRY(o.opt("mountLabel", l.mount_label));
  TRY(o.opt("intelRdt", l.intel_rdt));
  TRY(o.opt("memoryPolicy", l.memory_policy));
  TRY(o.opt("personality", l.personality));
  drop_empty(l.rootfs_propagation);
  drop_empty(l.mount_label);
  return {};
}

namespace {

// SemVer 2.0.0 numeric identifier: digits, no leading zero unless "0".
bool numeric_id(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  if (s.find_first_not_of("0123456789") != std::string_view::npos) return false;
  return s == "0" || s[0] != '0';
}

// Dot-separated, non-empty [0-9A-Za-z-] identifiers; pre-release numeric
// identifiers may not have leading zeros.
bool dotted_ids(std::string_view s, bool prerelease) {
  constexpr std::string_view kChars =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-";
  while (true) {
    const size_t dot = s.find('.');
    const std::string_view id = s.substr(0, dot);
    if (id.empty() || id.find_first_not_of(kChars) != std::string_view::npos) return false;
    const bool all_digits = id.find_first_not_of("0123456789") == std::string_view::npos;
    if (prerelease && all_digits && id.size() > 1 && id[0] == '0') return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

struct SemVer {
  unsigned major = 0;
  unsigned minor = 0;
};

std::optional<SemVer> parse_semver(std::string_view v) {
  const size_t suffix = v.find_first_of("-+");
  std::string_view core = v.substr(0, suffix);
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    const size_t dot = core.find('.');
    if ((i < 2) == (dot == std::string_view::npos)) return std::nullopt;
    parts[i] = core.substr(0, dot);
    if (!numeric_id(parts[i])) return std::nullopt;
    if (dot != std::string_view::npos) core.remove_prefix(dot + 1);
  }
  if (suffix != std::string_view::npos) {
    std::string_view rest = v.substr(suffix);
    const size_t plus = rest.find('+');
    if (rest[0] == '-' && !dotted_ids(rest.substr(1, plus == 0 ? 0 : plus - 1), true)) {
      return std::nullopt;
    }
    if (plus != std::string_view::npos && !dotted_ids(rest.substr(plus + 1), false)) {
      return std::nullopt;
    }
  }
  return SemVer{static_cast<unsigned>(std::stoul(std::string(parts[0]))),
                static_cast<unsigned>(std::stoul(std::string(parts[1])))};
}

}  // namespace

Status check_oci_version(std::string_view version) {
  auto sv = parse_semver(version);
  if (!sv) return Error::spec("ociVersion: \"{}\" is not a SemVer 2.0.0 version", version);
  if (sv->major != 1 || sv->minor > 3) {
    return Error::spec("ociVersion: unsupported version \"{}\" (husk supports {} to 1.3.x)",
                       version, kOciVersionMin);
  }
  return {};
}

static Status read_config(const Object& o, Config& c) {
  TRY(o.req("ociVersion", c.oci_version));
  if (o.find("ociVersion") != nullptr) TRY(o.settle(check_oci_version(c.oci_version)));
  TRY(o.opt("root", c.root));
  TRY(o.opt("mounts", c.mounts));
  TRY(o.opt("process", c.process));
  TRY(o.opt("hostname", c.hostname));
  TRY(o.opt("domainname", c.domainname));
  TRY(o.opt("hooks", c.hooks));
  TRY(o.opt("annotations", c.annotations));
  return o.opt("linux", c.linux);
}

Result<Config> parse_config(std::string_view text) {
  rapidjson::Document doc;
  TRY(json::parse_document(text, doc));
  auto o = TRY(Object::of(doc, ""));
  Config c;
  TRY(read_config(o, c));
  return c;
}

// Members of schema objects that are not in the schema but one or two
// letters away from a name that is: most likely typos, which runc (and the
// spec: unknown fields are ignored) would pass over in silence.
static void report_near_misses(const json::Survey& survey, Diagnostics& d) {
  for (const auto& seen : survey.objects()) {
    for (auto it = seen.object->MemberBegin(); it != seen.object->MemberEnd(); ++it) {
      const std::string_view name(it->name.GetString(), it->name.GetStringLength());
      if (std::find(seen.keys.begin(), seen.keys.end(), name) != seen.keys.end()) continue;
      auto guess = near_miss(name, seen.keys);
      if (!guess) continue;
      std::string path =
          seen.path.empty() ? std::string(name) : seen.path + "." + std::string(name);
      d.add(Severity::Warning, std::move(path), fmt::format("unknown field \"{}\"", name),
            std::string(*guess));
    }
  }
}

Result<Config> parse_config_lenient(std::string_view text, Diagnostics& d) {
  rapidjson::Document doc;
  TRY(json::parse_document(text, doc));
  json::Survey survey;
  const json::Path root(&survey);
  auto o = TRY(Object::of(doc, root));
  Config c;
  TRY(read_config(o, c));
  for (const auto& e : survey.errors()) d.error(e);
  report_near_misses(survey, d);
  return c;
}

Result<Resources> parse_resources(std::string_view text) {
  rapidjson::Document doc;
  TRY(json::parse_document(text, doc));
  Resources r;
  TRY(read(doc, "", r));
  return r;
}

Result<Process> parse_process(std::string_view text) {
  rapidjson::Document doc;
  TRY(json::parse_document(text, doc));
  Process p;
  TRY(read(doc, "", p));
  return p;
}

}  // namespace husk::spec
