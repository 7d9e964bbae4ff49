// husk-conformance: runs husk's own conformance cases (conformance/cases/*.yaml)
// against a built husk, as root. Each case gets a bundle (the busybox rootfs
// of scripts/mkrootfs plus the static probe as /probe, the config of
// `husk spec` made non-interactive and patched by the case), a private
// --root and a cgroup under /husk-test/; everything it made is taken apart
// afterwards and anything left over fails the case.
//
// Usage: husk-conformance [--husk PATH] [--probe PATH] [--source DIR]
//                         [--cases DIR] [--filter TEXT] [--verbose]
// (defaults: $HUSK_BIN, $HUSK_PROBE, $HUSK_SOURCE_DIR, DIR/conformance/cases)
// Prints results per spec document and ends with "N passed, N failed";
// exits 1 if any case failed (an xfail case that passes counts as failed:
// its xfail marker must go).
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <thread>

#include "case_file.hpp"
#include "harness.hpp"
#include "json_tools.hpp"

namespace husk::conformance {
namespace {

namespace stdfs = std::filesystem;

struct Options {
  std::string husk, probe, source, cases, filter;
  bool verbose = false;
};

struct Session {
  Options opt;
  std::string dir;          // /tmp/husk-it-<TAG>-conformance-XXXXXX
  std::string rootfs;       // the template every bundle copies
  std::string base_config;  // `husk spec`, as text
};

enum class Outcome { Pass, Fail, XFail, XPass, Skip };

// ---- the case's world: placeholders and the husk command line ----

struct CaseRun {
  const Session& s;
  const Case& c;
  Sandbox sb;
  std::string failure;  // first failed expectation; "" while passing

  [[nodiscard]] std::string sub(const std::string& text) const {
    const std::pair<std::string_view, std::string> vars[] = {
        {"${bundle}", sb.bundle}, {"${rootfs}", sb.bundle + "/rootfs"},
        {"${casedir}", sb.dir},   {"${cgroup}", sb.cgroup},
        {"${root}", sb.root},     {"${husk}", s.opt.husk},
    };
    std::string out = text;
    for (const auto& [k, v] : vars) {
      for (size_t p = out.find(k); p != std::string::npos; p = out.find(k, p + v.size())) {
        out.replace(p, k.size(), v);
      }
    }
    return out;
  }
  [[nodiscard]] Substitute substitute() const {
    return [this](const std::string& t) { return sub(t); };
  }
  [[nodiscard]] std::vector<std::string> env() const { return {"HUSK_TEST_PROC=" + sb.mark}; }

