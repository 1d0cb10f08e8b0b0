package bpfl

import (
	"strconv"
	"unsafe"
)

func itoa(i int) string { return strconv.Itoa(i) }

func ptrOf[T any](v *T) unsafe.Pointer { return unsafe.Pointer(v) }
