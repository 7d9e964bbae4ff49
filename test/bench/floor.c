/*
 * floor: the least a container start asks of the kernel, as a yardstick for
 * scripts/bench.
 *
 * It produces the same container as the bench's default bundle (the config
 * `runc spec` generates, with terminal off): new pid, net, ipc, uts and mount
 * namespaces; the cgroup in every hierarchy with the device allow-list and the
 * optional limits; the default mounts, devices, symlinks, masked and read-only
 * paths; pivot_root; a read-only root; hostname; loopback up; RLIMIT_NOFILE;
 * capabilities; no_new_privs; an optional precompiled seccomp filter; exec.
 * Nothing is parsed, validated, logged or persisted: whatever a runtime spends
 * beyond this program is the runtime's own cost.
 *
 *   floor run      OPTIONS -- /abs/cmd [args...]   run and wait, exit with its status
 *   floor create   OPTIONS --fifo F --pid-file P -- /abs/cmd [args...]
 *                  set the container up, leave init blocked opening F for writing
 *   floor start    --fifo F                          release it (read one byte)
 *   floor keepwarm PROCS_FILE PERIOD_US             write "0" to PROCS_FILE every period
 *   floor version                                   the least a `--version` can cost
 *
 * OPTIONS: --rootfs DIR --cgroup /rel/path [--hostname H] [--home DIR] [--readonly]
 *          [--memory BYTES] [--pids N] [--cpu-shares N] [--cpu-quota US]
 *          [--cpu-period US] [--seccomp FILE (raw struct sock_filter array)]
 * With FLOOR_TRACE set, `run` prints "floor-phase NAME USEC" lines to stderr
 * (each costs a write): the floor's own phase breakdown.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_HIER 32

struct opts {
	const char *rootfs, *cgroup, *hostname, *seccomp, *fifo, *pid_file, *home;
	const char *memory, *pids, *cpu_shares, *cpu_quota, *cpu_period;
	bool readonly;
	char **argv;
};

struct hier {
	char name[256];
	bool v2;
};

static struct hier hiers[MAX_HIER];
static bool trace;
static struct timespec last_mark;
static struct timespec *child_mark; /* shared with the child: its last mark before exec */
static int n_hiers;
static bool pure_v2;
static struct sock_fprog filter;

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;
	fputs("floor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(e));
	_exit(125);
}

/* FLOOR_TRACE: "floor-phase NAME USEC" on stderr, the time since the previous mark. */
static void mark(const char *phase)
{
	if (!trace)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long us = (now.tv_sec - last_mark.tv_sec) * 1000000L + (now.tv_nsec - last_mark.tv_nsec) / 1000;
	fprintf(stderr, "floor-phase %s %ld\n", phase, us);
	last_mark = now;
	if (child_mark)
		*child_mark = now;
}

static int write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, strlen(data));
	int e = errno;
	close(fd);
	errno = e;
	return n < 0 ? -1 : 0;
}

static void cg_path(char *buf, size_t len, const struct hier *h, const char *rel, const char *file)
{
	if (pure_v2)
		snprintf(buf, len, "/sys/fs/cgroup%s%s%s", rel, file ? "/" : "", file ? file : "");
	else
		snprintf(buf, len, "/sys/fs/cgroup/%s%s%s%s", h->name, rel, file ? "/" : "",
			 file ? file : "");
}

/* Every directory under /sys/fs/cgroup is a hierarchy on a v1 or hybrid host;
 * "unified" is the v2 one. A pure v2 host has cgroup.controllers at the top. */
static void scan_hierarchies(void)
{
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
		pure_v2 = true;
		n_hiers = 1;
		hiers[0].v2 = true;
		return;
	}
	DIR *d = opendir("/sys/fs/cgroup");
	if (!d)
		die("opendir /sys/fs/cgroup");
	struct dirent *e;
	while ((e = readdir(d)) && n_hiers < MAX_HIER) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(hiers[n_hiers].name, sizeof hiers[n_hiers].name, "%s", e->d_name);
		hiers[n_hiers].v2 = strcmp(e->d_name, "unified") == 0;
		n_hiers++;
	}
	closedir(d);
}

