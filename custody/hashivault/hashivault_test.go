package hashivault_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/hashivault"
)

// TestCheck validates URLs; no Vault server can be run in the tests.
func TestCheck(t *testing.T) {
	d := hashivault.New(hashivault.Config{})
	for _, tc := range []struct{ url, want string }{
		{"hashivault://credvault", ""},
		{"hashivault://credvault?engine=team/transit", ""},
		{"hashivault://credvault/../../sys/raw", "not a Transit key name"},
		{"hashivault://..", "not a Transit key name"},
		{"hashivault://credvault?engine=../sys", "engine must be a mount path"},
		{"hashivault://credvault?namespace=x", `parameter "namespace" is not supported`},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		err = d.Check(u)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
}

func TestNoServer(t *testing.T) {
	u, _ := url.Parse("hashivault://credvault")
	_, err := hashivault.New(hashivault.Config{}).Unwrap(context.Background(), u, []byte("vault:v1:x"), custody.Binding{Fingerprint: "0123456789ab"})
	if err == nil || !strings.Contains(err.Error(), "set $VAULT_ADDR") {
		t.Errorf("Unwrap without a server: %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"VAULT_ADDR": "https://vault.example.com", "VAULT_TOKEN": "s.fake-token-canary", "VAULT_SERVER_URL": "https://override.example.com"}
	cfg := hashivault.FromEnv(func(k string) string { return env[k] })
	if cfg.Address != "https://override.example.com" || cfg.Token != "s.fake-token-canary" {
		t.Errorf("FromEnv = %+v", cfg)
	}
	if s := fmt.Sprintf("%v %+v %s", hashivault.New(cfg), hashivault.New(cfg), hashivault.New(cfg)); strings.Contains(s, "canary") {
		t.Errorf("a printed Driver shows its token: %s", s)
	}
}
