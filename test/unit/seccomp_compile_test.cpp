// compile_seccomp: validation, libseccomp compile, and the on-disk cache.
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
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
#include "test_util.hpp"

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

using husk::test::TempDir;

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

// What the kernel would answer for one syscall: a classic-BPF interpreter
// for the instructions seccomp filters may use (net/core/filter.c's
// seccomp_check_filter subset), over struct seccomp_data.
uint32_t evaluate(const std::vector<sock_filter>& prog, const seccomp_data& d) {
  uint32_t a = 0;
  uint32_t x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&d);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    const uint32_t src = BPF_SRC(f.code) == BPF_X ? x : f.k;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS) {
          REQUIRE(BPF_SIZE(f.code) == BPF_W);
          REQUIRE(f.k + 4 <= sizeof d);
          std::memcpy(&a, bytes + f.k, 4);
        } else if (BPF_MODE(f.code) == BPF_IMM) {
          a = f.k;
        } else if (BPF_MODE(f.code) == BPF_MEM) {
          a = mem[f.k % BPF_MEMWORDS];
        } else {
          a = sizeof d;  // BPF_LEN
        }
        break;
      case BPF_LDX:
        x = BPF_MODE(f.code) == BPF_MEM ? mem[f.k % BPF_MEMWORDS]
                                        : (BPF_MODE(f.code) == BPF_LEN ? sizeof d : f.k);
        break;
      case BPF_ST:
        mem[f.k % BPF_MEMWORDS] = a;
        break;
      case BPF_STX:
        mem[f.k % BPF_MEMWORDS] = x;
        break;
      case BPF_ALU:
        switch (BPF_OP(f.code)) {
          case BPF_ADD:
            a += src;
            break;
          case BPF_SUB:
            a -= src;
            break;
          case BPF_MUL:
            a *= src;
            break;
          case BPF_DIV:
            a = src == 0 ? 0 : a / src;
            break;
          case BPF_MOD:
            a = src == 0 ? 0 : a % src;
            break;
          case BPF_OR:
            a |= src;
            break;
          case BPF_AND:
            a &= src;
            break;
          case BPF_XOR:
            a ^= src;
            break;
          case BPF_LSH:
            a <<= src;
            break;
          case BPF_RSH:
            a >>= src;
            break;
          case BPF_NEG:
            a = -a;
            break;
          default:
            FAIL("unknown ALU op " << f.code);
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(f.code) == BPF_JA) {
          pc += f.k;
          break;
        }
        bool taken = false;
        switch (BPF_OP(f.code)) {
          case BPF_JEQ:
            taken = a == src;
            break;
          case BPF_JGT:
            taken = a > src;
            break;
          case BPF_JGE:
            taken = a >= src;
            break;
          case BPF_JSET:
            taken = (a & src) != 0;
            break;
          default:
            FAIL("unknown jump " << f.code);
        }
        pc += taken ? f.jt : f.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(f.code) == BPF_A ? a : f.k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
      default:
        FAIL("unknown instruction class " << f.code);
    }
  }
  FAIL("the program ran off its end");
  return 0;
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
  // EPERM == default EPERM. A call below getpid's number, so that the ENOSYS
  // threshold (the profile's highest syscall) stays the same.
  sc.syscalls.push_back({{"close"}, "SCMP_ACT_ERRNO", std::nullopt, {}});
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

TEST_CASE("a NOTIFY rule asks the kernel for a listener") {
  auto sc = small_profile();
  sc.syscalls[1].action = "SCMP_ACT_NOTIFY";
  sc.syscalls[1].errno_ret.reset();
  sc.listener_path = "/run/agent.sock";
  auto prog = must_compile(sc);
  CHECK(prog.notify);
  CHECK(prog.flags == SECCOMP_FILTER_FLAG_NEW_LISTENER);
  // The rule returns SECCOMP_RET_USER_NOTIF for the syscall it names.
  bool notifies = std::any_of(prog.insns.begin(), prog.insns.end(), [](const sock_filter& f) {
    return f.code == (BPF_RET | BPF_K) && f.k == SECCOMP_RET_USER_NOTIF;
  });
  CHECK(notifies);
  SECTION("WAIT_KILLABLE_RECV applies, TSYNC comes with TSYNC_ESRCH") {
    sc.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"};
    std::vector<std::string> warnings;
    auto r = compile_seccomp(sc, {}, warnings);
    REQUIRE(r);
    CHECK(warnings.empty());
    CHECK(r->flags == (SECCOMP_FILTER_FLAG_NEW_LISTENER | (1U << 5) | SECCOMP_FILTER_FLAG_TSYNC |
                       SECCOMP_FILTER_FLAG_TSYNC_ESRCH));
  }
  SECTION("without a rule that notifies, no listener") {
    sc.syscalls[1].action = "SCMP_ACT_ALLOW";
    CHECK_FALSE(must_compile(sc).notify);
    CHECK(must_compile(sc).flags == 0);
  }
}