/* A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks
 * (ENOSPC) until they are filled from the parent. */
static void cpuset_inherit(const char *dir)
{
	char parent[4096], src[4200], dst[4200], buf[256];
	snprintf(parent, sizeof parent, "%s", dir);
	*strrchr(parent, '/') = '\0';
	for (int i = 0; i < 2; i++) {
		const char *f = i ? "cpuset.mems" : "cpuset.cpus";
		snprintf(src, sizeof src, "%s/%s", parent, f);
		snprintf(dst, sizeof dst, "%s/%s", dir, f);
		int fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open %s", src);
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			die("read %s", src);
		buf[n] = '\0';
		if (write_file(dst, buf) < 0)
			die("write %s", dst);
	}
}

static void mkdir_cgroup(const struct hier *h, const char *rel)
{
	char path[4096];
	cg_path(path, sizeof path, h, rel, NULL);
	size_t base = strlen(path) - strlen(rel);
	for (char *p = path + base + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0755) == 0) {
			if (strcmp(h->name, "cpuset") == 0)
				cpuset_inherit(path);
		} else if (errno != EEXIST) {
			die("mkdir %s", path);
		}
		*p = c;
		if (c == '\0')
			break;
	}
}

static void set_cg(const struct hier *h, const char *rel, const char *file, const char *val)
{
	char path[4096];
	cg_path(path, sizeof path, h, rel, file);
	if (write_file(path, val) < 0)
		die("write %s", path);
}

/* The allow-list runc applies for the default config (devices.list of a runc
 * container): mknod of anything, plus the default devices and ptys. */
static const char *const dev_allow[] = {
	"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
	"c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 10:200 rwm", "c 136:* rwm",
};

static void setup_cgroups(const struct opts *o)
{
	for (int i = 0; i < n_hiers; i++) {
		const struct hier *h = &hiers[i];
		mkdir_cgroup(h, o->cgroup);
		if (strcmp(h->name, "devices") == 0) {
			set_cg(h, o->cgroup, "devices.deny", "a");
			for (size_t j = 0; j < sizeof dev_allow / sizeof *dev_allow; j++)
				set_cg(h, o->cgroup, "devices.allow", dev_allow[j]);
		}
		if (h->v2 && !pure_v2)
			continue;
		if (o->memory && (pure_v2 || strcmp(h->name, "memory") == 0))
			set_cg(h, o->cgroup, pure_v2 ? "memory.max" : "memory.limit_in_bytes", o->memory);
		if (o->pids && (pure_v2 || strcmp(h->name, "pids") == 0))
			set_cg(h, o->cgroup, "pids.max", o->pids);
		if (!pure_v2 && strcmp(h->name, "cpu") == 0) {
			if (o->cpu_shares)
				set_cg(h, o->cgroup, "cpu.shares", o->cpu_shares);
			if (o->cpu_period)
				set_cg(h, o->cgroup, "cpu.cfs_period_us", o->cpu_period);
			if (o->cpu_quota)
				set_cg(h, o->cgroup, "cpu.cfs_quota_us", o->cpu_quota);
		}
		if (pure_v2 && o->cpu_quota) {
			char buf[64];
			snprintf(buf, sizeof buf, "%s %s", o->cpu_quota,
				 o->cpu_period ? o->cpu_period : "100000");
			set_cg(h, o->cgroup, "cpu.max", buf);
		}
	}
}

static void remove_cgroups(const struct opts *o)
{
	char path[4096];
	for (int i = 0; i < n_hiers; i++) {
		cg_path(path, sizeof path, &hiers[i], o->cgroup, NULL);
		rmdir(path);
	}
}

static void xmount(const char *src, const char *dst, const char *type, unsigned long flags,
		   const char *data)
{
	if (mount(src, dst, type, flags, data) < 0)
		die("mount %s on %s", src ? src : "(none)", dst);
}

