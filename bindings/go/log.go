package bpfl

/*
#include <bpfl.h>
int bpfl_go_set_log(int max_level);
*/
import "C"

import (
	"sync"
	"unsafe"
)

// LogLevel is the level of a bpfl log message.
type LogLevel int

const (
	LogError LogLevel = C.BPFL_LOG_ERROR
	LogWarn  LogLevel = C.BPFL_LOG_WARN
	LogInfo  LogLevel = C.BPFL_LOG_INFO
	LogDebug LogLevel = C.BPFL_LOG_DEBUG
)

func (l LogLevel) String() string {
	switch l {
	case LogError:
		return "error"
	case LogWarn:
		return "warn"
	case LogInfo:
		return "info"
	case LogDebug:
		return "debug"
	}
	return "level?"
}

var (
	logMu sync.RWMutex
	logFn func(LogLevel, string)
)

//export bpflGoLog
func bpflGoLog(level C.int, msg *C.char, _ unsafe.Pointer) {
	logMu.RLock()
	fn := logFn
	logMu.RUnlock()
	if fn != nil {
		fn(LogLevel(level), C.GoString(msg))
	}
}

// SetLogger sends bpfl's log messages up to max to fn (from whichever
// goroutine made the bpfl call). nil restores the default: stderr when the
// environment variable BPFL_LOG=error|warn|info|debug is set.
func SetLogger(max LogLevel, fn func(level LogLevel, msg string)) error {
	logMu.Lock()
	logFn = fn
	logMu.Unlock()
	lvl := C.int(max)
	if fn == nil {
		lvl = -1
	}
	_, err := call("bpfl_set_log_callback", func() C.int { return C.bpfl_go_set_log(lvl) })
	return err
}
