# Variant cgroup2 (sourced by test/vm/guest): pure cgroup v2 with every
# controller the kernel has enabled for children of the root, no init system.
# Most hosts today (Fedora, Debian 11+, Ubuntu 21.10+, RHEL 9) look like this
# under their systemd.
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
done
echo "guest: root subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider test/integration/test_cgroup.py \
  test/integration/test_rootless.py
