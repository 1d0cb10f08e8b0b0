/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpfl's BPF side of USDT probes, written for bpfl: include it after
 * <bpfl/bpf_helpers.h> in a program of section "usdt" or
 * "usdt/BINARY:PROVIDER:NAME" and read the probe's arguments with
 * bpf_usdt_arg(), or name them with BPF_USDT(). The same names, map names
 * and spec layout as libbpf's usdt.bpf.h, so programs written for either
 * work with bpfl's loader, which fills the maps when it attaches:
 *   __bpf_usdt_specs          spec id -> struct __bpf_usdt_spec
 *   __bpf_usdt_ip_to_spec_id  probe address -> spec id (kernels without attach cookies)
 * The attach cookie of each probe site is its spec id. Everything here is
 * static and always_inline: no global functions in the object. x86-64. */
#ifndef BPFL_USDT_BPF_H
#define BPFL_USDT_BPF_H

#ifndef BPF_USDT_MAX_SPEC_CNT
#define BPF_USDT_MAX_SPEC_CNT 256
#endif
#ifndef BPF_USDT_MAX_IP_CNT
#define BPF_USDT_MAX_IP_CNT (4 * BPF_USDT_MAX_SPEC_CNT)
#endif
#define BPF_USDT_MAX_ARG_CNT 12

enum __bpf_usdt_arg_type {
	BPF_USDT_ARG_CONST,	/* the value is val_off */
	BPF_USDT_ARG_REG,	/* the value is in pt_regs at reg_off */
	BPF_USDT_ARG_REG_DEREF,	/* the value is in user memory at reg + val_off */
};

/* 16 bytes; bpfl's loader writes exactly this (src/obj/usdt.rs, spec_bytes). */
struct __bpf_usdt_arg_spec {
	__u64 val_off;
	enum __bpf_usdt_arg_type arg_type;
	short reg_off;
	bool arg_signed;
	/* keep the low (64 - arg_bitshift) bits: shift left, then back */
	char arg_bitshift;
};

struct __bpf_usdt_spec {
	struct __bpf_usdt_arg_spec args[BPF_USDT_MAX_ARG_CNT];
	__u64 usdt_cookie;
	short arg_cnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPF_USDT_MAX_SPEC_CNT);
	__type(key, int);
	__type(value, struct __bpf_usdt_spec);
} __bpf_usdt_specs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPF_USDT_MAX_IP_CNT);
	__type(key, long);
	__type(value, int);
} __bpf_usdt_ip_to_spec_id SEC(".maps");

static __u64 (*__bpfl_get_attach_cookie)(void *ctx) = (void *)174;
extern const bool LINUX_HAS_BPF_COOKIE __kconfig __weak;

/* The spec id of the probe site that fired: the attach cookie, or, on
 * kernels without cookies (before 5.15), looked up by address. */
static __always_inline int __bpf_usdt_spec_id(struct pt_regs *ctx)
{
	if (!LINUX_HAS_BPF_COOKIE) {
		long ip = PT_REGS_IP(ctx);
		int *id = bpf_map_lookup_elem(&__bpf_usdt_ip_to_spec_id, &ip);
		return id ? *id : -3; /* -ESRCH */
	}
	return __bpfl_get_attach_cookie(ctx);
}

static __always_inline struct __bpf_usdt_spec *__bpfl_usdt_spec(struct pt_regs *ctx)
{
	int id = __bpf_usdt_spec_id(ctx);
	if (id < 0)
		return 0;
	return bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
}

/* How many arguments the probe has, or -ESRCH (-3). */
static __always_inline int bpf_usdt_arg_cnt(struct pt_regs *ctx)
{
	struct __bpf_usdt_spec *spec = __bpfl_usdt_spec(ctx);
	return spec ? spec->arg_cnt : -3;
}

/* Argument arg_num (from 0) into *res, sign- or zero-extended to 64 bits.
 * 0, or -ENOENT (-2) for no such argument, -ESRCH (-3) for an unknown site,
 * -EINVAL (-22) for a bad spec, or the error of reading memory. */
