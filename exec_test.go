package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRunTooLarge(t *testing.T) {
	key := GenerateKey()
	secrets := map[string]any{}
	// Variables of 100 KiB, each under the per-variable limit, up to more
	// than this system's limit for the whole.
	for i := range execArgLimit()/(100<<10) + 5 {
		secrets[fmt.Sprintf("blob%02d", i)] = strings.Repeat("y", 100<<10-i)
	}
	secrets["small"] = "z"
	v, err := Open(sealPath(t, secrets, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	err = v.Run(context.Background(), &Command{Args: []string{"deploy"}})
	if err == nil {
		t.Fatalf("Run accepted more than %d bytes of environment", execArgLimit())
	}
	for _, says := range []string{"more than the", "bytes the system passes to a program", "the largest are BLOB00 (102408 bytes), BLOB01 (102407 bytes), BLOB02", "-path"} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("error %q\ndoes not say %q", err, says)
		}
	}
	assertNoLeak(t, "error", err.Error(), strings.Repeat("y", 10))

	// The vault's variables fit, the caller's environment with them does
	// not: the error is the same, made once the environment is.
	delete(secrets, "blob00")
	for len(secrets) > 1 && execArgLimit() < (len(secrets)-1)*(100<<10) {
		delete(secrets, fmt.Sprintf("blob%02d", len(secrets)-1))
	}
	v, err = Open(sealPath(t, secrets, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	err = v.Run(context.Background(), &Command{Args: []string{"deploy"}, Env: []string{"CALLER=" + strings.Repeat("c", 120<<10)}})
	if err == nil {
		t.Fatalf("Run accepted more than %d bytes of environment", execArgLimit())
	}
	for _, says := range []string{"the environment's", "bytes the system passes to a program", "the largest are CALLER (122888 bytes), BLOB01 (102407 bytes)"} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("error %q\ndoes not say %q", err, says)
		}
	}
}

// TestRunRefusesHugeEnvironmentCheaply: a 100 KB key over 1,000 values is
// a vault of 200 KB whose environment would be 100 MB; Run refuses it from
// the measure flatten takes first, having made none of it.
func TestRunRefusesHugeEnvironmentCheaply(t *testing.T) {
	key := GenerateKey()
	children := map[string]any{}
	for i := range 1000 {
		children[fmt.Sprintf("c%04d", i)] = fmt.Sprintf("value%04d", i)
	}
	v, err := Open(sealPath(t, map[string]any{strings.Repeat("k", 100_000): children}, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	var runErr error
	alloc := allocated(func() {
		runErr = v.Run(context.Background(), &Command{Args: []string{"true"}})
	})
	if runErr == nil || !strings.Contains(runErr.Error(), "the vault's 1000 variables would be 100017000 bytes, more than the") {
		t.Fatalf("Run: %v, want the environment refused", runErr)
	}
	if len(runErr.Error()) > 1024 {
		t.Errorf("the error is %d bytes long", len(runErr.Error()))
	}
	if alloc > 2<<20 {
		t.Errorf("Run allocated %d KB to refuse an environment of 100 MB", alloc>>10)
	}
}

func sealPath(t *testing.T, secrets any, key *Key) string {
	t.Helper()
	path := t.TempDir() + "/v.enc"
	if err := Seal(path, secrets, key); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestVaultMasker: the Masker masks what Run masks: the values, less those
// declared NotSecret, below FromPath if given, and the key; it is audited.
func TestVaultMasker(t *testing.T) {
	key := GenerateKey()
	rec := &recorder{}
	v, err := Open(sealSeed(t, key), []*Key{key}, WithAuditor(rec))
	if err != nil {
		t.Fatal(err)
	}
	mask := func(m *Masker, text string) string {
		var out strings.Builder
		r := m.Redactor(&out)
		r.Write([]byte(text))
		r.Close()
		return out.String()
	}
	text := "db.example.com s3cret!P@ss AKIAIOSFODNN7EXAMPLE " + key.Encode()
	for _, tt := range []struct {
		name string
		opts []FlattenOption
		want string
	}{
		{"every value", nil, "*** *** *** ***"},
		{"a host not secret", []FlattenOption{NotSecret("database.host")}, "db.example.com *** *** ***"},
		{"below a path", []FlattenOption{FromPath("database")}, "*** *** AKIAIOSFODNN7EXAMPLE ***"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := v.Masker(context.Background(), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := mask(m, text); got != tt.want {
				t.Errorf("masked %q, want %q", got, tt.want)
			}
		})
	}
	if e := rec.events[len(rec.events)-1]; e.Op != OpMask || e.Err != nil {
		t.Errorf("event %+v", e)
	}
	if _, err := v.Masker(context.Background(), NotSecret("nope")); err == nil {
		t.Error("a NotSecret path that does not exist is not an error")
	}
	if _, err := (&Vault{}).Masker(context.Background()); !errors.Is(err, ErrNotOpened) {
		t.Errorf("zero Vault: %v", err)
	}
}

// TestRunTooLargeNamesTheLargest: the refusal of an environment over the
// system's limit names first the largest variable by NAME=value, a long
// name counting as a long value does, with the name cut short. (From a
// red-team pass: a 100,000-byte name with a short value was not named,
// and the error printed names whole.)
func TestRunTooLargeNamesTheLargest(t *testing.T) {
	key := GenerateKey()
	secrets := map[string]any{strings.Repeat("n", 100_000): "short-value"}
	for i := range execArgLimit()/20_000 + 10 {
		secrets[fmt.Sprintf("v%03d", i)] = strings.Repeat("x", 20_000)
	}
	v, err := Open(sealPath(t, secrets, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	err = v.Run(context.Background(), &Command{Args: []string{"true"}})
	if err == nil {
		t.Fatal("Run accepted an environment over the limit")
	}
	want := "the largest are " + strings.Repeat("N", maxNameShown) + "... (a name of 100000 bytes) (100013 bytes), "
	if !strings.Contains(err.Error(), want) {
		t.Errorf("the refusal does not name first the largest variable, cut short:\n%.400s", err)
	}
	if len(err.Error()) > 1000 {
		t.Errorf("the refusal is %d bytes long", len(err.Error()))
	}
}
