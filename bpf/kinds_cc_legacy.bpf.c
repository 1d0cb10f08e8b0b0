/* kinds_cc.bpf.c registered the old way: a .struct_ops map, updated
 * (registered) and deleted (unregistered), Linux 5.6+. */
#define CC_SECTION ".struct_ops"
#include "kinds_cc.bpf.c"
