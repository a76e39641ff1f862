// Package vaulttest helps Go tests that need secrets, as net/http/httptest
// helps tests that need a server: a real vault under t.TempDir(), sealed
// with a fresh key ([New], [Open]), in a file system for code that embeds
// its vault ([FS]), or for an age recipient ([NewWithRecipient]); the
// variables a deploy step would see ([Setenv]); a command run with the
// secrets ([Run]); a fixed key for golden files ([FixedKey]); a check that
// output leaks no secret ([CheckNoLeaks]); and an Auditor that records
// events for assertions ([Recorder]).
//
//	func TestDeploy(t *testing.T) {
//		path, keys := vaulttest.New(t, map[string]any{"db": map[string]any{"password": "test-pass"}})
//		vaulttest.SetKeyring(t, "MASTER_KEY", keys)
//		if err := deploy(path); err != nil { ... } // code that reads MASTER_KEY and opens path
//	}
//
// Everything is cleaned up when the test ends.
package vaulttest

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/credvault/vault"
)

// New seals secrets into a new vault, credentials.enc in t.TempDir(), under
// a fresh key, and returns the vault's path and the keyring (that one key).
// secrets is what vault.Seal takes: a map or a struct. It fails the test if
// secrets cannot be sealed.
func New(t testing.TB, secrets any) (path string, keys []*vault.Key) {
	t.Helper()
	key := vault.GenerateKey()
	path = filepath.Join(t.TempDir(), "credentials.enc")
	if err := vault.Seal(path, secrets, key); err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	return path, []*vault.Key{key}
}

// Open is New followed by vault.Open with opts: an opened vault of secrets.
func Open(t testing.TB, secrets any, opts ...vault.OpenOption) *vault.Vault {
	t.Helper()
	path, keys := New(t, secrets)
	v, err := vault.Open(path, keys, opts...)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	return v
}

// Setenv sets every variable of v.Flatten(prefix) in the environment with
// t.Setenv, so that the code under test sees what `credvault exec -prefix
// PREFIX` would give it; the previous values come back when the test ends.
// Like t.Setenv, it cannot be used in parallel tests.
func Setenv(t testing.TB, v *vault.Vault, prefix string, opts ...vault.FlattenOption) {
	t.Helper()
	vars, err := v.Flatten(prefix, opts...)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	for name, value := range vars {
		t.Setenv(name, value)
	}
}

// SetKeyring sets the environment variable name to keys in the form
// MASTER_KEY takes ("new,old"), with t.Setenv, for code that reads its
// keyring from the environment.
func SetKeyring(t testing.TB, name string, keys []*vault.Key) {
	t.Helper()
	encoded := make([]string, len(keys))
	for i, k := range keys {
		encoded[i] = k.Encode()
	}
	t.Setenv(name, strings.Join(encoded, ","))
}

// A Recorder is a vault.Auditor that keeps every event, for tests that
// check what was audited. It is safe for concurrent use. Its Err, if set,
// is returned by Audit, to test a failing audit destination.
type Recorder struct {
	mu     sync.Mutex
	events []vault.Event
	Err    error // returned by Audit, if set
}

// Audit records e (with a copy of its Names) and returns r.Err.
func (r *Recorder) Audit(_ context.Context, e vault.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Names = slices.Clone(e.Names)
	r.events = append(r.events, e)
	return r.Err
}

// Events returns the events recorded so far.
func (r *Recorder) Events() []vault.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Ops returns the operations recorded so far, in order, as "op path" or
// "op" strings, with " error" after a failed one: compact for comparisons.
func (r *Recorder) Ops() []string {
	var ops []string
	for _, e := range r.Events() {
		s := string(e.Op)
		if e.Path != "" {
			s += " " + e.Path
		}
		if e.Err != nil {
			s += " error"
		}
		ops = append(ops, s)
	}
	return ops
}
