# vm-cmdline: apparmor=1 security=apparmor
# Variant apparmor (sourced by test/vm/guest): AppArmor enabled, as on Debian
# and Ubuntu, on a classic cgroup v1 host: one v1 hierarchy per controller
# (cpu,cpuacct and net_cls,net_prio shared, as systemd mounts them), no
# cgroup2, a full capability bounding set. No init system.
#
# Besides husk's own AppArmor tests, it runs the runtime-tools validation
# files that fail on this machine only for want of what this guest has
# (AppArmor, net_cls/net_prio and hugetlb on v1, every capability), with
# their own expectations (conformance/runtime-tools-vm.expected). The suite
# is the one the host built (ctest's runtime-tools test, in
# $build/runtime-tools-work): the guest needs no Go. linux_cgroups_network is
# left out: its 32 containers take 140-180 s under TCG, beyond this variant's
# budget; linux_cgroups_relative_network runs the same net_cls/net_prio code
# (docs/conformance.md has the full file's result in this guest).
status=0
[ -e /sys/kernel/security/apparmor ] ||
  mount -t securityfs securityfs /sys/kernel/security || status=1
echo "guest: AppArmor enabled: $(cat /sys/module/apparmor/parameters/enabled 2>&1)"

# The guest's PID 1 mounted cgroup2 with no controller enabled below its root,
# so every controller can still be bound to a v1 hierarchy instead.
umount /sys/fs/cgroup
mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
v1_mount() { # NAME OPTIONS
  mkdir -p "/sys/fs/cgroup/$1"
  mount -t cgroup -o "$2" cgroup "/sys/fs/cgroup/$1" || status=1
}
for c in $(awk 'NR > 1 && $4 == 1 { print $1 }' /proc/cgroups); do
  case $c in
  cpu | net_cls) ;;  # mounted with their partners below
  cpuacct) v1_mount cpu,cpuacct cpu,cpuacct
    ln -s cpu,cpuacct /sys/fs/cgroup/cpu
    ln -s cpu,cpuacct /sys/fs/cgroup/cpuacct ;;
  net_prio) v1_mount net_cls,net_prio net_cls,net_prio
    ln -s net_cls,net_prio /sys/fs/cgroup/net_cls
    ln -s net_cls,net_prio /sys/fs/cgroup/net_prio ;;
  *) v1_mount "$c" "$c" ;;
  esac
done
v1_mount systemd none,name=systemd
echo "guest: v1 hierarchies: $(ls /sys/fs/cgroup | tr '\n' ' ')"

# AppArmor, and the container's /sys/fs/cgroup on a v1 host (a tmpfs of binds,
# or fresh mounts in a cgroup namespace) on this older kernel.
step /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider test/integration/test_apparmor.py \
  test/integration/test_init_setup.py::test_sys_fs_cgroup_shows_the_containers_own_cgroups \
  test/integration/test_init_namespaces.py::test_cgroup_namespace_root_is_the_container_cgroup ||
  status=1
# linux_process_apparmor_profile asks for "acme_secure_profile": the runtime
# applies it, so it must be loaded (as under runc); it confines nothing the
# suite's runtimetest does.
cat >/tmp/acme_secure_profile <<PROFILE
profile acme_secure_profile flags=(attach_disconnected,mediate_deleted) {
  #include "$src/test/integration/apparmor-allow-all"
}
PROFILE
apparmor_parser -r /tmp/acme_secure_profile || status=1
step /usr/bin/python3 conformance/runtime_tools.py --husk "$HUSK_BIN" \
  --work "$build/runtime-tools-work" --no-build \
  --expected conformance/runtime-tools-vm.expected \
  linux_process_apparmor_profile linux_cgroups_relative_network \
  linux_cgroups_hugetlb linux_cgroups_relative_hugetlb process_capabilities || status=1
apparmor_parser -R /tmp/acme_secure_profile || status=1
(exit $status)