  Result<CmdResult> husk(std::vector<std::string> args, double timeout = 15) {
    args.insert(args.begin(), {s.opt.husk, "--root", sb.root});
    for (auto& a : args) a = sub(a);
    auto r = run_cmd(args, sb.dir + "/io", env(), timeout, sb.bundle);
    reap_orphans();
    return r;
  }
};

Result<rapidjson::Document> parse_json(const std::string& text, const std::string& what) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  if (d.HasParseError()) {
    return Error::spec("{}: not JSON at offset {}: {}", what, d.GetErrorOffset(),
                       rapidjson::GetParseError_En(d.GetParseError()));
  }
  return d;
}

// ---- bundle ----

Status write_config(CaseRun& cr, const std::optional<YAML::Node>& patch, bool fresh) {
  std::string path = cr.sb.bundle + "/config.json";
  rapidjson::Document cfg =
      TRY(parse_json(fresh ? cr.s.base_config : read_text(path), "base config"));
  auto& a = cfg.GetAllocator();
  if (fresh) {
    // Non-interactive, in the case's cgroup, marked for the leak check.
    auto& proc = cfg["process"];
    proc["terminal"].SetBool(false);
    rapidjson::Value args(rapidjson::kArrayType);
    args.PushBack("/probe", a).PushBack("pid", a);
    proc["args"] = args;
    std::string mark = "HUSK_TEST_PROC=" + cr.sb.mark;
    proc["env"].PushBack(rapidjson::Value(mark.c_str(), a), a);
    cfg["linux"].AddMember("cgroupsPath", rapidjson::Value(cr.sb.cgroup.c_str(), a), a);
  }
  if (patch) {
    rapidjson::Value p;
    TRY(yaml_to_json(*patch, p, a, cr.substitute()));
    merge(cfg, p, a);
  }
  return write_text(path, to_string(cfg, true) + "\n");
}

Status make_bundle(CaseRun& cr) {
  auto cp = TRY(
      run_cmd({"/bin/cp", "-a", cr.s.rootfs, cr.sb.bundle + "/rootfs"}, cr.sb.dir + "/io", {}, 60));
  if (cp.rc != 0) return Error::make(ErrorKind::Sys, "copy rootfs: {}", cp.describe());
  for (const auto& [rel, content] : cr.c.files) {
    std::string path = cr.sb.dir + "/" + rel;
    std::error_code ec;
    stdfs::create_directories(stdfs::path(path).parent_path(), ec);
    TRY(write_text(path, cr.sub(content), 0755));
  }
  return write_config(cr, cr.c.patch, true);
}

// ---- expectations ----

void check_text(CaseRun& cr, const std::vector<std::string>& want, const std::string& got,
                bool present, const char* stream) {
  for (const auto& w0 : want) {
    std::string w = cr.sub(w0);
    bool has = got.find(w) != std::string::npos;
    if (has != present && cr.failure.empty()) {
      cr.failure = fmt::format("{} {} \"{}\"", stream, present ? "lacks" : "has", w);
    }
  }
}

Result<std::string> container_status(CaseRun& cr, const std::string& id) {
  auto r = TRY(cr.husk({"state", id}));
  if (r.rc != 0) {
    if (r.err.find("does not exist") != std::string::npos) return std::string("absent");
    return Error::make(ErrorKind::Sys, "state failed: {}", r.describe());
  }
  auto d = TRY(parse_json(r.out, "state output"));
  if (!d.IsObject() || !d.HasMember("status") || !d["status"].IsString()) {
    return Error::spec("state output has no status: {}", r.out);
  }
  return std::string(d["status"].GetString());
}

// want: one status or alternatives "stopped|absent".
bool status_is(const std::string& got, const std::string& want) {
  size_t start = 0;
  for (;;) {
    size_t bar = want.find('|', start);
    if (want.substr(start, bar - start) == got) return true;
    if (bar == std::string::npos) return false;
    start = bar + 1;
  }
}

Status check(CaseRun& cr, const Step& st, const CmdResult& r) {
  const Expect& e = st.expect;
  if (r.timed_out) cr.failure = "timed out";
  if (cr.failure.empty() && e.rc && r.rc != *e.rc) {
    cr.failure = fmt::format("exit code {}, expected {}", r.rc, *e.rc);
  }
  if (cr.failure.empty() && e.rc_nonzero && r.rc == 0)
    cr.failure = "exit code 0, expected an error";
  check_text(cr, e.stdout_has, r.out, true, "stdout");
  check_text(cr, e.stderr_has, r.err, true, "stderr");
  check_text(cr, e.stdout_lacks, r.out, false, "stdout");
  check_text(cr, e.stderr_lacks, r.err, false, "stderr");
  if (cr.failure.empty() && e.json) {
    auto d = parse_json(r.out, "stdout");
    if (!d) {
      cr.failure = d.error().message();
    } else {
      cr.failure = match(*e.json, &*d, "$", cr.substitute());
    }
  }
  for (const auto& f : e.files) {
    if (!cr.failure.empty()) break;
    std::string path = cr.sub(f.path);
    bool exists = ::access(path.c_str(), F_OK) == 0;
    if (exists == f.absent) {
      cr.failure = fmt::format("{} {}", path, f.absent ? "exists" : "does not exist");
      break;
    }
    std::string text = exists ? read_text(path) : "";
    for (const auto& h : f.has) {
      if (text.find(cr.sub(h)) == std::string::npos) {
        cr.failure = fmt::format("{} lacks \"{}\" (has \"{}\")", path, cr.sub(h), text);
        break;
      }
    }
  }
  if (cr.failure.empty() && e.status && st.verb != "wait") {
    std::string got = TRY(container_status(cr, st.id));
    if (!status_is(got, *e.status)) {
      cr.failure = fmt::format("status {}, expected {}", got, *e.status);
    }
  }
  return {};
}

// ---- steps ----

// `wait`: polls `state` until the status is the expected one.
Result<CmdResult> wait_status(CaseRun& cr, const Step& st) {
  CmdResult r;
  r.argv = {"wait", st.id, st.expect.status.value_or("stopped")};
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(st.timeout * 1000));
  for (;;) {
    std::string got = TRY(container_status(cr, st.id));
    if (status_is(got, st.expect.status.value_or("stopped"))) {
      r.rc = 0;
      return r;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      r.rc = 1;
      r.err = "last status: " + got;
      cr.failure = fmt::format("status {} after {}s, expected {}", got, st.timeout,
                               st.expect.status.value_or("stopped"));
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> husk_args(const Step& st) {
  static const std::vector<std::string> no_id = {"features", "list", "spec", "husk"};
  std::vector<std::string> a;
  if (st.verb != "husk") a.push_back(st.verb);
  if (st.verb == "create" || st.verb == "run") a.insert(a.end(), {"--bundle", "${bundle}"});
  a.insert(a.end(), st.flags.begin(), st.flags.end());
  if (std::find(no_id.begin(), no_id.end(), st.verb) == no_id.end()) a.push_back(st.id);
  a.insert(a.end(), st.args.begin(), st.args.end());
  return a;
}

Result<CmdResult> run_step(CaseRun& cr, const Step& st) {
  if (st.verb == "wait") return wait_status(cr, st);
  if (st.verb == "host") {
    auto r = run_cmd({"/bin/sh", "-c", cr.sub(st.command)}, cr.sb.dir + "/io", cr.env(), st.timeout,
                     cr.sb.dir);
    reap_orphans();
    return r;
  }
  if (st.verb == "edit-config") {
    TRY(write_config(cr, st.patch, false));
    CmdResult r;
    r.argv = {"edit-config"};
    r.rc = 0;
    return r;
  }
  return cr.husk(husk_args(st), st.timeout);
}

// ---- one case ----

Outcome finish(const Case& c, const std::string& failure) {
  if (c.xfail.empty()) return failure.empty() ? Outcome::Pass : Outcome::Fail;
  return failure.empty() ? Outcome::XPass : Outcome::XFail;
}

Outcome run_case(const Session& s, const Case& c, int index, std::string* detail) {
  if (!c.requires_path.empty() && ::access(c.requires_path.c_str(), F_OK) != 0) {
    *detail = "needs " + c.requires_path;
    return Outcome::Skip;
  }
  auto sb = make_sandbox(s.dir, index, c.name);
  if (!sb) {
    *detail = sb.error().message();
    return Outcome::Fail;
  }
  CaseRun cr{s, c, *sb, ""};
  std::string log;
  if (auto st = make_bundle(cr); !st) cr.failure = "bundle: " + st.error().message();
  for (size_t i = 0; cr.failure.empty() && i < c.steps.size(); ++i) {
    const Step& step = c.steps[i];
    auto r = run_step(cr, step);
    if (!r) {
      cr.failure = r.error().message();
    } else {
      log += "    " + r->describe() + "\n";
      if (auto st = check(cr, step, *r); !st) cr.failure = st.error().message();
    }
    if (!cr.failure.empty()) {
      cr.failure = fmt::format("step {} ({}): {}", i + 1, step.verb, cr.failure);
      if (r) cr.failure += "\n    " + r->describe();
    }
  }
  // Cleanup is husk's own job first (delete --force), then the leak check.
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(cr.sb.root, ec)) {
    std::string id = e.path().filename();
    if (!id.starts_with(".")) (void)cr.husk({"delete", "--force", id}, 30);
  }
  std::vector<std::string> left;
  for (int i = 0; i < 50; ++i) {
    reap_orphans();
    left = leftovers(cr.sb);
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!left.empty() && cr.failure.empty()) {
    cr.failure = "left behind after delete --force:";
    for (const auto& l : left) cr.failure += "\n      " + l;
  }
  force_clean(cr.sb);
  *detail = cr.failure;
  if (s.opt.verbose && !log.empty()) *detail += "\n" + log;
  return finish(c, cr.failure);
}

// ---- session ----

Result<Options> parse_args(std::span<char*> argv) {
  Options o;
  auto env = [](const char* n) { return std::string(std::getenv(n) ? std::getenv(n) : ""); };
  o.husk = env("HUSK_BIN");
  o.probe = env("HUSK_PROBE");
  o.source = env("HUSK_SOURCE_DIR");
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string a = argv[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= argv.size()) return Error::arg("{}: needs a value", a);
      return std::string(argv[++i]);
    };
    if (a == "--husk") {
      o.husk = TRY(value());
    } else if (a == "--probe") {
      o.probe = TRY(value());
    } else if (a == "--source") {
      o.source = TRY(value());
    } else if (a == "--cases") {
      o.cases = TRY(value());
    } else if (a == "--filter") {
      o.filter = TRY(value());
    } else if (a == "--verbose" || a == "-v") {
      o.verbose = true;
    } else {
      return Error::arg("unknown argument {}", a);
    }
  }
  if (o.husk.empty() || o.probe.empty() || o.source.empty()) {
    return Error::arg(
        "need --husk, --probe and --source (or HUSK_BIN, HUSK_PROBE, HUSK_SOURCE_DIR)");
  }
  if (o.cases.empty()) o.cases = o.source + "/conformance/cases";
  o.husk = stdfs::absolute(o.husk);
  return o;
}

