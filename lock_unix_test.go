//go:build unix

package vault

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// assertLockedNow fails the test unless the file at path now is locked by
// someone else: an flock of it from a new open file must find it busy.
func assertLockedNow(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("opening %s: %v", path, err)
		return
	}
	defer f.Close()
	if err := flock(f); !errors.Is(err, errBusy) {
		funlock(f)
		t.Errorf("the file now at %s is not locked (flock: %v): the writer does not hold the lock of the file now at the path", filepath.Base(path), err)
	}
}

// TestLockFollowsRename lets a writer wait for the lock of a vault that the
// holder then replaces by rename, as every write does, or creates: once the
// waiter runs, it must hold the lock of the file now at the path, not of the
// replaced file or of the directory, or a third writer could run beside it.
func TestLockFollowsRename(t *testing.T) {
	for _, exists := range []bool{true, false} {
		name := "replaced"
		if !exists {
			name = "created"
		}
		t.Run(name, func(t *testing.T) {
			key := GenerateKey()
			path := filepath.Join(t.TempDir(), "v.enc")
			if exists {
				if err := Seal(path, map[string]any{"old": "1"}, key); err != nil {
					t.Fatal(err)
				}
			}
			held, release := make(chan struct{}), make(chan struct{})
			first := make(chan error, 1)
			go func() {
				first <- withWriteLock(path, newOptions[Option](nil), func(target string) error {
					close(held)
					<-release
					return replaceFile(target, []byte("new"), newOptions[Option](nil), func() error { return nil })
				})
			}()
			<-held

			waiting := make(chan struct{})
			var once sync.Once
			o := newOptions([]Option{withFailpoint(func(stage string) error {
				if stage == "lock-wait" {
					once.Do(func() { close(waiting) })
				}
				return nil
			})})
			second := make(chan error, 1)
			go func() {
				second <- withWriteLock(path, o, func(target string) error {
					if b, err := os.ReadFile(target); err != nil || string(b) != "new" {
						t.Errorf("the second writer reads %q (%v), want the first writer's file", b, err)
					}
					assertLockedNow(t, path)
					return nil
				})
			}()
			<-waiting
			close(release)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if err := <-second; err != nil {
				t.Fatal(err)
			}
		})
	}
}
