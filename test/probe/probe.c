/* husk test probe: a static program copied into test rootfs as /probe.
 *
 * Usage: probe CMD [ARGS...] [';' CMD [ARGS...]]...
 * Each command prints its result on stdout. A failing command prints
 * "errno=ENAME" and the probe exits 1; `open` and `syscall` report the errno
 * as their result and exit 0. Usage errors print to stderr and exit 2.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static int usage(const char* msg) {
  fprintf(stderr, "probe: %s\n", msg);
  fprintf(stderr,
          "usage: probe CMD [ARGS] [';' CMD [ARGS]]...\n"
          "  id | caps | cat F | ls D | readlink P | stat P | write F TEXT | mountinfo\n"
          "  hostname | domainname | cwd | env | pid | ppid | rlimit NAME | umask | fds\n"
          "  nnp | seccomp | syscall NAME|nr=N [ARG] | open P [r|w|rw] | sleep N | wait-signal\n"
          "  exit N | oom_score_adj | sysctl NAME | notify MSG\n");
  return 2;
}

static const char* errname(int e) {
  const char* n = strerrorname_np(e);
  return n ? n : "EUNKNOWN";
}

/* A failed operation: the errno is the result. */
static int fail(void) {
  printf("errno=%s\n", errname(errno));
  return 1;
}

static int print_errno_result(int rc) {
  if (rc < 0)
    printf("errno=%s\n", errname(errno));
  else
    printf("ok\n");
  return 0;
}

static int cat_fd(int fd) {
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
  return n < 0 ? -1 : 0;
}

static int cmd_cat(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail();
  int rc = cat_fd(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc < 0 ? fail() : 0;
}

static int cmp_str(const void* a, const void* b) {
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

static int cmd_ls(const char* path) {
  DIR* d = opendir(path);
  if (!d) return fail();
  char* names[4096];
  size_t n = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL && n < sizeof names / sizeof names[0]) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmp_str);
  for (size_t i = 0; i < n; i++) {
    printf("%s\n", names[i]);
    free(names[i]);
  }
  return 0;
}

static int cmd_readlink(const char* path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path, buf, sizeof buf - 1);
  if (n < 0) return fail();
  buf[n] = 0;
  printf("%s\n", buf);
  return 0;
}

static const char* file_type(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "link";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "sock";
  }
  return "unknown";
}

/* lstat: a symlink is reported as a link. */
static int cmd_stat(const char* path) {
  struct stat st;
  if (lstat(path, &st) < 0) return fail();
  printf("type=%s mode=%04o uid=%u gid=%u rdev=%u:%u\n", file_type(st.st_mode),
         (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
         major(st.st_rdev), minor(st.st_rdev));
  return 0;
}

static int cmd_write(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail();
  size_t len = strlen(text);
  ssize_t n = write(fd, text, len);
  int saved = errno;
  close(fd);
  errno = saved;
  if (n < 0) return fail();
  if ((size_t)n != len) {
    errno = EIO;
    return fail();
  }
  printf("ok\n");
  return 0;
}

static int cmd_id(void) {
  gid_t groups[NGROUPS_MAX];
  int n = getgroups(NGROUPS_MAX, groups);
  if (n < 0) return fail();
  printf("uid=%u gid=%u groups=", (unsigned)getuid(), (unsigned)getgid());
  for (int i = 0; i < n; i++) printf(i ? ",%u" : "%u", (unsigned)groups[i]);
  printf("\n");
  return 0;
}

/* The value of "Key:" in /proc/self/status, whitespace-trimmed. */
static int status_field(const char* key, char* out, size_t outlen) {
  FILE* f = fopen("/proc/self/status", "re");
  if (!f) return -1;
  char line[512];
  size_t klen = strlen(key);
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) != 0 || line[klen] != ':') continue;
    char* v = line + klen + 1;
    while (*v == ' ' || *v == '\t') v++;
    v[strcspn(v, "\n")] = 0;
    snprintf(out, outlen, "%s", v);
    found = 0;
    break;
  }
  fclose(f);
  if (found < 0) errno = ENOENT;
  return found;
}

