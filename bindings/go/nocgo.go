//go:build !cgo

package bpfl

// bpfl calls libbpfl through cgo, so it cannot be built with CGO_ENABLED=0.
// The identifier below is undefined on purpose: the compiler's one error
// line names the fix.
var _ = bpfl_needs_cgo_build_with_CGO_ENABLED_1_and_a_C_compiler
