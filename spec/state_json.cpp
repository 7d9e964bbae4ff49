#include "spec/state_json.hpp"

#include <fmt/format.h>

#include <span>

#include "spec/json_read.hpp"
#include "spec/json_write.hpp"

namespace husk::spec {
namespace {

using state::ContainerState;
using state::Phase;

constexpr std::pair<Phase, std::string_view> kPhases[] = {
    {Phase::Creating, "creating"},
    {Phase::Created, "created"},
    {Phase::Running, "running"},
    {Phase::Stopped, "stopped"},
};

Result<Phase> parse_phase(const json::Object& o) {
  std::string name;
  TRY(o.req("phase", name));
  for (const auto& [phase, n] : kPhases) {
    if (n == name) return phase;
  }
  return Error::spec("{}: unknown phase \"{}\"", o.path_of("phase"), name);
}

Status read_record(const json::Object& o, ContainerState& st) {
  int version = 0;
  TRY(o.req("huskStateVersion", version));
  if (version != kStateRecordVersion) {
    return Error::spec("huskStateVersion: unsupported record version {} (expected {})", version,
                       kStateRecordVersion);
  }
  TRY(o.req("id", st.id));
  st.phase = TRY(parse_phase(o));
  TRY(o.opt("ociVersion", st.oci_version));
  int32_t pid = 0;
  TRY(o.opt("pid", pid));
  if (pid < 0) return Error::spec("pid: must be >= 0, got {}", pid);
  st.pid = pid;
  TRY(o.opt("pidStartTime", st.pid_start_time));
  TRY(o.req("bundle", st.bundle));
  TRY(o.opt("rootfs", st.rootfs));
  TRY(o.opt("created", st.created));
  TRY(o.opt("owner", st.owner));
  TRY(o.opt("annotations", st.annotations));
  TRY(o.opt("cgroup", st.cgroup));
  TRY(o.opt("systemdCgroup", st.systemd_cgroup));
  return o.opt("rootless", st.rootless);
}

}  // namespace

std::string_view phase_name(Phase p) {
  for (const auto& [phase, n] : kPhases) {
    if (phase == p) return n;
  }
  return "unknown";
}

namespace {

// runc's containerState, field for field (annotations, when any, before owner).
template <typename Writer>
void write_oci_state(Writer& w, const ContainerState& st, std::string_view status) {
  w.StartObject();
  json::kv(w, "ociVersion", st.oci_version);
  json::kv(w, "id", st.id);
  json::key(w, "pid");
  w.Int(st.pid);
  json::kv(w, "status", status);
  json::kv(w, "bundle", st.bundle);
  json::kv(w, "rootfs", st.rootfs);
  json::kv(w, "created", st.created);
  if (!st.annotations.empty()) {
    json::key(w, "annotations");
    json::str_map(w, st.annotations);
  }
  json::kv(w, "owner", st.owner);
  w.EndObject();
}

}  // namespace

std::string oci_state_json(const ContainerState& st, std::string_view status) {
  json::Buffer buf;
  json::Pretty w(buf);
  w.SetIndent(' ', 2);
  write_oci_state(w, st, status);
  return json::take(buf);
}

std::string oci_state_json_compact(const ContainerState& st, std::string_view status) {
  json::Buffer buf;
  json::Compact w(buf);
  write_oci_state(w, st, status);
  return json::take(buf);
}

namespace {

// runtime.md "State": the OCI state alone.
template <typename Writer>
void write_hook_state(Writer& w, const ContainerState& st, std::string_view status) {
  w.StartObject();
  json::kv(w, "ociVersion", st.oci_version);
  json::kv(w, "id", st.id);
  json::kv(w, "status", status);
  if (st.pid != 0) {
    json::key(w, "pid");
    w.Int(st.pid);
  }
  json::kv(w, "bundle", st.bundle);
  if (!st.annotations.empty()) {
    json::key(w, "annotations");
    json::str_map(w, st.annotations);
  }
  w.EndObject();
}

}  // namespace

std::string hook_state_json(const ContainerState& st, std::string_view status) {
  json::Buffer buf;
  json::Compact w(buf);
  write_hook_state(w, st, status);
  return json::take(buf);
}

std::string container_process_state_json(const ContainerState& st, std::string_view status, int pid,
                                         const std::optional<std::string>& metadata) {
  json::Buffer buf;
  json::Compact w(buf);
  w.StartObject();
  json::kv(w, "ociVersion", st.oci_version);
  json::key(w, "fds");
  constexpr std::string_view kFds[] = {"seccompFd"};
  json::str_array(w, std::span<const std::string_view>(kFds));
  json::key(w, "pid");
  w.Int(pid);
  if (metadata) json::kv(w, "metadata", *metadata);
  json::key(w, "state");
  write_hook_state(w, st, status);
  w.EndObject();
  return json::take(buf);
}

std::string to_json(const ContainerState& st) {
  json::Buffer buf;
  json::Compact w(buf);
  w.StartObject();
  json::key(w, "huskStateVersion");
  w.Int(kStateRecordVersion);
  json::kv(w, "ociVersion", st.oci_version);
  json::kv(w, "id", st.id);
  json::kv(w, "phase", phase_name(st.phase));
  json::key(w, "pid");
  w.Int(st.pid);
  json::key(w, "pidStartTime");
  w.Uint64(st.pid_start_time);
  json::kv(w, "bundle", st.bundle);
  json::kv(w, "rootfs", st.rootfs);
  json::kv(w, "created", st.created);
  json::kv(w, "owner", st.owner);
  json::key(w, "annotations");
  json::str_map(w, st.annotations);
  json::kv(w, "cgroup", st.cgroup);
  json::key(w, "systemdCgroup");
  w.Bool(st.systemd_cgroup);
  json::key(w, "rootless");
  w.Bool(st.rootless);
  w.EndObject();
  return json::take(buf);
}

Result<ContainerState> parse_container_state(std::string_view text) {
  rapidjson::Document doc;
  std::string buf;
  TRY(json::parse_document_in(text, buf, doc));
  auto o = TRY(json::Object::of(doc, ""));
  ContainerState st;
  TRY(read_record(o, st));
  return st;
}

std::string rfc3339_utc(long long seconds, long nanoseconds) {
  // Days since 1970-01-01 to a civil date (proleptic Gregorian), the
  // well-known era-based conversion.
  long long days = seconds / 86400;
  long long rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  days += 719468;
  const long long era = (days >= 0 ? days : days - 146096) / 146097;
  const long long doe = days - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long long mp = (5 * doy + 2) / 153;
  const long long day = doy - (153 * mp + 2) / 5 + 1;
  const long long month = mp < 10 ? mp + 3 : mp - 9;
  const long long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", year, month, day, rem / 3600,
                     rem / 60 % 60, rem % 60, nanoseconds);
}

}  // namespace husk::spec