static void xmkdir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("mkdir %s", path);
}

/* Paths are relative to the rootfs (the cwd) until pivot_root. */
static void mount_filesystems(const struct opts *o)
{
	const unsigned long nsd = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	xmount("proc", "proc", "proc", 0, NULL);
	xmount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
	xmkdir("dev/pts");
	xmount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	       "newinstance,ptmxmode=0666,mode=0620,gid=5");
	xmkdir("dev/shm");
	xmount("shm", "dev/shm", "tmpfs", nsd, "mode=1777,size=65536k");
	xmkdir("dev/mqueue");
	xmount("mqueue", "dev/mqueue", "mqueue", nsd, NULL);
	xmount("sysfs", "sys", "sysfs", nsd | MS_RDONLY, NULL);

	/* No cgroup namespace in the default config: like runc on a v1 host, show
	 * the container its own cgroup of each hierarchy, read-only, on a tmpfs. */
	char src[4096], dst[4096];
	if (pure_v2) {
		cg_path(src, sizeof src, &hiers[0], o->cgroup, NULL);
		xmount(src, "sys/fs/cgroup", NULL, MS_BIND, NULL);
		xmount(NULL, "sys/fs/cgroup", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | nsd, NULL);
		return;
	}
	xmount("tmpfs", "sys/fs/cgroup", "tmpfs", nsd, "mode=755");
	for (int i = 0; i < n_hiers; i++) {
		if (hiers[i].v2)
			continue;
		cg_path(src, sizeof src, &hiers[i], o->cgroup, NULL);
		snprintf(dst, sizeof dst, "sys/fs/cgroup/%s", hiers[i].name);
		xmkdir(dst);
		xmount(src, dst, NULL, MS_BIND, NULL);
		xmount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | nsd, NULL);
	}
}

static void make_devices(void)
{
	static const struct {
		const char *path;
		unsigned maj, min;
	} devs[] = {
		{"dev/null", 1, 3},    {"dev/zero", 1, 5},    {"dev/full", 1, 7},
		{"dev/random", 1, 8},  {"dev/urandom", 1, 9}, {"dev/tty", 5, 0},
	};
	static const char *const links[][2] = {
		{"/proc/self/fd", "dev/fd"},	 {"/proc/self/fd/0", "dev/stdin"},
		{"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"},
		{"pts/ptmx", "dev/ptmx"},
	};
	umask(0);
	for (size_t i = 0; i < sizeof devs / sizeof *devs; i++)
		if (mknod(devs[i].path, S_IFCHR | 0666, makedev(devs[i].maj, devs[i].min)) < 0)
			die("mknod %s", devs[i].path);
	for (size_t i = 0; i < sizeof links / sizeof *links; i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			die("symlink %s", links[i][1]);
	umask(022);
}

static void enter_rootfs(void)
{
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root");
	/* The old root now sits on top of the new one; make it a slave so the
	 * lazy unmount cannot propagate back to the host. */
	xmount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL);
	if (umount2(".", MNT_DETACH) < 0)
		die("umount old root");
	if (chdir("/") < 0)
		die("chdir /");
}

