// The named phases of husk's verbs: what `--debug` traces (PhaseTimer,
// lifecycle/phase_timer.hpp) and, in builds configured with
// HUSK_FAULT_POINTS (the developer and CI build, scripts/build), where a test
// can stop husk to see what a kill -9 at that moment leaves behind. One table:
// a mark names a phase of its verb that the table lists, or it does not
// compile, so a test that walks the table (`husk __phases`) covers every
// phase, a new one included.
//
// HUSK_FAULT=VERB.PHASE (e.g. create.clone) makes the husk process that marks
// that phase SIGKILL itself there. The container init's phases (verb "init")
// are steps between clone and execve: the init cannot kill itself (the
// kernel drops SIGKILL sent to a pid namespace's init from inside it,
// pid_namespaces(7)), so it renames itself "husk-fault" (its comm) and waits
// for the test to SIGKILL it from outside.
#pragma once

#include <string_view>

namespace husk {

enum class Verb { Create, Run, Start, Exec, Kill, Delete, Pause, Resume, Update, Init };

struct PhaseEntry {
  Verb verb;
  std::string_view name;
};

inline constexpr PhaseEntry kPhases[] = {
    // create (and run, which creates first), in order
    {Verb::Create, "parse"},
    {Verb::Create, "plan"},
    {Verb::Create, "state"},
    {Verb::Create, "clone"},
    {Verb::Create, "cgroup"},
    {Verb::Create, "join"},
    {Verb::Create, "persist"},
    {Verb::Create, "rootfs"},
    {Verb::Create, "hooks"},
    {Verb::Create, "ready"},
    // run in the foreground, after its create
    {Verb::Run, "start"},
    {Verb::Run, "wait"},
    {Verb::Run, "delete"},
    {Verb::Start, "lock"},
    {Verb::Start, "release"},
    {Verb::Start, "exec"},
    {Verb::Exec, "plan"},
    {Verb::Exec, "clone"},
    {Verb::Exec, "join"},
    {Verb::Exec, "exec"},
    {Verb::Exec, "wait"},
    {Verb::Kill, "observe"},
    {Verb::Kill, "signal"},
    {Verb::Delete, "lock"},
    {Verb::Delete, "kill"},
    {Verb::Delete, "cgroup"},
    {Verb::Delete, "remove"},
    {Verb::Pause, "lock"},
    {Verb::Pause, "freeze"},
    {Verb::Resume, "lock"},
    {Verb::Resume, "thaw"},
    {Verb::Update, "lock"},
    {Verb::Update, "apply"},
    // the container init, between clone and execve
    {Verb::Init, "begin"},
    {Verb::Init, "rootfs"},
    {Verb::Init, "pivot"},
    {Verb::Init, "process"},
    {Verb::Init, "ready"},
    {Verb::Init, "fifo"},
    {Verb::Init, "exec"},
};

constexpr std::string_view verb_name(Verb v) {
  constexpr std::string_view names[] = {"create", "run",   "start",  "exec",   "kill",
                                        "delete", "pause", "resume", "update", "init"};
  return names[static_cast<int>(v)];
}

constexpr bool is_phase(Verb v, std::string_view name) {
  for (const auto& p : kPhases) {
    if (p.verb == v && p.name == name) return true;
  }
  return false;
}

// A phase name of verb V, checked against kPhases when the call compiles.
template <Verb V>
struct PhaseOf {
  // NOLINTNEXTLINE(google-explicit-constructor): t.mark("plan") reads as the trace prints it
  consteval PhaseOf(const char* n) : name(n) {
    // Not a constant expression, so an unlisted phase does not compile.
    if (!is_phase(V, n)) throw "phase missing from kPhases (base/phases.hpp)";
  }
  const char* name;
};

#ifdef HUSK_FAULT_POINTS
// SIGKILLs the calling process when HUSK_FAULT names this phase.
void fault_point(Verb v, const char* phase) noexcept;
// The init's: async-signal-safe (no allocation; HUSK_FAULT was read before
// the clone), then it waits for SIGKILL from outside.
void init_fault_point(const char* phase) noexcept;
#else
inline void fault_point(Verb /*v*/, const char* /*phase*/) noexcept {}
inline void init_fault_point(const char* /*phase*/) noexcept {}
#endif

// At an init step: a fault point (there is no trace in the init).
inline void init_phase(PhaseOf<Verb::Init> p) noexcept { init_fault_point(p.name); }

}  // namespace husk
