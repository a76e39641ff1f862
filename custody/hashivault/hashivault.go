// Package hashivault is the custody driver for HashiCorp Vault Transit
// recipients, "hashivault://" URLs as gocloud.dev/secrets/hashivault reads
// them:
//
//	hashivault://KEYNAME[?engine=MOUNT]     (engine defaults to "transit")
//
// The server and token come from [Config], which a program fills from its
// environment ([FromEnv]: $VAULT_ADDR, $VAULT_TOKEN, $VAULT_NAMESPACE,
// $VAULT_CACERT); a CI job logs in first (hashicorp/vault-action with a JWT
// role, say) and exports them. The driver speaks Transit's HTTP API itself,
// with net/http and no Vault SDK: POST /v1/MOUNT/encrypt/KEYNAME and
// /v1/MOUNT/decrypt/KEYNAME. What it wraps is Transit's ciphertext string
// ("vault:v1:..."), as gocloud.dev's keeper wrote it, so recipients files
// made by earlier versions still open.
//
// Transit binds no context to a ciphertext here (a key would have to be
// created with derivation for that): the [custody.Binding] rests on the
// fingerprint check of the unwrapped key. Transit decrypts only with the
// key named, so a ciphertext made under another key is refused. The caller
// needs the update capability on MOUNT/encrypt/KEYNAME to add the recipient
// or rotate, and on MOUNT/decrypt/KEYNAME to open.
//
// The tests run the driver against a fake server, in the same package's
// tests, that answers as Vault's API documentation says Transit answers; no
// Vault server can be had in credvault's tests, so the driver has not been
// run against a real one there.
package hashivault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/internal/kmshttp"
)

// Config says which Vault server to use, with which token.
type Config struct {
	Address   string // e.g. https://vault.example.com:8200
	Token     string
	Namespace string // a Vault Enterprise namespace, sent as X-Vault-Namespace
	CACert    string // a PEM file of the CAs to trust instead of the system's
}

// FromEnv returns the Config that Vault's own tools read:
// $VAULT_SERVER_URL or $VAULT_ADDR, $VAULT_SERVER_TOKEN or $VAULT_TOKEN (the
// gocloud.dev names first, as its opener read them), $VAULT_NAMESPACE and
// $VAULT_CACERT.
func FromEnv(getenv func(string) string) Config {
	first := func(a, b string) string {
		if v := getenv(a); v != "" {
			return v
		}
		return getenv(b)
	}
	return Config{
		Address:   first("VAULT_SERVER_URL", "VAULT_ADDR"),
		Token:     first("VAULT_SERVER_TOKEN", "VAULT_TOKEN"),
		Namespace: getenv("VAULT_NAMESPACE"),
		CACert:    getenv("VAULT_CACERT"),
	}
}

// A Driver wraps and unwraps keys with Vault Transit. It is safe for
// concurrent use. Printing it does not show the token.
type Driver struct {
	cfg    Config
	client func() (*http.Client, error)
}

// New returns a Driver that reaches the server cfg names. Nothing is read
// or dialled until the first Wrap or Unwrap.
func New(cfg Config) *Driver {
	return &Driver{cfg: cfg, client: sync.OnceValues(func() (*http.Client, error) { return httpClient(cfg) })}
}

// String describes the driver without its token.
func (d *Driver) String() string { return "hashivault.Driver(" + d.cfg.Address + ")" }

// GoString is String, so that %#v shows no token either.
func (d *Driver) GoString() string { return d.String() }

// Scheme returns "hashivault".
func (*Driver) Scheme() string { return "hashivault" }

