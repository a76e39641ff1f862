// Package azurekeyvault is the custody driver for Azure Key Vault
// recipients, "azurekeyvault://" URLs as gocloud.dev/secrets/azurekeyvault
// reads them:
//
//	azurekeyvault://VAULT.vault.azure.net/keys/KEY[/VERSION][?algorithm=RSA-OAEP-256]
//
// The key is reached with azidentity's DefaultAzureCredential (environment
// variables, workload identity federation from a CI's OIDC token, managed
// identity, the Azure CLI's login), through the Key Vault SDK (azkeys)
// called directly: the key's encrypt and decrypt operations, RSA-OAEP-256
// unless the URL names RSA-OAEP, on the key's latest version unless the URL
// names one. That is what gocloud.dev's keeper did, and what it wrapped is
// what this driver wraps (the raw RSA-OAEP ciphertext), so recipients files
// made by earlier versions still open; gocloud.dev itself is not compiled,
// as its portable layer brought gRPC and OpenTelemetry with it.
//
// Azure Key Vault's RSA operations take no context: the [custody.Binding]
// rests on the fingerprint check of the unwrapped key. Key Vault decrypts
// only with the key named, so a ciphertext made under another key is
// refused. The caller needs the keys/encrypt permission (Key Vault Crypto
// User) to add the recipient or rotate, and keys/decrypt to open.
//
// The tests run the driver against a fake server that answers as the Key
// Vault REST reference says encrypt and decrypt answer, with a fake
// credential in place of DefaultAzureCredential; no Key Vault can be
// reached from credvault's tests, so the driver has not been run against
// the real one there.
package azurekeyvault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/keyvault/azkeys"

	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/internal/kmshttp"
)

// A Driver wraps and unwraps keys with Azure Key Vault. It is safe for
// concurrent use.
type Driver struct {
	// Set by the tests only: the fake vault's URL in place of the
	// recipient's, a credential, and the client's options.
	endpoint string
	cred     azcore.TokenCredential
	options  *azkeys.ClientOptions
}

// New returns a Driver. Credentials are looked for at the first Wrap or
// Unwrap, not before.
func New() *Driver { return &Driver{} }

// Scheme returns "azurekeyvault".
func (*Driver) Scheme() string { return "azurekeyvault" }

var (
	vaultHost = lazyRegexp(`^[A-Za-z0-9-]{3,24}\.vault\.(azure\.net|azure\.cn|usgovcloudapi\.net|microsoftazure\.de)$`)
	keyPath   = lazyRegexp(`^/keys/([A-Za-z0-9-]{1,127})(/([A-Za-z0-9]{32}))?$`)
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

// Wrap encrypts key with the Key Vault key u names.
func (d *Driver) Wrap(ctx context.Context, u *url.URL, key []byte, _ custody.Binding) ([]byte, error) {
	return d.call(ctx, u, "encrypt", key)
}

// Unwrap decrypts wrapped with the Key Vault key u names.
func (d *Driver) Unwrap(ctx context.Context, u *url.URL, wrapped []byte, _ custody.Binding) ([]byte, error) {
	return d.call(ctx, u, "decrypt", wrapped)
}

// call runs the key's encrypt or decrypt operation on value.
func (d *Driver) call(ctx context.Context, u *url.URL, op string, value []byte) ([]byte, error) {
	if err := d.Check(u); err != nil {
		return nil, err
	}
	m := keyPath().FindStringSubmatch(u.Path)
	name, version := m[1], m[3]
	alg := azkeys.JSONWebKeyEncryptionAlgorithmRSAOAEP256
	if a := u.Query().Get("algorithm"); a != "" {
		alg = azkeys.JSONWebKeyEncryptionAlgorithm(a)
	}
	client, err := d.client(u)
	if err != nil {
		return nil, err
	}
	params := azkeys.KeyOperationsParameters{Algorithm: &alg, Value: value}
	var result []byte
	if op == "encrypt" {
		var resp azkeys.EncryptResponse
		resp, err = client.Encrypt(ctx, name, version, params, nil)
		result = resp.Result
	} else {
		var resp azkeys.DecryptResponse
		resp, err = client.Decrypt(ctx, name, version, params, nil)
		result = resp.Result
	}
	if err != nil {
		clear(result)
		return nil, describe(ctx, op, err)
	}
	if len(result) == 0 {
		return nil, fmt.Errorf("azurekeyvault: %s: the response holds no value", op)
	}
	return result, nil
}

// client returns a Key Vault client for the vault u names.
func (d *Driver) client(u *url.URL) (*azkeys.Client, error) {
	vaultURL := "https://" + u.Host + "/"
	cred := d.cred
	if d.endpoint != "" {
		vaultURL = d.endpoint
	}
	if cred == nil {
		c, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("azurekeyvault: no Azure credentials: %v", err)
		}
		cred = c
	}
	client, err := azkeys.NewClient(vaultURL, cred, d.options)
	if err != nil {
		return nil, fmt.Errorf("azurekeyvault: %v", err)
	}
	return client, nil
}

// describe turns a failed call into an error that says what to do, with
// what Key Vault said. (An *azcore.ResponseError prints the whole response;
// this keeps its status, code and message.)
func describe(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("azurekeyvault: %s: %w", op, ctx.Err())
	}
	var auth *azidentity.AuthenticationFailedError
	var re *azcore.ResponseError
	switch {
	case errors.As(err, &auth):
		return fmt.Errorf("azurekeyvault: %s: no token from the Azure credentials (HTTP %d from %s): renew them (az login, or the CI's workload identity)", op, statusOf(auth.RawResponse), hostOf(auth.RawResponse))
	case strings.HasPrefix(err.Error(), "DefaultAzureCredential"):
		return fmt.Errorf("azurekeyvault: %s: no usable Azure credentials (set AZURE_CLIENT_ID and AZURE_TENANT_ID with a federated token or a secret, use a managed identity, or run az login): %s", op, kmshttp.Message(err.Error()))
	case !errors.As(err, &re):
		return fmt.Errorf("azurekeyvault: %s: %v", op, err)
	}
	said := ""
	if body, perr := runtime.Payload(re.RawResponse); perr == nil {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			said = ": Key Vault says: " + kmshttp.Message(e.Error.Message)
		}
	}
	code := kmshttp.Message(re.ErrorCode)
	switch {
	case re.StatusCode == http.StatusForbidden:
		return fmt.Errorf("azurekeyvault: %s: access denied (HTTP 403 %s): the identity needs keys/%s on the key (the Key Vault Crypto User role, or an access policy)%s", op, code, op, said)
	case re.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("azurekeyvault: %s: the credentials were not accepted (HTTP 401 %s): renew them%s", op, code, said)
	case re.StatusCode == http.StatusNotFound:
		return fmt.Errorf("azurekeyvault: %s: no such key or version in this vault (HTTP 404 %s)%s", op, code, said)
	case re.StatusCode == http.StatusBadRequest && op == "decrypt":
		return fmt.Errorf("azurekeyvault: decrypt: the wrapped key was not made by this Key Vault key (another key, version or algorithm, or damaged) (HTTP 400 %s): refused%s", code, said)
	}
	return fmt.Errorf("azurekeyvault: %s: HTTP %d %s%s", op, re.StatusCode, code, said)
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

func hostOf(resp *http.Response) string {
	if resp == nil || resp.Request == nil {
		return "the identity provider"
	}
	return resp.Request.URL.Host
}

// lazyRegexp compiles expr on first use, not when the program starts: a
// program that never meets this driver's URLs does not pay for it.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
