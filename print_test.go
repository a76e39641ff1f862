package vault

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// printVerbs are the fmt verbs a careless log line might use.
var printVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}

// unexportedHolder holds a value by value and by pointer in unexported
// fields, which fmt prints by reflection, without calling their methods.
type unexportedHolder[T any] struct {
	v T
	p *T
}

// exportedHolder holds them in exported fields, which fmt, slog and
// encoding/json reach through their methods.
type exportedHolder[T any] struct {
	V T
	P *T
}

// printedForms returns what fmt, log/slog and encoding/json make of x: the
// pointer, the value, and both inside structs.
func printedForms[T any](t *testing.T, x *T) []string {
	t.Helper()
	inner := unexportedHolder[T]{*x, x}
	outer := exportedHolder[T]{*x, x}
	var outputs []string
	for _, verb := range printVerbs {
		outputs = append(outputs,
			fmt.Sprintf(verb, x), fmt.Sprintf(verb, *x),
			fmt.Sprintf(verb, inner), fmt.Sprintf(verb, outer), fmt.Sprintf(verb, []*T{x}))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "ptr", x, "val", *x, "inner", inner, "outer", outer)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "ptr", x, "val", *x, "inner", inner, "outer", outer)
	outputs = append(outputs, buf.String())
	if j, err := json.Marshal(outer); err == nil {
		outputs = append(outputs, string(j))
	}
	return outputs
}

// assertNeverPrints checks that no printed form of x holds a secret, in
// text, as hex (%x of bytes) or as decimal bytes (%v of a []byte).
func assertNeverPrints[T any](t *testing.T, what string, x *T, secrets ...string) {
	t.Helper()
	var forms []string
	for _, s := range secrets {
		forms = append(forms, s, hex.EncodeToString([]byte(s)), fmt.Sprint([]byte(s))[1:len(s)*2])
	}
	for _, out := range printedForms(t, x) {
		assertNoLeak(t, "formatted "+what, out, forms...)
	}
}

func TestMaskerAndRedactorNeverPrint(t *testing.T) {
	const secret = "SUPERSECRET-pass"
	key := GenerateKey()
	fresh := NewMasker(secret, key.Encode())
	assertNeverPrints(t, "new Masker", fresh, secret, key.Encode())

	compiled := NewMasker(secret, key.Encode())
	var out bytes.Buffer
	r := compiled.Redactor(&out)
	// The Redactor holds back "SUPERSECRET-p", which could start the secret.
	if _, err := r.Write([]byte("xx SUPERSECRET-p")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "xx " {
		t.Fatalf("the Redactor wrote %q, want %q with the rest held back", out.String(), "xx ")
	}
	assertNeverPrints(t, "compiled Masker", compiled, secret, key.Encode())
	assertNeverPrints(t, "Redactor holding bytes", r, secret, "SUPERSECRET-p")
	assertNeverPrints(t, "NewRedactor", NewRedactor(&out, secret), secret)

	if got := fmt.Sprint(fresh); got != "vault.Masker(redacted)" {
		t.Errorf("Sprint(masker) = %q", got)
	}
	if got := fmt.Sprint(r); got != "vault.Redactor(redacted)" {
		t.Errorf("Sprint(redactor) = %q", got)
	}
}

func TestZeroMaskerAndRedactor(t *testing.T) {
	var m Masker
	var out bytes.Buffer
	r := m.Redactor(&out)
	if _, err := r.Write([]byte("nothing to mask here")); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil || out.String() != "nothing to mask here" {
		t.Errorf("the zero Masker's Redactor wrote %q, %v", out.String(), err)
	}
	var zero Redactor
	if _, err := zero.Write([]byte("x")); err != errNoRedactor {
		t.Errorf("zero Redactor Write: %v, want errNoRedactor", err)
	}
	if err := zero.Close(); err != errNoRedactor {
		t.Errorf("zero Redactor Close: %v, want errNoRedactor", err)
	}
}

func TestTxAndEventNeverPrint(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	var events []Event
	audit := WithAuditor(AuditorFunc(func(_ context.Context, e Event) error {
		events = append(events, e)
		return nil
	}))
	err := Update(path, []*Key{key}, func(tx *Tx) error {
		if err := tx.Set("new.secret", "tx-secret-value"); err != nil {
			return err
		}
		assertNeverPrints(t, "Tx", tx, append(seedValues, "tx-secret-value", key.Encode())...)
		if got := fmt.Sprint(tx); got != "vault.Tx("+path+")" {
			t.Errorf("Sprint(tx) = %q", got)
		}
		return tx.Set("hosts.5", "tx-secret-value") // refused: arrays do not grow
	}, audit)
	if err == nil {
		t.Fatal("the Update did not fail")
	}
	if len(events) == 0 {
		t.Fatal("no events")
	}
	for i := range events {
		assertNeverPrints(t, "Event", &events[i], append(seedValues, "tx-secret-value", key.Encode())...)
	}
	if got := fmt.Sprint(&Tx{}); got != "vault.Tx(invalid)" {
		t.Errorf("Sprint(&Tx{}) = %q", got)
	}
}

// TestVaultWithAuditorNeverPrints: a Vault opened with an Auditor holds a
// key derived from the vault key, for value fingerprints; no printed form
// of the Vault, by pointer or by value, shows it.
func TestVaultWithAuditorNeverPrints(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{GenerateKey(), key}, WithAuditor(&recorder{}))
	if err != nil {
		t.Fatal(err)
	}
	derived := string(v.fingerprint.key())
	secrets := append(slices.Clone(seedValues), key.Encode(), v.keyring[0].Encode(), derived)
	assertNeverPrints(t, "Vault with an Auditor", v, secrets...)
}

