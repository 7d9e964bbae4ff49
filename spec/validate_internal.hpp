// Internal to spec/validate*.cpp: the checker every section shares. Each
// section records what it finds in a Diagnostics and goes on, so `husk
// check` sees every problem; create takes the first error recorded, which
// is the one the sections, run in the same order, used to stop at.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "spec/config.hpp"
#include "spec/diagnostics.hpp"

namespace husk::spec::validation {

class Checker {
 public:
  Checker(const Config& c, Diagnostics& d) : c_(c), d_(d) {}

  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) {
    d_.warning(fmt::format(f, std::forward<Args>(args)...));
  }
  // Records s's error; returns whether s was a success.
  bool take(const Status& s) { return d_.take(s); }

  [[nodiscard]] const Config& config() const { return c_; }
  [[nodiscard]] Diagnostics& diagnostics() const { return d_; }

  [[nodiscard]] const Namespace* ns(NamespaceType t) const;
  [[nodiscard]] bool has_ns(NamespaceType t) const { return ns(t) != nullptr; }
  [[nodiscard]] bool creates_ns(NamespaceType t) const {
    const Namespace* n = ns(t);
    return n != nullptr && !n->path;
  }

 private:
  const Config& c_;
  Diagnostics& d_;
};

bool is_abs(std::string_view p);
Status require_abs(std::string_view p, const std::string& path);
bool has_dotdot(std::string_view p);
// base[i]
std::string idx(std::string_view base, size_t i);
// base.key, or key alone below an empty base (an update document's top).
std::string sub(const std::string& base, std::string_view key);
// IFNAMSIZ-bounded network interface name (dev_valid_name()).
bool netdev_name_ok(std::string_view n);

// The sections, in the order validate() runs them.
void check_process(Checker& ck);                    // validate_process.cpp
void check_linux(Checker& ck);                      // validate_linux.cpp
void check_seccomp(Checker& ck, const Seccomp& s);  // validate_seccomp.cpp
void check_mounts(Checker& ck);                     // validate_mounts.cpp
void check_mappings(Checker& ck, const std::vector<IdMapping>& maps, const std::string& path);
void check_resources(Diagnostics& d, const Resources& r,
                     const std::string& path);  // validate_resources.cpp

}  // namespace husk::spec::validation