static void mask_and_protect(bool readonly_root)
{
	static const char *const masked[] = {
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
		"/proc/scsi",
	};
	static const char *const ro[] = {
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	};
	/* Try the file case first: a bind of /dev/null onto a directory fails
	 * with ENOTDIR, which is the one case needing an empty read-only tmpfs. */
	for (size_t i = 0; i < sizeof masked / sizeof *masked; i++) {
		if (mount("/dev/null", masked[i], NULL, MS_BIND, NULL) == 0 || errno == ENOENT)
			continue;
		if (errno != ENOTDIR || mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL) < 0)
			die("mask %s", masked[i]);
	}
	for (size_t i = 0; i < sizeof ro / sizeof *ro; i++) {
		if (mount(ro[i], ro[i], NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			die("bind %s", ro[i]);
		}
		xmount(NULL, ro[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
	}
	if (readonly_root)
		xmount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
}

static void loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS lo");
	close(fd);
}

/* CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE: bounding, permitted and
 * effective; the default config's ambient set cannot be raised without
 * inheritable bits, so runtimes end with it empty, and so does this. */
static void drop_privileges(void)
{
	const unsigned long long keep = (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) |
					(1ULL << CAP_NET_BIND_SERVICE);
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die("set ids");
	for (int c = 0; c < 64; c++) {
		if (keep & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past CAP_LAST_CAP */
			die("PR_CAPBSET_DROP %d", c);
		}
	}
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	data[0].effective = data[0].permitted = (unsigned)keep;
	data[1].effective = data[1].permitted = (unsigned)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		die("capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("PR_SET_NO_NEW_PRIVS");
}

static void load_filter(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die("open %s", path);
	filter.len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	filter.filter = malloc((size_t)st.st_size);
	if (!filter.filter || read(fd, filter.filter, (size_t)st.st_size) != st.st_size)
		die("read %s", path);
	close(fd);
}

/* The container's pid 1, from clone to exec. */
static void child(const struct opts *o, int ready_fd, int fifo_fd)
{
	char path[4096];
	/* Join before anything else so every later allocation is charged. */
	for (int i = 0; i < n_hiers; i++) {
		cg_path(path, sizeof path, &hiers[i], o->cgroup, "cgroup.procs");
		if (write_file(path, "0") < 0)
			die("join %s", path);
	}
	mark("cgroup-join");
	xmount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL);
	xmount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL);
	if (chdir(o->rootfs) < 0)
		die("chdir %s", o->rootfs);
	mount_filesystems(o);
	mark("mounts");
	make_devices();
	mark("devices");
	enter_rootfs();
	mark("pivot_root");
	mask_and_protect(o->readonly);
	mark("masked+readonly");
	if (sethostname(o->hostname, strlen(o->hostname)) < 0)
		die("sethostname");
	loopback_up();
	mark("hostname+loopback");
	struct rlimit rl = {1024, 1024};
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit");
	drop_privileges();
	mark("rlimits+ids+caps+nnp");
	if (filter.len && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter) < 0)
		die("seccomp");
	if (filter.len)
		mark("seccomp");
	if (fifo_fd >= 0) {
		if (write(ready_fd, "1", 1) != 1)
			die("write ready");
		close(ready_fd);
		/* Blocks until `floor start` opens the fifo for reading. */
		snprintf(path, sizeof path, "/proc/self/fd/%d", fifo_fd);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			die("exec fifo");
		close(fd);
		close(fifo_fd);
	}
	/* Runtimes add HOME (from the container's /etc/passwd, else "/") when the
	 * config has none; the caller looked it up for us. */
	char home[4200];
	snprintf(home, sizeof home, "HOME=%s", o->home);
	char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			     "TERM=xterm", home, NULL};
	execve(o->argv[0], o->argv, env);
	die("exec %s", o->argv[0]);
}

static pid_t spawn(const struct opts *o, int ready_fd, int fifo_fd)
{
	const unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC |
				    CLONE_NEWUTS | SIGCHLD;
	/* Raw clone with no new stack behaves like fork(2) with namespaces. */
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
	if (pid < 0)
		die("clone");
	if (pid == 0) {
		mark("clone+namespaces");
		child(o, ready_fd, fifo_fd);
	}
	return pid;
}