TEST_CASE("seccomp validation errors name the field") {
  auto sc = small_profile();
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
  TempDir tmp{"husk-seccomp-test"};
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
  TempDir tmp{"husk-seccomp-test"};
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

TEST_CASE("the binary-tree filter decides every syscall exactly as the linear one") {
  // compile_seccomp lays the filter out as libseccomp's binary tree (it
  // loads faster, seccomp.cpp); both must answer every (arch, syscall,
  // arguments) the same way. Checked on podman's profile and on one with
  // argument rules on a repeated index, by running both programs.
  for (auto sc : {husk_test::podman_default_profile(), small_profile()}) {
    SeccompOptions linear_opts;
    linear_opts.binary_tree = false;
    auto linear = must_compile(sc, linear_opts);
    auto tree = must_compile(sc);  // the default
    REQUIRE_FALSE(same_program(linear.insns, tree.insns));

    // Argument values worth trying: every datum of every rule and its
    // neighbours, plus edges of 32 and 64 bits.
    std::set<uint64_t> values{0, 1, 0x7fffffffULL, 0x80000000ULL, 0xffffffffULL, 1ULL << 32, ~0ULL};
    std::set<std::string> arg_names;
    for (const auto& r : sc.syscalls) {
      if (r.args.empty()) continue;
      arg_names.insert(r.names.begin(), r.names.end());
      for (const auto& a : r.args) {
        for (uint64_t v : {a.value, a.value_two, a.value | a.value_two, a.value & ~a.value_two}) {
          values.insert({v, v + 1, v - 1});
        }
      }
    }
    const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64};
    size_t checked = 0;
    size_t differed = 0;
    std::set<uint32_t> answers;
    auto check = [&](const seccomp_data& d) {
      ++checked;
      uint32_t want = evaluate(linear.insns, d);
      answers.insert(want);
      if (want != evaluate(tree.insns, d)) ++differed;
    };
    for (uint32_t arch : arches) {
      // x32 syscalls are x86_64's with bit 30 set (__X32_SYSCALL_BIT).
      for (uint32_t base : {0U, 0x40000000U}) {
        if (base != 0 && arch != AUDIT_ARCH_X86_64) continue;
        for (uint32_t nr = 0; nr < 600; ++nr) {
          seccomp_data d{};
          d.nr = static_cast<int>(base + nr);
          d.arch = arch;
          check(d);
          for (auto& arg : d.args) arg = ~0ULL;
          check(d);
        }
      }
      // The syscalls with argument rules: each argument through every value.
      const uint32_t scmp_arch = arch == AUDIT_ARCH_X86_64 ? SCMP_ARCH_X86_64 : SCMP_ARCH_X86;
      for (const auto& name : arg_names) {
        int nr = seccomp_syscall_resolve_name_arch(scmp_arch, name.c_str());
        if (nr < 0) continue;
        for (int i = 0; i < 6; ++i) {
          for (uint64_t v : values) {
            seccomp_data d{};
            d.nr = nr;
            d.arch = arch;
            d.args[i] = v;
            check(d);
          }
        }
      }
    }
    CHECK(checked > 3000);
    // Allowed, each errno, killed for a foreign architecture: the inputs
    // reach every kind of answer, not one branch of the programs.
    CHECK(answers.count(SECCOMP_RET_ALLOW) == 1);
    CHECK(answers.size() >= 3);
    CHECK(differed == 0);
  }
}

TEST_CASE("the canonical form, hence the cache key, names the filter layout") {
  auto sc = small_profile();
  CHECK(seccomp_canonical_form(sc, true) != seccomp_canonical_form(sc, false));
  CHECK(seccomp_canonical_form(sc) == seccomp_canonical_form(sc, true));
}

TEST_CASE("syscalls above the profile's highest answer ENOSYS, per architecture") {
  // Profiles name the syscalls their authors knew; a newer one must look
  // absent (ENOSYS, so libc falls back), not refused (EPERM), as in runc.
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  sc.syscalls.push_back({{"read", "getpid", "mkdirat"}, "SCMP_ACT_ALLOW", std::nullopt, {}});
  auto prog = must_compile(sc).insns;
  constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
  constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
  constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;
  auto call = [&](uint32_t arch, int nr) {
    seccomp_data d{};
    d.arch = arch;
    d.nr = nr;
    return evaluate(prog, d);
  };
  int top64 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "mkdirat");  // 258
  CHECK(call(AUDIT_ARCH_X86_64, top64) == kAllow);
  CHECK(call(AUDIT_ARCH_X86_64, 83) == kEperm);  // mkdir: below the top, not listed
  CHECK(call(AUDIT_ARCH_X86_64, top64 + 1) == kEnosys);
  CHECK(call(AUDIT_ARCH_X86_64, 435) == kEnosys);  // clone3
  CHECK(call(AUDIT_ARCH_X86_64, 1000) == kEnosys);
  // i386 numbers differ: mkdirat is 296 there, and 297 is above it.
  int top32 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "mkdirat");
  CHECK(call(AUDIT_ARCH_I386, top32) == kAllow);
  CHECK(call(AUDIT_ARCH_I386, top32 + 1) == kEnosys);
  CHECK(call(AUDIT_ARCH_I386, 39) == kEperm);  // mkdir on i386, not listed
  // x32 shares AUDIT_ARCH_X86_64; its numbers carry the x32 bit.
  int topx32 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "mkdirat");
  REQUIRE(topx32 > 0x40000000);
  CHECK(call(AUDIT_ARCH_X86_64, topx32) == kAllow);
  CHECK(call(AUDIT_ARCH_X86_64, topx32 + 1) == kEnosys);

  // An architecture the profile does not include is still the default's.
  CHECK(call(AUDIT_ARCH_AARCH64, 1000) == SECCOMP_RET_KILL_THREAD);

  // An allowing default leaves unknown numbers to the kernel.
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.syscalls[0].action = "SCMP_ACT_ERRNO";
  prog = must_compile(sc).insns;
  CHECK(call(AUDIT_ARCH_X86_64, 1000) == kAllow);
  CHECK(call(AUDIT_ARCH_X86_64, top64) == kEperm);
}