Result<Session> start_session(const Options& o) {
  Session s;
  s.opt = o;
  std::string tmpl = "/tmp/husk-it-" + test_tag() + "-conformance-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return Error::last("mkdtemp {}", tmpl);
  s.dir = tmpl;
  ::chmod(s.dir.c_str(), 0755);
  s.rootfs = s.dir + "/rootfs";
  auto mk = TRY(run_cmd({o.source + "/scripts/mkrootfs", s.rootfs}, s.dir, {}, 120));
  if (mk.rc != 0) return Error::make(ErrorKind::Sys, "mkrootfs: {}", mk.describe());
  auto cp = TRY(run_cmd({"/bin/cp", o.probe, s.rootfs + "/probe"}, s.dir, {}, 30));
  if (cp.rc != 0) return Error::make(ErrorKind::Sys, "copy probe: {}", cp.describe());
  std::string spec_dir = s.dir + "/spec";
  if (::mkdir(spec_dir.c_str(), 0755) < 0) return Error::last("mkdir {}", spec_dir);
  auto sp = TRY(run_cmd({o.husk, "spec"}, s.dir, {}, 30, spec_dir));
  if (sp.rc != 0) return Error::make(ErrorKind::Sys, "husk spec: {}", sp.describe());
  s.base_config = read_text(spec_dir + "/config.json");
  return s;
}

