# Variant systemd (sourced by test/vm/guest, run as systemd's husk-vm.service):
# pure cgroup v2 with systemd 252 as PID 1, as on Debian 12, Fedora, Ubuntu and
# RHEL hosts.
# vm-init: systemd
echo "guest: system state: $(systemctl is-system-running)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider test/integration/test_lifecycle.py \
  test/integration/test_systemd_cgroup.py
