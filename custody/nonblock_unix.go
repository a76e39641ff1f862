//go:build unix

package custody

import "syscall"

// oNonblock opens a named pipe without waiting for its other end.
const oNonblock = syscall.O_NONBLOCK
