// Helpers shared by the unit tests.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
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

// A fresh directory under $TMPDIR, removed with its contents.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "husk-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  [[nodiscard]] std::string operator/(const std::string& name) const {
    return (path / name).string();
  }
};

}  // namespace husk::test
