// Package gcpkms is the custody driver for Google Cloud KMS recipients,
// "gcpkms://" URLs as gocloud.dev/secrets/gcpkms reads them:
//
//	gcpkms://projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY
//
// The key is reached with Application Default Credentials (a service
// account key file named by $GOOGLE_APPLICATION_CREDENTIALS, workload
// identity federation from a CI's OIDC token, "gcloud auth
// application-default login", or the metadata server on Google Cloud),
// found by golang.org/x/oauth2/google. The driver calls Cloud KMS's REST
// API itself (cryptoKeys.encrypt and cryptoKeys.decrypt, JSON over HTTPS),
// not the gRPC client libraries, which would add gRPC, protocol buffers and
// OpenTelemetry to every program that compiles it. What it wraps is Cloud
// KMS's ciphertext, the bytes gocloud.dev's keeper stored, so recipients
// files made by earlier versions still open.
//
// Keys are wrapped with the [custody.Binding] as additional authenticated
// data, which credvault sets itself: the URL takes no parameter. Cloud KMS
// decrypts only with the key named, and only with the same data, so a
// ciphertext made under another key or for another vault key is refused.
// The caller needs roles/cloudkms.cryptoKeyEncrypter to add the recipient
// or rotate, and roles/cloudkms.cryptoKeyDecrypter to open.
//
// The tests run the driver against a fake server that answers as the REST
// reference says Cloud KMS answers, with its credentials from a fake
// service account's token endpoint; no Cloud KMS can be reached from
// credvault's tests, so the driver has not been run against the real one
// there.
package gcpkms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/internal/kmshttp"
)

// endpoint is Cloud KMS's REST API.
const endpoint = "https://cloudkms.googleapis.com/v1/"

// scope is the OAuth scope asked of Application Default Credentials, the
// one gocloud.dev asked for.
const scope = "https://www.googleapis.com/auth/cloud-platform"

// A Driver wraps and unwraps keys with Google Cloud KMS. It is safe for
// concurrent use.
type Driver struct {
	endpoint string // the API's base URL, ending in /; the tests' fake server's in tests
}

// New returns a Driver. Credentials are looked for at the first Wrap or
// Unwrap, not before.
func New() *Driver { return &Driver{endpoint: endpoint} }

// Scheme returns "gcpkms".
func (*Driver) Scheme() string { return "gcpkms" }

var keyName = lazyRegexp(`^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]{1,63}/cryptoKeys/[A-Za-z0-9_-]{1,63}$`)

// Check validates a gcpkms:// URL: a CryptoKey's resource name, and no
// parameter.
func (*Driver) Check(u *url.URL) error {
	if !keyName().MatchString(resource(u)) {
		return fmt.Errorf("gcpkms: %q is not a CryptoKey resource name: use gcpkms://projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY", resource(u))
	}
	if u.RawQuery != "" {
		return errors.New("gcpkms: the URL takes no parameter in a recipients file: credvault sets the additional authenticated data itself")
	}
	return nil
}

func resource(u *url.URL) string { return path.Join(u.Host, u.Path) }

// Wrap encrypts key with the CryptoKey u names, bound to b.
func (d *Driver) Wrap(ctx context.Context, u *url.URL, key []byte, b custody.Binding) ([]byte, error) {
	in := map[string]any{
		"plaintext":                   key,
		"additionalAuthenticatedData": b.AAD(),
	}
	var out struct {
		Name             string `json:"name"` // the CryptoKeyVersion used
		Ciphertext       []byte `json:"ciphertext"`
		CiphertextCRC32C string `json:"ciphertextCrc32c"`
	}
	if err := d.call(ctx, u, "encrypt", in, &out); err != nil {
		return nil, err
	}
	if len(out.Ciphertext) == 0 {
		return nil, errors.New("gcpkms: encrypt: the response holds no ciphertext")
	}
	if out.Name != "" && !strings.HasPrefix(out.Name, resource(u)+"/cryptoKeyVersions/") {
		return nil, fmt.Errorf("gcpkms: encrypt: Cloud KMS used key %s, not %s: refused", out.Name, resource(u))
	}
	if !crcMatches(out.Ciphertext, out.CiphertextCRC32C) {
		return nil, errors.New("gcpkms: encrypt: the ciphertext does not match its CRC32C: damaged on the way, try again")
	}
	return out.Ciphertext, nil
}

