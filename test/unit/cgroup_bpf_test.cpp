// The generated device program, run by a small interpreter of the eBPF
// subset it uses, so rule semantics are tested without loading it.
#include <catch2/catch.hpp>
#include <stdexcept>

#include "cgroup/devices.hpp"

namespace cg = husk::cgroup;
namespace spec = husk::spec;

namespace {

struct Access {
  char type;  // 'b' | 'c'
  uint32_t major, minor;
  const char* acc;  // "rw", "m", ...
};

uint32_t ctx_access_type(const Access& a) {
  uint32_t bits = 0;
  for (const char* p = a.acc; *p; ++p) {
    bits |= *p == 'm' ? BPF_DEVCG_ACC_MKNOD : *p == 'r' ? BPF_DEVCG_ACC_READ : BPF_DEVCG_ACC_WRITE;
  }
  return bits << 16 | (a.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
}

// Returns r0 at exit. Throws on anything the generator should never emit.
uint64_t run(const std::vector<bpf_insn>& prog, const Access& a) {
  uint32_t ctx[3] = {ctx_access_type(a), a.major, a.minor};
  uint64_t r[11] = {};
  for (size_t pc = 0, steps = 0; steps < 100000; ++steps) {
    if (pc >= prog.size()) throw std::runtime_error("pc out of range");
    const bpf_insn& i = prog[pc++];
    uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        if (i.src_reg != 1 || i.off % 4 || i.off > 8) throw std::runtime_error("bad load");
        r[i.dst_reg] = ctx[i.off / 4];
        break;
      case BPF_ALU64 | BPF_MOV | BPF_X:
        r[i.dst_reg] = r[i.src_reg];
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        r[i.dst_reg] = imm;
        break;
      case BPF_ALU64 | BPF_AND | BPF_K:
        r[i.dst_reg] &= imm;
        break;
      case BPF_ALU64 | BPF_RSH | BPF_K:
        r[i.dst_reg] >>= i.imm;
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (r[i.dst_reg] != imm) pc += i.off;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        if (r[i.dst_reg] == imm) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT:
        return r[0];
      default:
        throw std::runtime_error("unexpected opcode");
    }
  }
  throw std::runtime_error("no exit");
}

std::vector<bpf_insn> compile(const std::vector<spec::DeviceCgroup>& in) {
  auto rules = cg::normalize_device_rules(in);
  REQUIRE(rules);
  return cg::compile_device_filter(*rules);
}

spec::DeviceCgroup rule(bool allow, const char* type, std::optional<int64_t> major,
                        std::optional<int64_t> minor, const char* access) {
  return {allow, type ? std::optional<std::string>(type) : std::nullopt, major, minor,
          access ? std::optional<std::string>(access) : std::nullopt};
}

}  // namespace

TEST_CASE("device filter: no rules denies everything", "[cgroup]") {
  auto p = compile({});
  CHECK(run(p, {'c', 1, 3, "r"}) == 0);
  CHECK(run(p, {'b', 8, 0, "m"}) == 0);
}

TEST_CASE("device filter: the container defaults after deny-all", "[cgroup]") {
  spec::Linux linux;
  linux.resources = spec::Resources{};
  linux.resources->devices = {rule(false, nullptr, std::nullopt, std::nullopt, "rwm")};
  linux.devices.push_back({"c", "/dev/fuse", 10, 229, std::nullopt, std::nullopt, std::nullopt});
  auto p = compile(cg::container_device_rules(&linux));
  CHECK(run(p, {'c', 1, 3, "rw"}) == 1);     // /dev/null
  CHECK(run(p, {'c', 1, 9, "r"}) == 1);      // /dev/urandom
  CHECK(run(p, {'c', 136, 7, "rw"}) == 1);   // a pty
  CHECK(run(p, {'c', 10, 229, "rw"}) == 0);  // listed in linux.devices: made, not allowed
  CHECK(run(p, {'b', 8, 0, "m"}) == 1);      // mknod of anything
  CHECK(run(p, {'b', 8, 0, "r"}) == 0);      // but not reading a disk
  CHECK(run(p, {'c', 1, 1, "r"}) == 0);      // /dev/mem
  CHECK(run(p, {'c', 10, 200, "rw"}) == 1);  // /dev/net/tun, as in runc's defaults
  CHECK(run(p, {'c', 10, 201, "rw"}) == 0);  // but not its neighbours
}

TEST_CASE("device filter: deny-all plus a listed /dev/kmsg keeps it denied", "[cgroup]") {
  spec::Linux linux;
  linux.resources = spec::Resources{};
  linux.resources->devices = {rule(false, nullptr, std::nullopt, std::nullopt, "rwm")};
  linux.devices.push_back({"c", "/dev/kmsg", 1, 11, std::nullopt, std::nullopt, std::nullopt});
  auto p = compile(cg::container_device_rules(&linux));
  CHECK(run(p, {'c', 1, 11, "r"}) == 0);
  CHECK(run(p, {'c', 1, 11, "w"}) == 0);
  CHECK(run(p, {'c', 1, 11, "m"}) == 1);  // mknod of anything, as runc's defaults
  // An explicit rule is what opens it.
  linux.resources->devices.push_back(rule(true, "c", 1, 11, "w"));
  p = compile(cg::container_device_rules(&linux));
  CHECK(run(p, {'c', 1, 11, "w"}) == 1);
  CHECK(run(p, {'c', 1, 11, "r"}) == 0);
}

TEST_CASE("device filter: the last matching rule decides each access bit", "[cgroup]") {
  auto p = compile({rule(true, "c", 1, 3, "rwm"), rule(false, "c", 1, 3, "w")});
  CHECK(run(p, {'c', 1, 3, "r"}) == 1);
  CHECK(run(p, {'c', 1, 3, "w"}) == 0);
  CHECK(run(p, {'c', 1, 3, "rw"}) == 0);
  CHECK(run(p, {'c', 1, 5, "r"}) == 0);
}

TEST_CASE("device filter: bits granted by different rules combine", "[cgroup]") {
  auto p = compile({rule(true, "c", 1, 3, "r"), rule(true, "c", 1, std::nullopt, "w")});
  CHECK(run(p, {'c', 1, 3, "rw"}) == 1);
  CHECK(run(p, {'c', 1, 5, "rw"}) == 0);
  CHECK(run(p, {'c', 1, 5, "w"}) == 1);
}

TEST_CASE("device filter: allow-all then deny a type", "[cgroup]") {
  auto p = compile({rule(true, "a", std::nullopt, std::nullopt, "rwm"),
                    rule(false, "c", std::nullopt, std::nullopt, "rwm")});
  CHECK(run(p, {'b', 8, 0, "rwm"}) == 1);
  CHECK(run(p, {'c', 1, 3, "r"}) == 0);
}

TEST_CASE("device filter: a later deny is overridden by an even later allow", "[cgroup]") {
  auto p = compile({rule(true, "a", std::nullopt, std::nullopt, nullptr),
                    rule(false, "b", 8, std::nullopt, nullptr), rule(true, "b", 8, 1, "r")});
  CHECK(run(p, {'b', 8, 1, "r"}) == 1);
  CHECK(run(p, {'b', 8, 1, "w"}) == 0);
  CHECK(run(p, {'b', 8, 2, "r"}) == 0);
  CHECK(run(p, {'b', 9, 0, "rw"}) == 1);
}
