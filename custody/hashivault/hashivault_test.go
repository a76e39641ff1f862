package hashivault_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/hashivault"
)

// TestCheck validates URLs.
func TestCheck(t *testing.T) {
	d := hashivault.New(hashivault.Config{})
	for _, tc := range []struct{ url, want string }{
		{"hashivault://credvault", ""},
		{"hashivault://credvault?engine=team/transit", ""},
		{"hashivault://credvault/../../sys/raw", "not a Transit key name"},
		{"hashivault://..", "not a Transit key name"},
		{"hashivault://credvault?engine=../sys", "engine must be a mount path"},
		{"hashivault://credvault?namespace=x", `parameter "namespace" is not supported`},
		{"hashivault://credvault?address=http://127.0.0.1:1", `parameter "address" is not supported`},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		err = d.Check(u)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
}

func TestNoServer(t *testing.T) {
	u, _ := url.Parse("hashivault://credvault")
	_, err := hashivault.New(hashivault.Config{}).Unwrap(context.Background(), u, []byte("vault:v1:x"), custody.Binding{Fingerprint: "0123456789ab"})
	if err == nil || !strings.Contains(err.Error(), "set $VAULT_ADDR") {
		t.Errorf("Unwrap without a server: %v", err)
	}
	_, err = hashivault.New(hashivault.Config{Address: "unix:///run/vault.sock"}).Unwrap(context.Background(), u, []byte("vault:v1:x"), custody.Binding{})
	if err == nil || !strings.Contains(err.Error(), "not an http:// or https:// URL") {
		t.Errorf("Unwrap with a unix socket address: %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"VAULT_ADDR": "https://vault.example.com", "VAULT_TOKEN": "s.fake-token-canary", "VAULT_SERVER_URL": "https://override.example.com",
		"VAULT_NAMESPACE": "team", "VAULT_CACERT": "/etc/vault/ca.pem"}
	cfg := hashivault.FromEnv(func(k string) string { return env[k] })
	want := hashivault.Config{Address: "https://override.example.com", Token: "s.fake-token-canary", Namespace: "team", CACert: "/etc/vault/ca.pem"}
	if cfg != want {
		t.Errorf("FromEnv = %+v, want %+v", cfg, want)
	}
	d := hashivault.New(cfg)
	if s := fmt.Sprintf("%v %+v %s %#v", d, d, d, d); strings.Contains(s, "canary") {
		t.Errorf("a printed Driver shows its token: %s", s)
	}
}

// fakeTransit answers as Vault's Transit API documentation says Transit
// answers: POST /v1/MOUNT/encrypt/NAME {"plaintext": base64} gives
// {"data": {"ciphertext": "vault:v1:..."}}, POST /v1/MOUNT/decrypt/NAME
// {"ciphertext": ...} gives {"data": {"plaintext": base64}}, and a failure
// is a status with {"errors": [...]}. Each key name has its own AES-GCM key,
// so a ciphertext of one key does not decrypt under another. It is not
// Vault: it shows that the driver sends and reads those shapes.
type fakeTransit struct {
	mount, token, namespace string

	mu    sync.Mutex
	keys  map[string]cipher.AEAD
	calls []string // "op name body" of each request
}

func (f *fakeTransit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string][]string{"errors": {msg}})
	}
	if r.Header.Get("X-Vault-Token") != f.token {
		fail(http.StatusForbidden, "permission denied")
		return
	}
	if r.Header.Get("X-Vault-Namespace") != f.namespace {
		fail(http.StatusNotFound, "no handler for route \"namespace\"")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/"+f.mount+"/")
	op, name, _ := strings.Cut(rest, "/")
	if !ok || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		fail(http.StatusNotFound, "unsupported path")
		return
	}
	var in map[string]string
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(http.StatusBadRequest, "error parsing JSON")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := json.Marshal(in)
	f.calls = append(f.calls, op+" "+name+" "+string(body))
	aead := f.keys[name]
	if aead == nil {
		k := make([]byte, 32)
		rand.Read(k)
		block, _ := aes.NewCipher(k)
		aead, _ = cipher.NewGCM(block)
		f.keys[name] = aead
	}
	reply := func(field, value string) {
		json.NewEncoder(w).Encode(map[string]any{"request_id": "0", "data": map[string]any{field: value, "key_version": 1}})
	}
	switch op {
	case "encrypt":
		plain, err := base64.StdEncoding.DecodeString(in["plaintext"])
		if err != nil {
			fail(http.StatusBadRequest, "failed to base64-decode plaintext")
			return
		}
		nonce := make([]byte, aead.NonceSize())
		rand.Read(nonce)
		reply("ciphertext", "vault:v1:"+base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, nil)))
	case "decrypt":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(in["ciphertext"], "vault:v1:"))
		if err != nil || len(raw) < aead.NonceSize() {
			fail(http.StatusBadRequest, "invalid ciphertext: could not decode")
			return
		}
		plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
		if err != nil {
			fail(http.StatusBadRequest, "cipher: message authentication failed")
			return
		}
		reply("plaintext", base64.StdEncoding.EncodeToString(plain))
	default:
		fail(http.StatusNotFound, "unsupported path")
	}
}

const token = "hvs.fake-token-canary"

var key = []byte("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=") // a Fernet key's encoded form

