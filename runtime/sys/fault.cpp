// Fault points (base/phases.hpp), compiled in with HUSK_FAULT_POINTS only.
#include "base/phases.hpp"

#ifdef HUSK_FAULT_POINTS

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace husk {

namespace {

// Read once, before main: the init compares against it between clone and
// execve, where getenv's view of the environment is the same but calling
// into libc beyond plain syscalls and string compares is kept out.
const char* const kArmed = std::getenv("HUSK_FAULT");

// "VERB.PHASE" == kArmed, without building a string.
bool armed(std::string_view verb, const char* phase) noexcept {
  if (kArmed == nullptr) return false;
  size_t v = verb.size();
  return std::strncmp(kArmed, verb.data(), v) == 0 && kArmed[v] == '.' &&
         std::strcmp(kArmed + v + 1, phase) == 0;
}

}  // namespace

void fault_point(Verb v, const char* phase) noexcept {
  if (armed(verb_name(v), phase)) ::kill(::getpid(), SIGKILL);
}

void init_fault_point(const char* phase) noexcept {
  if (!armed(verb_name(Verb::Init), phase)) return;
  ::prctl(PR_SET_NAME, "husk-fault", 0, 0, 0);
  for (;;) ::pause();
}

}  // namespace husk

#endif