// TestNilAndZeroPrint: a nil *Vault, *Key, *Tx, *Masker or *Redactor
// prints, and answers String, without a panic.
func TestNilAndZeroPrint(t *testing.T) {
	var (
		v *Vault
		k *Key
		x *Tx
		m *Masker
		r *Redactor
	)
	for _, tt := range []struct {
		got, want string
	}{
		{v.String(), "vault.Vault(invalid)"},
		{(&Vault{}).String(), "vault.Vault(invalid)"},
		{k.String(), "vault.Key(invalid)"},
		{(&Key{}).String(), "vault.Key(invalid)"},
		{k.Fingerprint(), ""},
		{k.LongFingerprint(), ""},
		{(&Key{}).LongFingerprint(), ""},
		{x.String(), "vault.Tx(invalid)"},
		{m.String(), "vault.Masker(redacted)"},
		{r.String(), "vault.Redactor(redacted)"},
		{fmt.Sprintf("%v %s %#v", v, k, x), "vault.Vault(invalid) vault.Key(invalid) vault.Tx(invalid)"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if b, err := k.MarshalText(); err != nil || string(b) != "vault.Key(invalid)" {
		t.Errorf("MarshalText of a nil Key: %q, %v", b, err)
	}
	for name, k := range map[string]*Key{"nil": nil, "zero": {}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Encode of a nil or zero Key") {
					t.Errorf("Encode of a %s Key: panic %v, want one that says so", name, r)
				}
			}()
			k.Encode()
		}()
	}
}

func TestVaultStringCounts(t *testing.T) {
	key := GenerateKey()
	for _, tt := range []struct {
		secrets map[string]any
		want    string
	}{
		{map[string]any{}, "0 secrets"},
		{map[string]any{"a": "x"}, "1 secret)"},
		{map[string]any{"a": "x", "b": "y"}, "2 secrets"},
	} {
		v, err := Open(sealPath(t, tt.secrets, key), []*Key{key})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(v.String(), tt.want) && !strings.Contains(v.String(), tt.want) {
			t.Errorf("String() = %q, want %q", v.String(), tt.want)
		}
	}
}
