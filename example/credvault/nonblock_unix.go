//go:build unix

package main

import "syscall"

// oNonblock opens a named pipe without waiting for its other end.
const oNonblock = syscall.O_NONBLOCK

// oNofollow refuses to open a symbolic link, instead of what it points to.
const oNofollow = syscall.O_NOFOLLOW
