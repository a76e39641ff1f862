package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSealWithSidecar(t *testing.T) {
	key := GenerateKey()
	path := filepath.Join(t.TempDir(), "credentials.enc")
	side := path + ".keys"
	secrets := map[string]any{"a": "fake-value"}
	if err := Seal(path, secrets, key, WithSidecar(side, []byte("one\n"), 0o644)); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, side); got != "one\n" {
		t.Errorf("sidecar holds %q", got)
	}
	if info, err := os.Stat(side); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("sidecar mode: %v %v, want 0644", info.Mode(), err)
	}
	newKey := GenerateKey()
	if err := Rotate(path, []*Key{key}, newKey, WithSidecar(side, []byte("two\n"), 0o644)); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, side); got != "two\n" {
		t.Errorf("after Rotate the sidecar holds %q", got)
	}
	if _, err := Open(path, []*Key{newKey}); err != nil {
		t.Error(err)
	}
	if names := dirNames(t, filepath.Dir(path)); !slices.Equal(names, []string{"credentials.enc", "credentials.enc.keys"}) {
		t.Errorf("directory holds %q", names)
	}
}

// TestSidecarFollowsTheVault fails a write at each stage: before the vault
// is replaced, the sidecar is unchanged and no pending file remains; after
// it, the new sidecar is kept, in place or under its pending name.
func TestSidecarFollowsTheVault(t *testing.T) {
	for _, tc := range []struct {
		stage       string
		vaultIsNew  bool
		wantSidecar string
		wantPending bool
	}{
		{stage: "write", wantSidecar: "old"},
		{stage: "sync", wantSidecar: "old"},
		{stage: "rename", wantSidecar: "old"},
		{stage: "audit", wantSidecar: "old"},
		{stage: "sidecar", vaultIsNew: true, wantSidecar: "old", wantPending: true},
	} {
		t.Run(tc.stage, func(t *testing.T) {
			key, newKey := GenerateKey(), GenerateKey()
			path := sealSeed(t, key)
			side := path + ".keys"
			if err := os.WriteFile(side, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			injected := errors.New("injected failure")
			opts := []WriteOption{WithSidecar(side, []byte("new"), 0o644), withFailpoint(func(s string) error {
				if s == tc.stage {
					return injected
				}
				return nil
			})}
			if tc.stage == "audit" {
				opts = append(opts, WithAuditor(auditorFunc(func(Event) error { return injected })))
			}
			err := Rotate(path, []*Key{key}, newKey, opts...)
			if !errors.Is(err, injected) {
				t.Fatalf("Rotate error %v, want the injected one", err)
			}
			_, openErr := Open(path, []*Key{newKey})
			if (openErr == nil) != tc.vaultIsNew {
				t.Fatalf("vault opens with the new key: %v, want %v", openErr == nil, tc.vaultIsNew)
			}
			if got := readString(t, side); got != tc.wantSidecar {
				t.Errorf("sidecar holds %q, want %q", got, tc.wantSidecar)
			}
			_, statErr := os.Stat(PendingSidecar(side))
			if (statErr == nil) != tc.wantPending {
				t.Errorf("pending file exists: %v, want %v", statErr == nil, tc.wantPending)
			}
			if tc.wantPending {
				if got := readString(t, PendingSidecar(side)); got != "new" {
					t.Errorf("pending file holds %q, want the new sidecar", got)
				}
				if !strings.Contains(err.Error(), "rename it to "+side) {
					t.Errorf("error %q does not say how to finish", err)
				}
			}
			for _, name := range dirNames(t, filepath.Dir(path)) {
				if strings.Contains(name, ".tmp-") {
					t.Errorf("temporary file %s left behind", name)
				}
			}
		})
	}
}

type auditorFunc func(Event) error

func (f auditorFunc) Audit(_ context.Context, e Event) error { return f(e) }

func TestUpdateSidecar(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	side := path + ".keys"
	if err := os.WriteFile(PendingSidecar(side), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if err := UpdateSidecar(path, side, 0o644, func() ([]byte, error) { return nil, refused }); !errors.Is(err, refused) {
		t.Fatalf("got %v, want fn's error", err)
	}
	if _, err := os.Stat(side); err == nil {
		t.Fatal("a refused update wrote the sidecar")
	}
	calls := 0
	err := UpdateSidecar(path, side, 0o644, func() ([]byte, error) {
		calls++
		return []byte("fresh"), nil
	})
	if err != nil || calls != 1 {
		t.Fatalf("UpdateSidecar: %v, %d calls", err, calls)
	}
	if got := readString(t, side); got != "fresh" {
		t.Errorf("sidecar holds %q", got)
	}
	if _, err := os.Stat(PendingSidecar(side)); err == nil {
		t.Error("the stale pending file is still there")
	}
}
