package gcpkms_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
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
	"github.com/credvault/vault/custody/gcpkms"
)

// TestCheck validates URLs.
func TestCheck(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"gcpkms://projects/my-project/locations/europe-west1/keyRings/ci/cryptoKeys/credvault", ""},
		{"gcpkms://projects/my-project/locations/global/keyRings/ci/cryptoKeys/credvault?additional_authenticated_data=eA==", "takes no parameter"},
		{"gcpkms://projects/my-project/locations/global/keyRings/ci/cryptoKeys/credvault?endpoint=http://127.0.0.1:1/", "takes no parameter"},
		{"gcpkms://projects/my-project/keyRings/ci/cryptoKeys/credvault", "not a CryptoKey resource name"},
		{"gcpkms://projects/my-project/locations/global/keyRings/ci/cryptoKeys/credvault/cryptoKeyVersions/1", "not a CryptoKey resource name"},
		{"gcpkms://projects/../locations/global/keyRings/ci/cryptoKeys/k", "not a CryptoKey resource name"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		err = gcpkms.New().Check(u)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
}

const (
	keyURL   = "gcpkms://projects/my-project/locations/global/keyRings/ci/cryptoKeys/credvault"
	otherURL = "gcpkms://projects/my-project/locations/global/keyRings/ci/cryptoKeys/other"
	token    = "ya29.fake-token-canary"
)

var key = []byte("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=") // a Fernet key's encoded form

// fakeKMS answers as the Cloud KMS REST reference says cryptoKeys.encrypt
// and cryptoKeys.decrypt answer: POST /v1/NAME:encrypt {"plaintext",
// "additionalAuthenticatedData"} gives {"name": VERSION, "ciphertext",
// "ciphertextCrc32c"}; POST /v1/NAME:decrypt {"ciphertext",
// "additionalAuthenticatedData"} gives {"plaintext", "plaintextCrc32c"}; a
// failure is {"error": {"code", "message", "status"}}. Bytes are base64. Each
// CryptoKey has its own AES-GCM key, with the AAD as GCM's additional data.
// It also serves a service account's token endpoint (/token), so that the
// driver's Application Default Credentials are the real code path. It is
// not Cloud KMS: it shows that the driver sends and reads those shapes.
type fakeKMS struct {
	signer *rsa.PublicKey // the service account's key, checked on /token

	mu      sync.Mutex
	keys    map[string]cipher.AEAD
	denied  map[string]bool // CryptoKeys the caller may not use
	badCRC  bool            // send a wrong plaintextCrc32c
	aads    []string        // the AAD of each request
	results [][]byte        // the ciphertext of each encrypt
}

