// husk's own conformance cases, as data: one YAML file per runtime-spec
// document (conformance/cases/*.yaml), each case a config patch, a list of
// lifecycle steps and what each step must show, plus the spec sentence it
// proves. This header is the in-memory form; case_file.cpp reads it with
// yaml-cpp and turns every yaml-cpp exception into a husk::Error.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace husk::conformance {

// A host file a step must (or must not) leave behind.
struct FileCheck {
  std::string path;
  bool absent = false;
  std::vector<std::string> has;  // substrings of its content
};

// NOLINTNEXTLINE(bugprone-exception-escape): yaml-cpp's Node copy may throw.
struct Expect {
  std::optional<int> rc;  // exact exit code
  bool rc_nonzero = false;
  std::vector<std::string> stdout_has, stderr_has, stdout_lacks, stderr_lacks;
  std::optional<YAML::Node> json;     // a subset the step's stdout (JSON) must match
  std::optional<std::string> status;  // `state` afterwards; "absent": no such container
  std::vector<FileCheck> files;
};

// NOLINTNEXTLINE(bugprone-exception-escape): yaml-cpp's Node copy may throw.
struct Step {
  std::string verb;  // create start run state kill delete exec features ... host edit-config wait
  std::string id = "c";
  std::vector<std::string> flags;   // before the id
  std::vector<std::string> args;    // after the id (signal, exec command)
  std::string command;              // host: /bin/sh -c text
  std::optional<YAML::Node> patch;  // edit-config
  double timeout = 15;
  Expect expect;
};

// NOLINTNEXTLINE(bugprone-exception-escape): yaml-cpp's Node copy may throw.
struct Case {
  std::string name;
  std::string section;              // the spec document and heading, e.g. "runtime.md#state"
  std::string level;                // MUST, SHOULD, MAY
  std::string quote;                // the sentence, quoted from runtime-spec v1.3.0
  std::string xfail;                // non-empty: a known husk gap, counted apart
  std::string requires_path;        // host path that must exist, else the case is skipped
  std::optional<YAML::Node> patch;  // merged onto the base config
  std::map<std::string, std::string> files;  // case-dir relative path -> content (0755)
  std::vector<Step> steps;
};

struct CaseFile {
  std::string path;
  std::string document;  // the spec document the file covers, e.g. "runtime.md"
  std::string title;
  std::vector<Case> cases;
};

Result<CaseFile> load_case_file(const std::string& path);

}  // namespace husk::conformance