static int do_run(struct opts *o)
{
	setup_cgroups(o);
	mark("cgroup-create");
	pid_t pid = spawn(o, -1, -1);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (child_mark)
		last_mark = *child_mark;
	mark("exec+exit+reap");
	remove_cgroups(o);
	mark("cgroup-remove");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int do_create(struct opts *o)
{
	if (!o->fifo || !o->pid_file) {
		fputs("floor: create needs --fifo and --pid-file\n", stderr);
		return 2;
	}
	if (mkfifo(o->fifo, 0622) < 0)
		die("mkfifo %s", o->fifo);
	/* O_PATH: opened for real from inside the container, after pivot_root. */
	int fifo_fd = open(o->fifo, O_PATH | O_CLOEXEC);
	int pipefd[2];
	if (fifo_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
		die("fifo/pipe");
	setup_cgroups(o);
	pid_t pid = spawn(o, pipefd[1], fifo_fd);
	close(pipefd[1]);
	char c;
	if (read(pipefd[0], &c, 1) != 1) {
		waitpid(pid, NULL, 0);
		remove_cgroups(o);
		unlink(o->fifo);
		fputs("floor: container init failed\n", stderr);
		return 1;
	}
	char buf[32];
	snprintf(buf, sizeof buf, "%d", pid);
	int fd = open(o->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
		die("write %s", o->pid_file);
	close(fd);
	return 0;
}

static int do_start(const char *fifo)
{
	int fd = open(fifo, O_RDONLY | O_CLOEXEC);
	char c;
	if (fd < 0 || read(fd, &c, 1) != 1)
		die("start %s", fifo);
	close(fd);
	unlink(fifo);
	return 0;
}

/* Keeps the kernel's cgroup migration lock warm (see docs/performance.md):
 * a cgroup.procs write after ~20 ms without one waits for an RCU grace period. */
static int do_keepwarm(const char *procs, long period_us)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct timespec ts = {period_us / 1000000, (period_us % 1000000) * 1000};
	while (write_file(procs, "0") == 0)
		nanosleep(&ts, NULL);
	die("write %s", procs);
	return 1;
}

static int usage(void)
{
	fputs("usage: floor run|create|start|keepwarm ... (see test/bench/floor.c)\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *mode = argv[1];
	if (strcmp(mode, "version") == 0)
		return puts("floor (husk bench)") < 0;
	if (strcmp(mode, "keepwarm") == 0)
		return argc == 4 ? do_keepwarm(argv[2], atol(argv[3])) : usage();
	clock_gettime(CLOCK_MONOTONIC, &last_mark);
	if (strcmp(mode, "run") == 0 && getenv("FLOOR_TRACE")) {
		trace = true;
		child_mark = mmap(NULL, sizeof *child_mark, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (child_mark == MAP_FAILED)
			die("mmap");
	}
	struct opts o = {.hostname = "runc", .home = "/"};
	int i = 2;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--readonly") == 0) {
			o.readonly = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage();
		const char *v = argv[++i];
		if (!strcmp(a, "--rootfs")) o.rootfs = v;
		else if (!strcmp(a, "--cgroup")) o.cgroup = v;
		else if (!strcmp(a, "--hostname")) o.hostname = v;
		else if (!strcmp(a, "--home")) o.home = v;
		else if (!strcmp(a, "--seccomp")) o.seccomp = v;
		else if (!strcmp(a, "--fifo")) o.fifo = v;
		else if (!strcmp(a, "--pid-file")) o.pid_file = v;
		else if (!strcmp(a, "--memory")) o.memory = v;
		else if (!strcmp(a, "--pids")) o.pids = v;
		else if (!strcmp(a, "--cpu-shares")) o.cpu_shares = v;
		else if (!strcmp(a, "--cpu-quota")) o.cpu_quota = v;
		else if (!strcmp(a, "--cpu-period")) o.cpu_period = v;
		else return usage();
	}
	if (strcmp(mode, "start") == 0)
		return o.fifo ? do_start(o.fifo) : usage();
	if (i + 1 >= argc || !o.rootfs || !o.cgroup || o.cgroup[0] != '/')
		return usage();
	o.argv = &argv[i + 1];
	scan_hierarchies();
	if (o.seccomp)
		load_filter(o.seccomp);
	mark("startup");
	if (strcmp(mode, "run") == 0)
		return do_run(&o);
	if (strcmp(mode, "create") == 0)
		return do_create(&o);
	return usage();
}
