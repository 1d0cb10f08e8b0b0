//go:build cgo

package bpfl

import (
	"errors"
	"fmt"
	"syscall"
)

// Sentinel errors. An *Error matches them with errors.Is according to its errno:
//
//	ErrClosed       EBADF       a closed (or stale) handle was used
//	ErrKeyNotExist  ENOENT      a map key (or program/map name, file) is absent
//	ErrKeyExist     EEXIST      Update with UpdateNoExist on a present key
//	ErrNotSupported EOPNOTSUPP  the kernel lacks a feature (e.g. kprobes)
//
// errors.Is(err, syscall.EXXX) works too.
var (
	ErrClosed       = errors.New("bpfl: closed or stale handle")
	ErrKeyNotExist  = errors.New("bpfl: key does not exist")
	ErrKeyExist     = errors.New("bpfl: key already exists")
	ErrNotSupported = errors.New("bpfl: not supported by this kernel")
)

// Error is a failed bpfl call.
type Error struct {
	// Op is the C function that failed, e.g. "bpfl_object_load".
	Op string
	// Errno is the error number the call returned (negated).
	Errno syscall.Errno
	// Msg is bpfl's description of the failure (bpfl_last_error()); for a
	// verifier rejection it holds the verifier log.
	Msg string
}

func newError(op string, rc int, msg string) *Error {
	return &Error{Op: op, Errno: syscall.Errno(-rc), Msg: msg}
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Errno)
	}
	// bpfl's message says the errno already where it matters ("... (os
	// error 2)"); adding e.Errno again would say it twice. Errno stays in
	// the value (errors.Is).
	return fmt.Sprintf("%s: %s", e.Op, e.Msg)
}

// Unwrap gives the errno, so errors.Is(err, syscall.ENOENT) works.
func (e *Error) Unwrap() error { return e.Errno }

// Is matches the package's sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrClosed:
		return e.Errno == syscall.EBADF
	case ErrKeyNotExist:
		return e.Errno == syscall.ENOENT
	case ErrKeyExist:
		return e.Errno == syscall.EEXIST
	case ErrNotSupported:
		return e.Errno == syscall.EOPNOTSUPP || e.Errno == syscall.ENOTSUP
	}
	return false
}

// goError is an *Error raised on the Go side (bad argument types and the like).
func goError(op string, errno syscall.Errno, format string, args ...any) *Error {
	return &Error{Op: op, Errno: errno, Msg: fmt.Sprintf(format, args...)}
}
