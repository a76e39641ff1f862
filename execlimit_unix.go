//go:build unix

package vault

import "syscall"

// execArgLimit returns how many bytes of arguments and environment exec
// accepts: on Linux a quarter of the stack size limit, at least 128 KiB and
// at most 6 MiB (3/4 of the kernel's _STK_LIM), or 2 MiB when the limit
// cannot be read.
func execArgLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_STACK, &rl); err != nil || rl.Cur == 0 {
		return 2 << 20
	}
	limit := uint64(6 << 20)
	if quarter := uint64(rl.Cur) / 4; quarter < limit { // Cur is an int64 on the BSDs
		limit = quarter
	}
	return int(max(limit, 128<<10))
}
