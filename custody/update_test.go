package custody_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// TestUpdateSealsWithTheWrappedKey: Update seals a vault with recipients
// with the key its recipients file wraps, wherever it is in the keyring,
// so that the recipients can still open it; a vault without one with
// keys[0]; and it changes nothing when the file wraps none of the keys
// that open the vault.
func TestUpdateSealsWithTheWrappedKey(t *testing.T) {
	ctx := context.Background()
	other := vault.GenerateKey()
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string, k *vault.Key) []*vault.Key // returns the keyring
		wantKey func(k *vault.Key, ring []*vault.Key) *vault.Key
		wantErr error
	}{
		{"the wrapped key first", func(t *testing.T, path string, k *vault.Key) []*vault.Key {
			return []*vault.Key{k, other}
		}, func(k *vault.Key, _ []*vault.Key) *vault.Key { return k }, nil},
		{"a newer key first (MASTER_KEY=new,old)", func(t *testing.T, path string, k *vault.Key) []*vault.Key {
			return []*vault.Key{other, vault.GenerateKey(), k}
		}, func(k *vault.Key, _ []*vault.Key) *vault.Key { return k }, nil},
		{"the recipients file pending, the old one stale", func(t *testing.T, path string, k *vault.Key) []*vault.Key {
			keysPath := custody.KeysPath(path)
			os.Rename(keysPath, vault.PendingSidecar(keysPath))
			stale, _ := custody.Wrap(ctx, other, []custody.Recipient{recipient(t, "age1cgda5d4jfrypahulq8ukdyrd0avkupk4pk6jw0quhrvkrh9pjvyqar6js9", "x")}, nil)
			data, _ := stale.Marshal()
			os.WriteFile(keysPath, data, 0o644)
			return []*vault.Key{vault.GenerateKey(), k}
		}, func(k *vault.Key, _ []*vault.Key) *vault.Key { return k }, nil},
		{"no recipients file", func(t *testing.T, path string, k *vault.Key) []*vault.Key {
			os.Remove(custody.KeysPath(path))
			return []*vault.Key{other, k}
		}, func(_ *vault.Key, ring []*vault.Key) *vault.Key { return ring[0] }, nil},
		{"a recipients file that wraps none of the keys", func(t *testing.T, path string, k *vault.Key) []*vault.Key {
			stale, _ := custody.Wrap(ctx, other, []custody.Recipient{recipient(t, "age1cgda5d4jfrypahulq8ukdyrd0avkupk4pk6jw0quhrvkrh9pjvyqar6js9", "x")}, nil)
			data, _ := stale.Marshal()
			os.WriteFile(custody.KeysPath(path), data, 0o644)
			return []*vault.Key{vault.GenerateKey(), k}
		}, nil, custody.ErrNotWrapped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			alice, aliceFile := identity(t, dir, "alice.txt")
			path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"))
			kr, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			k := kr.Keys[0]
			ring := tt.setup(t, path, k)
			before, _ := os.ReadFile(path)
			sealed, err := custody.Update(ctx, path, ring, func(tx *vault.Tx) error { return tx.Set("b", "fake-new") })
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
					t.Error("the refused update changed the vault")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.wantKey(k, ring)
			if sealed != want {
				t.Errorf("sealed with key %s, want %s", sealed.Fingerprint(), want.Fingerprint())
			}
			v, err := vault.Open(path, []*vault.Key{want})
			if err != nil {
				t.Fatal(err)
			}
			if v.KeyIndex() != 0 {
				t.Error("not sealed with the wanted key")
			}
			if _, err := os.Stat(custody.KeysPath(path)); err == nil {
				// The recipients still open it.
				if _, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(ctx, path); err != nil {
					t.Errorf("alice is locked out: %v", err)
				}
			}
		})
	}
}
