#include "spec/features.hpp"

#include "spec/json_write.hpp"
#include "spec/mount_options.hpp"
#include "spec/names.hpp"
#include "spec/parse.hpp"

#ifndef HUSK_VERSION
#define HUSK_VERSION "unknown"
#endif
#ifndef HUSK_GIT_COMMIT
#define HUSK_GIT_COMMIT ""
#endif

namespace husk::spec {
namespace {

constexpr std::string_view kHooks[] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

std::vector<std::string> names_of(std::span<const NamedValue> table) {
  std::vector<std::string> out;
  for (const auto& e : table) out.emplace_back(e.name);
  return out;
}

void write_bool_object(json::Pretty& w, std::string_view name, bool enabled) {
  json::key(w, name);
  w.StartObject();
  json::key(w, "enabled");
  w.Bool(enabled);
  w.EndObject();
}

void write_cgroup(json::Pretty& w, const FeaturesInput& in) {
  json::key(w, "cgroup");
  w.StartObject();
  const std::pair<std::string_view, bool> items[] = {
      {"v1", in.cgroup_v1},           {"v2", in.cgroup_v2},
      {"systemd", in.cgroup_systemd}, {"systemdUser", in.cgroup_systemd_user},
      {"rdma", in.cgroup_rdma},
  };
  for (const auto& [k, v] : items) {
    json::key(w, k);
    w.Bool(v);
  }
  w.EndObject();
}

void write_seccomp(json::Pretty& w, const FeaturesInput& in) {
  json::key(w, "seccomp");
  w.StartObject();
  json::key(w, "enabled");
  w.Bool(in.seccomp_enabled);
  if (in.seccomp_enabled) {
    const std::pair<std::string_view, const std::vector<std::string>*> lists[] = {
        {"actions", &in.seccomp_actions},
        {"operators", &in.seccomp_operators},
        {"archs", &in.seccomp_archs},
        {"knownFlags", &in.seccomp_known_flags},
        {"supportedFlags", &in.seccomp_supported_flags},
    };
    for (const auto& [k, list] : lists) {
      json::key(w, k);
      json::str_array(w, *list);
    }
  }
  w.EndObject();
}

void write_linux(json::Pretty& w, const FeaturesInput& in) {
  json::key(w, "linux");
  w.StartObject();
  json::key(w, "namespaces");
  w.StartArray();
  for (NamespaceType t : all_namespace_types()) json::str(w, namespace_type_name(t));
  w.EndArray();
  json::key(w, "capabilities");
  json::str_array(w, in.capabilities);
  write_cgroup(w, in);
  write_seccomp(w, in);
  write_bool_object(w, "apparmor", in.apparmor);
  write_bool_object(w, "selinux", in.selinux);
  write_bool_object(w, "intelRdt", in.intel_rdt);
  json::key(w, "mountExtensions");
  w.StartObject();
  write_bool_object(w, "idmap", in.idmap_mounts);
  w.EndObject();
  write_bool_object(w, "netDevices", in.net_devices);
  json::key(w, "memoryPolicy");
  w.StartObject();
  json::key(w, "modes");
  json::str_array(w, in.memory_policy_modes);
  json::key(w, "flags");
  json::str_array(w, in.memory_policy_flags);
  w.EndObject();
  w.EndObject();
}

}  // namespace

FeaturesInput default_features_input() {
  FeaturesInput in;
  for (SeccompAction a : all_seccomp_actions())
    in.seccomp_actions.emplace_back(seccomp_action_name(a));
  for (SeccompOp op : all_seccomp_ops()) in.seccomp_operators.emplace_back(seccomp_op_name(op));
  in.seccomp_archs = names_of(seccomp_arch_table());
  in.seccomp_known_flags = names_of(seccomp_flag_table());
  in.seccomp_supported_flags = in.seccomp_known_flags;
  return in;
}

std::string features_json(const FeaturesInput& in) {
  json::Buffer buf;
  json::Pretty w(buf);
  w.SetIndent(' ', 4);
  w.StartObject();
  json::kv(w, "ociVersionMin", kOciVersionMin);
  json::kv(w, "ociVersionMax", kOciVersionMax);
  json::key(w, "hooks");
  json::str_array(w, std::span<const std::string_view>(kHooks));
  json::key(w, "mountOptions");
  const auto opts = supported_mount_options();
  json::str_array(w, std::span<const std::string_view>(opts));
  write_linux(w, in);
  json::key(w, "annotations");
  std::map<std::string, std::string> ann = {{"io.husk.version", HUSK_VERSION}};
  if (!std::string_view(HUSK_GIT_COMMIT).empty()) ann["io.husk.commit"] = HUSK_GIT_COMMIT;
  for (const auto& [k, v] : in.annotations) ann[k] = v;
  json::str_map(w, ann);
  json::key(w, "potentiallyUnsafeConfigAnnotations");
  json::str_array(w, in.potentially_unsafe_annotations);
  w.EndObject();
  return json::take(buf);
}

}  // namespace husk::spec