Result<std::vector<CaseFile>> load_all(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".yaml") paths.push_back(e.path());
  }
  if (ec) return Error::sys(ec.value(), "list {}", dir);
  std::sort(paths.begin(), paths.end());
  std::vector<CaseFile> files;
  files.reserve(paths.size());
  for (const auto& p : paths) files.push_back(TRY(load_case_file(p)));
  if (files.empty()) return Error::make(ErrorKind::NotFound, "no case files in {}", dir);
  return files;
}

struct Totals {
  int pass = 0, fail = 0, xfail = 0, skip = 0;
};

void report(Totals& t, const Case& c, Outcome o, const std::string& detail) {
  switch (o) {
    case Outcome::Pass:
      ++t.pass;
      fmt::print("  PASS  {}\n", c.name);
      break;
    case Outcome::Fail:
      ++t.fail;
      fmt::print("  FAIL  {} [{} {}]\n    {}\n", c.name, c.level, c.section, detail);
      break;
    case Outcome::XFail:
      ++t.xfail;
      fmt::print("  XFAIL {} ({})\n", c.name, c.xfail);
      break;
    case Outcome::XPass:
      ++t.fail;
      fmt::print("  FAIL  {}: passes but is marked xfail ({}): remove the marker\n", c.name,
                 c.xfail);
      break;
    case Outcome::Skip:
      ++t.skip;
      fmt::print("  SKIP  {} ({})\n", c.name, detail);
      break;
  }
  if (!detail.empty() && (o == Outcome::Pass || o == Outcome::XFail)) {
    fmt::print("    {}\n", detail);
  }
  std::fflush(stdout);
}

