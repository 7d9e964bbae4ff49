# Variant cgroup2 (sourced by test/vm/guest): pure cgroup v2 with every
# controller the kernel has enabled for children of the root, no init system.
# Most hosts today (Fedora, Debian 11+, Ubuntu 21.10+, RHEL 9) look like this
# under their systemd; this machine's hybrid layout exercises only hugetlb on v2.
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
done
echo "guest: root subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
status=0
# The unit tests' live cgroup cases use the v2 writers and readers here.
step "$build/husk_unit_tests" || status=1
step "$build/husk-conformance" --husk "$HUSK_BIN" --probe "$HUSK_PROBE" --source "$src" || status=1
# Limits, OOM, pids, cpu conversion, update, pause/resume, events --stats,
# unified and devices, through the v2 code; rootless husk on a v2 host.
step /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider \
  test/integration/test_cgroup.py test/integration/test_events.py \
  test/integration/test_rootless.py || status=1
(exit $status)
