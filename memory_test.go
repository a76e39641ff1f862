package vault

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSealToOpenBytes: a vault built in memory and opened from memory,
// as a program that keeps vaults in object storage does; the bytes are
// exactly a vault file's, and data is not changed by OpenBytes.
func TestSealToOpenBytes(t *testing.T) {
	key := GenerateKey()
	rec := &recorder{}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var buf bytes.Buffer
	if err := SealTo(&buf, "s3://bucket/prod.enc", map[string]any{"db": map[string]any{"password": "s3cret-in-memory"}}, key, WithAuditor(rec), WithClock(func() time.Time { return at })); err != nil {
		t.Fatal(err)
	}
	data := bytes.Clone(buf.Bytes())
	v, err := OpenBytes(buf.Bytes(), "s3://bucket/prod.enc", []*Key{key}, WithAuditor(rec))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, buf.Bytes()) {
		t.Error("OpenBytes changed its input")
	}
	if got, err := v.Get("db.password"); err != nil || got != "s3cret-in-memory" {
		t.Errorf("Get = %q, %v", got, err)
	}
	if !v.SealedAt().Equal(at) || v.Name() != "s3://bucket/prod.enc" {
		t.Errorf("SealedAt %v, Name %q", v.SealedAt(), v.Name())
	}
	if diff := cmp.Diff([]string{`seal "" -1 sealed ok`, `open "" 0 ok`, `get "db.password" 0 ok`}, rec.summary()); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	// The same bytes open as a file.
	path := t.TempDir() + "/v.enc"
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, []*Key{key}); err != nil {
		t.Errorf("SealTo's output does not open as a file: %v", err)
	}
}

func TestOpenBytesRefuses(t *testing.T) {
	key := GenerateKey()
	tests := map[string]struct {
		data []byte
		want error
		says string
	}{
		"not a token": {[]byte("{\"a\": 1}"), ErrMalformed, "mem.enc is not a sealed vault"},
		"wrong key":   {sealBytesT(t, GenerateKey()), ErrWrongKey, "mem.enc: wrong key"},
		"too large":   {make([]byte, MaxVaultSize+1), nil, "more than the 64 MiB"},
		"empty":       {nil, ErrMalformed, "mem.enc"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			v, err := OpenBytes(tt.data, "mem.enc", []*Key{key})
			if v != nil || err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("OpenBytes = %v, %v; want %v saying %q", v, err, tt.want, tt.says)
			}
		})
	}
}

// TestSealToFailures: a refused audit record writes nothing; a failed
// write is audited as a failure; a refused document writes nothing.
func TestSealToFailures(t *testing.T) {
	key := GenerateKey()
	var buf bytes.Buffer
	rec := &recorder{fail: errors.New("audit down")}
	if err := SealTo(&buf, "mem.enc", map[string]any{"a": "b"}, key, WithAuditor(rec)); !errors.Is(err, ErrAudit) || buf.Len() != 0 {
		t.Errorf("a refused audit: %v, %d bytes written", err, buf.Len())
	}
	rec = &recorder{}
	err := SealTo(failingWriter{}, "mem.enc", map[string]any{"a": "b"}, key, WithAuditor(rec))
	if err == nil || !strings.Contains(err.Error(), "mem.enc: cannot write the sealed vault: no space left on device") {
		t.Errorf("a failed write: %v", err)
	}
	if diff := cmp.Diff([]string{`seal "" -1 sealed ok`, `seal "" -1 sealed error`}, rec.summary()); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	if err := SealTo(&buf, "mem.enc", []string{"not an object"}, key); err == nil || buf.Len() != 0 {
		t.Errorf("an array: %v, %d bytes written", err, buf.Len())
	}
	if err := SealTo(&buf, "mem.enc", nil, nil); err == nil {
		t.Error("SealTo without a key succeeded")
	}
}

func sealBytesT(t *testing.T, key *Key) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := SealTo(&buf, "x", map[string]any{}, key); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
