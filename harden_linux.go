package vault

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// HardenProcess makes this process non-dumpable, so that other processes
// of the same user cannot read its memory or its environment; see the
// package documentation's "Security considerations" for what it protects
// and what it does not. On Linux it is prctl(PR_SET_DUMPABLE, 0): the files
// of /proc/<pid> (environ, mem, maps) become root's, ptrace(2) from a
// process of the same user is refused, and no core file is written. Children
// started after it are dumpable again: the kernel resets the flag at exec.
// On other systems it does nothing and returns nil.
//
// It changes the whole process, so the package never calls it: a program
// that holds a key in its environment, as the credvault command does, calls
// it first thing in main.
func HardenProcess() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("vault: cannot make the process non-dumpable: %w", err)
	}
	return nil
}
