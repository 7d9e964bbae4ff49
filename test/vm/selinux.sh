# vm-cmdline: security=selinux selinux=1 enforcing=0
# vm-host: test/vm/selinux-policy
# Variant selinux (sourced by test/vm/guest): SELinux enabled, as on Fedora and
# RHEL, with Debian's default reference policy (selinux-policy-default), in
# permissive mode: the guest's files (the host's root over 9p, a tmpfs
# overlay) carry no labels for an enforcing policy to work with, and what the
# tests check, the contexts processes and files get, is the same in both
# modes. No init system; the cgroup layout is the guest's default (cgroup2).
#
# Runs husk's SELinux tests and the runtime-tools file linux_mount_label with
# its expectation here (conformance/runtime-tools-selinux.expected).
status=0
# What an init system does at boot: mount selinuxfs and load the policy
# SELINUXTYPE names. The host's /etc/selinux/config is the package's; the
# guest's own copy says exactly what this variant runs.
mount -t selinuxfs selinuxfs /sys/fs/selinux || status=1
printf 'SELINUX=permissive\nSELINUXTYPE=default\n' >/etc/selinux/config
# The policy test/vm/selinux-policy compiled on the host: Debian's, plus an
# alias runtime-tools' linux_mount_label needs (see there).
cp /husk-vm-out/selinux-root/etc/selinux/default/policy/policy.* /etc/selinux/default/policy/ ||
  status=1
load_policy || status=1
echo "guest: SELinux: $(getenforce 2>&1), policy $(cat /sys/fs/selinux/policyvers 2>&1)"
step /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider test/integration/test_selinux.py || status=1
step /usr/bin/python3 conformance/runtime_tools.py --husk "$HUSK_BIN" \
  --work "$build/runtime-tools-work" --no-build \
  --expected conformance/runtime-tools-selinux.expected linux_mount_label || status=1
(exit $status)
