package azurekeyvault_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // RSA-OAEP
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/azurekeyvault"
)

// TestCheck validates URLs.
func TestCheck(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"azurekeyvault://team-kv.vault.azure.net/keys/credvault", ""},
		{"azurekeyvault://team-kv.vault.azure.net/keys/credvault/0123456789abcdef0123456789abcdef?algorithm=RSA-OAEP", ""},
		{"azurekeyvault://team-kv.vault.azure.net/keys/credvault?algorithm=RSA1_5", "algorithm must be"},
		{"azurekeyvault://team-kv.vault.azure.net/keys/credvault?tenant=x", `parameter "tenant" is not supported`},
		{"azurekeyvault://team-kv.vault.azure.net/keys/credvault?endpoint=https://127.0.0.1:1/", `parameter "endpoint" is not supported`},
		{"azurekeyvault://evil.example.com/keys/credvault", "not a Key Vault key"},
		{"azurekeyvault://127.0.0.1:8443/keys/credvault", "not a Key Vault key"},
		{"azurekeyvault://team-kv.vault.azure.net/secrets/credvault", "not a Key Vault key"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		err = azurekeyvault.New().Check(u)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
}

const (
	keyURL   = "azurekeyvault://team-kv.vault.azure.net/keys/credvault"
	otherURL = "azurekeyvault://team-kv.vault.azure.net/keys/other"
	token    = "eyJ0eXAi.fake-token-canary"
)

var key = []byte("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=") // a Fernet key's encoded form

// fakeVault answers as the Key Vault REST reference says the key
// operations answer: POST /keys/NAME/VERSION/encrypt?api-version=7.4 with
// {"alg", "value"} gives {"kid", "value"}, values in base64url; decrypt
// likewise; a failure is {"error": {"code", "message"}}. A request without
// a bearer token gets the 401 challenge Key Vault sends, naming the tenant
// and the resource. Each key name has its own RSA key. It is not Key Vault:
// it shows that the driver sends and reads those shapes.
type fakeVault struct {
	mu     sync.Mutex
	keys   map[string]*rsa.PrivateKey
	denied bool
	algs   []string // the alg of each operation
	paths  []string // the path of each operation
}

