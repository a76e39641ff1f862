//go:build unix

package vault

import "syscall"

// oNonblock opens a named pipe without waiting for its other end.
const oNonblock = syscall.O_NONBLOCK