func newFake(t *testing.T, tls bool) (*fakeTransit, hashivault.Config) {
	f := &fakeTransit{mount: "team/transit", token: token, namespace: "ci", keys: map[string]cipher.AEAD{}}
	cfg := hashivault.Config{Token: token, Namespace: "ci"}
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(f)
		ca := filepath.Join(t.TempDir(), "ca.pem")
		cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		if err := os.WriteFile(ca, cert, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.CACert = ca
	} else {
		srv = httptest.NewServer(f)
	}
	t.Cleanup(srv.Close)
	cfg.Address = srv.URL
	return f, cfg
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRoundTrip wraps and unwraps through the fake, over http and over
// https with $VAULT_CACERT, and checks what went on the wire: the key as
// base64 plaintext, the wrapped bytes as Transit's ciphertext string, sent
// back as they are.
func TestRoundTrip(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			f, cfg := newFake(t, tls)
			d := hashivault.New(cfg)
			u := mustURL(t, "hashivault://credvault?engine=team/transit")
			ctx := context.Background()
			wrapped, err := d.Wrap(ctx, u, key, custody.Binding{Fingerprint: "0123456789ab"})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(wrapped, []byte("vault:v1:")) {
				t.Fatalf("wrapped = %q, want Transit's ciphertext string", wrapped)
			}
			got, err := d.Unwrap(ctx, u, wrapped, custody.Binding{Fingerprint: "0123456789ab"})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, key) {
				t.Errorf("Unwrap = %q, want %q", got, key)
			}
			wantCalls := []string{
				`encrypt credvault {"plaintext":"` + base64.StdEncoding.EncodeToString(key) + `"}`,
				`decrypt credvault {"ciphertext":"` + string(wrapped) + `"}`,
			}
			if fmt.Sprint(f.calls) != fmt.Sprint(wantCalls) {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(wantCalls, "\n"))
			}
		})
	}
}

// TestRefused: a ciphertext of another Transit key, a damaged one and one
// that is not Transit's are refused, and no plaintext comes back.
func TestRefused(t *testing.T) {
	_, cfg := newFake(t, false)
	d := hashivault.New(cfg)
	ctx := context.Background()
	other, err := d.Wrap(ctx, mustURL(t, "hashivault://other?engine=team/transit"), key, custody.Binding{})
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(other)
	damaged[len(damaged)-3] ^= 'A' ^ 'B'
	u := mustURL(t, "hashivault://credvault?engine=team/transit")
	for _, tc := range []struct {
		name    string
		wrapped []byte
		want    string
	}{
		{"another key", other, "not made by this Transit key"},
		{"damaged", damaged, "not made by this Transit key"},
		{"not Transit's", []byte("AQICAHh..."), "not a Transit ciphertext"},
	} {
		got, err := d.Unwrap(ctx, u, tc.wrapped, custody.Binding{})
		if err == nil || got != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Unwrap = %q, %v; want an error with %q", tc.name, got, err, tc.want)
		}
	}
}

// TestDenied: a token the server refuses gives an error that says access
// was denied and what Vault said, with neither the token nor the key.
func TestDenied(t *testing.T) {
	f, cfg := newFake(t, false)
	f.token = "hvs.another"
	u := mustURL(t, "hashivault://credvault?engine=team/transit")
	_, err := hashivault.New(cfg).Wrap(context.Background(), u, key, custody.Binding{})
	if err == nil {
		t.Fatal("Wrap with a refused token succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"access denied", "HTTP 403", "team/transit/encrypt/credvault", "permission denied"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	for _, secret := range []string{token, string(key), base64.StdEncoding.EncodeToString(key)} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q holds a secret", msg)
		}
	}
}

// TestEchoedToken: should a server quote the token in its errors, the
// driver's error does not.
func TestEchoedToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errors":["bad token %s\u0007"]}`, r.Header.Get("X-Vault-Token"))
	}))
	defer srv.Close()
	u := mustURL(t, "hashivault://credvault")
	_, err := hashivault.New(hashivault.Config{Address: srv.URL, Token: token}).Unwrap(context.Background(), u, []byte("vault:v1:AAAA"), custody.Binding{})
	if err == nil || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "\a") || !strings.Contains(err.Error(), "bad token [token]") {
		t.Errorf("Unwrap = %v", err)
	}
}

// TestHungServer: a server that never answers is given up on when the
// context ends.
func TestHungServer(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stop }))
	defer srv.Close()
	defer close(stop)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	u := mustURL(t, "hashivault://credvault")
	_, err := hashivault.New(hashivault.Config{Address: srv.URL, Token: token}).Unwrap(ctx, u, []byte("vault:v1:AAAA"), custody.Binding{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Unwrap from a hung server: %v, want context.DeadlineExceeded", err)
	}
}

// TestOversized: a response past the bound is refused, not read whole.
func TestOversized(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":{"plaintext":"%s"}}`, strings.Repeat("A", 2<<20))
	}))
	defer srv.Close()
	u := mustURL(t, "hashivault://credvault")
	_, err := hashivault.New(hashivault.Config{Address: srv.URL}).Unwrap(context.Background(), u, []byte("vault:v1:AAAA"), custody.Binding{})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Unwrap of an oversized response: %v", err)
	}
}

// TestRedirectToHTTP: the token does not follow a redirect from https to
// http.
func TestRedirectToHTTP(t *testing.T) {
	var leaked bool
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("X-Vault-Token") != ""
	}))
	defer plain.Close()
	redirect := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/v1/transit/decrypt/credvault", http.StatusTemporaryRedirect))
	defer redirect.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: redirect.Certificate().Raw}), 0o600)
	cfg := hashivault.Config{Address: redirect.URL, Token: token, CACert: ca}
	_, err := hashivault.New(cfg).Unwrap(context.Background(), mustURL(t, "hashivault://credvault"), []byte("vault:v1:AAAA"), custody.Binding{})
	if err == nil || !strings.Contains(err.Error(), "redirect from https") || leaked {
		t.Errorf("Unwrap redirected to http: %v (token sent: %v)", err, leaked)
	}
}
