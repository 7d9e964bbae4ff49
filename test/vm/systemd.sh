# Variant systemd (sourced by test/vm/guest, run as systemd's husk-vm.service):
# pure cgroup v2 with systemd 252 as PID 1, as on Debian 12, Fedora, Ubuntu and
# RHEL hosts.
# vm-init: systemd
# Debian's kernel enables AppArmor, as on a Debian host: podman then asks
# husk for its containers-default profile, which husk applies.
echo "guest: system state: $(systemctl is-system-running)"
# The rootless tests' user (test_rootless.py makes it where missing) with a
# systemd instance of its own, user@UID.service and its bus, as a logged-in
# user has: the cgroup below it is delegated to the user.
user=husk-rootless
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
loginctl enable-linger "$user"
uid=$(id -u "$user")
for _ in $(seq 60); do
  [ -S "/run/user/$uid/bus" ] && systemctl -q is-active "user@$uid.service" && break
  sleep 1
done
echo "guest: user@$uid.service $(systemctl is-active "user@$uid.service"), bus $(ls "/run/user/$uid/bus" 2>&1)"
status=0
# The driver itself, and rootless husk and podman with the user's systemd
# (the rest of test_rootless.py runs in the cgroup2 guest and on the CI host).
step /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider test/integration/test_systemd_cgroup.py \
  test/integration/test_rootless.py -k "systemd" || status=1
# podman as on such hosts by default, with its systemd cgroup manager: what
# goes through husk --systemd-cgroup (placement, kill, pause, restart, rm,
# limits, update, pods, exec's cgroup). The rest of test_podman.py (terminals,
# signals, exit codes, users, volumes, fds, devices) does not depend on the
# cgroup manager and runs on the CI host itself.
HUSK_PODMAN_CGROUP_MANAGER=systemd step /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider \
  test/integration/test_podman.py -k "placement or kill_exit_code or pause or restart \
  or rm_force or limits_are_set or update or pod_ or exec_output" || status=1
(exit $status)
