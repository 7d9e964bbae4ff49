#include "cgroup/devices.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sys/fd.hpp"

namespace husk::cgroup {

namespace {

// Programs are recognised by this name when a later apply replaces them.
constexpr char kProgName[] = "husk_devices";
// The kernel checks the license string only for programs calling GPL-only
// helpers (bpf_prog_load: gpl_compatible); this one calls none, so it carries
// husk's own license (LICENSE).
constexpr char kLicense[] = "Apache-2.0";

enum Reg : uint8_t { R0 = 0, R1, R2, R3, R4, R5 };

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn ldx_w(uint8_t dst, uint8_t src, int16_t off) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn mov_reg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn mov_imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn alu_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn jmp_imm(uint8_t op, uint8_t dst, int32_t imm) {  // offset patched later
  return insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// One rule: every "does not apply" jump lands on the next rule's first insn.
void emit_rule(std::vector<bpf_insn>& p, const DeviceRule& r) {
  std::vector<size_t> skips;
  auto skip_if = [&](uint8_t op, uint8_t reg, int32_t imm) {
    skips.push_back(p.size());
    p.push_back(jmp_imm(op, reg, imm));
  };
  if (r.type != 'a') skip_if(BPF_JNE, R2, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  if (r.major >= 0) skip_if(BPF_JNE, R4, static_cast<int32_t>(r.major));
  if (r.minor >= 0) skip_if(BPF_JNE, R5, static_cast<int32_t>(r.minor));
  auto access = static_cast<int32_t>(r.access);
  p.push_back(mov_reg(R0, R3));
  p.push_back(alu_imm(BPF_AND, R0, access));
  skip_if(BPF_JEQ, R0, 0);  // none of the still-pending bits
  if (r.allow) {
    p.push_back(alu_imm(BPF_AND, R3, ~access));
    skip_if(BPF_JNE, R3, 0);  // some bits still pending: earlier rules decide
    p.push_back(mov_imm(R0, 1));
  } else {
    p.push_back(mov_imm(R0, 0));
  }
  p.push_back(exit_insn());
  for (size_t at : skips) p[at].off = static_cast<int16_t>(p.size() - at - 1);
}

long bpf(int cmd, bpf_attr& attr) {
  long r;
  do {
    r = ::syscall(SYS_bpf, cmd, &attr, sizeof attr);
  } while (r < 0 && errno == EINTR);
  return r;
}

uint64_t ptr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

Result<sys::UniqueFd> load(const std::vector<bpf_insn>& prog) {
  std::string log;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bpf_attr a{};
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = ptr(prog.data());
    a.insn_cnt = static_cast<uint32_t>(prog.size());
    a.license = ptr(kLicense);
    std::memcpy(a.prog_name, kProgName, sizeof kProgName);
    if (attempt == 1) {  // retry only to fetch the verifier's explanation
      log.assign(65536, '\0');
      a.log_level = 1;
      a.log_buf = ptr(log.data());
      a.log_size = static_cast<uint32_t>(log.size());
    }
    long fd = bpf(BPF_PROG_LOAD, a);
    if (fd >= 0) return sys::UniqueFd(static_cast<int>(fd));
    int err = errno;
    if (attempt == 1 || err == EPERM || err == ENOSYS) {
      log.resize(std::strlen(log.c_str()));
      return Error::sys(err, "bpf(BPF_PROG_LOAD, cgroup device program, {} insns){}{}", prog.size(),
                        log.empty() ? "" : ": ", log);
    }
  }
  return Error::sys(EINVAL, "bpf(BPF_PROG_LOAD)");
}

// Fds of the device programs attached to the cgroup that carry our name.
Result<std::vector<sys::UniqueFd>> attached_husk_programs(int cgroup_fd) {
  uint32_t ids[64] = {};
  bpf_attr q{};
  q.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = ptr(ids);
  q.query.prog_cnt = 64;
  if (bpf(BPF_PROG_QUERY, q) < 0) return Error::last("bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE)");
  std::vector<sys::UniqueFd> out;
  for (uint32_t i = 0; i < q.query.prog_cnt && i < 64; ++i) {
    bpf_attr g{};
    g.prog_id = ids[i];
    long fd = bpf(BPF_PROG_GET_FD_BY_ID, g);
    if (fd < 0 && errno == ENOENT) continue;  // detached meanwhile
    if (fd < 0) return Error::last("bpf(BPF_PROG_GET_FD_BY_ID, {})", ids[i]);
    sys::UniqueFd prog(static_cast<int>(fd));
    bpf_prog_info info{};
    bpf_attr gi{};
    gi.info.bpf_fd = static_cast<uint32_t>(prog.get());
    gi.info.info_len = sizeof info;
    gi.info.info = ptr(&info);
    if (bpf(BPF_OBJ_GET_INFO_BY_FD, gi) < 0) return Error::last("bpf(BPF_OBJ_GET_INFO_BY_FD)");
    if (std::strncmp(info.name, kProgName, sizeof info.name) == 0) out.push_back(std::move(prog));
  }
  return out;
}

}  // namespace

std::vector<bpf_insn> compile_device_filter(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> p = {
      ldx_w(R2, R1, 0),              // access_type
      mov_reg(R3, R2),               //
      alu_imm(BPF_RSH, R3, 16),      // r3 = requested access bits, still pending
      alu_imm(BPF_AND, R2, 0xffff),  // r2 = device type
      ldx_w(R4, R1, 4),              // r4 = major
      ldx_w(R5, R1, 8),              // r5 = minor
  };
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) emit_rule(p, *it);
  p.push_back(mov_imm(R0, 0));  // nothing granted the pending bits: default deny
  p.push_back(exit_insn());
  return p;
}

Status install_device_filter(int cgroup_dirfd, const std::vector<DeviceRule>& rules) {
  auto old = TRY(attached_husk_programs(cgroup_dirfd));
  auto prog = TRY(load(compile_device_filter(rules)));
  bpf_attr a{};
  a.target_fd = static_cast<uint32_t>(cgroup_dirfd);
  a.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, a) < 0) return Error::last("bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE)");
  // Until these detaches both old and new programs run and both must allow.
  for (const auto& o : old) {
    bpf_attr d{};
    d.target_fd = static_cast<uint32_t>(cgroup_dirfd);
    d.attach_bpf_fd = static_cast<uint32_t>(o.get());
    d.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, d) < 0 && errno != ENOENT) {
      return Error::last("bpf(BPF_PROG_DETACH, previous device program)");
    }
  }
  return {};
}

}  // namespace husk::cgroup