var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	var ks []*rsa.PrivateKey
	for range 2 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks = append(ks, k)
	}
	return ks
})

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg}})
	}
	if r.Header.Get("Authorization") != "Bearer "+token {
		w.Header().Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"`)
		fail(http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || r.URL.Query().Get("api-version") == "" || len(parts) < 3 || parts[0] != "keys" {
		fail(http.StatusNotFound, "NotFound", "no such operation")
		return
	}
	name, op := parts[1], parts[len(parts)-1]
	var in struct {
		Alg   string `json:"alg"`
		Value string `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(http.StatusBadRequest, "BadParameter", "Property has invalid value")
		return
	}
	value, err := base64.RawURLEncoding.DecodeString(in.Value)
	if err != nil {
		fail(http.StatusBadRequest, "BadParameter", "Property 'value' has invalid value")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.algs = append(f.algs, in.Alg)
	f.paths = append(f.paths, r.URL.Path)
	if f.denied {
		fail(http.StatusForbidden, "Forbidden", fmt.Sprintf("Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/keys/%s/action'", op))
		return
	}
	k := f.keys[name]
	if k == nil {
		k = rsaKeys()[len(f.keys)%2]
		f.keys[name] = k
	}
	var h hash.Hash
	switch in.Alg {
	case "RSA-OAEP-256":
		h = sha256.New()
	case "RSA-OAEP":
		h = crypto.SHA1.New()
	default:
		fail(http.StatusBadRequest, "BadParameter", "Invalid algorithm")
		return
	}
	var out []byte
	switch op {
	case "encrypt":
		out, err = rsa.EncryptOAEP(h, rand.Reader, &k.PublicKey, value, nil)
	case "decrypt":
		out, err = rsa.DecryptOAEP(h, nil, k, value, nil)
	default:
		fail(http.StatusNotFound, "NotFound", "no such operation")
		return
	}
	if err != nil {
		fail(http.StatusBadRequest, "BadParameter", "Bad Request")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"kid": "https://" + r.Host + "/keys/" + name + "/0123456789abcdef0123456789abcdef", "value": base64.RawURLEncoding.EncodeToString(out)})
}

// fakeCredential stands for DefaultAzureCredential: it hands out a token
// and records the scopes asked for.
type fakeCredential struct {
	mu     sync.Mutex
	scopes []string
}

func (c *fakeCredential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes = append(c.scopes, opts.Scopes...)
	return azcore.AccessToken{Token: token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func newFake(t *testing.T) (*fakeVault, *fakeCredential, *azurekeyvault.Driver) {
	f := &fakeVault{keys: map[string]*rsa.PrivateKey{}}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	cred := &fakeCredential{}
	return f, cred, azurekeyvault.NewAt(srv.URL, cred, srv.Client())
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRoundTrip wraps and unwraps through the fake with each algorithm and
// with a pinned version, and checks what went on the wire: the algorithm,
// the key and version in the path, the token's scope from the challenge,
// and the wrapped bytes as the raw RSA-OAEP ciphertext (what gocloud.dev
// stored), which the key itself opens.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct{ url, alg, path string }{
		{keyURL, "RSA-OAEP-256", "/keys/credvault/"},
		{keyURL + "?algorithm=RSA-OAEP", "RSA-OAEP", "/keys/credvault/"},
		{keyURL + "/0123456789abcdef0123456789abcdef", "RSA-OAEP-256", "/keys/credvault/0123456789abcdef0123456789abcdef/"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			f, cred, d := newFake(t)
			u := mustURL(t, tc.url)
			ctx := context.Background()
			wrapped, err := d.Wrap(ctx, u, key, custody.Binding{})
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			if tc.alg == "RSA-OAEP" {
				h = crypto.SHA1.New()
			}
			if raw, err := rsa.DecryptOAEP(h, nil, f.keys["credvault"], wrapped, nil); err != nil || !bytes.Equal(raw, key) {
				t.Errorf("the wrapped bytes are not the key's RSA-OAEP ciphertext: %v", err)
			}
			got, err := d.Unwrap(ctx, u, wrapped, custody.Binding{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, key) {
				t.Errorf("Unwrap = %q, want %q", got, key)
			}
			if fmt.Sprint(f.algs) != fmt.Sprint([]string{tc.alg, tc.alg}) {
				t.Errorf("algorithms sent: %q, want %s", f.algs, tc.alg)
			}
			if len(f.paths) != 2 || f.paths[0] != tc.path+"encrypt" || f.paths[1] != tc.path+"decrypt" {
				t.Errorf("paths: %q, want %sencrypt and %sdecrypt", f.paths, tc.path, tc.path)
			}
			if len(cred.scopes) == 0 || cred.scopes[0] != "https://vault.azure.net/.default" {
				t.Errorf("token scopes asked: %q", cred.scopes)
			}
		})
	}
}

// TestRefused: a ciphertext of another key and a damaged one are refused,
// and no plaintext comes back.
func TestRefused(t *testing.T) {
	_, _, d := newFake(t)
	ctx := context.Background()
	other, err := d.Wrap(ctx, mustURL(t, otherURL), key, custody.Binding{})
	if err != nil {
		t.Fatal(err)
	}
	u := mustURL(t, keyURL)
	mine, err := d.Wrap(ctx, u, key, custody.Binding{})
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(mine)
	damaged[10] ^= 1
	for name, wrapped := range map[string][]byte{"another key": other, "damaged": damaged} {
		got, err := d.Unwrap(ctx, u, wrapped, custody.Binding{})
		if err == nil || got != nil || !strings.Contains(err.Error(), "not made by this Key Vault key") {
			t.Errorf("%s: Unwrap = %q, %v", name, got, err)
		}
	}
}

// TestDenied: a 403 gives an error that says access was denied, which
// permission is needed and what Key Vault said, in one line, with neither
// the token nor the key.
func TestDenied(t *testing.T) {
	f, _, d := newFake(t)
	f.denied = true
	_, err := d.Wrap(context.Background(), mustURL(t, keyURL), key, custody.Binding{})
	if err == nil {
		t.Fatal("Wrap with access denied succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"access denied (HTTP 403 Forbidden)", "keys/encrypt", "Caller is not authorized"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q spans lines", msg)
	}
	for _, secret := range []string{token, string(key), base64.RawURLEncoding.EncodeToString(key)} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q holds a secret", msg)
		}
	}
}

// TestNoCredentials: DefaultAzureCredential limited to the environment
// (so nothing outside the machine is asked), with no variables set, gives
// an error that says what to set.
func TestNoCredentials(t *testing.T) {
	for _, v := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"} {
		t.Setenv(v, "")
	}
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")
	f := &fakeVault{keys: map[string]*rsa.PrivateKey{}}
	srv := httptest.NewTLSServer(f)
	defer srv.Close()
	_, err := azurekeyvault.NewAt(srv.URL, nil, srv.Client()).Unwrap(context.Background(), mustURL(t, keyURL), []byte("wrapped"), custody.Binding{})
	if err == nil || !strings.Contains(err.Error(), "no usable Azure credentials") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Unwrap without credentials: %v", err)
	}
}

// TestHungServer: a server that never answers is given up on when the
// context ends.
func TestHungServer(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stop }))
	defer srv.Close()
	defer close(stop)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := azurekeyvault.NewAt(srv.URL, &fakeCredential{}, srv.Client()).Unwrap(ctx, mustURL(t, keyURL), []byte("wrapped"), custody.Binding{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Unwrap from a hung server: %v, want context.DeadlineExceeded", err)
	}
}
