package azurekeyvault_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/credvault/vault/custody/azurekeyvault"
)

// TestCheck validates URLs; no Key Vault can be reached from the tests.
func TestCheck(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"azurekeyvault://team-kv.vault.azure.net/keys/credvault", ""},
		{"azurekeyvault://team-kv.vault.azure.net/keys/credvault/0123456789abcdef0123456789abcdef?algorithm=RSA-OAEP", ""},
		{"azurekeyvault://team-kv.vault.azure.net/keys/credvault?algorithm=RSA1_5", "algorithm must be"},
		{"azurekeyvault://team-kv.vault.azure.net/keys/credvault?tenant=x", `parameter "tenant" is not supported`},
		{"azurekeyvault://evil.example.com/keys/credvault", "not a Key Vault key"},
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
