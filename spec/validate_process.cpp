// process.*: args, cwd, env, rlimits, scheduler, I/O priority, affinity.
#include <fmt/format.h>

#include <set>
#include <string_view>

#include "spec/names.hpp"
#include "spec/validate.hpp"
#include "spec/validate_internal.hpp"

namespace husk::spec::validation {
namespace {

Status check_env_entry(const std::string& e, size_t i) {
  const size_t eq = e.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Error::spec("process.env[{}]: expected KEY=value, got \"{}\"", i, e);
  }
  return {};
}

Status check_rlimit(const Rlimit& r, size_t i, std::set<std::string_view>& seen) {
  if (!rlimit_from_name(r.type)) {
    return Error::spec("process.rlimits[{}].type: unknown rlimit \"{}\"", i, r.type);
  }
  if (!seen.insert(r.type).second) {
    return Error::spec("process.rlimits[{}].type: duplicate rlimit \"{}\"", i, r.type);
  }
  if (r.soft > r.hard) {
    return Error::spec("process.rlimits[{}]: soft limit {} exceeds hard limit {}", i, r.soft,
                       r.hard);
  }
  return {};
}

Status check_sched_deadline(const Scheduler& s) {
  if (!s.runtime || !s.deadline || *s.runtime == 0 || *s.deadline == 0) {
    return Error::spec("process.scheduler: SCHED_DEADLINE needs non-zero runtime and deadline");
  }
  const uint64_t period = s.period.value_or(0);
  if (*s.runtime > *s.deadline || (period != 0 && *s.deadline > period)) {
    return Error::spec("process.scheduler: SCHED_DEADLINE needs runtime <= deadline <= period");
  }
  return {};
}

Status check_sched_priority(const Scheduler& s) {
  const bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
  const int32_t prio = s.priority.value_or(0);
  if (realtime && (prio < 1 || prio > 99)) {
    return Error::spec("process.scheduler.priority: {} needs a priority in 1..99, got {}", s.policy,
                       prio);
  }
  if (!realtime && prio != 0) {
    return Error::spec("process.scheduler.priority: must be 0 for {}, got {}", s.policy, prio);
  }
  return {};
}

void check_scheduler(Checker& ck, const Scheduler& s) {
  if (!sched_policy_from_name(s.policy)) {
    ck.take(Error::spec("process.scheduler.policy: unknown policy \"{}\"", s.policy));
    return;
  }
  for (size_t i = 0; i < s.flags.size(); ++i) {
    if (!sched_flag_from_name(s.flags[i])) {
      ck.take(Error::spec("process.scheduler.flags[{}]: unknown flag \"{}\"", i, s.flags[i]));
    }
  }
  if (s.nice && (*s.nice < -20 || *s.nice > 19)) {
    ck.take(Error::spec("process.scheduler.nice: must be in -20..19, got {}", *s.nice));
  }
  ck.take(check_sched_priority(s));
  if (s.policy == "SCHED_DEADLINE") {
    ck.take(check_sched_deadline(s));
  } else if (s.runtime || s.deadline || s.period) {
    ck.take(Error::spec("process.scheduler: runtime, deadline and period need SCHED_DEADLINE"));
  }
}

void check_io_priority(Checker& ck, const IoPriority& io) {
  if (!ioprio_class_from_name(io.io_class)) {
    ck.take(Error::spec("process.ioPriority.class: unknown class \"{}\"", io.io_class));
  }
  if (io.priority < 0 || io.priority > 7) {
    ck.take(Error::spec("process.ioPriority.priority: must be in 0..7, got {}", io.priority));
  }
}

void check_process_attrs(Checker& ck, const Process& p) {
  // process.user.umask is any uint32: umask(2) keeps only the permission
  // bits (mask & 0777), and runc passes the value through as is.
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
    ck.take(Error::spec("process.oomScoreAdj: must be in -1000..1000, got {}", *p.oom_score_adj));
  }
  if (p.console_size && !p.terminal) {
    ck.warn("process.consoleSize: ignored because process.terminal is false");
  }
  // process.capabilities names are resolved, and an unknown one refused,
  // when the process is planned: with libcap's table, which spec/ does not
  // link, and against the running kernel (runtime/linux/capabilities.hpp).
  if (p.scheduler) check_scheduler(ck, *p.scheduler);
  if (p.io_priority) check_io_priority(ck, *p.io_priority);
  if (p.exec_cpu_affinity) {
    const auto& a = *p.exec_cpu_affinity;
    if (a.initial) ck.take(check_cpu_list(*a.initial, "process.execCPUAffinity.initial"));
    if (a.final_) ck.take(check_cpu_list(*a.final_, "process.execCPUAffinity.final"));
  }
}

}  // namespace

void check_process(Checker& ck) {
  const auto& proc = ck.config().process;
  if (!proc) {
    ck.take(Error::spec("process: required"));
    return;
  }
  const Process& p = *proc;
  if (p.args.empty()) {
    ck.take(Error::spec("process.args: must not be empty"));
  } else if (p.args[0].empty()) {
    ck.take(Error::spec("process.args[0]: must not be empty"));
  }
  ck.take(require_abs(p.cwd, "process.cwd"));
  for (size_t i = 0; i < p.env.size(); ++i) ck.take(check_env_entry(p.env[i], i));
  std::set<std::string_view> seen;
  for (size_t i = 0; i < p.rlimits.size(); ++i) ck.take(check_rlimit(p.rlimits[i], i, seen));
  check_process_attrs(ck, p);
}

}  // namespace husk::spec::validation
