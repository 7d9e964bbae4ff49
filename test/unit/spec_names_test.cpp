#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <set>
#include <string>

#include "spec/names.hpp"

using namespace husk::spec;

TEST_CASE("rlimit names map to RLIMIT_*") {
  CHECK(rlimit_from_name("RLIMIT_NOFILE") == RLIMIT_NOFILE);
  CHECK(rlimit_from_name("RLIMIT_CORE") == RLIMIT_CORE);
  CHECK(rlimit_from_name("RLIMIT_RTTIME") == RLIMIT_RTTIME);
  CHECK(rlimit_from_name("RLIMIT_AS") == RLIMIT_AS);
  CHECK_FALSE(rlimit_from_name("NOFILE"));
  CHECK_FALSE(rlimit_from_name("RLIMIT_nofile"));
  CHECK(rlimit_name(RLIMIT_NPROC) == "RLIMIT_NPROC");
  std::set<uint64_t> values;
  for (const auto& e : rlimit_table()) {
    CHECK(e.name.starts_with("RLIMIT_"));
    values.insert(e.value);
  }
  CHECK(values.size() == 16);
  CHECK(*values.rbegin() == RLIMIT_NLIMITS - 1);
}

TEST_CASE("parse_signal accepts runc's spellings") {
  CHECK(*parse_signal("TERM") == SIGTERM);
  CHECK(*parse_signal("SIGTERM") == SIGTERM);
  CHECK(*parse_signal("sigterm") == SIGTERM);
  CHECK(*parse_signal("Kill") == SIGKILL);
  CHECK(*parse_signal("15") == 15);
  CHECK(*parse_signal("9") == 9);
  CHECK(*parse_signal("SIGUSR1") == SIGUSR1);
  CHECK(*parse_signal("WINCH") == SIGWINCH);
  CHECK(*parse_signal("SIGCLD") == SIGCHLD);
  CHECK(*parse_signal("IOT") == SIGABRT);
  CHECK(*parse_signal("RTMIN") == SIGRTMIN);
  CHECK(*parse_signal("SIGRTMIN+3") == SIGRTMIN + 3);
  CHECK(*parse_signal("rtmin+1") == SIGRTMIN + 1);
  CHECK(*parse_signal("SIGRTMAX") == SIGRTMAX);
  CHECK(*parse_signal("RTMAX-2") == SIGRTMAX - 2);
  CHECK(*parse_signal("64") == 64);
  CHECK(*parse_signal("0") == 0);  // existence check only, as runc passes it to kill(2)
  CHECK(*parse_signal("00") == 0);
}

TEST_CASE("parse_signal rejects unknown signals with runc's wording") {
  for (const char* bad : {"FOO", "", "SIG", "SIG0", "sig0", "65", "100", "-1", "SIGRTMIN+40",
                          "RTMIN-1", "RTMAX+1", "RTMIN+", "15x", " 15", "SIGTERM "}) {
    INFO(bad);
    auto r = parse_signal(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind() == husk::ErrorKind::InvalidArgument);
    CHECK(r.error().message() == std::string("unknown signal \"") + bad + "\"");
  }
}

TEST_CASE("signal_name gives canonical names") {
  CHECK(signal_name(SIGTERM) == "SIGTERM");
  CHECK(signal_name(SIGABRT) == "SIGABRT");
  CHECK(signal_name(SIGCHLD) == "SIGCHLD");
  CHECK(signal_name(SIGIO) == "SIGIO");
  CHECK_FALSE(signal_name(0));
  CHECK_FALSE(signal_name(SIGRTMIN));
  for (int sig = 1; sig < 32; ++sig) {
    auto name = signal_name(sig);
    if (!name) continue;
    INFO(*name);
    CHECK(*parse_signal(*name) == sig);
  }
}

