// Package azurekeyvault is the custody driver for Azure Key Vault
// recipients, "azurekeyvault://" URLs as gocloud.dev/secrets/azurekeyvault
// reads them:
//
//	azurekeyvault://VAULT.vault.azure.net/keys/KEY[/VERSION][?algorithm=RSA-OAEP-256]
//
// The key is reached with azidentity's DefaultAzureCredential (environment
// variables, workload identity federation from a CI's OIDC token, managed
// identity, the Azure CLI's login). Azure Key Vault, as gocloud.dev drives
// it, binds no context to a ciphertext: the [custody.Binding] rests on the
// fingerprint check of the unwrapped key. Key Vault decrypts only with the
// key named, so a ciphertext made under another key is refused. The caller
// needs the keys/encrypt permission (Key Vault Crypto User) to add the
// recipient or rotate, and keys/decrypt to open.
//
// This driver is compiled in and its URLs validated, but no Key Vault can be
// had in credvault's tests: the calls themselves are those of gocloud.dev,
// exercised by gocloud.dev's own tests.
package azurekeyvault

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/keyvault/azkeys"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/azurekeyvault"

	"github.com/credvault/vault/custody"
)

// A Driver wraps and unwraps keys with Azure Key Vault. It is safe for
// concurrent use.
type Driver struct{}

// New returns a Driver.
func New() *Driver { return &Driver{} }

// Scheme returns "azurekeyvault".
func (*Driver) Scheme() string { return azurekeyvault.Scheme }

var (
	vaultHost = lazyRegexp(`^[A-Za-z0-9-]{3,24}\.vault\.(azure\.net|azure\.cn|usgovcloudapi\.net|microsoftazure\.de)$`)
	keyPath   = lazyRegexp(`^/keys/[A-Za-z0-9-]{1,127}(/[A-Za-z0-9]{32})?$`)
)

// Check validates an azurekeyvault:// URL: a key in a vault, and no
// parameter but algorithm (RSA-OAEP-256 or RSA-OAEP).
func (*Driver) Check(u *url.URL) error {
	if !vaultHost().MatchString(u.Host) || !keyPath().MatchString(u.Path) {
		return fmt.Errorf("azurekeyvault: %q is not a Key Vault key: use azurekeyvault://VAULT.vault.azure.net/keys/KEY[/VERSION]", u.Host+u.Path)
	}
	for name, values := range u.Query() {
		if name != "algorithm" {
			return fmt.Errorf("azurekeyvault: parameter %q is not supported (only algorithm)", name)
		}
		if len(values) != 1 || values[0] != "RSA-OAEP-256" && values[0] != "RSA-OAEP" {
			return fmt.Errorf("azurekeyvault: algorithm must be RSA-OAEP-256 or RSA-OAEP")
		}
	}
	return nil
}

func keeper(u *url.URL) (*secrets.Keeper, error) {
	opts := &azurekeyvault.KeeperOptions{Algorithm: azkeys.JSONWebKeyEncryptionAlgorithmRSAOAEP256}
	if a := u.Query().Get("algorithm"); a != "" {
		opts.Algorithm = azkeys.JSONWebKeyEncryptionAlgorithm(a)
	}
	k, err := azurekeyvault.OpenKeeper(azurekeyvault.DefaultClientMaker, "https://"+u.Host+u.Path, opts)
	if err != nil {
		return nil, fmt.Errorf("azurekeyvault: %v", err)
	}
	return k, nil
}

// Wrap encrypts key with the Key Vault key u names.
func (d *Driver) Wrap(ctx context.Context, u *url.URL, key []byte, _ custody.Binding) ([]byte, error) {
	if err := d.Check(u); err != nil {
		return nil, err
	}
	k, err := keeper(u)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	wrapped, err := k.Encrypt(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("azurekeyvault: Encrypt: %v", err)
	}
	return wrapped, nil
}

// Unwrap decrypts wrapped with the Key Vault key u names.
func (d *Driver) Unwrap(ctx context.Context, u *url.URL, wrapped []byte, _ custody.Binding) ([]byte, error) {
	if err := d.Check(u); err != nil {
		return nil, err
	}
	k, err := keeper(u)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	plain, err := k.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("azurekeyvault: Decrypt: %v", err)
	}
	return plain, nil
}

// lazyRegexp compiles expr on first use, not when the program starts: a
// program that never meets this driver's URLs does not pay for it.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