// Unwrap decrypts wrapped with the CryptoKey u names and the binding b.
func (d *Driver) Unwrap(ctx context.Context, u *url.URL, wrapped []byte, b custody.Binding) ([]byte, error) {
	in := map[string]any{
		"ciphertext":                  wrapped,
		"additionalAuthenticatedData": b.AAD(),
	}
	var out struct {
		Plaintext       []byte `json:"plaintext"`
		PlaintextCRC32C string `json:"plaintextCrc32c"`
	}
	if err := d.call(ctx, u, "decrypt", in, &out); err != nil {
		return nil, err
	}
	if len(out.Plaintext) == 0 {
		return nil, errors.New("gcpkms: decrypt: the response holds no plaintext")
	}
	if !crcMatches(out.Plaintext, out.PlaintextCRC32C) {
		clear(out.Plaintext)
		return nil, errors.New("gcpkms: decrypt: the plaintext does not match its CRC32C: damaged on the way, try again")
	}
	return out.Plaintext, nil
}

// call POSTs in to the CryptoKey's :op method and decodes the answer into
// out.
func (d *Driver) call(ctx context.Context, u *url.URL, op string, in, out any) error {
	if err := d.Check(u); err != nil {
		return err
	}
	creds, err := google.FindDefaultCredentials(ctx, scope)
	if err != nil {
		return fmt.Errorf("gcpkms: no Application Default Credentials: %v", err)
	}
	client := &http.Client{
		Transport:     &oauth2.Transport{Source: creds.TokenSource, Base: http.DefaultTransport},
		CheckRedirect: kmshttp.NoRedirects,
	}
	err = kmshttp.Post(ctx, client, d.endpoint+resource(u)+":"+op, nil, in, out)
	if err != nil && ctx.Err() != nil {
		// The token's fetch does not keep the context's error; say it.
		return fmt.Errorf("gcpkms: %s: %w", op, ctx.Err())
	}
	if err != nil {
		return describe(op, resource(u), err)
	}
	return nil
}

// describe turns a failed call into an error that says what to do, with
// what Cloud KMS said.
func describe(op, key string, err error) error {
	var se *kmshttp.StatusError
	if !errors.As(err, &se) {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return fmt.Errorf("gcpkms: %s: the Application Default Credentials gave no token (HTTP %d from the token endpoint): renew them (gcloud auth application-default login, or the CI's workload identity)", op, re.Response.StatusCode)
		}
		return fmt.Errorf("gcpkms: %s: %w", op, err)
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	_ = json.Unmarshal(se.Body, &body)
	said := ""
	if m := kmshttp.Message(body.Error.Message); m != "" {
		said = ": Cloud KMS says: " + m
	}
	status := kmshttp.Message(body.Error.Status)
	switch {
	case se.Status == http.StatusForbidden || status == "PERMISSION_DENIED":
		role := "roles/cloudkms.cryptoKeyDecrypter"
		if op == "encrypt" {
			role = "roles/cloudkms.cryptoKeyEncrypter"
		}
		return fmt.Errorf("gcpkms: %s: access denied (HTTP %d): the credentials need %s on %s%s", op, se.Status, role, key, said)
	case se.Status == http.StatusUnauthorized || status == "UNAUTHENTICATED":
		return fmt.Errorf("gcpkms: %s: the credentials were not accepted (HTTP %d): renew them%s", op, se.Status, said)
	case se.Status == http.StatusNotFound:
		return fmt.Errorf("gcpkms: %s: no such CryptoKey, or no access to its project (HTTP 404): check %s%s", op, key, said)
	case status == "FAILED_PRECONDITION":
		return fmt.Errorf("gcpkms: %s: the CryptoKey cannot be used now (its version disabled or destroyed?) (HTTP %d)%s", op, se.Status, said)
	case se.Status == http.StatusBadRequest && op == "decrypt":
		return fmt.Errorf("gcpkms: decrypt: the wrapped key was not made by this CryptoKey for this vault key (another key, or another binding) (HTTP 400): refused%s", said)
	}
	if status != "" {
		return fmt.Errorf("gcpkms: %s: HTTP %d %s%s", op, se.Status, status, said)
	}
	return fmt.Errorf("gcpkms: %s: HTTP %d%s", op, se.Status, said)
}

// crcMatches reports whether data has the CRC32C (Castagnoli) that Cloud
// KMS sent, a decimal string; a response without one matches.
func crcMatches(data []byte, sum string) bool {
	if sum == "" {
		return true
	}
	want, err := strconv.ParseUint(sum, 10, 32)
	return err == nil && crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)) == uint32(want)
}

// lazyRegexp compiles expr on first use, not when the program starts: a
// program that never meets this driver's URLs does not pay for it.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
