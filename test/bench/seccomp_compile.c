/*
 * seccomp_compile: turns a seccomp profile (already reduced by scripts/bench
 * to one line per rule) into the raw BPF program the floor loads, so that the
 * floor's timed run pays only for seccomp(2), not for compiling.
 *
 * Input on stdin, one directive per line, fields separated by blanks:
 *   default ACTION ERRNO
 *   arch NAME                       (libseccomp names: x86_64, x86, x32, ...)
 *   rule ACTION ERRNO SYSCALL [INDEX OP VALUE VALUE2]...
 * ACTION: ALLOW ERRNO KILL KILL_PROCESS KILL_THREAD TRAP LOG
 * OP: NE LT LE EQ GE GT MASKED_EQ
 * Output: the filter as a struct sock_filter array, written to argv[1], in
 * libseccomp's binary-tree layout (SCMP_FLTATR_CTL_OPTIMIZE=2), as husk's.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int action_of(const char *name, const char *errno_str, uint32_t *out)
{
	static const struct {
		const char *name;
		uint32_t act;
	} acts[] = {
		{"ALLOW", SCMP_ACT_ALLOW},	      {"KILL", SCMP_ACT_KILL_THREAD},
		{"KILL_THREAD", SCMP_ACT_KILL_THREAD}, {"KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
		{"TRAP", SCMP_ACT_TRAP},	      {"LOG", SCMP_ACT_LOG},
	};
	if (strcmp(name, "ERRNO") == 0) {
		*out = SCMP_ACT_ERRNO((uint16_t)atoi(errno_str));
		return 0;
	}
	for (size_t i = 0; i < sizeof acts / sizeof *acts; i++)
		if (strcmp(name, acts[i].name) == 0) {
			*out = acts[i].act;
			return 0;
		}
	return -1;
}

static int op_of(const char *name, enum scmp_compare *out)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{"NE", SCMP_CMP_NE}, {"LT", SCMP_CMP_LT}, {"LE", SCMP_CMP_LE},
		{"EQ", SCMP_CMP_EQ}, {"GE", SCMP_CMP_GE}, {"GT", SCMP_CMP_GT},
		{"MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
		if (strcmp(name, ops[i].name) == 0) {
			*out = ops[i].op;
			return 0;
		}
	return -1;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t def, char *rest, int line)
{
	char *save = NULL;
	char *act_s = strtok_r(rest, " \t\n", &save);
	char *err_s = strtok_r(NULL, " \t\n", &save);
	char *name = strtok_r(NULL, " \t\n", &save);
	uint32_t act;
	if (!name || action_of(act_s, err_s, &act) < 0) {
		fprintf(stderr, "seccomp_compile: line %d: bad rule\n", line);
		return -1;
	}
	/* Same as the default action: libseccomp refuses it and it changes nothing. */
	if (act == def)
		return 0;
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* unknown to this libseccomp: runtimes skip these too */
	struct scmp_arg_cmp args[6];
	unsigned n = 0;
	char *idx;
	while ((idx = strtok_r(NULL, " \t\n", &save)) && n < 6) {
		char *op = strtok_r(NULL, " \t\n", &save);
		char *v1 = strtok_r(NULL, " \t\n", &save);
		char *v2 = strtok_r(NULL, " \t\n", &save);
		if (!v2 || op_of(op, &args[n].op) < 0) {
			fprintf(stderr, "seccomp_compile: line %d: bad argument\n", line);
			return -1;
		}
		args[n].arg = (unsigned)atoi(idx);
		args[n].datum_a = strtoull(v1, NULL, 0);
		args[n].datum_b = strtoull(v2, NULL, 0);
		n++;
	}
	int rc = seccomp_rule_add_array(ctx, act, nr, n, args);
	if (rc < 0)
		fprintf(stderr, "seccomp_compile: line %d: %s: %s (skipped)\n", line, name, strerror(-rc));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: seccomp_compile OUT.bpf < rules\n", stderr);
		return 2;
	}
	char buf[4096];
	scmp_filter_ctx ctx = NULL;
	uint32_t def = 0;
	int line = 0;
	while (fgets(buf, sizeof buf, stdin)) {
		line++;
		char *save = NULL;
		char *kw = strtok_r(buf, " \t\n", &save);
		if (!kw)
			continue;
		char *rest = save;
		if (strcmp(kw, "default") == 0) {
			char *act_s = strtok_r(NULL, " \t\n", &save);
			char *err_s = strtok_r(NULL, " \t\n", &save);
			if (!err_s || action_of(act_s, err_s, &def) < 0 || !(ctx = seccomp_init(def))) {
				fprintf(stderr, "seccomp_compile: line %d: bad default\n", line);
				return 1;
			}
			/* The floor sets no_new_privs itself, as runtimes do. */
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
			/* libseccomp's binary tree, as husk compiles it: the kernel
			 * loads it several times faster than the default linear
			 * list, so the floor stays the least a start can cost. */
			if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0) {
				fputs("seccomp_compile: SCMP_FLTATR_CTL_OPTIMIZE unsupported\n", stderr);
				return 1;
			}
		} else if (!ctx) {
			fprintf(stderr, "seccomp_compile: line %d: default must come first\n", line);
			return 1;
		} else if (strcmp(kw, "arch") == 0) {
			char *a = strtok_r(NULL, " \t\n", &save);
			uint32_t arch = a ? seccomp_arch_resolve_name(a) : 0;
			int rc = arch ? seccomp_arch_add(ctx, arch) : -EINVAL;
			if (rc < 0 && rc != -EEXIST) {
				fprintf(stderr, "seccomp_compile: line %d: arch %s: %s\n", line,
					a ? a : "", strerror(-rc));
				return 1;
			}
		} else if (strcmp(kw, "rule") == 0) {
			if (add_rule(ctx, def, rest, line) < 0)
				return 1;
		} else {
			fprintf(stderr, "seccomp_compile: line %d: unknown directive %s\n", line, kw);
			return 1;
		}
	}
	if (!ctx) {
		fputs("seccomp_compile: empty input\n", stderr);
		return 1;
	}
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		fprintf(stderr, "seccomp_compile: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	close(fd);
	seccomp_release(ctx);
	return 0;
}