TEST_CASE("namespace names, /proc entries and clone flags") {
  CHECK(namespace_type_from_name("network") == NamespaceType::Network);
  CHECK(namespace_type_from_name("mount") == NamespaceType::Mount);
  CHECK_FALSE(namespace_type_from_name("net"));
  CHECK_FALSE(namespace_type_from_name("mnt"));
  CHECK(namespace_proc_name(NamespaceType::Network) == "net");
  CHECK(namespace_proc_name(NamespaceType::Mount) == "mnt");
  CHECK(namespace_clone_flag(NamespaceType::Pid) == CLONE_NEWPID);
  CHECK(namespace_clone_flag(NamespaceType::Network) == CLONE_NEWNET);
  CHECK(namespace_clone_flag(NamespaceType::Mount) == CLONE_NEWNS);
  CHECK(namespace_clone_flag(NamespaceType::Ipc) == CLONE_NEWIPC);
  CHECK(namespace_clone_flag(NamespaceType::Uts) == CLONE_NEWUTS);
  CHECK(namespace_clone_flag(NamespaceType::User) == CLONE_NEWUSER);
  CHECK(namespace_clone_flag(NamespaceType::Cgroup) == CLONE_NEWCGROUP);
  CHECK(namespace_clone_flag(NamespaceType::Time) == 0x80);
  const auto all = all_namespace_types();
  REQUIRE(all.size() == 8);
  std::set<int> flags;
  for (NamespaceType t : all) {
    CHECK(namespace_type_from_name(namespace_type_name(t)) == t);
    flags.insert(namespace_clone_flag(t));
  }
  CHECK(flags.size() == 8);
}

TEST_CASE("seccomp actions map to SECCOMP_RET_* and know which carry errno") {
  CHECK(seccomp_action_from_name("SCMP_ACT_ERRNO") == SeccompAction::Errno);
  CHECK_FALSE(seccomp_action_from_name("SCMP_ACT_errno"));
  CHECK(seccomp_action_ret(SeccompAction::Allow) == SCMP_ACT_ALLOW);
  CHECK(seccomp_action_ret(SeccompAction::Kill) == SCMP_ACT_KILL);
  CHECK(seccomp_action_ret(SeccompAction::KillProcess) == SCMP_ACT_KILL_PROCESS);
  CHECK(seccomp_action_ret(SeccompAction::KillThread) == SCMP_ACT_KILL_THREAD);
  CHECK(seccomp_action_ret(SeccompAction::Trap) == SCMP_ACT_TRAP);
  CHECK(seccomp_action_ret(SeccompAction::Errno) == SCMP_ACT_ERRNO(0));
  CHECK(seccomp_action_ret(SeccompAction::Trace) == SCMP_ACT_TRACE(0));
  CHECK(seccomp_action_ret(SeccompAction::Log) == SCMP_ACT_LOG);
  CHECK(seccomp_action_ret(SeccompAction::Notify) == SCMP_ACT_NOTIFY);
  for (SeccompAction a : all_seccomp_actions()) {
    INFO(seccomp_action_name(a));
    CHECK(seccomp_action_from_name(seccomp_action_name(a)) == a);
    CHECK(seccomp_action_takes_errno(a) ==
          (a == SeccompAction::Errno || a == SeccompAction::Trace));
  }
  CHECK(all_seccomp_actions().size() == 9);
}

TEST_CASE("seccomp operators use libseccomp's numbering") {
  CHECK(static_cast<int>(*seccomp_op_from_name("SCMP_CMP_NE")) == SCMP_CMP_NE);
  CHECK(static_cast<int>(*seccomp_op_from_name("SCMP_CMP_LT")) == SCMP_CMP_LT);
  CHECK(static_cast<int>(*seccomp_op_from_name("SCMP_CMP_LE")) == SCMP_CMP_LE);
  CHECK(static_cast<int>(*seccomp_op_from_name("SCMP_CMP_EQ")) == SCMP_CMP_EQ);
  CHECK(static_cast<int>(*seccomp_op_from_name("SCMP_CMP_GE")) == SCMP_CMP_GE);
  CHECK(static_cast<int>(*seccomp_op_from_name("SCMP_CMP_GT")) == SCMP_CMP_GT);
  CHECK(static_cast<int>(*seccomp_op_from_name("SCMP_CMP_MASKED_EQ")) == SCMP_CMP_MASKED_EQ);
  CHECK_FALSE(seccomp_op_from_name("SCMP_CMP_XX"));
  for (SeccompOp op : all_seccomp_ops()) CHECK(seccomp_op_from_name(seccomp_op_name(op)) == op);
}