static int print_status_field(const char* key) {
  char v[256];
  if (status_field(key, v, sizeof v) < 0) return fail();
  printf("%s\n", v);
  return 0;
}

static int cmd_caps(void) {
  static const char* const keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
  static const char* const names[] = {"inh", "prm", "eff", "bnd", "amb"};
  for (int i = 0; i < 5; i++) {
    char v[64];
    if (status_field(keys[i], v, sizeof v) < 0) return fail();
    printf(i ? " %s=%s" : "%s=%s", names[i], v);
  }
  printf("\n");
  return 0;
}

static int cmd_uname(int domain) {
  struct utsname u;
  if (uname(&u) < 0) return fail();
  printf("%s\n", domain ? u.domainname : u.nodename);
  return 0;
}

static int cmd_cwd(void) {
  char buf[PATH_MAX];
  if (!getcwd(buf, sizeof buf)) return fail();
  printf("%s\n", buf);
  return 0;
}

static int cmd_env(void) {
  for (char** e = environ; *e; e++) printf("%s\n", *e);
  return 0;
}

static const struct {
  const char* name;
  int res;
} rlimits[] = {
    {"CPU", RLIMIT_CPU},       {"FSIZE", RLIMIT_FSIZE},
    {"DATA", RLIMIT_DATA},     {"STACK", RLIMIT_STACK},
    {"CORE", RLIMIT_CORE},     {"RSS", RLIMIT_RSS},
    {"NPROC", RLIMIT_NPROC},   {"NOFILE", RLIMIT_NOFILE},
    {"MEMLOCK", RLIMIT_MEMLOCK}, {"AS", RLIMIT_AS},
    {"LOCKS", RLIMIT_LOCKS},   {"SIGPENDING", RLIMIT_SIGPENDING},
    {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE},
    {"RTPRIO", RLIMIT_RTPRIO}, {"RTTIME", RLIMIT_RTTIME},
};

static void print_rlim(rlim_t v) {
  if (v == RLIM_INFINITY)
    printf("unlimited");
  else
    printf("%llu", (unsigned long long)v);
}

/* NAME: RLIMIT_NOFILE, NOFILE or nofile. Prints "soft hard". */
static int cmd_rlimit(const char* name) {
  if (strncasecmp(name, "RLIMIT_", 7) == 0) name += 7;
  for (size_t i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++) {
    if (strcasecmp(name, rlimits[i].name) != 0) continue;
    struct rlimit rl;
    if (getrlimit(rlimits[i].res, &rl) < 0) return fail();
    print_rlim(rl.rlim_cur);
    printf(" ");
    print_rlim(rl.rlim_max);
    printf("\n");
    return 0;
  }
  return usage("unknown rlimit name");
}

static int cmd_umask(void) {
  mode_t m = umask(0);
  umask(m);
  printf("%04o\n", (unsigned)m);
  return 0;
}

/* Open fds, ascending, excluding the directory fd used to list them. */
static int cmd_fds(void) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return fail();
  int self = dirfd(d);
  char seen[1024] = {0};
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd != self && fd >= 0 && fd < (int)sizeof seen) seen[fd] = 1;
  }
  closedir(d);
  int first = 1;
  for (int i = 0; i < (int)sizeof seen; i++) {
    if (!seen[i]) continue;
    printf(first ? "%d" : " %d", i);
    first = 0;
  }
  printf("\n");
  return 0;
}

static int cmd_sysctl(const char* name) {
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "/proc/sys/%s", name);
  if (n < 0 || (size_t)n >= sizeof path) return usage("sysctl name too long");
  for (char* p = path + strlen("/proc/sys/"); *p; p++)
    if (*p == '.') *p = '/';
  return cmd_cat(path);
}

