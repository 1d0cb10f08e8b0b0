/* One object opened (and loaded) by libbpf in a fresh process: see cold_common.h. */
#include "cold_common.h"
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	void *buf;
	size_t len;
	int load = cold_args(argc, argv, &buf, &len);
	if (load < 0) return 2;
	libbpf_set_print(quiet);
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "cold", .pin_root_path = argc > 3 ? argv[3] : NULL);
	struct bpf_object *obj = bpf_object__open_mem(buf, len, &oo);
	int r = obj ? 0 : -errno;
	if (obj && load) r = bpf_object__load(obj);
	if (r < 0) fprintf(stderr, "cold_libbpf: %s: %s\n", argv[2], strerror(-r));
	bpf_object__close(obj);
	free(buf);
	return cold_exit(r < 0);
}