var (
	name   = lazyRegexp(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$`)
	engine = lazyRegexp(`^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$`)
)

// Check validates a hashivault:// URL: a Transit key name (no path, so no
// "../" can leave the engine's mount), and no parameter but engine.
func (*Driver) Check(u *url.URL) error {
	key := u.Host
	if u.Path != "" && u.Path != "/" || !name().MatchString(key) || key == ".." {
		return fmt.Errorf("hashivault: %q is not a Transit key name: use hashivault://KEYNAME[?engine=MOUNT]", u.Host+u.Path)
	}
	for p, values := range u.Query() {
		if p != "engine" {
			return fmt.Errorf("hashivault: parameter %q is not supported (only engine)", p)
		}
		if len(values) != 1 || !engine().MatchString(values[0]) {
			return errors.New("hashivault: engine must be a mount path such as transit or team/transit")
		}
	}
	return nil
}

// Wrap encrypts key with the Transit key u names. The result is Transit's
// ciphertext string.
func (d *Driver) Wrap(ctx context.Context, u *url.URL, key []byte, _ custody.Binding) ([]byte, error) {
	var out struct {
		Data struct {
			Ciphertext string `json:"ciphertext"`
		} `json:"data"`
	}
	in := map[string]string{"plaintext": base64.StdEncoding.EncodeToString(key)}
	if err := d.call(ctx, u, "encrypt", in, &out); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(out.Data.Ciphertext, "vault:") {
		return nil, errors.New("hashivault: encrypt: the server returned no Transit ciphertext (vault:v...)")
	}
	return []byte(out.Data.Ciphertext), nil
}

// Unwrap decrypts wrapped with the Transit key u names.
func (d *Driver) Unwrap(ctx context.Context, u *url.URL, wrapped []byte, _ custody.Binding) ([]byte, error) {
	if !strings.HasPrefix(string(wrapped), "vault:") {
		return nil, errors.New("hashivault: the wrapped key is not a Transit ciphertext (vault:v...): refused")
	}
	var out struct {
		Data struct {
			Plaintext string `json:"plaintext"`
		} `json:"data"`
	}
	in := map[string]string{"ciphertext": string(wrapped)}
	if err := d.call(ctx, u, "decrypt", in, &out); err != nil {
		return nil, err
	}
	plain, err := base64.StdEncoding.DecodeString(out.Data.Plaintext)
	if err != nil || len(plain) == 0 {
		clear(plain)
		return nil, errors.New("hashivault: decrypt: the server returned no base64 plaintext")
	}
	return plain, nil
}

// call POSTs in to MOUNT/op/KEYNAME and decodes the answer into out.
func (d *Driver) call(ctx context.Context, u *url.URL, op string, in, out any) error {
	if err := d.Check(u); err != nil {
		return err
	}
	if d.cfg.Address == "" {
		return errors.New("hashivault: no Vault server: set $VAULT_ADDR (and $VAULT_TOKEN)")
	}
	base, err := url.Parse(d.cfg.Address)
	if err != nil || base.Scheme != "https" && base.Scheme != "http" || base.Host == "" {
		return fmt.Errorf("hashivault: the Vault address %q is not an http:// or https:// URL", d.cfg.Address)
	}
	client, err := d.client()
	if err != nil {
		return err
	}
	mount := u.Query().Get("engine")
	if mount == "" {
		mount = "transit"
	}
	path := mount + "/" + op + "/" + u.Host
	header := http.Header{}
	if d.cfg.Token != "" {
		header.Set("X-Vault-Token", d.cfg.Token)
	}
	if d.cfg.Namespace != "" {
		header.Set("X-Vault-Namespace", d.cfg.Namespace)
	}
	err = kmshttp.Post(ctx, client, base.JoinPath("v1", path).String(), header, in, out)
	if err != nil {
		return d.describe(op, path, err)
	}
	return nil
}

// describe turns a failed call into an error that says what to do. It
// quotes what Vault said (its errors array), with the token cut out should
// a server ever echo it.
func (d *Driver) describe(op, path string, err error) error {
	var se *kmshttp.StatusError
	if !errors.As(err, &se) {
		return fmt.Errorf("hashivault: %s: %w", op, err)
	}
	var body struct {
		Errors []string `json:"errors"`
	}
	_ = json.Unmarshal(se.Body, &body)
	said := kmshttp.Message(strings.Join(body.Errors, "; "))
	if d.cfg.Token != "" {
		said = strings.ReplaceAll(said, d.cfg.Token, "[token]")
	}
	if said != "" {
		said = ": Vault says: " + said
	}
	switch {
	case se.Status == http.StatusForbidden || se.Status == http.StatusUnauthorized:
		return fmt.Errorf("hashivault: %s: access denied (HTTP %d): the token (from $VAULT_TOKEN) is missing, expired, or lacks the update capability on %s%s", op, se.Status, path, said)
	case se.Status == http.StatusBadRequest && op == "decrypt":
		return fmt.Errorf("hashivault: decrypt: the wrapped key was not made by this Transit key, or is damaged (HTTP 400): refused%s", said)
	case se.Status == http.StatusNotFound:
		return fmt.Errorf("hashivault: %s: nothing at %s (HTTP 404): check the key's name, the engine's mount and the namespace%s", op, path, said)
	case se.Status == http.StatusServiceUnavailable:
		return fmt.Errorf("hashivault: %s: the Vault server is sealed or in maintenance (HTTP 503)%s", op, said)
	}
	return fmt.Errorf("hashivault: %s: HTTP %d%s", op, se.Status, said)
}

// httpClient returns the client for cfg: Go's default transport, with the
// CAs of cfg.CACert if it names a file, and redirects followed only to
// https when the server is https (the token goes with the request).
func httpClient(cfg Config) (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("hashivault: $VAULT_CACERT: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("hashivault: $VAULT_CACERT: %s holds no PEM certificate", cfg.CACert)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refused a redirect from https to %s: the token would travel in clear", req.URL.Scheme)
		}
		return nil
	}}, nil
}

// lazyRegexp compiles expr on first use, not when the program starts: a
// program that never meets this driver's URLs does not pay for it.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
