#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <string>

#include "spec/features.hpp"
#include "spec/mount_options.hpp"
#include "spec/names.hpp"
#include "test_util.hpp"

using husk::spec::default_features_input;
using husk::spec::features_json;
using husk::spec::FeaturesInput;

namespace {

rapidjson::Document parse(const std::string& s) { return husk::test::parse_json_object(s); }

std::vector<std::string> strings(const rapidjson::Value& v) {
  REQUIRE(v.IsArray());
  std::vector<std::string> out;
  for (const auto& e : v.GetArray()) out.emplace_back(e.GetString());
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("features: versions, hooks and mount options") {
  const std::string out = features_json(default_features_input());
  CHECK(out.starts_with("{\n    \"ociVersionMin\": \"1.0.0\",\n    \"ociVersionMax\": \"1.3.0\""));
  auto d = parse(out);
  CHECK(strings(d["hooks"]) == std::vector<std::string>{"prestart", "createRuntime",
                                                        "createContainer", "startContainer",
                                                        "poststart", "poststop"});
  const auto opts = strings(d["mountOptions"]);
  CHECK(opts.size() == husk::spec::known_mount_options().size() - 1);
  // Refused on every mount (runtime/linux/mount.cpp): not advertised.
  CHECK_FALSE(contains(opts, "iversion"));
  CHECK(contains(opts, "noiversion"));
  for (const char* o : {"rbind", "rro", "ridmap", "tmpcopyup", "nosymfollow", "rnoatime"}) {
    CHECK(contains(opts, o));
  }
  CHECK_FALSE(contains(opts, "mode=755"));
}

TEST_CASE("features: linux section with defaults") {
  auto d = parse(features_json(default_features_input()));
  const auto& l = d["linux"];
  CHECK(strings(l["namespaces"]) == std::vector<std::string>{"pid", "network", "mount", "ipc",
                                                             "uts", "user", "cgroup", "time"});
  // spec/ has no capability table: the runtime passes libcap's names in
  // (capabilities_test.cpp checks that list).
  CHECK(strings(l["capabilities"]).empty());
  CHECK(l["cgroup"]["v1"].GetBool());
  CHECK(l["cgroup"]["v2"].GetBool());
  CHECK(l["cgroup"]["systemd"].GetBool());  // --systemd-cgroup on the system bus
  CHECK_FALSE(l["cgroup"]["systemdUser"].GetBool());
  CHECK(l["cgroup"]["rdma"].GetBool());
  const auto& sc = l["seccomp"];
  CHECK(sc["enabled"].GetBool());
  const auto actions = strings(sc["actions"]);
  CHECK(actions.size() == 9);
  CHECK(contains(actions, "SCMP_ACT_NOTIFY"));
  CHECK(contains(actions, "SCMP_ACT_KILL_PROCESS"));
  CHECK(strings(sc["operators"]).size() == 7);
  CHECK(strings(sc["archs"]).size() == 23);
  CHECK(strings(sc["knownFlags"]).size() == 4);
  CHECK(strings(sc["supportedFlags"]).size() == 4);
  CHECK_FALSE(l["apparmor"]["enabled"].GetBool());
  CHECK_FALSE(l["selinux"]["enabled"].GetBool());
  CHECK_FALSE(l["intelRdt"]["enabled"].GetBool());
  CHECK(l["mountExtensions"]["idmap"]["enabled"].GetBool());
  CHECK_FALSE(l["netDevices"]["enabled"].GetBool());
  // create refuses linux.memoryPolicy: no mode or flag is supported, said
  // explicitly (an absent object would mean "unknown").
  REQUIRE(l.HasMember("memoryPolicy"));
  CHECK(strings(l["memoryPolicy"]["modes"]).empty());
  CHECK(strings(l["memoryPolicy"]["flags"]).empty());
}

TEST_CASE("features: the dynamic parts follow the input") {
  FeaturesInput in = default_features_input();
  in.cgroup_v1 = false;
  in.cgroup_systemd = false;
  in.idmap_mounts = false;
  in.capabilities = {"CAP_CHOWN", "CAP_KILL"};
  in.seccomp_archs = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  in.seccomp_supported_flags = {"SECCOMP_FILTER_FLAG_TSYNC"};
  in.annotations["io.github.seccomp.libseccomp.version"] = "2.5.4";
  in.potentially_unsafe_annotations = {"run.husk."};
  auto d = parse(features_json(in));
  const auto& l = d["linux"];
  CHECK_FALSE(l["cgroup"]["v1"].GetBool());
  CHECK_FALSE(l["cgroup"]["systemd"].GetBool());
  CHECK_FALSE(l["mountExtensions"]["idmap"]["enabled"].GetBool());
  CHECK(strings(l["capabilities"]) == in.capabilities);
  CHECK(strings(l["seccomp"]["archs"]) == in.seccomp_archs);
  CHECK(strings(l["seccomp"]["supportedFlags"]) == in.seccomp_supported_flags);
  CHECK(std::string(d["annotations"]["io.github.seccomp.libseccomp.version"].GetString()) ==
        "2.5.4");
  CHECK(d["annotations"].HasMember("io.husk.version"));
  CHECK(strings(d["potentiallyUnsafeConfigAnnotations"]) == std::vector<std::string>{"run.husk."});
}

TEST_CASE("features: seccomp disabled has no lists") {
  FeaturesInput in = default_features_input();
  in.seccomp_enabled = false;
  auto d = parse(features_json(in));
  const auto& sc = d["linux"]["seccomp"];
  CHECK_FALSE(sc["enabled"].GetBool());
  CHECK_FALSE(sc.HasMember("actions"));
  CHECK_FALSE(sc.HasMember("archs"));
}

TEST_CASE("features: every listed name is one husk's parser accepts") {
  auto d = parse(features_json(default_features_input()));
  const auto& l = d["linux"];
  for (const auto& ns : strings(l["namespaces"])) {
    CHECK(husk::spec::namespace_type_from_name(ns));
  }
  for (const auto& a : strings(l["seccomp"]["actions"])) {
    CHECK(husk::spec::seccomp_action_from_name(a));
  }
  for (const auto& a : strings(l["seccomp"]["archs"])) CHECK(husk::spec::seccomp_arch_from_name(a));
  for (const auto& f : strings(l["seccomp"]["knownFlags"])) {
    CHECK(husk::spec::seccomp_flag_from_name(f));
  }
  for (const auto& o : strings(d["mountOptions"])) CHECK(husk::spec::is_known_mount_option(o));
}
