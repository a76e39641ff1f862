package custody_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/internal/leakcheck"
	"github.com/credvault/vault/vaulttest"
)

// TestKeyringIdentities: the age identities Resolve read come back from
// Keyring.Identities, for a runner to conceal (vault.Command.Conceal), and
// no printed form of the Keyring shows them; a key from another route
// comes with none.
func TestKeyringIdentities(t *testing.T) {
	path, identity := vaulttest.NewWithRecipient(t, map[string]any{"db": map[string]any{"password": "fake-identities"}})
	res := &custody.Resolver{Getenv: func(name string) string {
		if name == custody.EnvAgeKey {
			return identity
		}
		return ""
	}}
	kr, err := res.Resolve(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(kr.Identities(), identity) {
		t.Errorf("Identities() holds %d identities, not the one read", len(kr.Identities()))
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("resolved", "keyring", kr, "value", *kr)
	j, _ := json.Marshal(kr)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v", kr, kr, kr), fmt.Sprintf("%+v %#v", *kr, *kr), logged.String(), string(j)} {
		leakcheck.NoSecrets(t, "a printed Keyring", out, identity, identity[len("AGE-SECRET-KEY-1"):])
	}

	key := vault.GenerateKey()
	res = &custody.Resolver{Getenv: func(name string) string {
		if name == custody.DefaultKeyEnv {
			return key.Encode()
		}
		return ""
	}}
	if kr, err := res.Resolve(context.Background(), path); err == nil && len(kr.Identities()) != 0 {
		t.Errorf("a keyring from MASTER_KEY has %d identities", len(kr.Identities()))
	}
	var none *custody.Keyring
	if none.Identities() != nil {
		t.Error("a nil Keyring has identities")
	}
}
