// Test helper: podman's default seccomp profile as the OCI linux.seccomp
// podman would generate from it for a default container on amd64.
#pragma once

#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "spec/config.hpp"

namespace husk_test {

constexpr const char* kPodmanProfile = "/usr/share/containers/seccomp.json";

inline bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// podman's seccomp.json is not OCI: entries carry includes/excludes by
// architecture and capability. Convert it the way podman does for a default
// container on amd64, so the test compiles what podman would hand us.
inline husk::spec::Seccomp podman_default_profile() {
  std::ifstream in(kPodmanProfile);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  rapidjson::Document d;
  d.Parse(ss.str().c_str());
  REQUIRE_FALSE(d.HasParseError());
  const std::vector<std::string> arches = {"amd64", "x86_64", "x32", "x86"};
  const std::vector<std::string> caps = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",
                                         "CAP_FSETID",  "CAP_KILL",         "CAP_NET_BIND_SERVICE",
                                         "CAP_SETFCAP", "CAP_SETGID",       "CAP_SETPCAP",
                                         "CAP_SETUID",  "CAP_SYS_CHROOT"};
  auto list = [](const rapidjson::Value& obj, const char* key) {
    std::vector<std::string> out;
    if (obj.IsObject() && obj.HasMember(key) && obj[key].IsArray()) {
      for (const auto& v : obj[key].GetArray()) out.emplace_back(v.GetString());
    }
    return out;
  };
  auto any_in = [](const std::vector<std::string>& xs, const std::vector<std::string>& set) {
    return std::any_of(xs.begin(), xs.end(),
                       [&](const std::string& x) { return contains(set, x); });
  };
  auto all_in = [](const std::vector<std::string>& xs, const std::vector<std::string>& set) {
    return std::all_of(xs.begin(), xs.end(),
                       [&](const std::string& x) { return contains(set, x); });
  };
  husk::spec::Seccomp sc;
  sc.default_action = d["defaultAction"].GetString();
  if (d.HasMember("defaultErrnoRet")) sc.default_errno_ret = d["defaultErrnoRet"].GetUint();
  sc.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  for (const auto& s : d["syscalls"].GetArray()) {
    const auto& inc = s.HasMember("includes") ? s["includes"] : s["action"];
    const auto& exc = s.HasMember("excludes") ? s["excludes"] : s["action"];
    auto inc_arches = list(inc, "arches");
    if (!inc_arches.empty() && !any_in(inc_arches, arches)) continue;
    if (!all_in(list(inc, "caps"), caps)) continue;
    if (any_in(list(exc, "arches"), arches) || any_in(list(exc, "caps"), caps)) continue;
    husk::spec::SeccompSyscall out;
    for (const auto& n : s["names"].GetArray()) out.names.emplace_back(n.GetString());
    out.action = s["action"].GetString();
    if (s.HasMember("errnoRet") && s["errnoRet"].IsUint()) out.errno_ret = s["errnoRet"].GetUint();
    if (s.HasMember("args") && s["args"].IsArray()) {
      for (const auto& a : s["args"].GetArray()) {
        out.args.push_back({a["index"].GetUint(), a["value"].GetUint64(), a["valueTwo"].GetUint64(),
                            a["op"].GetString()});
      }
    }
    sc.syscalls.push_back(std::move(out));
  }
  return sc;
}

}  // namespace husk_test