static int cmd_open(const char* path, const char* mode) {
  int flags = O_RDONLY;
  if (mode && strcmp(mode, "w") == 0)
    flags = O_WRONLY;
  else if (mode && strcmp(mode, "rw") == 0)
    flags = O_RDWR;
  else if (mode && strcmp(mode, "r") != 0)
    return usage("open mode must be r, w or rw");
  int fd = open(path, flags | O_CLOEXEC);
  if (fd >= 0) close(fd);
  return print_errno_result(fd);
}

/* Benign invocations of syscalls, so a seccomp filter's verdict shows up as
 * the errno. Arguments are chosen to succeed without a filter. */
static int cmd_syscall(const char* name, const char* arg) {
  long rc;
  if (strcmp(name, "getpid") == 0) {
    rc = getpid();
  } else if (strcmp(name, "getuid") == 0) {
    rc = getuid();
  } else if (strcmp(name, "getcwd") == 0) {
    char buf[PATH_MAX];
    rc = getcwd(buf, sizeof buf) ? 0 : -1;
  } else if (strcmp(name, "mkdir") == 0) {
    const char* p = arg ? arg : "/tmp/.probe-mkdir";
    rc = mkdir(p, 0700);
    if (rc == 0) rmdir(p);
  } else if (strcmp(name, "chmod") == 0) {
    const char* p = arg ? arg : "/tmp";
    struct stat st;
    rc = stat(p, &st);
    if (rc == 0) rc = chmod(p, st.st_mode & 07777);
  } else if (strcmp(name, "chdir") == 0) {
    rc = chdir(arg ? arg : ".");
  } else if (strcmp(name, "unshare") == 0) {
    rc = unshare(arg ? (int)strtol(arg, NULL, 0) : 0);
  } else if (strcmp(name, "sethostname") == 0) {
    struct utsname u;
    rc = uname(&u);
    if (rc == 0) rc = sethostname(u.nodename, strlen(u.nodename));
  } else if (strcmp(name, "setuid") == 0) {
    rc = setuid(getuid());
  } else if (strcmp(name, "socket") == 0) {
    rc = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rc >= 0) close((int)rc);
  } else if (strcmp(name, "personality") == 0) {
    rc = personality(0xffffffff);
  } else if (strcmp(name, "mlock") == 0) {
    static char page[1];
    rc = mlock(page, sizeof page);
    if (rc == 0) munlock(page, sizeof page);
  } else if (strcmp(name, "kill") == 0) {
    rc = kill(getpid(), 0);
  } else if (strncmp(name, "nr=", 3) == 0) {
    /* A raw syscall number, e.g. one no kernel has yet: shows what a filter
     * answers for syscalls newer than its profile. */
    rc = syscall(strtol(name + 3, NULL, 0), 0, 0, 0, 0, 0, 0);
  } else {
    return usage("unknown syscall name");
  }
  return print_errno_result(rc < 0 ? -1 : 0);
}

static void on_signal(int sig) { (void)sig; }

/* A container's pid 1 ignores signals it has no handler for (pid_namespaces(7)),
 * so install handlers, block everything, then wait. "waiting" tells the test
 * the probe is ready to receive. */
static int cmd_wait_signal(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  printf("waiting\n");
  fflush(stdout);
  int sig;
  do sig = sigwaitinfo(&all, NULL);
  while (sig < 0 && errno == EINTR);
  if (sig < 0) return fail();
  printf("%d\n", sig);
  return 0;
}

static int parse_uint(const char* s, long max, long* out) {
  char* end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > max) return -1;
  *out = v;
  return 0;
}

static int cmd_sleep(const char* arg) {
  long n;
  if (parse_uint(arg, 1000000, &n) < 0) return usage("sleep needs seconds");
  struct timespec ts = {.tv_sec = n, .tv_nsec = 0};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
  return 0;
}

/* sd_notify(3) by hand: one datagram to the socket named by $NOTIFY_SOCKET. */
static int cmd_notify(const char* msg) {
  const char* path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (path == NULL || *path == '\0' || strlen(path) >= sizeof a.sun_path)
    return usage("notify: NOTIFY_SOCKET unset or too long");
  strcpy(a.sun_path, path);
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || sendto(s, msg, strlen(msg), 0, (struct sockaddr*)&a, sizeof a) < 0) {
    perror("notify");
    return 1;
  }
  close(s);
  printf("notified %s\n", msg);
  return 0;
}

