//go:build unix

package localkms

import (
	"os"
	"syscall"
	"testing"
)

// lock serializes builds across the test processes of one go test run.
func lock(t testing.TB, path string) (unlock func()) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() { f.Close() }
}
