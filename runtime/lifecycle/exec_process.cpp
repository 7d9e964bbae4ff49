#include "lifecycle/exec_process.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

#include "linux/capabilities.hpp"
#include "linux/lsm.hpp"

namespace husk::lifecycle {

namespace {

Result<uint32_t> parse_id(std::string_view s, const char* flag, const char* what) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return Error::arg("{}: invalid {} {:?} (format: <uid>[:<gid>], numeric)", flag, what,
                      std::string(s));
  }
  // (uid_t)-1 tells set*id(2) "leave unchanged": the process would stay root.
  if (v == UINT32_MAX) {
    return Error::arg("{}: invalid {} {:?} ((uid_t)-1 is not an id)", flag, what, std::string(s));
  }
  return v;
}

void add_caps(std::vector<std::string>& set, const std::vector<std::string>& caps) {
  for (const auto& c : caps) {
    if (std::find(set.begin(), set.end(), c) == set.end()) set.push_back(c);
  }
}

// "cap_net_admin" and "NET_ADMIN" mean CAP_NET_ADMIN.
std::string cap_name(std::string c) {
  for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (c.rfind("CAP_", 0) != 0) c = "CAP_" + c;
  return c;
}

// A label for a security module this host does not have is an explicit
// error naming the flag, never ignored. --apparmor and --process-label
// replace the label the process would have had (the container's, or
// process.json's), as in runc.
Status merge_labels(spec::Process& p, const ExecOverrides& o) {
  if (o.apparmor && !o.apparmor->empty()) {
    TRY(linux_setup::plan_apparmor(o.apparmor, "--apparmor"));
    p.apparmor_profile = o.apparmor;
  }
  if (o.process_label && !o.process_label->empty()) {
    TRY(linux_setup::plan_selinux(o.process_label, "--process-label"));
    p.selinux_label = o.process_label;
  }
  return {};
}

Status merge_caps(spec::Process& p, const std::vector<std::string>& flags) {
  if (flags.empty()) return {};
  std::vector<std::string> caps;
  for (const auto& c : flags) {
    caps.push_back(cap_name(c));
    if (!linux_setup::capability_from_name(caps.back())) {
      return Error::arg("--cap: unknown capability {:?}", c);
    }
  }
  // As runc: into every set but the inheritable one (CVE-2022-29162). An
  // ambient capability must also be inheritable (PR_CAP_AMBIENT_RAISE), so
  // it is raised only where the config already made it inheritable.
  if (!p.capabilities) p.capabilities.emplace();
  auto& set = *p.capabilities;
  add_caps(set.bounding, caps);
  add_caps(set.effective, caps);
  add_caps(set.permitted, caps);
  for (const auto& c : caps) {
    bool inheritable =
        std::find(set.inheritable.begin(), set.inheritable.end(), c) != set.inheritable.end();
    if (inheritable) add_caps(set.ambient, {c});
  }
  return {};
}

Status merge_env(spec::Process& p, const std::vector<std::string>& env) {
  for (const auto& e : env) {
    if (e.find('=') == std::string::npos || e[0] == '=') {
      return Error::arg("--env: {:?} is not KEY=VALUE", e);
    }
  }
  p.env.insert(p.env.end(), env.begin(), env.end());
  return {};
}

Status merge_user(spec::User& user, const ExecOverrides& o) {
  if (o.user && !o.user->empty()) {
    std::string_view u = *o.user;
    size_t colon = u.find(':');
    user.uid = TRY(parse_id(u.substr(0, colon), "--user", "uid"));
    if (colon != std::string_view::npos) {
      user.gid = TRY(parse_id(u.substr(colon + 1), "--user", "gid"));
    }
  }
  for (const auto& g : o.extra_gids) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), v);
    if (g.empty() || ec != std::errc() || end != g.data() + g.size() || v == UINT32_MAX) {
      return Error::arg("--additional-gids: {:?} is not a gid (a number from 0 to 4294967294)", g);
    }
    user.additional_gids.push_back(v);
  }
  return {};
}

}  // namespace

std::vector<std::string> dedupe_env(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& e : env) {
    std::string_view name = std::string_view(e).substr(0, e.find('='));
    auto same = std::find_if(out.begin(), out.end(), [&](const std::string& o) {
      return std::string_view(o).substr(0, o.find('=')) == name;
    });
    if (same == out.end()) {
      out.push_back(e);
    } else {
      *same = e;
    }
  }
  return out;
}

Result<spec::Process> merge_exec_process(spec::Process p, const ExecOverrides& o) {
  if (o.args.empty()) return Error::arg("process args cannot be empty");
  p.args = o.args;
  if (o.cwd && !o.cwd->empty()) p.cwd = *o.cwd;
  TRY(merge_labels(p, o));
  TRY(merge_caps(p, o.caps));
  TRY(merge_env(p, o.env));
  p.terminal = o.tty;
  if (o.no_new_privs) p.no_new_privileges = *o.no_new_privs;
  TRY(merge_user(p.user, o));
  return p;
}

}  // namespace husk::lifecycle
