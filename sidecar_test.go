package vault

import (
	"context"
	"errors"
	"io/fs"
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

// fixed returns a WithSidecar content function that returns s.
func fixed(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}

func TestSealWithSidecar(t *testing.T) {
	key := GenerateKey()
	path := filepath.Join(t.TempDir(), "credentials.enc")
	side := path + ".keys"
	secrets := map[string]any{"a": "fake-value"}
	if err := Seal(path, secrets, key, WithSidecar(side, 0o644, fixed("one\n"))); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, side); got != "one\n" {
		t.Errorf("sidecar holds %q", got)
	}
	if info, err := os.Stat(side); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("sidecar mode: %v %v, want 0644", info.Mode(), err)
	}
	newKey := GenerateKey()
	if err := Rotate(path, []*Key{key}, newKey, WithSidecar(side, 0o644, fixed("two\n"))); err != nil {
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
			opts := []WriteOption{WithSidecar(side, 0o644, fixed("new")), withFailpoint(func(s string) error {
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
	var events []Event
	audit := WithAuditor(auditorFunc(func(e Event) error { events = append(events, e); return nil }))
	update := func(content func() ([]byte, error), opts ...WriteOption) error {
		u := SidecarUpdate{Path: side, Perm: 0o644, Content: content, Op: OpRecipientAdd, Key: key.Fingerprint(), Recipient: `age recipient "carol" (age1...)`}
		return UpdateSidecar(context.Background(), path, u, append(opts, audit)...)
	}
	refused := errors.New("refused")
	if err := update(func() ([]byte, error) { return nil, refused }); !errors.Is(err, refused) {
		t.Fatalf("got %v, want Content's error", err)
	}
	if _, err := os.Stat(side); err == nil {
		t.Fatal("a refused update wrote the sidecar")
	}
	calls := 0
	err := update(func() ([]byte, error) {
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
	// Both outcomes are audited, with the recipient and the key's
	// fingerprint.
	if len(events) != 2 || !errors.Is(events[0].Err, refused) || events[1].Err != nil {
		t.Fatalf("events %+v, want a failure then a success", events)
	}
	for _, e := range events {
		if e.Op != OpRecipientAdd || e.Vault != path || e.Key != key.Fingerprint() || e.Recipient != `age recipient "carol" (age1...)` {
			t.Errorf("event %+v", e)
		}
	}
	// WithSidecar would be ignored here: it is an error.
	err = update(fixed("x"), WithSidecar(path+".other", 0o644, fixed("y")))
	if err == nil || !strings.Contains(err.Error(), "WithSidecar does not apply") {
		t.Errorf("UpdateSidecar with WithSidecar: %v", err)
	}
}

// TestSidecars: several sidecars follow one write, each written; two for
// one file are refused; a sidecar that is a symbolic link has the file it
// leads to replaced, as the vault has; a content function that fails
// fails the write; Merge writes them too.
func TestSidecars(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	dir := filepath.Dir(path)
	a, b := path+".a", path+".b"
	newKey := GenerateKey()
	if err := Rotate(path, []*Key{key}, newKey, WithSidecar(a, 0o644, fixed("A")), WithSidecar(b, 0o600, fixed("B"))); err != nil {
		t.Fatal(err)
	}
	if readString(t, a) != "A" || readString(t, b) != "B" {
		t.Error("both sidecars were not written")
	}
	err := Rotate(path, []*Key{newKey}, GenerateKey(), WithSidecar(a, 0o644, fixed("1")), WithSidecar(a, 0o644, fixed("2")))
	if err == nil || !strings.Contains(err.Error(), "two WithSidecar options name") {
		t.Errorf("two sidecars for one file: %v", err)
	}
	if _, err := Open(path, []*Key{newKey}); err != nil {
		t.Errorf("the refused write changed the vault: %v", err)
	}

	// A link: its target is replaced, the link stays.
	real := filepath.Join(dir, "real.keys")
	os.WriteFile(real, []byte("old"), 0o644)
	link := path + ".link"
	if err := os.Symlink("real.keys", link); err != nil {
		t.Skip(err)
	}
	if err := Update(path, []*Key{newKey}, func(tx *Tx) error { return tx.Set("b", "x") }, WithSidecar(link, 0o644, fixed("via link"))); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
	if got := readString(t, real); got != "via link" {
		t.Errorf("the link's target holds %q", got)
	}
	u := SidecarUpdate{Path: link, Perm: 0o644, Content: fixed("updated"), Op: OpRecipientRemove}
	if err := UpdateSidecar(context.Background(), path, u); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Lstat(link); info.Mode()&fs.ModeSymlink == 0 || readString(t, real) != "updated" {
		t.Error("UpdateSidecar replaced the link, not its target")
	}

	// A content function that fails: nothing changes.
	before := readString(t, path)
	failed := errors.New("content failed")
	err = Rotate(path, []*Key{newKey}, GenerateKey(), WithSidecar(a, 0o644, func() ([]byte, error) { return nil, failed }))
	if !errors.Is(err, failed) || readString(t, path) != before || readString(t, a) != "A" {
		t.Errorf("a failing content: %v, vault changed %v", err, readString(t, path) != before)
	}
	if _, err := os.Stat(PendingSidecar(a)); err == nil {
		t.Error("a pending file was left")
	}

	// Merge writes a sidecar too.
	theirs := filepath.Join(dir, "theirs.enc")
	if err := Seal(theirs, map[string]any{"b": "x", "c": "y"}, newKey); err != nil {
		t.Fatal(err)
	}
	if err := Merge(path, path, theirs, []*Key{newKey}, WithSidecar(a, 0o644, fixed("merged"))); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, a); got != "merged" {
		t.Errorf("Merge left the sidecar %q", got)
	}
}

// TestSidecarReplacesOnlyItsKind: a write that carries a sidecar never
// replaces a key file or age identities at the sidecar's name or its
// pending name, whatever the options, through a symbolic link or not; nor
// anything but a regular file; a file of another kind than the sidecar only
// with WithReplaceAny, and never through a link. Nothing is written when it
// refuses.
func TestSidecarReplacesOnlyItsKind(t *testing.T) {
	const (
		recipients = `{"credvault": "keys/v1", "key": "0123456789ab", "recipients": []}`
		identities = "# created: 2026-01-01T00:00:00Z\n# public key: age1...\nAGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n"
		notes      = "remember to rotate\n"
	)
	keyFile := GenerateKey().Encode() + "\n"
	tests := []struct {
		name       string
		at         string // "keys", "pending", or "link" (keys is a link to other)
		content    string
		replaceAny bool
		wantErr    string // "" to succeed
	}{
		{"identities", "keys", identities, true, "is a file of age identities"},
		{"key file", "keys", keyFile, true, "is a key file"},
		{"link to identities", "link", identities, true, "(a link to "},
		{"link to a key file", "link", keyFile, true, "is a key file"},
		{"identities at the pending name", "pending", identities, true, "is a file of age identities"},
		{"key file at the pending name", "pending", keyFile, false, "is a key file"},
		{"other content", "keys", notes, false, "is a file of another kind, not a recipients file"},
		{"other content, WithReplaceAny", "keys", notes, true, ""},
		{"link to other content, WithReplaceAny", "link", notes, true, "no file a symbolic link leads to"},
		{"other content at the pending name", "pending", notes, false, "is a file of another kind"},
		{"a recipients file", "keys", recipients, false, ""},
		{"a link to a recipients file", "link", recipients, false, ""},
		{"a stale pending file", "pending", recipients, false, ""},
		{"empty", "keys", "", false, ""},
		{"a recipients file of a newer format", "keys", `{"credvault": "keys/v9"}`, false, `is a recipients file ("keys/v9")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := GenerateKey()
			path := sealSeed(t, key)
			dir := filepath.Dir(path)
			side := path + ".keys"
			file := map[string]string{"keys": side, "pending": PendingSidecar(side), "link": filepath.Join(dir, "other.txt")}[tt.at]
			if err := os.WriteFile(file, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.at == "link" {
				if err := os.Symlink("other.txt", side); err != nil {
					t.Skip(err)
				}
			}
			before := readString(t, path)
			opts := []SealOption{WithSidecar(side, 0o644, fixed(recipients+"\n"))}
			if tt.replaceAny {
				opts = append(opts, WithReplaceAny())
			}
			err := Seal(path, map[string]any{"a": "fake-value"}, key, opts...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := readString(t, side); got != recipients+"\n" {
					t.Errorf("the sidecar holds %q", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
			}
			if got := readString(t, file); got != tt.content {
				t.Errorf("%s now holds %q", tt.at, got)
			}
			if readString(t, path) != before {
				t.Error("the vault was replaced")
			}
			// Update, Rotate and UpdateSidecar refuse it too.
			if err := Update(path, []*Key{key}, func(tx *Tx) error { return tx.Set("b", "x") }, WithSidecar(side, 0o644, fixed(recipients))); err == nil {
				t.Error("Update replaced it")
			}
			u := SidecarUpdate{Path: side, Perm: 0o644, Content: fixed(recipients), Op: OpRecipientAdd}
			if err := UpdateSidecar(context.Background(), path, u); err == nil {
				t.Error("UpdateSidecar replaced it")
			}
			if got := readString(t, file); got != tt.content {
				t.Errorf("%s now holds %q", tt.at, got)
			}
		})
	}

	// Anything but a regular file is refused, whatever the options.
	key := GenerateKey()
	path := sealSeed(t, key)
	side := path + ".keys"
	if err := os.Mkdir(side, 0o700); err != nil {
		t.Fatal(err)
	}
	err := Seal(path, map[string]any{"a": "x"}, key, WithReplaceAny(), WithSidecar(side, 0o644, fixed(recipients)))
	if err == nil || !strings.Contains(err.Error(), "is a directory, not a file this write replaces") {
		t.Errorf("a directory at the sidecar's name: %v", err)
	}
}
