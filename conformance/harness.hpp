// What the conformance runner does to the host: run commands with a timeout,
// and give each case a sandbox (directory, husk --root, cgroup name, process
// mark) that is taken apart afterwards, whatever the case did.
//
// Names follow test/integration (helpers.py), so scripts/test's final leak
// check sees the runner's leftovers too: directories /tmp/husk-it-<TAG>-*,
// cgroups husk-test/<TAG>-*, processes with HUSK_TEST_PROC=<TAG>.* in their
// environment.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace husk::conformance {

struct CmdResult {
  std::vector<std::string> argv;
  int rc = -1;  // exit status, or 128 + signal
  bool timed_out = false;
  std::string out, err;
  [[nodiscard]] std::string describe() const;
};

// Runs argv (argv[0] a path) with stdin /dev/null and stdout/stderr into
// files under io_dir (never pipes: a container started by the command
// inherits them and would keep a pipe open past the command's exit). The
// extra_env entries are added to our environment. Killed after timeout_s.
Result<CmdResult> run_cmd(const std::vector<std::string>& argv, const std::string& io_dir,
                          const std::vector<std::string>& extra_env, double timeout_s,
                          const std::string& cwd = "");

// prctl(PR_SET_CHILD_SUBREAPER): a container init left behind by `create`
// is re-parented to us (as to conmon or a containerd shim), not to the
// host's init, and reap_orphans() collects it once it exits.
Status become_subreaper();
void reap_orphans();

std::string test_tag();
std::string read_text(const std::string& path);
Status write_text(const std::string& path, const std::string& text, unsigned mode = 0644);

// One case's footprint on the host.
struct Sandbox {
  std::string dir;     // <session>/<NNN>-<name>
  std::string root;    // husk --root
  std::string bundle;  // dir/bundle (rootfs in it)
  std::string cgroup;  // cgroupsPath: /husk-test/<TAG>-c<N>
  std::string cgname;  // <TAG>-c<N>
  std::string mark;    // HUSK_TEST_PROC value: <TAG>.c<N>
};

Result<Sandbox> make_sandbox(const std::string& session, int index, const std::string& name);

// Everything a case left: state dirs, live marked processes, cgroups, host
// mounts under its directory. Empty when it cleaned up after itself.
std::vector<std::string> leftovers(const Sandbox& sb);

// Force-removes what leftovers() lists, then the directory itself (unless a
// mount could not be detached: removing files through it would reach the
// host).
void force_clean(const Sandbox& sb);

// remove_all(dir) unless a mount is still under it (false then).
bool remove_unmounted_tree(const std::string& dir);

// The shared parent cgroup husk-test/ in every hierarchy, when empty.
void remove_cgroup_parents();

}  // namespace husk::conformance
