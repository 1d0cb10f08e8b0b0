// Package uprobetarget holds a C function for the uprobe tests to probe: Go
// functions use Go's register ABI, which PT_REGS_PARM1 does not describe.
package uprobetarget

/*
#include <stdint.h>
__attribute__((noinline, used)) uint64_t bpfl_go_uprobe_target(uint64_t x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 2 + 1;
}
*/
import "C"

// Symbol is the name of the probed function in the test binary.
const Symbol = "bpfl_go_uprobe_target"

// Call calls the probed C function.
func Call(x uint64) uint64 {
	return uint64(C.bpfl_go_uprobe_target(C.uint64_t(x)))
}
