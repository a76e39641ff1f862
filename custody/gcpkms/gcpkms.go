// Package gcpkms is the custody driver for Google Cloud KMS recipients,
// "gcpkms://" URLs as gocloud.dev/secrets/gcpkms reads them:
//
//	gcpkms://projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY
//
// The key is reached with Application Default Credentials (a service
// account key file named by $GOOGLE_APPLICATION_CREDENTIALS, workload
// identity federation from a CI's OIDC token, "gcloud auth
// application-default login", or the metadata server on Google Cloud).
// Keys are wrapped with the [custody.Binding] as additional authenticated
// data, which credvault sets itself: the URL takes no parameter. Cloud KMS
// decrypts only with the key named, so a ciphertext made under another key
// is refused. The caller needs roles/cloudkms.cryptoKeyEncrypter to add the
// recipient or rotate, and roles/cloudkms.cryptoKeyDecrypter to open.
//
// This driver is compiled in and its URLs validated, but no Cloud KMS
// server can be had in credvault's tests: the calls themselves are those of
// gocloud.dev, exercised by gocloud.dev's own tests.
package gcpkms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sync"

	"gocloud.dev/gcp"
	"gocloud.dev/secrets/gcpkms"

	"github.com/credvault/vault/custody"
)

// A Driver wraps and unwraps keys with Google Cloud KMS. It is safe for
// concurrent use.
type Driver struct{}

// New returns a Driver.
func New() *Driver { return &Driver{} }

// Scheme returns "gcpkms".
func (*Driver) Scheme() string { return gcpkms.Scheme }

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

func keeper(ctx context.Context, u *url.URL, b custody.Binding) (k interface {
	Encrypt(context.Context, []byte) ([]byte, error)
	Decrypt(context.Context, []byte) ([]byte, error)
}, done func(), err error) {
	creds, err := gcp.DefaultCredentials(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("gcpkms: no Application Default Credentials: %v", err)
	}
	client, closeClient, err := gcpkms.Dial(ctx, creds.TokenSource)
	if err != nil {
		return nil, nil, fmt.Errorf("gcpkms: cannot reach Cloud KMS: %v", err)
	}
	kp := gcpkms.OpenKeeper(client, resource(u), &gcpkms.KeeperOptions{AdditionalAuthenticatedData: b.AAD()})
	return kp, func() { kp.Close(); closeClient() }, nil
}

// Wrap encrypts key with the CryptoKey u names.
func (d *Driver) Wrap(ctx context.Context, u *url.URL, key []byte, b custody.Binding) ([]byte, error) {
	if err := d.Check(u); err != nil {
		return nil, err
	}
	k, done, err := keeper(ctx, u, b)
	if err != nil {
		return nil, err
	}
	defer done()
	wrapped, err := k.Encrypt(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("gcpkms: Encrypt: %v", err)
	}
	return wrapped, nil
}

// Unwrap decrypts wrapped with the CryptoKey u names.
func (d *Driver) Unwrap(ctx context.Context, u *url.URL, wrapped []byte, b custody.Binding) ([]byte, error) {
	if err := d.Check(u); err != nil {
		return nil, err
	}
	k, done, err := keeper(ctx, u, b)
	if err != nil {
		return nil, err
	}
	defer done()
	plain, err := k.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("gcpkms: Decrypt: %v", err)
	}
	return plain, nil
}

// lazyRegexp compiles expr on first use, not when the program starts: a
// program that never meets this driver's URLs does not pay for it.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
