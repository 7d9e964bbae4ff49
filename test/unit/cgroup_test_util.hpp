// Helpers for the cgroup unit tests: a scratch directory standing in for one
// cgroup directory (control files pre-created, as cgroupfs would), and an
// owner for real cgroup paths that removes them even when a test fails.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace cgtest {

using Files = std::map<std::string, std::string>;

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::trunc);
  out << data;
}

// A directory of control files. Each file starts with the given content;
// written(name) returns only what was appended after it.
class FakeCgroupDir {
 public:
  explicit FakeCgroupDir(const std::map<std::string, std::string>& files) {
    for (const auto& [name, content] : files) {
      spit(path_ + "/" + name, content);
      initial_[name] = content.size();
    }
    fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  ~FakeCgroupDir() { ::close(fd_); }
  FakeCgroupDir(const FakeCgroupDir&) = delete;
  FakeCgroupDir& operator=(const FakeCgroupDir&) = delete;

  [[nodiscard]] int fd() const { return fd_; }
  static bool exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
  }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string written(const std::string& name) const {
    std::string all = slurp(path_ + "/" + name);
    auto it = initial_.find(name);
    return it == initial_.end() ? all : all.substr(it->second);
  }

 private:
  husk::test::TempDir dir_{"husk-cgtest"};
  std::string path_ = dir_.path.string();
  std::map<std::string, size_t> initial_;
  int fd_ = -1;
};

}  // namespace cgtest
