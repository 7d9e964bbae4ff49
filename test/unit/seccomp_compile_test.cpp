// compile_seccomp: validation, libseccomp compile, and the on-disk cache.
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "linux/seccomp.hpp"
#include "seccomp_podman_profile.hpp"

using husk::ErrorKind;
using namespace husk::linux_setup;
namespace spec = husk::spec;
namespace fs = std::filesystem;

namespace {

spec::Seccomp small_profile() {
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  sc.syscalls.push_back({{"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", std::nullopt, {}});
  sc.syscalls.push_back(
      {{"socket"}, "SCMP_ACT_ERRNO", 97u, {{0, 16, 0, "SCMP_CMP_EQ"}, {2, 9, 0, "SCMP_CMP_EQ"}}});
  sc.syscalls.push_back(
      {{"umask"}, "SCMP_ACT_KILL_PROCESS", std::nullopt, {{0, 07, 02, "SCMP_CMP_MASKED_EQ"}}});
  return sc;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/husk-seccomp-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

SeccompProgram must_compile(const spec::Seccomp& sc, const SeccompOptions& opts = {}) {
  std::vector<std::string> warnings;
  auto r = compile_seccomp(sc, opts, warnings);
  if (!r) FAIL(r.error().message());
  return std::move(r).value();
}

husk::Error compile_error(const spec::Seccomp& sc) {
  std::vector<std::string> warnings;
  auto r = compile_seccomp(sc, {}, warnings);
  REQUIRE_FALSE(r);
  return r.error();
}

bool same_program(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(sock_filter)) == 0;
}

}  // namespace

TEST_CASE("a small profile compiles to a BPF program that ends in a return") {
  auto prog = must_compile(small_profile());
  REQUIRE(prog.insns.size() > 10);
  CHECK(prog.flags == 0);
  CHECK_FALSE(prog.from_cache);
  // The program must check the architecture first: load seccomp_data.arch (offset 4).
  CHECK(prog.insns[0].code == (BPF_LD | BPF_W | BPF_ABS));
  CHECK(prog.insns[0].k == 4);
  CHECK(BPF_CLASS(prog.insns.back().code) == BPF_RET);
}

TEST_CASE("syscall names libseccomp does not know are ignored, as runc does") {
  auto sc = small_profile();
  auto without = must_compile(sc);
  sc.syscalls[0].names.push_back("not_a_real_syscall");
  sc.syscalls.push_back({{"also_not_real"}, "SCMP_ACT_KILL", std::nullopt, {}});
  auto with = must_compile(sc);
  CHECK(same_program(without.insns, with.insns));
}

TEST_CASE("rules with the default action are skipped (libseccomp would refuse them)") {
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.syscalls.push_back({{"getpid"}, "SCMP_ACT_ALLOW", std::nullopt, {}});
  auto base = must_compile(sc);
  sc.syscalls.push_back({{"mkdir"}, "SCMP_ACT_ERRNO", std::nullopt, {}});  // EPERM == default EPERM
  CHECK(same_program(base.insns, must_compile(sc).insns));
  sc.syscalls.back().errno_ret = 13u;  // a different errno is a different action
  CHECK_FALSE(same_program(base.insns, must_compile(sc).insns));
}

TEST_CASE("seccomp flags map to raw SECCOMP_FILTER_FLAG bits") {
  auto sc = small_profile();
  sc.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
              "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  CHECK(must_compile(sc).flags ==
        (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  sc.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  std::vector<std::string> warnings;
  auto r = compile_seccomp(sc, {}, warnings);
  REQUIRE(r);
  CHECK(r->flags == 0);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("WAIT_KILLABLE_RECV") != std::string::npos);
}

TEST_CASE("seccomp validation errors name the field") {
  auto sc = small_profile();
  SECTION("NOTIFY is unsupported") {
    sc.syscalls[1].action = "SCMP_ACT_NOTIFY";
    sc.syscalls[1].errno_ret.reset();
    auto e = compile_error(sc);
    CHECK(e.kind() == ErrorKind::Unsupported);
    CHECK(e.message().find("linux.seccomp.syscalls[1].action") == 0);
  }
  SECTION("listenerPath is unsupported") {
    sc.listener_path = "/run/listener.sock";
    auto e = compile_error(sc);
    CHECK(e.kind() == ErrorKind::Unsupported);
    CHECK(e.message().find("linux.seccomp.listenerPath") == 0);
  }
  SECTION("errnoRet on an action that cannot carry it") {
    sc.syscalls[2].errno_ret = 1u;
    auto e = compile_error(sc);
    CHECK(e.kind() == ErrorKind::InvalidSpec);
    CHECK(e.message() ==
          "linux.seccomp.syscalls[2].action: errnoRet is only valid with SCMP_ACT_ERRNO or "
          "SCMP_ACT_TRACE, not "
          "SCMP_ACT_KILL_PROCESS");
  }
  SECTION("defaultErrnoRet with ALLOW") {
    sc.default_errno_ret = 1u;
    CHECK(compile_error(sc).message().find("linux.seccomp.defaultErrnoRet") == 0);
  }
  SECTION("unknown action") {
    sc.default_action = "SCMP_ACT_PANIC";
    CHECK(compile_error(sc).message() ==
          "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_PANIC\"");
  }
  SECTION("unknown operator") {
    sc.syscalls[1].args[1].op = "SCMP_CMP_APPROX";
    CHECK(compile_error(sc).message() ==
          "linux.seccomp.syscalls[1].args[1].op: unknown operator \"SCMP_CMP_APPROX\"");
  }
  SECTION("argument index") {
    sc.syscalls[1].args[0].index = 6;
    CHECK(compile_error(sc).message() ==
          "linux.seccomp.syscalls[1].args[0].index: 6 is not in 0..5");
  }
  SECTION("unknown architecture") {
    sc.architectures.push_back("SCMP_ARCH_VAX");
    CHECK(compile_error(sc).message() ==
          "linux.seccomp.architectures[3]: unknown architecture \"SCMP_ARCH_VAX\"");
  }
  SECTION("unknown flag") {
    sc.flags = {"SECCOMP_FILTER_FLAG_NEW_LISTENER"};
    CHECK(compile_error(sc).kind() == ErrorKind::Unsupported);
  }
  SECTION("empty names") {
    sc.syscalls[0].names.clear();
    CHECK(compile_error(sc).message() == "linux.seccomp.syscalls[0].names: must not be empty");
  }
}

TEST_CASE("architectures known to the spec but not to this libseccomp are skipped with a warning") {
  auto sc = small_profile();
  auto base = must_compile(sc);
  sc.architectures.push_back("SCMP_ARCH_LOONGARCH64");
  std::vector<std::string> warnings;
  auto r = compile_seccomp(sc, {}, warnings);
  REQUIRE(r);
  if (warnings.empty()) {
    // libseccomp >= 2.6 knows loongarch64: the program must then cover it.
    CHECK(r->insns.size() > base.insns.size());
  } else {
    CHECK(warnings[0].find("SCMP_ARCH_LOONGARCH64") != std::string::npos);
    CHECK(same_program(base.insns, r->insns));
  }
}

TEST_CASE("podman's default profile compiles") {
  auto sc = husk_test::podman_default_profile();
  REQUIRE(sc.syscalls.size() > 20);
  auto prog = must_compile(sc);
  CHECK(prog.insns.size() > 300);
  CHECK(prog.insns.size() <= BPF_MAXINSNS);
}

TEST_CASE("the seccomp cache returns identical bytes and is keyed by content") {
  TempDir tmp;
  SeccompOptions opts;
  opts.cache_dir = (tmp.path / ".seccomp-cache").string();  // created on first store
  auto sc = husk_test::podman_default_profile();

  auto first = must_compile(sc, opts);
  CHECK_FALSE(first.from_cache);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(opts.cache_dir)) files.push_back(e.path());
  REQUIRE(files.size() == 1);
  CHECK(files[0].extension() == ".bpf");
  struct stat st {};
  REQUIRE(::stat(opts.cache_dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  auto second = must_compile(sc, opts);
  CHECK(second.from_cache);
  CHECK(same_program(first.insns, second.insns));

  // Any change to the input is a different key, hence a different file.
  sc.default_errno_ret = 1u;
  auto changed = must_compile(sc, opts);
  CHECK_FALSE(changed.from_cache);
  CHECK_FALSE(same_program(first.insns, changed.insns));
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(opts.cache_dir)) ++n;
  CHECK(n == 2);
}

TEST_CASE("a corrupt cache entry is recompiled, not trusted") {
  TempDir tmp;
  SeccompOptions opts;
  opts.cache_dir = tmp.path.string();
  auto sc = small_profile();
  auto good = must_compile(sc, opts);
  std::string file;
  for (const auto& e : fs::directory_iterator(tmp.path)) file = e.path().string();
  REQUIRE_FALSE(file.empty());
  {
    // Truncate the file to half its size, as a crash mid-write could.
    auto size = fs::file_size(file);
    fs::resize_file(file, size / 2);
  }
  auto again = must_compile(sc, opts);
  CHECK_FALSE(again.from_cache);
  CHECK(same_program(good.insns, again.insns));
  CHECK(must_compile(sc, opts).from_cache);  // the rewrite is valid again
}

TEST_CASE("the canonical form covers every rule field") {
  auto sc = small_profile();
  auto base = seccomp_canonical_form(sc);
  REQUIRE_FALSE(base.empty());
  CHECK(base.find("libseccomp ") != std::string::npos);
  std::set<std::string> forms{base};
  auto variant = [&](auto mutate) {
    auto copy = small_profile();
    mutate(copy);
    forms.insert(seccomp_canonical_form(copy));
  };
  variant([](spec::Seccomp& s) { s.syscalls[1].args[0].value = 17; });
  variant([](spec::Seccomp& s) { s.syscalls[1].args[0].value_two = 1; });
  variant([](spec::Seccomp& s) { s.syscalls[1].args[0].index = 1; });
  variant([](spec::Seccomp& s) { s.syscalls[1].args[0].op = "SCMP_CMP_NE"; });
  variant([](spec::Seccomp& s) { s.syscalls[1].errno_ret = 98u; });
  variant([](spec::Seccomp& s) { s.syscalls[0].names[0] = "rmdir"; });
  variant([](spec::Seccomp& s) { s.default_action = "SCMP_ACT_LOG"; });
  variant([](spec::Seccomp& s) { s.architectures.pop_back(); });
  CHECK(forms.size() == 9);
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
}