TEST_CASE("seccomp architectures equal libseccomp's SCMP_ARCH_* values") {
  CHECK(seccomp_arch_from_name("SCMP_ARCH_X86_64") == SCMP_ARCH_X86_64);
  CHECK(seccomp_arch_from_name("SCMP_ARCH_X86") == SCMP_ARCH_X86);
  CHECK(seccomp_arch_from_name("SCMP_ARCH_X32") == SCMP_ARCH_X32);
  CHECK(seccomp_arch_from_name("SCMP_ARCH_AARCH64") == SCMP_ARCH_AARCH64);
  CHECK(seccomp_arch_from_name("SCMP_ARCH_MIPSEL64N32") == SCMP_ARCH_MIPSEL64N32);
  CHECK(seccomp_arch_from_name("SCMP_ARCH_PPC64LE") == SCMP_ARCH_PPC64LE);
  CHECK(seccomp_arch_from_name("SCMP_ARCH_S390X") == SCMP_ARCH_S390X);
  CHECK(seccomp_arch_from_name("SCMP_ARCH_RISCV64") == SCMP_ARCH_RISCV64);
  CHECK_FALSE(seccomp_arch_from_name("SCMP_ARCH_NATIVE"));
  const auto archs = seccomp_arch_table();
  CHECK(archs.size() == 23);
  std::set<uint64_t> values;
  for (const auto& a : archs) {
    CHECK(a.name.starts_with("SCMP_ARCH_"));
    values.insert(a.value);
  }
  CHECK(values.size() == 23);
}

TEST_CASE("seccomp flags are the seccomp(2) bits") {
  CHECK(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_TSYNC") == SECCOMP_FILTER_FLAG_TSYNC);
  CHECK(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_LOG") == SECCOMP_FILTER_FLAG_LOG);
  CHECK(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_SPEC_ALLOW") == SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  CHECK(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == (1U << 5));
  CHECK_FALSE(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_NEW_LISTENER"));
  CHECK(seccomp_flag_table().size() == 4);
}

TEST_CASE("scheduler, ioprio, mempolicy and personality names") {
  CHECK(sched_policy_from_name("SCHED_OTHER") == SCHED_OTHER);
  CHECK(sched_policy_from_name("SCHED_FIFO") == SCHED_FIFO);
  CHECK(sched_policy_from_name("SCHED_RR") == SCHED_RR);
  CHECK(sched_policy_from_name("SCHED_BATCH") == SCHED_BATCH);
  CHECK(sched_policy_from_name("SCHED_IDLE") == SCHED_IDLE);
  CHECK(sched_policy_from_name("SCHED_DEADLINE") == 6);
  CHECK(sched_policy_from_name("SCHED_ISO") == 4);
  CHECK_FALSE(sched_policy_from_name("SCHED_NORMAL"));
  CHECK(sched_flag_from_name("SCHED_FLAG_RESET_ON_FORK") == 1U);
  CHECK(sched_flag_from_name("SCHED_FLAG_UTIL_CLAMP_MAX") == 0x40U);
  CHECK_FALSE(sched_flag_from_name("SCHED_FLAG_ALL"));
  CHECK(ioprio_class_from_name("IOPRIO_CLASS_RT") == 1);
  CHECK(ioprio_class_from_name("IOPRIO_CLASS_BE") == 2);
  CHECK(ioprio_class_from_name("IOPRIO_CLASS_IDLE") == 3);
  CHECK_FALSE(ioprio_class_from_name("IOPRIO_CLASS_NONE"));
  CHECK(mempolicy_mode_from_name("MPOL_BIND") == 2);
  CHECK(mempolicy_mode_from_name("MPOL_WEIGHTED_INTERLEAVE") == 6);
  CHECK(mempolicy_flag_from_name("MPOL_F_STATIC_NODES") == (1U << 15));
  CHECK_FALSE(mempolicy_mode_from_name("MPOL_MAX"));
  CHECK(personality_domain_from_name("LINUX") == 0U);
  CHECK(personality_domain_from_name("LINUX32") == 8U);
  CHECK_FALSE(personality_domain_from_name("linux"));
}
