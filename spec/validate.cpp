#include "spec/validate.hpp"

#include <fmt/format.h>

#include <string_view>

#include "spec/validate_internal.hpp"

namespace husk::spec {
namespace validation {

const Namespace* Checker::ns(NamespaceType t) const {
  if (!c_.linux) return nullptr;
  for (const auto& n : c_.linux->namespaces) {
    if (n.type == t) return &n;
  }
  return nullptr;
}

bool is_abs(std::string_view p) { return !p.empty() && p[0] == '/'; }

Status require_abs(std::string_view p, const std::string& path) {
  if (is_abs(p)) return {};
  return Error::spec("{}: must be an absolute path, got \"{}\"", path, p);
}

bool has_dotdot(std::string_view p) {
  while (!p.empty()) {
    const size_t slash = p.find('/');
    if (p.substr(0, slash) == "..") return true;
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return false;
}

std::string idx(std::string_view base, size_t i) { return fmt::format("{}[{}]", base, i); }

std::string sub(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

// IFNAMSIZ is 16 with the NUL; '/' and whitespace cannot appear in a name
// (dev_valid_name() in net/core/dev.c).
bool netdev_name_ok(std::string_view n) {
  return !n.empty() && n.size() < 16 && n != "." && n != ".." &&
         n.find_first_of("/: \t\n") == std::string_view::npos;
}

namespace {

// ---- hooks, annotations, root, uts ----

Status check_hook(const Hook& h, std::string_view name, size_t i) {
  TRY(require_abs(h.path, fmt::format("hooks.{}[{}].path", name, i)));
  if (h.timeout && *h.timeout <= 0) {
    return Error::spec("hooks.{}[{}].timeout: must be > 0, got {}", name, i, *h.timeout);
  }
  return {};
}

void check_hooks(Checker& ck) {
  const Config& c = ck.config();
  if (!c.hooks) return;
  const Hooks& h = *c.hooks;
  const std::pair<std::string_view, const std::vector<Hook>*> lists[] = {
      {"prestart", &h.prestart},
      {"createRuntime", &h.create_runtime},
      {"createContainer", &h.create_container},
      {"startContainer", &h.start_container},
      {"poststart", &h.poststart},
      {"poststop", &h.poststop}};
  for (const auto& [name, list] : lists) {
    for (size_t i = 0; i < list->size(); ++i) ck.take(check_hook((*list)[i], name, i));
  }
}

void check_root_and_annotations(Checker& ck) {
  const Config& c = ck.config();
  if (!c.root) {
    ck.take(Error::spec("root: required"));
  } else if (c.root->path.empty()) {
    ck.take(Error::spec("root.path: must not be empty"));
  }
  for (const auto& [key, value] : c.annotations) {
    if (key.empty()) {
      ck.take(Error::spec("annotations: keys must not be empty"));
      break;
    }
  }
}

void check_uts(Checker& ck) {
  const Config& c = ck.config();
  const bool uts = ck.has_ns(NamespaceType::Uts);
  if (c.hostname && !c.hostname->empty() && !uts) {
    ck.take(Error::spec("hostname: unable to set hostname without a private UTS namespace"));
  }
  if (c.domainname && !c.domainname->empty() && !uts) {
    ck.take(Error::spec("domainname: unable to set domainname without a private UTS namespace"));
  }
}

Status first_error(const Diagnostics& d, std::vector<std::string>* warnings) {
  if (warnings != nullptr) {
    for (auto& w : d.warning_lines()) warnings->push_back(std::move(w));
  }
  if (d.first_error()) return *d.first_error();
  return {};
}

}  // namespace
}  // namespace validation

void validate_all(const Config& config, Diagnostics& d) {
  validation::Checker ck(config, d);
  validation::check_root_and_annotations(ck);
  validation::check_process(ck);
  validation::check_linux(ck);
  validation::check_mounts(ck);
  validation::check_hooks(ck);
  validation::check_uts(ck);
}

Status validate(const Config& config, std::vector<std::string>* warnings) {
  Diagnostics d;
  validate_all(config, d);
  return validation::first_error(d, warnings);
}

void validate_resources_all(const Resources& r, const std::string& path, Diagnostics& d) {
  validation::check_resources(d, r, path);
}

Status validate_resources(const Resources& r, const std::string& path,
                          std::vector<std::string>* warnings) {
  Diagnostics d;
  validate_resources_all(r, path, d);
  return validation::first_error(d, warnings);
}

}  // namespace husk::spec
