# Variant systemd-v1 (sourced by test/vm/guest, run as systemd's husk-vm.service):
# systemd 252 as PID 1 on the hybrid cgroup layout (v1 controllers, systemd's
# own tree also on cgroup2 at /sys/fs/cgroup/unified), as on Debian 10,
# Ubuntu 20.04 and hosts booted with systemd.unified_cgroup_hierarchy=0.
# vm-init: systemd
# vm-cmdline: systemd.unified_cgroup_hierarchy=0
echo "guest: system state: $(systemctl is-system-running)"
step /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider test/integration/test_systemd_cgroup.py