/* argv[0..argc) is one command. Returns its exit status; *exit_now is set
 * by `exit`. */
static int run(int argc, char** argv, int* exit_now) {
  const char* c = argv[0];
  const char* a1 = argc > 1 ? argv[1] : NULL;
  const char* a2 = argc > 2 ? argv[2] : NULL;
#define NEED(n)                                          \
  do {                                                   \
    if (argc != (n) + 1) return usage("wrong arguments"); \
  } while (0)
  if (!strcmp(c, "id")) { NEED(0); return cmd_id(); }
  if (!strcmp(c, "caps")) { NEED(0); return cmd_caps(); }
  if (!strcmp(c, "cat")) { NEED(1); return cmd_cat(a1); }
  if (!strcmp(c, "ls")) { NEED(1); return cmd_ls(a1); }
  if (!strcmp(c, "readlink")) { NEED(1); return cmd_readlink(a1); }
  if (!strcmp(c, "stat")) { NEED(1); return cmd_stat(a1); }
  if (!strcmp(c, "write")) { NEED(2); return cmd_write(a1, a2); }
  if (!strcmp(c, "mountinfo")) { NEED(0); return cmd_cat("/proc/self/mountinfo"); }
  if (!strcmp(c, "hostname")) { NEED(0); return cmd_uname(0); }
  if (!strcmp(c, "domainname")) { NEED(0); return cmd_uname(1); }
  if (!strcmp(c, "cwd")) { NEED(0); return cmd_cwd(); }
  if (!strcmp(c, "env")) { NEED(0); return cmd_env(); }
  if (!strcmp(c, "pid")) { NEED(0); printf("%d\n", (int)getpid()); return 0; }
  if (!strcmp(c, "ppid")) { NEED(0); printf("%d\n", (int)getppid()); return 0; }
  if (!strcmp(c, "rlimit")) { NEED(1); return cmd_rlimit(a1); }
  if (!strcmp(c, "umask")) { NEED(0); return cmd_umask(); }
  if (!strcmp(c, "fds")) { NEED(0); return cmd_fds(); }
  if (!strcmp(c, "nnp")) { NEED(0); return print_status_field("NoNewPrivs"); }
  if (!strcmp(c, "seccomp")) { NEED(0); return print_status_field("Seccomp"); }
  if (!strcmp(c, "oom_score_adj")) { NEED(0); return cmd_cat("/proc/self/oom_score_adj"); }
  if (!strcmp(c, "sysctl")) { NEED(1); return cmd_sysctl(a1); }
  if (!strcmp(c, "sleep")) { NEED(1); return cmd_sleep(a1); }
  if (!strcmp(c, "wait-signal")) { NEED(0); return cmd_wait_signal(); }
  if (!strcmp(c, "notify")) { NEED(1); return cmd_notify(a1); }
  if (!strcmp(c, "open")) {
    if (argc != 2 && argc != 3) return usage("wrong arguments");
    return cmd_open(a1, a2);
  }
  if (!strcmp(c, "syscall")) {
    if (argc != 2 && argc != 3) return usage("wrong arguments");
    return cmd_syscall(a1, a2);
  }
  if (!strcmp(c, "exit")) {
    long n;
    NEED(1);
    if (parse_uint(a1, 255, &n) < 0) return usage("exit needs 0..255");
    *exit_now = 1;
    return (int)n;
  }
#undef NEED
  return usage("unknown command");
}

int main(int argc, char** argv) {
  if (argc < 2) return usage("no command");
  int start = 1;
  for (int i = 1; i <= argc; i++) {
    if (i < argc && strcmp(argv[i], ";") != 0) continue;
    if (i == start) return usage("empty command");
    int exit_now = 0;
    int rc = run(i - start, argv + start, &exit_now);
    fflush(stdout);
    if (rc != 0 || exit_now) return rc;
    start = i + 1;
  }
  return 0;
}
