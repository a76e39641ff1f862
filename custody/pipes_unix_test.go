//go:build unix

package custody_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// TestNamedPipes: a named pipe that no process writes to, given (or
// reached through a link) as the recipients file, an identity file (by
// Identities, $CREDVAULT_AGE_KEY_FILE or the default file) or a key file,
// fails at once instead of waiting for a writer; a pipe with a writer, as
// a shell's <(command) gives, is read.
func TestNamedPipes(t *testing.T) {
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"))
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(fifo, link)
	xdg := filepath.Join(dir, "xdg")
	os.MkdirAll(filepath.Join(xdg, "credvault"), 0o700)
	os.Symlink(fifo, filepath.Join(xdg, "credvault", "age-keys.txt"))

	within := func(name string, fn func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- fn() }()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatalf("%s waits for a writer", name)
		}
		return nil
	}
	resolve := func(res custody.Resolver) func() error {
		return func() error { _, err := res.Resolve(context.Background(), path); return err }
	}
	for _, tc := range []struct {
		name string
		fn   func() error
		want string
	}{
		{"recipients file", func() error { _, err := custody.ReadFile(fifo); return err }, "is not a regular file (a named pipe)"},
		{"recipients file by a link", func() error { _, err := custody.ReadFile(link); return err }, "is not a regular file (a named pipe)"},
		{"identity file", resolve(custody.Resolver{Identities: []string{link}}), "is a named pipe that nothing was written to"},
		{"$CREDVAULT_AGE_KEY_FILE", resolve(custody.Resolver{Getenv: env{"CREDVAULT_AGE_KEY_FILE": fifo}.get}), "is a named pipe that nothing was written to"},
		{"default identity file", resolve(custody.Resolver{Getenv: env{"XDG_CONFIG_HOME": xdg}.get}), "is a named pipe that nothing was written to"},
		{"key file", resolve(custody.Resolver{KeyFile: fifo}), "is a named pipe that nothing was written to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			contains(t, tc.name, within(tc.name, tc.fn), tc.want)
		})
	}

	// <(cat alice.txt): a pipe with a writer.
	identityBytes, _ := os.ReadFile(aliceFile)
	r, w, _ := os.Pipe()
	defer r.Close()
	byFD := fmt.Sprintf("/dev/fd/%d", r.Fd())
	if _, err := os.Stat(byFD); err != nil {
		t.Skip(err)
	}
	go func() { w.Write(identityBytes); w.Close() }()
	var kr *custody.Keyring
	err := within("a pipe with a writer", func() error {
		var err error
		kr, err = (&custody.Resolver{Identities: []string{byFD}}).Resolve(context.Background(), path)
		return err
	})
	if err != nil {
		t.Fatalf("an identity from a pipe: %v", err)
	}
	if _, err := vault.Open(path, kr.Keys); err != nil {
		t.Error(err)
	}
}
