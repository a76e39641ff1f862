package custody_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// fakeKMS is a Driver for "fakekms://NAME" URLs: AES-GCM under a key per
// name, with the binding as additional data; "fakekms://down" fails.
type fakeKMS struct {
	keys map[string]cipher.AEAD
	// onWrap, if set, is called before each Wrap: a slow KMS, during
	// which another writer may act.
	onWrap func()
}

func newFakeKMS(names ...string) *fakeKMS {
	f := &fakeKMS{keys: map[string]cipher.AEAD{}}
	for _, n := range names {
		k := make([]byte, 32)
		rand.Read(k)
		block, _ := aes.NewCipher(k)
		f.keys[n], _ = cipher.NewGCM(block)
	}
	return f
}

func (*fakeKMS) Scheme() string { return "fakekms" }

func (f *fakeKMS) Check(u *url.URL) error {
	if u.RawQuery != "" {
		return errors.New("fakekms: no parameters")
	}
	return nil
}

func (f *fakeKMS) aead(u *url.URL) (cipher.AEAD, error) {
	a, ok := f.keys[u.Host]
	if !ok {
		return nil, errors.New("fakekms: access denied")
	}
	return a, nil
}

func (f *fakeKMS) Wrap(_ context.Context, u *url.URL, key []byte, b custody.Binding) ([]byte, error) {
	if f.onWrap != nil {
		f.onWrap()
	}
	a, err := f.aead(u)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, key, b.AAD()), nil
}

func (f *fakeKMS) Unwrap(_ context.Context, u *url.URL, wrapped []byte, b custody.Binding) ([]byte, error) {
	a, err := f.aead(u)
	if err != nil {
		return nil, err
	}
	n := a.NonceSize()
	if len(wrapped) < n {
		return nil, errors.New("fakekms: short")
	}
	plain, err := a.Open(nil, wrapped[:n], wrapped[n:], b.AAD())
	if err != nil {
		return nil, errors.New("fakekms: not made by this key for this binding")
	}
	return plain, nil
}

// identity makes an age identity and writes it to dir/name (mode 0600).
func identity(t *testing.T, dir, name string) (*age.X25519Identity, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("# public key: "+id.Recipient().String()+"\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return id, path
}

// env is a fake environment.
type env map[string]string

func (e env) get(name string) string { return e[name] }

func (e env) list() []string {
	var l []string
	for k, v := range e {
		l = append(l, k+"="+v)
	}
	return l
}

func recipient(t *testing.T, id, label string, kms ...custody.Driver) custody.Recipient {
	t.Helper()
	r, err := custody.NewRecipient(id, label, kms)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sealFor seals a small vault for recipients in dir and returns its path.
func sealFor(t *testing.T, dir string, kms []custody.Driver, rs ...custody.Recipient) (path, pin string) {
	t.Helper()
	path = filepath.Join(dir, "credentials.enc")
	pin, err := custody.Seal(context.Background(), path, map[string]any{"db": map[string]any{"password": "fake-canary-pw"}}, rs, kms)
	if err != nil {
		t.Fatal(err)
	}
	return path, pin
}

func get(t *testing.T, path string, keys []*vault.Key) string {
	t.Helper()
	v, err := vault.Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.Get("db.password")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// needAge returns the path of a Debian age tool, skipping without it (or
// failing under CI).
func needAge(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (apt-get install age)", tool)
		}
		t.Skipf("%s is not installed (apt-get install age)", tool)
	}
	return path
}

func contains(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one saying %q", what, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not say %q", what, err, w)
		}
	}
}
