#include "case_file.hpp"

#include <set>
#include <string_view>

namespace husk::conformance {
namespace {

// yaml-cpp reports problems by throwing; everything below runs inside one
// try block in load_case_file, so these helpers may throw freely, and a
// mistake in a case file is an error naming the file and the case.
std::string scalar(const YAML::Node& n, std::string_view what) {
  if (!n.IsScalar()) throw YAML::Exception(n.Mark(), std::string(what) + ": expected a scalar");
  return n.as<std::string>();
}

std::vector<std::string> strings(const YAML::Node& n, std::string_view what) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) {
    out.push_back(n.as<std::string>());
    return out;
  }
  if (!n.IsSequence()) throw YAML::Exception(n.Mark(), std::string(what) + ": expected a list");
  for (const auto& e : n) out.push_back(scalar(e, what));
  return out;
}

// A typo in a key would silently drop an expectation: unknown keys are errors.
void known_keys(const YAML::Node& n, std::initializer_list<std::string_view> keys,
                std::string_view what) {
  if (!n.IsMap()) throw YAML::Exception(n.Mark(), std::string(what) + ": expected a map");
  std::set<std::string_view> ok(keys);
  for (const auto& kv : n) {
    auto k = kv.first.as<std::string>();
    if (!ok.contains(k))
      throw YAML::Exception(kv.first.Mark(), fmt::format("{}: unknown key {}", what, k));
  }
}

FileCheck read_file_check(const YAML::Node& n) {
  known_keys(n, {"path", "absent", "has"}, "expect.files[]");
  FileCheck f;
  f.path = scalar(n["path"], "expect.files[].path");
  if (n["absent"]) f.absent = n["absent"].as<bool>();
  f.has = strings(n["has"], "expect.files[].has");
  return f;
}

Expect read_expect(const YAML::Node& n) {
  Expect e;
  if (!n) return e;
  known_keys(n,
             {"rc", "stdout", "stderr", "stdout_lacks", "stderr_lacks", "json", "status", "files"},
             "expect");
  if (n["rc"]) {
    auto rc = scalar(n["rc"], "expect.rc");
    if (rc == "nonzero") {
      e.rc_nonzero = true;
    } else {
      e.rc = n["rc"].as<int>();
    }
  }
  e.stdout_has = strings(n["stdout"], "expect.stdout");
  e.stderr_has = strings(n["stderr"], "expect.stderr");
  e.stdout_lacks = strings(n["stdout_lacks"], "expect.stdout_lacks");
  e.stderr_lacks = strings(n["stderr_lacks"], "expect.stderr_lacks");
  if (n["json"]) e.json = n["json"];
  if (n["status"]) e.status = scalar(n["status"], "expect.status");
  if (n["files"]) {
    for (const auto& f : n["files"]) e.files.push_back(read_file_check(f));
  }
  return e;
}

Step read_step(const YAML::Node& n) {
  known_keys(n, {"do", "id", "flags", "args", "command", "patch", "timeout", "expect"}, "step");
  Step s;
  s.verb = scalar(n["do"], "step.do");
  if (n["id"]) s.id = scalar(n["id"], "step.id");
  s.flags = strings(n["flags"], "step.flags");
  s.args = strings(n["args"], "step.args");
  if (n["command"]) s.command = scalar(n["command"], "step.command");
  if (n["patch"]) s.patch = n["patch"];
  if (n["timeout"]) s.timeout = n["timeout"].as<double>();
  s.expect = read_expect(n["expect"]);
  return s;
}

Case read_case(const YAML::Node& n) {
  known_keys(n,
             {"name", "section", "level", "quote", "xfail", "requires", "config", "args", "files",
              "steps"},
             "case");
  Case c;
  c.name = scalar(n["name"], "case.name");
  c.section = scalar(n["section"], "case.section");
  c.level = scalar(n["level"], "case.level");
  if (c.level != "MUST" && c.level != "SHOULD" && c.level != "MAY") {
    throw YAML::Exception(n["level"].Mark(), "case.level: MUST, SHOULD or MAY");
  }
  c.quote = scalar(n["quote"], "case.quote");
  if (n["xfail"]) c.xfail = scalar(n["xfail"], "case.xfail");
  if (n["requires"]) c.requires_path = scalar(n["requires"], "case.requires");
  YAML::Node patch = n["config"] ? YAML::Clone(n["config"]) : YAML::Node(YAML::NodeType::Map);
  // `args` is shorthand for config.process.args: nearly every case sets it.
  if (n["args"]) patch["process"]["args"] = n["args"];
  c.patch = patch;
  if (n["files"]) {
    for (const auto& kv : n["files"]) {
      c.files[kv.first.as<std::string>()] = scalar(kv.second, "case.files");
    }
  }
  if (!n["steps"] || !n["steps"].IsSequence() || n["steps"].size() == 0) {
    throw YAML::Exception(n.Mark(), "case.steps: a non-empty list is required");
  }
  for (const auto& s : n["steps"]) c.steps.push_back(read_step(s));
  return c;
}

}  // namespace

Result<CaseFile> load_case_file(const std::string& path) {
  CaseFile f;
  f.path = path;
  std::string where = "top level";
  try {
    YAML::Node root = YAML::LoadFile(path);
    known_keys(root, {"document", "title", "cases"}, "file");
    f.document = scalar(root["document"], "document");
    f.title = scalar(root["title"], "title");
    std::set<std::string> names;
    for (const auto& n : root["cases"]) {
      where = n["name"] ? "case " + n["name"].as<std::string>() : "a case without a name";
      Case c = read_case(n);
      if (!names.insert(c.name).second) {
        return Error::spec("{}: case {}: name used twice", path, c.name);
      }
      f.cases.push_back(std::move(c));
    }
  } catch (const YAML::Exception& e) {
    // e.what() already carries "line N, column M" from the mark.
    return Error::spec("{}: {}: {}", path, where, e.what());
  }
  if (f.cases.empty()) return Error::spec("{}: no cases", path);
  return f;
}

}  // namespace husk::conformance
