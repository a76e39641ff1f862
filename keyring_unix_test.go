//go:build unix

package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadKeyringFilePipes: a named pipe nobody writes to fails at once,
// also through a symbolic link; a pipe with a writer (what a shell's
// <(command) gives) is read; a writer that never finishes is given up when
// the context is done.
func TestReadKeyringFilePipes(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(fifo, link)
	for _, path := range []string{fifo, link} {
		done := make(chan error, 1)
		go func() { _, err := ReadKeyringFile(path, nil); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "is a named pipe that nothing was written to") {
				t.Errorf("%s: %v", path, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("ReadKeyringFile(%s) waits for a writer", path)
		}
	}

	key := GenerateKey()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	byFD := fmt.Sprintf("/dev/fd/%d", r.Fd())
	if _, err := os.Stat(byFD); err != nil {
		t.Skip(err)
	}
	fmt.Fprintln(w, key.Encode())
	done := make(chan error, 1)
	go func() {
		keys, err := ReadKeyringFile(byFD, nil)
		if err == nil && keys[0].Fingerprint() != key.Fingerprint() {
			err = errors.New("the wrong key")
		}
		done <- err
	}()
	w.Close()
	if err := <-done; err != nil {
		t.Errorf("process substitution: %v", err)
	}

	r2, w2, _ := os.Pipe()
	defer r2.Close()
	defer w2.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, err := ReadKeyringFileContext(ctx, fmt.Sprintf("/dev/fd/%d", r2.Fd()), nil); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "is a pipe whose writer did not finish") {
		t.Errorf("a writer that never finishes: %v", err)
	}
}
