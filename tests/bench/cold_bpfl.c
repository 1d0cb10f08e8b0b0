/* One object opened (and loaded) by bpfl in a fresh process: see cold_common.h. */
#include "cold_common.h"
#include <bpfl.h>

int main(int argc, char **argv)
{
	void *buf;
	size_t len;
	int load = cold_args(argc, argv, &buf, &len);
	if (load < 0) return 2;
	struct bpfl_open_opts oo = { .sz = sizeof(oo), .object_name = "cold", .pin_root_path = argc > 3 ? argv[3] : NULL };
	struct bpfl_object obj;
	int r = bpfl_object_open_mem(buf, len, &oo, &obj), opened = r == 0;
	if (opened && load) r = bpfl_object_load(obj, NULL);
	if (r < 0) fprintf(stderr, "cold_bpfl: %s: %s\n", argv[2], bpfl_last_error());
	if (opened) bpfl_object_close(obj);
	free(buf);
	return cold_exit(r < 0);
}