int run(std::span<char*> argv) {
  auto opt = parse_args(argv);
  if (!opt) {
    fmt::print(stderr, "husk-conformance: {}\n", opt.error().message());
    return 2;
  }
  auto files = load_all(opt->cases);
  if (!files) {
    fmt::print(stderr, "husk-conformance: {}\n", files.error().message());
    return 2;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "husk-conformance: needs root\n");
    return 2;
  }
  if (auto st = become_subreaper(); !st) {
    fmt::print(stderr, "husk-conformance: {}\n", st.error().message());
    return 2;
  }
  auto session = start_session(*opt);
  if (!session) {
    fmt::print(stderr, "husk-conformance: {}\n", session.error().message());
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  Totals all;
  int index = 0;
  for (const auto& f : *files) {
    Totals sec;
    bool header = false;
    for (const auto& c : f.cases) {
      if (!opt->filter.empty() && c.name.find(opt->filter) == std::string::npos) continue;
      if (!header) {
        fmt::print("== {}: {} ({})\n", f.document, f.title,
                   stdfs::path(f.path).filename().string());
        header = true;
      }
      std::string detail;
      Outcome o = run_case(*session, c, ++index, &detail);
      report(sec, c, o, detail);
    }
    if (!header) continue;
    fmt::print("   {}: {} passed, {} failed, {} xfail, {} skipped\n", f.document, sec.pass,
               sec.fail, sec.xfail, sec.skip);
    all.pass += sec.pass;
    all.fail += sec.fail;
    all.xfail += sec.xfail;
    all.skip += sec.skip;
  }
  remove_cgroup_parents();
  if (!remove_unmounted_tree(session->dir)) {
    fmt::print("husk-conformance: mounts left under {}: not removed\n", session->dir);
    ++all.fail;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("expected failures (xfail): {}, skipped: {}, wall time {:.1f}s\n", all.xfail, all.skip,
             secs);
  fmt::print("{} passed, {} failed\n", all.pass, all.fail);
  return all.fail == 0 ? 0 : 1;
}

}  // namespace
}  // namespace husk::conformance

// Printing the last error may itself throw: nothing is left to catch that.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  // The edge: yaml-cpp and the standard library report by exceptions; the
  // case loader turns its own into Errors, anything else ends the run here.
  try {
    return husk::conformance::run(std::span<char*>(argv, static_cast<size_t>(argc)));
  } catch (const std::exception& e) {
    fmt::print(stderr, "husk-conformance: {}\n", e.what());
    return 2;
  }
}
