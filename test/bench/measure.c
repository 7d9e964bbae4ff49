/*
 * measure: runs one command and reports its wall time and peak RSS, for
 * scripts/bench.
 *
 *   measure CMD [ARGS...]     writes "<wall_ns> <maxrss_kB> <status>\n" to fd 3
 *
 * Why not time it from the Python bench directly: wait4's ru_maxrss is the
 * high-water RSS of every mm the child ever had, and a child spawned from
 * Python shares (vfork) or copies (fork) the interpreter's ~16 MB until it
 * execs. This tiny static program is what the runtime is forked from, so the
 * figure is the runtime's own (and that of the children it reaped), with at
 * most a few hundred kB of this program as the lower bound.
 * status: the exit code, or 128 + signal number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
		fputs("usage: measure CMD [ARGS...] 3>RESULT\n", stderr);
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("measure: fork");
		return 1;
	}
	if (pid == 0) {
		/* The bench kills this program on a timeout; take the command along. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[1], &argv[1]);
		perror("measure: exec");
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("measure: wait4");
			return 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	dprintf(3, "%lld %ld %d\n", ns, ru.ru_maxrss, status);
	return 0;
}
