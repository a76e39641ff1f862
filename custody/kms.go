package custody

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// A Driver wraps and unwraps keys with one kind of key management service,
// the one named by the scheme of its recipients' URLs. The subpackages
// awskms, gcpkms, azurekeyvault and hashivault hold one each; a program
// passes those it wants to [Resolver] and the write functions, and compiles
// no other cloud's SDK.
//
// A Driver must be safe for concurrent use. It must not retain the key
// bytes it is given, nor put them in an error.
type Driver interface {
	// Scheme returns the URL scheme the driver serves, such as "awskms".
	Scheme() string

	// Check validates a recipient URL of the driver's scheme without
	// contacting the service: the form of the key's name, and its query
	// parameters. A recipients file is committed and shared, so Check
	// refuses what belongs to one user's setup (an AWS profile, an
	// endpoint): those come from the environment of whoever opens the vault.
	Check(u *url.URL) error

	// Wrap encrypts key (the key in its encoded form) with the KMS key that
	// u names, bound to b as the service allows (see [Binding]).
	Wrap(ctx context.Context, u *url.URL, key []byte, b Binding) ([]byte, error)

	// Unwrap decrypts what Wrap returned, with the KMS key that u names
	// and no other, and the same binding. A wrapped key made by another
	// KMS key, or bound to something else, is an error.
	Unwrap(ctx context.Context, u *url.URL, wrapped []byte, b Binding) ([]byte, error)
}

// A Binding is what a KMS-wrapped key is bound to besides the KMS key: the
// purpose, "credvault", and the fingerprint of the wrapped key. The party
// that unwraps derives it itself (from the fingerprint it pins, or the one
// the recipients file records, which the unwrapped key must then match), so
// a ciphertext made for another purpose under the same KMS key does not
// unwrap as a vault key.
//
// Services bind it as they can: AWS KMS as the encryption context
// (purpose=credvault, key=FINGERPRINT), which key policies can require with
// kms:EncryptionContext:purpose and which CloudTrail records; Google Cloud
// KMS as additional authenticated data. Azure Key Vault and HashiCorp Vault
// Transit, as credvault drives them, take none: there the binding rests on
// the fingerprint check alone.
type Binding struct {
	// Fingerprint is the fingerprint of the wrapped key.
	Fingerprint string
}

// Purpose is the value of the "purpose" element of a [Binding].
const Purpose = "credvault"

// EncryptionContext returns the binding as an AWS KMS encryption context.
func (b Binding) EncryptionContext() map[string]string {
	return map[string]string{"purpose": Purpose, "key": b.Fingerprint}
}

// AAD returns the binding as additional authenticated data.
func (b Binding) AAD() []byte {
	return []byte("purpose=" + Purpose + ";key=" + b.Fingerprint)
}

// parseKMSURL parses a KMS recipient's URL and checks what every driver
// needs: a scheme, a key, no user information or fragment.
func parseKMSURL(id string) (*url.URL, error) {
	u, err := url.Parse(id)
	if err != nil && strings.Contains(id, "://arn:") {
		return nil, fmt.Errorf("%q: an ARN holds colons, so it follows three slashes: %s", id, strings.Replace(id, "://arn:", ":///arn:", 1))
	}
	if err != nil || u.Scheme == "" || !strings.Contains(id, "://") {
		return nil, fmt.Errorf("%q is not a KMS key URL (awskms:///arn:aws:kms:..., gcpkms://projects/..., azurekeyvault://..., hashivault://...)", id)
	}
	if u.Scheme == "base64key" {
		return nil, errors.New("base64key:// URLs hold the key itself, which a committed recipients file must never do: use a KMS or an age recipient")
	}
	if u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%s: a KMS key URL has no user information or fragment", u.Scheme)
	}
	if strings.Trim(u.Host+u.Path, "/") == "" {
		return nil, fmt.Errorf("%s: the URL names no key", id)
	}
	return u, nil
}

// drivers finds the driver of a URL's scheme.
type drivers []Driver

func (ds drivers) lookup(u *url.URL) (Driver, error) {
	for _, d := range ds {
		if d.Scheme() == u.Scheme {
			return d, nil
		}
	}
	var schemes []string
	for _, d := range ds {
		schemes = append(schemes, d.Scheme()+"://")
	}
	slices.Sort(schemes)
	if len(schemes) == 0 {
		return nil, fmt.Errorf("no KMS driver for %s:// URLs: this program supports none", u.Scheme)
	}
	return nil, fmt.Errorf("no KMS driver for %s:// URLs: this program supports %s", u.Scheme, strings.Join(schemes, ", "))
}

// checkKMS parses and validates a KMS recipient URL with its driver.
func (ds drivers) check(id string) (*url.URL, Driver, error) {
	u, err := parseKMSURL(id)
	if err != nil {
		return nil, nil, err
	}
	d, err := ds.lookup(u)
	if err != nil {
		return nil, nil, err
	}
	if err := d.Check(u); err != nil {
		return nil, nil, err
	}
	return u, d, nil
}