static __always_inline int bpf_usdt_arg(struct pt_regs *ctx, __u64 arg_num, long *res)
{
	struct __bpf_usdt_spec *spec;
	struct __bpf_usdt_arg_spec *arg;
	unsigned long val;
	long err;

	*res = 0;
	spec = __bpfl_usdt_spec(ctx);
	if (!spec)
		return -3;
	if (arg_num >= BPF_USDT_MAX_ARG_CNT || arg_num >= (__u64)spec->arg_cnt)
		return -2;
	arg = &spec->args[arg_num];
	switch (arg->arg_type) {
	case BPF_USDT_ARG_CONST:
		val = arg->val_off;
		break;
	case BPF_USDT_ARG_REG:
		/* pt_regs at a variable offset: read it as kernel memory */
		err = bpf_probe_read_kernel(&val, sizeof(val), (void *)ctx + arg->reg_off);
		if (err)
			return err;
		break;
	case BPF_USDT_ARG_REG_DEREF:
		err = bpf_probe_read_kernel(&val, sizeof(val), (void *)ctx + arg->reg_off);
		if (err)
			return err;
		err = bpf_probe_read_user(&val, sizeof(val), (void *)val + arg->val_off);
		if (err)
			return err;
		break;
	default:
		return -22;
	}
	val <<= arg->arg_bitshift;
	if (arg->arg_signed)
		val = ((long)val) >> arg->arg_bitshift;
	else
		val = val >> arg->arg_bitshift;
	*res = val;
	return 0;
}

/* The cookie given at attach time (bpfl_usdt_opts.cookie). */
static __always_inline long bpf_usdt_cookie(struct pt_regs *ctx)
{
	struct __bpf_usdt_spec *spec = __bpfl_usdt_spec(ctx);
	return spec ? spec->usdt_cookie : 0;
}

/* BPF_USDT(name, type1 a1, type2 a2, ...): a program whose arguments are the
 * probe's, each fetched with bpf_usdt_arg() (0 when it fails). */
#define __bpfl_usdt_nth(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, N, ...) N
#define __bpfl_usdt_narg(...) __bpfl_usdt_nth(_, ##__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __bpfl_usdt_cat2(a, b) a##b
#define __bpfl_usdt_cat(a, b) __bpfl_usdt_cat2(a, b)
#define __bpfl_usdt_a(i) ({ long _v; bpf_usdt_arg(ctx, i, &_v); _v; })
#define __bpfl_usdt_args0() ctx
#define __bpfl_usdt_args1(x) __bpfl_usdt_args0(), __bpfl_usdt_a(0)
#define __bpfl_usdt_args2(x, args...) __bpfl_usdt_args1(args), __bpfl_usdt_a(1)
#define __bpfl_usdt_args3(x, args...) __bpfl_usdt_args2(args), __bpfl_usdt_a(2)
#define __bpfl_usdt_args4(x, args...) __bpfl_usdt_args3(args), __bpfl_usdt_a(3)
#define __bpfl_usdt_args5(x, args...) __bpfl_usdt_args4(args), __bpfl_usdt_a(4)
#define __bpfl_usdt_args6(x, args...) __bpfl_usdt_args5(args), __bpfl_usdt_a(5)
#define __bpfl_usdt_args7(x, args...) __bpfl_usdt_args6(args), __bpfl_usdt_a(6)
#define __bpfl_usdt_args8(x, args...) __bpfl_usdt_args7(args), __bpfl_usdt_a(7)
#define __bpfl_usdt_args9(x, args...) __bpfl_usdt_args8(args), __bpfl_usdt_a(8)
#define __bpfl_usdt_args10(x, args...) __bpfl_usdt_args9(args), __bpfl_usdt_a(9)
#define __bpfl_usdt_args11(x, args...) __bpfl_usdt_args10(args), __bpfl_usdt_a(10)
#define __bpfl_usdt_args12(x, args...) __bpfl_usdt_args11(args), __bpfl_usdt_a(11)
#define __bpfl_usdt_args(args...) __bpfl_usdt_cat(__bpfl_usdt_args, __bpfl_usdt_narg(args))(args)

#define BPF_USDT(name, args...)							\
name(struct pt_regs *ctx);							\
static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args);	\
typeof(name(0)) name(struct pt_regs *ctx)					\
{										\
	_Pragma("GCC diagnostic push")						\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")			\
	return ____##name(__bpfl_usdt_args(args));				\
	_Pragma("GCC diagnostic pop")						\
}										\
static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args)

#endif /* BPFL_USDT_BPF_H */