func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, status, msg string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
	}
	if r.URL.Path == "/token" {
		f.token(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+token {
		fail(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
		return
	}
	name, op, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/"), ":")
	if !ok || r.Method != http.MethodPost || (op != "encrypt" && op != "decrypt") {
		fail(404, "NOT_FOUND", "no such method")
		return
	}
	var in struct {
		Plaintext  []byte `json:"plaintext"`
		Ciphertext []byte `json:"ciphertext"`
		AAD        []byte `json:"additionalAuthenticatedData"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aads = append(f.aads, string(in.AAD))
	if f.denied[name] {
		fail(403, "PERMISSION_DENIED", fmt.Sprintf("Permission 'cloudkms.cryptoKeyVersions.useTo%s' denied on resource '%s' (or it may not exist).", strings.ToUpper(op[:1])+op[1:], name))
		return
	}
	aead := f.keys[name]
	if aead == nil {
		k := make([]byte, 32)
		rand.Read(k)
		block, _ := aes.NewCipher(k)
		aead, _ = cipher.NewGCM(block)
		f.keys[name] = aead
	}
	crc := func(b []byte) string { return fmt.Sprint(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))) }
	switch op {
	case "encrypt":
		nonce := make([]byte, aead.NonceSize())
		rand.Read(nonce)
		ct := aead.Seal(nonce, nonce, in.Plaintext, in.AAD)
		f.results = append(f.results, ct)
		json.NewEncoder(w).Encode(map[string]any{"name": name + "/cryptoKeyVersions/1", "ciphertext": ct, "ciphertextCrc32c": crc(ct),
			"verifiedPlaintextCrc32c": false, "protectionLevel": "SOFTWARE"})
	case "decrypt":
		var plain []byte
		var err error
		if len(in.Ciphertext) < aead.NonceSize() {
			err = errors.New("short")
		} else {
			plain, err = aead.Open(nil, in.Ciphertext[:aead.NonceSize()], in.Ciphertext[aead.NonceSize():], in.AAD)
		}
		if err != nil {
			fail(400, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.")
			return
		}
		sum := crc(plain)
		if f.badCRC {
			sum = "12345"
		}
		json.NewEncoder(w).Encode(map[string]any{"plaintext": plain, "plaintextCrc32c": sum, "usedPrimary": true, "protectionLevel": "SOFTWARE"})
	}
}

// token is the OAuth 2.0 JWT bearer grant a service account key makes: the
// assertion must be signed by the service account's key.
func (f *fakeKMS) token(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
		return
	}
	parts := strings.Split(r.FormValue("assertion"), ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[len(parts)-1])
	digest := sha256.Sum256([]byte(strings.Join(parts[:len(parts)-1], ".")))
	if len(parts) != 3 || err != nil || rsa.VerifyPKCS1v15(f.signer, crypto.SHA256, digest[:], sig) != nil {
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600})
}

var serviceAccountKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// newFake starts the fake and points Application Default Credentials at a
// service account key file whose token endpoint is the fake's.
func newFake(t *testing.T) (*fakeKMS, *gcpkms.Driver) {
	sa := serviceAccountKey()
	f := &fakeKMS{signer: &sa.PublicKey, keys: map[string]cipher.AEAD{}, denied: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	der, err := x509.MarshalPKCS8PrivateKey(sa)
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "my-project", "private_key_id": "0123",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "ci@my-project.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": srv.URL + "/token",
	})
	file := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(file, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", file)
	return f, gcpkms.NewAt(srv.URL + "/v1/")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var binding = custody.Binding{Fingerprint: "0123456789ab"}

// TestRoundTrip wraps and unwraps through the fake, and checks what went on
// the wire: the binding as AAD both ways, and the wrapped bytes as the
// ciphertext Cloud KMS returned (what gocloud.dev stored).
func TestRoundTrip(t *testing.T) {
	f, d := newFake(t)
	u := mustURL(t, keyURL)
	ctx := context.Background()
	wrapped, err := d.Wrap(ctx, u, key, binding)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.results) != 1 || !bytes.Equal(wrapped, f.results[0]) {
		t.Errorf("wrapped = %x, want Cloud KMS's ciphertext %x", wrapped, f.results)
	}
	got, err := d.Unwrap(ctx, u, wrapped, binding)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, key) {
		t.Errorf("Unwrap = %q, want %q", got, key)
	}
	want := "purpose=credvault;key=0123456789ab"
	if fmt.Sprint(f.aads) != fmt.Sprint([]string{want, want}) {
		t.Errorf("AAD sent = %q, want %q both ways", f.aads, want)
	}
}

// TestRefused: a ciphertext of another CryptoKey, one bound to another
// vault key, and a damaged one are refused, and no plaintext comes back; so
// is a plaintext whose CRC32C does not match.
func TestRefused(t *testing.T) {
	f, d := newFake(t)
	ctx := context.Background()
	u := mustURL(t, keyURL)
	other, err := d.Wrap(ctx, mustURL(t, otherURL), key, binding)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := d.Wrap(ctx, u, key, binding)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(mine)
	damaged[len(damaged)-1] ^= 1
	for _, tc := range []struct {
		name    string
		wrapped []byte
		b       custody.Binding
	}{
		{"another CryptoKey", other, binding},
		{"another vault key", mine, custody.Binding{Fingerprint: "ba9876543210"}},
		{"damaged", damaged, binding},
	} {
		got, err := d.Unwrap(ctx, u, tc.wrapped, tc.b)
		if err == nil || got != nil || !strings.Contains(err.Error(), "not made by this CryptoKey for this vault key") {
			t.Errorf("%s: Unwrap = %q, %v", tc.name, got, err)
		}
	}
	f.badCRC = true
	got, err := d.Unwrap(ctx, u, mine, binding)
	if err == nil || got != nil || !strings.Contains(err.Error(), "CRC32C") {
		t.Errorf("a bad CRC32C: Unwrap = %q, %v", got, err)
	}
}

// TestDenied: a key the caller may not use gives an error that says access
// was denied, which role is needed and what Cloud KMS said, with neither
// the token nor the key.
func TestDenied(t *testing.T) {
	f, d := newFake(t)
	f.denied["projects/my-project/locations/global/keyRings/ci/cryptoKeys/credvault"] = true
	_, err := d.Unwrap(context.Background(), mustURL(t, keyURL), []byte("ciphertext"), binding)
	if err == nil {
		t.Fatal("Unwrap with a denied key succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"access denied (HTTP 403)", "roles/cloudkms.cryptoKeyDecrypter", "cryptoKeys/credvault", "Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	_, err = d.Wrap(context.Background(), mustURL(t, keyURL), key, binding)
	if err == nil || !strings.Contains(err.Error(), "roles/cloudkms.cryptoKeyEncrypter") {
		t.Errorf("Wrap with a denied key: %v", err)
	}
	for _, secret := range []string{token, string(key), base64.StdEncoding.EncodeToString(key)} {
		if strings.Contains(msg+err.Error(), secret) {
			t.Errorf("an error holds a secret: %s", msg)
		}
	}
}

// TestNoCredentials: without Application Default Credentials, the error
// says so.
func TestNoCredentials(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	_, err := gcpkms.New().Unwrap(context.Background(), mustURL(t, keyURL), []byte("ciphertext"), binding)
	if err == nil || !strings.Contains(err.Error(), "no Application Default Credentials") {
		t.Errorf("Unwrap without credentials: %v", err)
	}
}

// TestHungServer: a server that never answers is given up on when the
// context ends.
func TestHungServer(t *testing.T) {
	f, _ := newFake(t)
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			f.ServeHTTP(w, r)
			return
		}
		<-stop
	}))
	defer srv.Close()
	defer close(stop)
	// The credentials file names the first fake's token endpoint; the API
	// calls go to the hung one.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := gcpkms.NewAt(srv.URL+"/v1/").Unwrap(ctx, mustURL(t, keyURL), []byte("ciphertext"), binding)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Unwrap from a hung server: %v, want context.DeadlineExceeded", err)
	}
}
