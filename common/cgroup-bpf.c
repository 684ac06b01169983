/*
 * cgroup-bpf.c - the devices a cgroup may open, on cgroup v2: a small BPF
 * program instead of v1's devices.allow file.  See bpf(2), and "Device
 * controller" in the kernel's Documentation/admin-guide/cgroup-v2.rst.
 * Used by cg-limit --devices.
 *
 * At each open(2) or mknod(2) of a device node, the kernel runs the
 * BPF_PROG_TYPE_CGROUP_DEVICE programs attached to the cgroup, and refuses
 * (EPERM) unless they return 1.  The program reads struct
 * bpf_cgroup_dev_ctx: the device type and the access wanted (in
 * access_type), the major and the minor.  Each rule of the v1 syntax
 * becomes one test, so both versions share one list:
 *
 *     r2 = type, r3 = access, r4 = major, r5 = minor
 *     "c 1:3 rwm":  if r2 != CHAR goto next
 *                   r0 = r3 & ~(READ|WRITE|MKNOD); if r0 != 0 goto next
 *                   if r4 != 1 goto next; if r5 != 3 goto next; return 1
 *     next: ...     after the last rule: return 0
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-bpf.h"
#include "cgroup.h"
#include "minidock.h"

/* "m" (mknod) stays allowed for every device: creating a node is
 * harmless when opening it is refused. */
const char *const cgroup_container_devices[] = {
	"c *:* m", "b *:* m",
	"c 1:3 rwm",    /* /dev/null */
	"c 1:5 rwm",    /* /dev/zero */
	"c 1:7 rwm",    /* /dev/full */
	"c 1:8 rwm",    /* /dev/random */
	"c 1:9 rwm",    /* /dev/urandom */
	"c 5:0 rwm",    /* /dev/tty */
	"c 5:1 rwm",    /* /dev/console */
	"c 5:2 rwm",    /* /dev/ptmx */
	"c 136:* rwm",  /* /dev/pts/N */
	NULL,
};

struct program {
	struct bpf_insn *insn;
	size_t n;
};

static size_t emit(struct program *p, uint8_t code, uint8_t dst, uint8_t src,
		   int16_t off, int32_t imm)
{
	p->insn = xrealloc(p->insn, (p->n + 1) * sizeof(*p->insn));
	p->insn[p->n] = (struct bpf_insn){
		.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm,
	};
	return p->n++;
}

/* "*" -> -1, "136" -> 136, advancing *S. */
static long parse_device_number(const char **s)
{
	char *end;
	long v;

	if (**s == '*') {
		(*s)++;
		return -1;
	}
	v = strtol(*s, &end, 10);
	*s = end;
	return v;
}

static void emit_device_rule(struct program *p, const char *rule)
{
	const char *s = rule + 2;       /* after "c " */
	long major, minor;
	int access = 0;
	size_t next[4], n = 0;

	major = parse_device_number(&s);
	s++;                            /* ':' */
	minor = parse_device_number(&s);
	for (s++; *s; s++)              /* after ' ': "rwm" */
		access |= *s == 'r' ? BPF_DEVCG_ACC_READ :
			  *s == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
	if (rule[0] != 'a')
		next[n++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, rule[0] == 'c'
				 ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, 0, 3, 0, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, ~access & 7);
	next[n++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 0, 0, 0, 0);
	if (major >= 0)
		next[n++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t)major);
	if (minor >= 0)
		next[n++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)minor);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (size_t i = 0; i < n; i++)  /* jumps count from the next instruction */
		p->insn[next[i]].off = (int16_t)(p->n - next[i] - 1);
}

/* The program: load the context into r2..r5, one test per rule, deny. */
static void build_program(struct program *p, const char *const *rules)
{
	emit(p, BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, 3, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(p, BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, 4, 1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, 5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
	for (; *rules; rules++)
		emit_device_rule(p, *rules);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

int cgroup_bpf_allow_devices(const char *dir, const char *const *rules,
			     char *error, size_t size)
{
	struct program p = { NULL, 0 };
	union bpf_attr attr;
	int prog, cg, e, ret;

	build_program(&p, rules);
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)p.insn;
	attr.insn_cnt = (uint32_t)p.n;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	vlog("bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, %zu instructions)", p.n);
	prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	e = errno;
	free(p.insn);
	errno = e;
	if (prog < 0)
		return cgroup_fail(error, size, "bpf(BPF_PROG_LOAD) of the device filter");

	cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		cgroup_fail(error, size, "open %s", dir);
		close(prog);
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cg;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	/* MULTI: run after, not instead of, the programs of the parents */
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	vlog("bpf(BPF_PROG_ATTACH, %s, BPF_CGROUP_DEVICE)", dir);
	ret = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
	if (ret < 0)
		cgroup_fail(error, size, "bpf(BPF_PROG_ATTACH) to %s", dir);
	e = errno;
	/* Attached, the cgroup holds the program: it goes with the cgroup. */
	close(prog);
	close(cg);
	errno = e;
	return ret < 0 ? -1 : 0;
}
