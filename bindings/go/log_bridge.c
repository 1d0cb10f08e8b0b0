// The C side of SetLogger: bpfl calls log_trampoline, which calls the Go
// function bpflGoLog (exported by log.go).
#include <bpfl.h>
#include "_cgo_export.h"

static void log_trampoline(int level, const char *msg, void *ctx)
{
	bpflGoLog(level, (char *)msg, ctx);
}

int bpfl_go_set_log(int max_level)
{
	if (max_level < 0)
		return bpfl_set_log_callback(NULL, NULL, 0);
	return bpfl_set_log_callback(log_trampoline, NULL, max_level);
}
