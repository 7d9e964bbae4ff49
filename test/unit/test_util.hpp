// Helpers shared by the unit tests.
#pragma once

#include <string>
#include <vector>

namespace husk::test {

// Whether any of the plan's warnings mentions `needle`.
inline bool any_warning_contains(const std::vector<std::string>& w, const std::string& needle) {
  for (const auto& s : w) {
    if (s.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace husk::test
