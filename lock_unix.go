//go:build unix

package vault

import (
	"os"
	"syscall"
)

// flock takes an exclusive flock(2) on f without blocking; it fails with
// EWOULDBLOCK when another open file holds it.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}

func funlock(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
